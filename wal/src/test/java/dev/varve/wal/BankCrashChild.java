// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import dev.varve.Codec;
import dev.varve.Database;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The child JVM of {@link CrashTest}: bank transfers under a durable database until killed.
 * Each transfer also writes a unique marker key; after {@code commit} returns it prints
 * {@code ACK <marker>}. Arguments: directory, sync mode, accounts, threads.
 */
public final class BankCrashChild {

    static final long INITIAL = 1000;

    private BankCrashChild() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        Wal.Sync sync = Wal.Sync.valueOf(args[1]);
        int accounts = Integer.parseInt(args[2]);
        int threads = Integer.parseInt(args[3]);
        String run = args[4];
        Database<String, Long> db = Database.<String, Long>builder()
                .durability(Wal.builder(dir, Codec.STRING, Codec.LONG)
                        .sync(sync)
                        .segmentSize(64 * 1024)
                        .checkpointEvery(256 * 1024)
                        .build())
                .open();
        if (db.get(account(0)) == null) {
            db.transact(tx -> {
                for (int i = 0; i < accounts; i++) {
                    tx.put(account(i), INITIAL);
                }
                return null;
            });
        }
        System.out.println("READY");
        System.out.flush();
        for (int t = 0; t < threads; t++) {
            int id = t;
            Thread th = new Thread(
                    () -> {
                        ThreadLocalRandom rnd = ThreadLocalRandom.current();
                        for (long seq = 0; ; seq++) {
                            int a = rnd.nextInt(accounts);
                            int b = (a + 1 + rnd.nextInt(accounts - 1)) % accounts;
                            long amount = 1 + rnd.nextInt(50);
                            String marker = "m:" + run + ":" + id + ":" + seq;
                            db.transact(tx -> {
                                tx.put(account(a), tx.get(account(a)) - amount);
                                tx.put(account(b), tx.get(account(b)) + amount);
                                tx.put(marker, amount);
                                return null;
                            });
                            synchronized (System.out) {
                                System.out.println("ACK " + marker);
                                System.out.flush();
                            }
                        }
                    },
                    "transfer-" + t);
            th.start();
        }
        Thread.currentThread().join(); // until killed
    }

    static String account(int i) {
        return String.format("acct:%04d", i);
    }
}
