// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.testing.TestThreads;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Multi-threaded invariants, each bounded in time and count: conserved bank totals, atomic
 * visibility of multi-key commits, no lost updates.
 */
class ConcurrencyTest {
    private static final int ACCOUNTS = 64;
    private static final long INITIAL = 1_000;
    private static final Duration RUN = Duration.ofMillis(1500);

    @ParameterizedTest
    @EnumSource(Isolation.class)
    void bankTotalIsConservedInEverySnapshotAtEveryMoment(Isolation isolation) throws Exception {
        try (Database<Integer, Long> db = Database.<Integer, Long>builder()
                .autoVacuum(Duration.ofMillis(5))
                .open()) {
            db.transact(tx -> {
                for (int i = 0; i < ACCOUNTS; i++) {
                    tx.put(i, INITIAL);
                }
                return null;
            });
            long expected = ACCOUNTS * INITIAL;
            long deadline = System.nanoTime() + RUN.toNanos();
            AtomicLong transfers = new AtomicLong();
            AtomicLong aborts = new AtomicLong();
            AtomicLong audits = new AtomicLong();
            List<Callable<Void>> tasks = new ArrayList<>();
            for (int w = 0; w < 3; w++) {
                long seed = 1000 + w;
                tasks.add(() -> {
                    SplittableRandom rnd = new SplittableRandom(seed);
                    while (System.nanoTime() < deadline) {
                        int from = rnd.nextInt(ACCOUNTS);
                        int to = rnd.nextInt(ACCOUNTS);
                        long amount = rnd.nextInt(100);
                        try (Transaction<Integer, Long> tx = db.begin(isolation)) {
                            tx.put(from, tx.get(from) - amount);
                            tx.put(to, tx.get(to) + amount);
                            tx.commit();
                            transfers.incrementAndGet();
                        } catch (SerializationFailureException e) {
                            aborts.incrementAndGet();
                        }
                    }
                    return null;
                });
            }
            tasks.add(
                    () -> { // auditor: whole-map scans through snapshots and transactions
                        while (System.nanoTime() < deadline) {
                            try (Snapshot<Integer, Long> snap = db.snapshot()) {
                                long sum = 0;
                                for (long v : snap.values()) {
                                    sum += v;
                                }
                                assertEquals(expected, sum, "snapshot at " + snap.snapshotTimestamp());
                                assertEquals(ACCOUNTS, snap.size());
                            }
                            try (Transaction<Integer, Long> tx = db.begin(isolation)) {
                                long sum = 0;
                                for (int i = ACCOUNTS - 1; i >= 0; i--) { // point reads, reverse order
                                    sum += tx.get(i);
                                }
                                assertEquals(expected, sum, "transaction at " + tx.snapshotTimestamp());
                                tx.commit();
                            }
                            audits.incrementAndGet();
                        }
                        return null;
                    });
            TestThreads.runAll(tasks);
            long finalSum = 0;
            try (Snapshot<Integer, Long> snap = db.snapshot()) {
                for (Map.Entry<Integer, Long> e : snap.entrySet()) {
                    finalSum += e.getValue();
                }
            }
            assertEquals(expected, finalSum);
            assertTrue(transfers.get() > 100, "too few transfers to mean anything: " + transfers);
            assertTrue(audits.get() > 10, "too few audits: " + audits);
            assertEquals(transfers.get(), db.stats().commits() - 1);
        }
    }

    @ParameterizedTest
    @EnumSource(Isolation.class)
    void readerNeverSeesPartOfAMultiKeyCommit(Isolation isolation) throws Exception {
        try (Database<String, Long> db = Database.<String, Long>builder().open()) {
            List<String> keys = List.of("a", "f", "k", "p", "z");
            db.transact(tx -> {
                keys.forEach(k -> tx.put(k, 0L));
                return null;
            });
            AtomicBoolean done = new AtomicBoolean();
            long deadline = System.nanoTime() + RUN.toNanos();
            List<Callable<Long>> tasks = new ArrayList<>();
            tasks.add(() -> {
                long round = 0;
                while (System.nanoTime() < deadline) {
                    long value = ++round;
                    db.transact(isolation, tx -> {
                        keys.forEach(k -> tx.put(k, value));
                        return null;
                    });
                }
                done.set(true);
                return round;
            });
            for (int r = 0; r < 2; r++) {
                tasks.add(() -> {
                    long checks = 0;
                    while (!done.get()) {
                        try (Transaction<String, Long> tx = db.begin(isolation)) {
                            long first = tx.get("a");
                            for (String k : keys) {
                                assertEquals(first, tx.get(k), "key " + k + " at " + tx.snapshotTimestamp());
                            }
                            for (long v : tx.asMap().values()) {
                                assertEquals(first, v);
                            }
                        }
                        checks++;
                    }
                    return checks;
                });
            }
            List<Long> results = TestThreads.runAll(tasks);
            assertTrue(results.get(0) > 10, "writer made too few commits: " + results.get(0));
            assertEquals(results.get(0), db.get("z"));
        }
    }

    @ParameterizedTest
    @EnumSource(Isolation.class)
    void readModifyWriteByManyThreadsLosesNoUpdate(Isolation isolation) throws Exception {
        int threads = 4;
        int perThread = 500;
        try (Database<String, Long> db = Database.<String, Long>builder()
                .maxAttempts(10_000)
                .retryBackoff(Duration.ZERO, Duration.ofMillis(1))
                .open()) {
            db.put("counter", 0L);
            db.put("computed", 0L);
            List<Callable<Void>> tasks = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                tasks.add(() -> {
                    for (int i = 0; i < perThread; i++) {
                        db.transact(isolation, tx -> {
                            tx.put("counter", tx.get("counter") + 1);
                            return null;
                        });
                        db.compute("computed", v -> v + 1);
                    }
                    return null;
                });
            }
            TestThreads.runAll(tasks);
            assertEquals((long) threads * perThread, db.get("counter"));
            assertEquals((long) threads * perThread, db.get("computed"));
        }
    }
}
