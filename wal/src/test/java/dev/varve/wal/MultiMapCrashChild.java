// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import dev.varve.Codec;
import dev.varve.Database;
import dev.varve.Durability;
import dev.varve.NamedMap;
import dev.varve.SerializationFailureException;
import dev.varve.Transaction;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The child JVM of {@link MultiMapCrashTest}: a durable database whose bank accounts are split
 * over three maps, run until it is killed.
 *
 * <ul>
 *   <li>{@code bank <dir> <sync> <run> <checkpointEveryAcks> <skipLoans> <openOrderSeed>}: {@link
 *       #THREADS} threads transfer amounts between accounts of the default map ("acct:0000"...),
 *       {@link #SAVINGS} (Integer keys) and {@link #LOANS} (Long keys in {@link DescendingLongs}
 *       order); each transfer also writes its unique id to {@link #JOURNAL} with what it did, in
 *       the same transaction, and after {@code commit} returns the child prints {@code ACK <id> .}
 *       in one write. Every {@code checkpointEveryAcks} acknowledgements (0: never) the
 *       acknowledging thread calls {@code db.checkpoint()}; with {@code skipLoans} the run does not
 *       open the loans map at all. The maps are opened in an order shuffled by the seed.
 *   <li>{@code drop <dir> <recreate>}: writes map "x" (into a checkpoint and the log tail), drops
 *       it, with {@code recreate} opens "x" again and writes {@code 1000 -> 7}, then prints
 *       {@code DONE .}.
 * </ul>
 */
public final class MultiMapCrashChild {

    static final String SAVINGS = "savings";
    static final String LOANS = "loans";
    static final String JOURNAL = "journal";
    static final int ACCOUNTS = 10;
    static final long INITIAL = 1000;
    static final int THREADS = 4;

    private MultiMapCrashChild() {}

    /** Longs in descending order: the loans map's order (a named class, so its id names it). */
    static final class DescendingLongs implements Comparator<Long> {
        @Override
        public int compare(Long a, Long b) {
            return Long.compare(b, a);
        }
    }

    /**
     * Runs one mode until killed.
     *
     * @param args the mode and its arguments (see the class comment)
     * @throws Exception whatever the run throws (the test then sees the child die on its own)
     */
    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "bank" ->
                bank(
                        Path.of(args[1]),
                        Wal.Sync.valueOf(args[2]),
                        args[3],
                        Integer.parseInt(args[4]),
                        Boolean.parseBoolean(args[5]),
                        Long.parseLong(args[6]));
            case "drop" -> drop(Path.of(args[1]), Boolean.parseBoolean(args[2]));
            default -> throw new IllegalArgumentException("unknown mode " + args[0]);
        }
        Thread.currentThread().join(); // until killed
    }

    static Durability<String, Long> durability(Path dir, Wal.Sync sync, boolean backgroundCheckpoints) {
        return Wal.builder(dir, Codec.STRING, Codec.LONG)
                .sync(sync)
                .segmentSize(8 * 1024)
                .checkpointEvery(backgroundCheckpoints ? 32 * 1024 : 0)
                .build();
    }

    static NamedMap<Integer, Long> savings(Database<?, ?> db) {
        return db.openMap(SAVINGS, Codec.INT, Codec.LONG);
    }

    static NamedMap<Long, Long> loans(Database<?, ?> db) {
        return db.openMap(LOANS, new DescendingLongs(), Codec.LONG, Codec.LONG);
    }

    static NamedMap<String, String> journal(Database<?, ?> db) {
        return db.openMap(JOURNAL, Codec.STRING, Codec.STRING);
    }

    static String account(int i) {
        return String.format("acct:%04d", i);
    }

    /** One side of a transfer: 'D' (default map), 'S' (savings) or 'L' (loans), and the account. */
    record Side(char map, int account) {}

    /** The journal value of a transfer: "fromMap:fromAccount:toMap:toAccount:amount". */
    static String describe(Side from, Side to, long amount) {
        return from.map() + ":" + from.account() + ":" + to.map() + ":" + to.account() + ":" + amount;
    }

    private static void bank(Path dir, Wal.Sync sync, String run, int checkpointEveryAcks, boolean skipLoans, long seed)
            throws Exception {
        Database<String, Long> db = Database.<String, Long>builder()
                .durability(durability(dir, sync, checkpointEveryAcks > 0))
                .open();
        List<String> order = new ArrayList<>(List.of(SAVINGS, LOANS, JOURNAL));
        if (skipLoans) {
            order.remove(LOANS);
        }
        Collections.shuffle(order, new Random(seed));
        NamedMap<Integer, Long> savings = null;
        NamedMap<Long, Long> loans = null;
        NamedMap<String, String> journal = null;
        for (String name : order) {
            switch (name) {
                case SAVINGS -> savings = savings(db);
                case LOANS -> loans = loans(db);
                default -> journal = journal(db);
            }
        }
        if (db.get(account(0)) == null) {
            if (loans == null) {
                throw new IllegalStateException("the first run must open every map");
            }
            NamedMap<Integer, Long> s = savings;
            NamedMap<Long, Long> l = loans;
            db.transact(tx -> {
                for (int i = 0; i < ACCOUNTS; i++) {
                    tx.put(account(i), INITIAL);
                    tx.map(s).put(i, INITIAL);
                    tx.map(l).put((long) i, INITIAL);
                }
                return null;
            });
        }
        char[] letters = loans == null ? new char[] {'D', 'S'} : new char[] {'D', 'S', 'L'};
        NamedMap<Integer, Long> savingsMap = savings;
        NamedMap<Long, Long> loansMap = loans;
        NamedMap<String, String> journalMap = journal;
        AtomicLong acks = new AtomicLong();
        System.out.println("READY");
        System.out.flush();
        for (int t = 0; t < THREADS; t++) {
            int thread = t;
            Thread th = new Thread(
                    () -> {
                        ThreadLocalRandom rnd = ThreadLocalRandom.current();
                        for (long seq = 0; ; seq++) {
                            Side from = new Side(letters[rnd.nextInt(letters.length)], rnd.nextInt(ACCOUNTS));
                            Side to;
                            do {
                                to = new Side(letters[rnd.nextInt(letters.length)], rnd.nextInt(ACCOUNTS));
                            } while (to.equals(from));
                            long amount = 1 + rnd.nextInt(50);
                            String id = run + ":" + thread + ":" + seq;
                            Side target = to;
                            try {
                                db.transact(tx -> {
                                    add(tx, savingsMap, loansMap, from, -amount);
                                    add(tx, savingsMap, loansMap, target, amount);
                                    tx.map(journalMap).put(id, describe(from, target, amount));
                                    return null;
                                });
                            } catch (SerializationFailureException gaveUp) {
                                continue; // not acknowledged; its id is never used again
                            }
                            String line = "ACK " + id + " .\n";
                            synchronized (System.out) {
                                System.out.print(line); // one write: the parent never reads half of it
                                System.out.flush();
                            }
                            if (checkpointEveryAcks > 0 && acks.incrementAndGet() % checkpointEveryAcks == 0) {
                                db.checkpoint();
                            }
                        }
                    },
                    "transfer-" + t);
            th.start();
        }
    }

    private static void add(
            Transaction<String, Long> tx,
            NamedMap<Integer, Long> savings,
            NamedMap<Long, Long> loans,
            Side side,
            long d) {
        switch (side.map()) {
            case 'D' -> tx.put(account(side.account()), tx.get(account(side.account())) + d);
            case 'S' -> tx.map(savings).put(side.account(), tx.map(savings).get(side.account()) + d);
            default -> tx.map(loans).put((long) side.account(), tx.map(loans).get((long) side.account()) + d);
        }
    }

    private static void drop(Path dir, boolean recreate) {
        Database<String, Long> db = Database.<String, Long>builder()
                .durability(durability(dir, Wal.Sync.FULL, false))
                .open();
        NamedMap<Integer, Long> x = db.openMap("x", Codec.INT, Codec.LONG);
        for (int i = 0; i < 50; i++) {
            x.put(i, (long) i);
        }
        db.checkpoint(); // x's first half in the image
        for (int i = 50; i < 100; i++) {
            x.put(i, (long) i); // the rest in the log tail
        }
        db.put("kept", 1L);
        if (!db.dropMap("x")) {
            throw new IllegalStateException("dropMap(\"x\") found no map");
        }
        if (recreate) {
            db.openMap("x", Codec.INT, Codec.LONG).put(1000, 7L);
        }
        System.out.print("DONE .\n");
        System.out.flush();
    }
}
