// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench;

import dev.varve.Backup;
import dev.varve.Codec;
import dev.varve.Database;
import dev.varve.Isolation;
import dev.varve.Snapshot;
import dev.varve.Transaction;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Transfers between bank accounts: each transaction reads two distinct accounts chosen uniformly
 * and moves 1..10 units from one to the other if the balance allows (otherwise it commits having
 * only read). The total is conserved; it is checked in read-only snapshots and SERIALIZABLE
 * read-only transactions while the run goes on, and after it. {@code bank-hot} is the same on
 * 100 accounts, where concurrent transfers conflict often.
 *
 * <p>Data: {@code Database<Long, Long>}, account number to balance.
 */
public final class BankWorkload implements Workload {
    /** Every account's opening balance. */
    public static final long OPENING_BALANCE = 1_000;

    private final Options options;
    private final long accounts;
    private final Path dir;
    private Database<Long, Long> db;
    private int checkRound;

    /**
     * A bank workload with the options' account count, durability and isolation.
     *
     * @param options the settings
     */
    public BankWorkload(Options options) {
        this.options = options;
        this.accounts = options.effectiveKeys();
        this.dir = options.durability().directory(options.dir());
    }

    @Override
    public String describe() {
        return "bank: " + accounts + " accounts, " + (options.workload().equals("bank-hot") ? "hot" : "uniform")
                + " transfers";
    }

    @Override
    public List<String> transactionTypes() {
        return List.of("transfer");
    }

    @Override
    public void load() {
        db = DurabilityMode.openWorkload(options, dir, Codec.LONG, Codec.LONG);
        long batch = 1_000;
        for (long from = 0; from < accounts; from += batch) {
            long start = from;
            db.transact(tx -> {
                for (long a = start; a < Math.min(accounts, start + batch); a++) {
                    tx.put(a, OPENING_BALANCE);
                }
                return null;
            });
        }
    }

    @Override
    public Worker worker(int index, long seed, Counters counters) {
        SplittableRandom random = new SplittableRandom(seed);
        Isolation isolation = options.isolation();
        return () -> {
            long t0 = System.nanoTime();
            long from = random.nextLong(accounts);
            long to = random.nextLong(accounts - 1);
            if (to >= from) {
                to++;
            }
            long amount = 1 + random.nextInt(10);
            long a = from;
            long b = to;
            counters.transact(db, isolation, tx -> transfer(tx, a, b, amount));
            counters.committed(0, System.nanoTime() - t0);
        };
    }

    /** Moves {@code amount} from {@code from} to {@code to} if {@code from} holds enough. */
    static boolean transfer(Transaction<Long, Long> tx, long from, long to, long amount) {
        long balance = tx.get(from);
        long other = tx.get(to);
        if (balance < amount) {
            return false;
        }
        tx.put(from, balance - amount);
        tx.put(to, other + amount);
        return true;
    }

    @Override
    public String duringRunDescription() {
        return "total conserved in concurrent read-only snapshots and transactions";
    }

    @Override
    public long checkDuringRun() {
        checkRound++;
        long total;
        if (checkRound % 2 == 0) {
            try (Snapshot<Long, Long> s = db.snapshot()) {
                total = sum(s);
            }
        } else {
            total = db.transact(options.isolation(), tx -> sum(tx.asMap()));
        }
        return total == accounts * OPENING_BALANCE ? 0 : 1;
    }

    private static long sum(Map<Long, Long> map) {
        long total = 0;
        for (long v : map.values()) {
            total += v;
        }
        return total;
    }

    @Override
    public List<Check> checkAfterRun() {
        long expected = accounts * OPENING_BALANCE;
        try (Snapshot<Long, Long> s = db.snapshot()) {
            long total = sum(s);
            int size = s.size();
            long negative = s.values().stream().filter(v -> v < 0).count();
            return List.of(
                    new Check(
                            "total conserved after the run",
                            total == expected,
                            "total " + total + ", expected " + expected),
                    new Check(
                            "every account present and non-negative",
                            size == accounts && negative == 0,
                            size + " accounts, " + negative + " negative"));
        }
    }

    @Override
    public Database<?, ?> database() {
        return db;
    }

    @Override
    public Backup backup(Path target) {
        return DurabilityMode.backupWorkload(db, options, target, Codec.LONG, Codec.LONG);
    }

    @Override
    public void close() {
        DurabilityMode.closeWorkload(db, options, dir);
    }
}
