// SPDX-License-Identifier: Apache-2.0
package dev.varve.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Database;
import dev.varve.Isolation;
import dev.varve.NamedMap;
import dev.varve.RetryPolicy;
import dev.varve.SerializationFailureException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Randomized multi-threaded workloads recorded through the recorder: write-skew- and
 * phantom-prone transactions (reads, absent reads, scans, puts and removals over the default map
 * and a reverse-ordered named map). Under SERIALIZABLE every committed history must check
 * serializable, round after round; under SNAPSHOT the same workload must produce a cycle (so the
 * check can fail). Prints the seed on failure; rerun with {@code -Dvarve.seed=<seed>}.
 */
class RandomWorkloadTest {
    private static final int KEYS = 10;
    private static final int THREADS = 3;
    private static final int TXNS_PER_THREAD = 1000;

    /** A value: a new object per put. */
    record Val(long n) {}

    private static final AtomicLong VALUES = new AtomicLong();

    record Outcome(CheckResult result, long attempts, long aborted) {}

    static Outcome run(Isolation isolation, long seed) throws Exception {
        try (Database<Integer, Val> db = Database.<Integer, Val>builder().open()) {
            NamedMap<Integer, Val> other = db.openMap("other", Comparator.reverseOrder());
            for (int k = 0; k < KEYS; k += 2) {
                db.put(k, new Val(VALUES.incrementAndGet()));
                other.put(k + 1, new Val(VALUES.incrementAndGet()));
            }
            HistoryRecorder<Integer, Val> recorder = HistoryRecorder.of(db);
            AtomicLong aborted = new AtomicLong();
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            try {
                List<Future<?>> futures = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    SplittableRandom rnd = new SplittableRandom(seed * 31 + t);
                    futures.add(pool.submit(() -> {
                        for (int i = 0; i < TXNS_PER_THREAD; i++) {
                            try {
                                recorder.transact(RetryPolicy.noRetry(), isolation, tx -> {
                                    body(tx, other, rnd);
                                    return null;
                                });
                            } catch (SerializationFailureException e) {
                                aborted.incrementAndGet();
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : futures) {
                    f.get(2, TimeUnit.MINUTES); // also orders every recorded transaction before check()
                }
            } finally {
                pool.shutdownNow();
            }
            CheckResult result = recorder.check();
            return new Outcome(result, (long) THREADS * TXNS_PER_THREAD, aborted.get());
        }
    }

    /** Reads, scans and absent reads of random keys of random maps, then puts and removals. */
    private static void body(RecordedTransaction<Integer, Val> tx, NamedMap<Integer, Val> other, SplittableRandom rnd) {
        int ops = 1 + rnd.nextInt(3);
        for (int i = 0; i < ops; i++) {
            boolean named = rnd.nextBoolean();
            if (rnd.nextInt(4) == 0) {
                int low = rnd.nextInt(KEYS);
                int high = Math.min(KEYS, low + 1 + rnd.nextInt(4));
                if (named) {
                    tx.scan(other, high, low); // the map is in reverse order: keys high .. low + 1
                } else {
                    tx.scan(rnd.nextInt(8) == 0 ? null : low, high);
                }
            } else if (named) {
                tx.get(other, rnd.nextInt(KEYS));
            } else {
                tx.get(rnd.nextInt(KEYS));
            }
        }
        Thread.yield(); // widen the window between reads and writes, so transactions overlap
        int writes = rnd.nextInt(3); // 0 writes: a read-only transaction
        for (int i = 0; i < writes; i++) {
            boolean named = rnd.nextBoolean();
            int key = rnd.nextInt(KEYS);
            boolean remove = rnd.nextInt(4) == 0;
            if (named) {
                if (remove) {
                    tx.remove(other, key);
                } else {
                    tx.put(other, key, new Val(VALUES.incrementAndGet()));
                }
            } else if (remove) {
                tx.remove(key);
            } else {
                tx.put(key, new Val(VALUES.incrementAndGet()));
            }
        }
    }

    @Test
    void serializableWorkloadsCheckSerializableRoundAfterRound() throws Exception {
        long seed = Long.getLong("varve.seed", System.nanoTime());
        for (int round = 0; round < 8; round++) {
            long roundSeed = seed + round;
            Outcome outcome = run(Isolation.SERIALIZABLE, roundSeed);
            CheckResult result = outcome.result();
            assertTrue(result.serializable(), () -> "seed " + roundSeed + ": " + result);
            assertEquals(outcome.attempts() - outcome.aborted(), result.committedTransactions(), "seed " + roundSeed);
            assertTrue(
                    result.committedTransactions() > outcome.attempts() / 4,
                    "seed " + roundSeed + ": too few commits to mean anything: " + result.committedTransactions());
        }
    }

    @Test
    void snapshotRunsOfTheSameWorkloadShowCycles() throws Exception {
        long seed = Long.getLong("varve.seed", System.nanoTime());
        CheckResult cycle = null;
        for (int round = 0; round < 30 && cycle == null; round++) {
            CheckResult result = run(Isolation.SNAPSHOT, seed + round).result();
            if (!result.serializable()) {
                cycle = result;
            }
        }
        assertNotNull(cycle, "seed " + seed + ": snapshot isolation never produced a cycle in 30 rounds");
        assertTrue(!cycle.cycle().isEmpty() && cycle.anomalies().isEmpty(), cycle::toString);
        assertTrue(cycle.cycle().stream().anyMatch(d -> d.kind().label().endsWith("rw")), cycle::toString);
    }
}
