// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.testing.TestThreads;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Randomized concurrent histories checked for serializability: every committed transaction's
 * reads (which version), scans and writes are recorded, Adya's direct serialization graph is
 * built, and SERIALIZABLE must never show a cycle, while SNAPSHOT, on the same write-skew-prone
 * workload, must (which shows the checker can fail).
 */
class SerializableHistoryTest {
    private static final int KEYS = 12;
    private static final int THREADS = 3;
    private static final int TXNS_PER_THREAD = 1500;

    record Outcome(List<HistoryChecker.Txn> committed, long aborted) {}

    static Outcome runHistory(Isolation isolation, long seed) throws Exception {
        return runHistory(isolation, seed, Durability.inMemory());
    }

    static Outcome runHistory(Isolation isolation, long seed, Durability<Integer, String> durability) throws Exception {
        return runHistory(isolation, seed, durability, null);
    }

    /**
     * The history of THREADS writers at {@code isolation}, and, if {@code views} is not null, of
     * one more thread that reads through {@link Database#snapshot(Isolation)} views at {@code
     * views} (each view a read-only transaction of the history) until the writers are done.
     */
    static Outcome runHistory(Isolation isolation, long seed, Durability<Integer, String> durability, Isolation views)
            throws Exception {
        List<HistoryChecker.Txn> committed = Collections.synchronizedList(new ArrayList<>());
        AtomicLong ids = new AtomicLong(HistoryChecker.INITIAL);
        AtomicLong aborted = new AtomicLong();
        try (Database<Integer, String> db =
                Database.<Integer, String>builder().durability(durability).open()) {
            for (int k = 0; k < KEYS; k += 2) {
                db.put(k, String.valueOf(HistoryChecker.INITIAL));
            }
            List<Callable<Void>> tasks = new ArrayList<>();
            {
                for (int t = 0; t < THREADS; t++) {
                    SplittableRandom rnd = new SplittableRandom(seed * 31 + t);
                    tasks.add(() -> {
                        for (int i = 0; i < TXNS_PER_THREAD; i++) {
                            HistoryChecker.Txn rec = new HistoryChecker.Txn(ids.incrementAndGet());
                            try (Transaction<Integer, String> tx = db.begin(isolation)) {
                                rec.snapshotTs = tx.snapshotTimestamp();
                                runOne(tx, rec, rnd);
                                tx.commit();
                                rec.commitTs = tx.commitTimestamp();
                                committed.add(rec);
                            } catch (SerializationFailureException e) {
                                aborted.incrementAndGet();
                            }
                        }
                        return null;
                    });
                }
            }
            if (views != null) {
                SplittableRandom rnd = new SplittableRandom(seed * 31 + THREADS);
                java.util.concurrent.atomic.AtomicInteger writersLeft =
                        new java.util.concurrent.atomic.AtomicInteger(THREADS);
                for (int t = 0; t < THREADS; t++) {
                    Callable<Void> writer = tasks.get(t);
                    tasks.set(t, () -> {
                        try {
                            return writer.call();
                        } finally {
                            writersLeft.decrementAndGet();
                        }
                    });
                }
                tasks.add(() -> {
                    for (int i = 0; i < TXNS_PER_THREAD && writersLeft.get() > 0; i++) {
                        HistoryChecker.Txn rec = new HistoryChecker.Txn(ids.incrementAndGet());
                        try (Snapshot<Integer, String> view = db.snapshot(views)) {
                            rec.snapshotTs = view.snapshotTimestamp();
                            rec.commitTs = rec.snapshotTs;
                            readSome(view, rec, rnd);
                            Thread.yield(); // let writers commit between the view's reads
                            readSome(view, rec, rnd);
                        }
                        committed.add(rec);
                    }
                    return null;
                });
            }
            TestThreads.runAll(tasks);
        }
        return new Outcome(committed, aborted.get());
    }

    /** A write-skew-prone transaction: read or scan some keys, then write keys it did not read. */
    private static void runOne(Transaction<Integer, String> tx, HistoryChecker.Txn rec, SplittableRandom rnd) {
        String me = String.valueOf(rec.id);
        readSome(tx.asMap(), rec, rnd);
        Thread.yield(); // widen the window between reads and writes, so transactions overlap
        int writes = rnd.nextInt(3); // 0 writes: a read-only transaction
        for (int i = 0; i < writes; i++) {
            int key = rnd.nextInt(KEYS);
            tx.put(key, me);
            if (!rec.writes.contains(key)) {
                rec.writes.add(key);
            }
        }
    }

    /** Reads or scans one to three times (what this transaction wrote is not a read). */
    private static void readSome(
            java.util.NavigableMap<Integer, String> map, HistoryChecker.Txn rec, SplittableRandom rnd) {
        int ops = 1 + rnd.nextInt(3);
        for (int i = 0; i < ops; i++) {
            if (rnd.nextInt(4) == 0) {
                int low = rnd.nextInt(KEYS);
                int high = Math.min(KEYS, low + 1 + rnd.nextInt(4));
                rec.scans.add(new int[] {low, high});
                for (Map.Entry<Integer, String> e : map.subMap(low, high).entrySet()) {
                    if (!rec.writes.contains(e.getKey())) {
                        rec.reads.put(e.getKey(), Long.parseLong(e.getValue()));
                    }
                }
            } else {
                int key = rnd.nextInt(KEYS);
                if (!rec.writes.contains(key)) {
                    String v = map.get(key);
                    rec.reads.put(key, v == null ? -1L : Long.parseLong(v));
                }
            }
        }
    }

    /**
     * Safe-snapshot views (Database#snapshot(SERIALIZABLE)) beside SERIALIZABLE writers: the
     * views are read-only transactions of the history and must close no cycle either.
     */
    @Test
    void serializableSnapshotViewsBesideSerializableWritersCloseNoCycle() throws Exception {
        long seed = Long.getLong("varve.seed", System.nanoTime());
        for (int round = 0; round < 5; round++) {
            long roundSeed = seed + round;
            Outcome outcome =
                    runHistory(Isolation.SERIALIZABLE, roundSeed, Durability.inMemory(), Isolation.SERIALIZABLE);
            String cycle = new HistoryChecker(outcome.committed()).findCycle();
            assertNull(cycle, "seed " + roundSeed + ": a serializable view closed a cycle: " + cycle);
            long views = outcome.committed().stream()
                    .filter(t -> t.writes.isEmpty() && t.id > 0)
                    .count();
            assertTrue(views > 100, "seed " + roundSeed + ": too few read-only transactions: " + views);
        }
    }

    /** Control: snapshot-isolation views beside the same writers do see the read-only anomaly. */
    @Test
    void snapshotIsolationViewsBesideSerializableWritersShowTheReadOnlyAnomaly() throws Exception {
        long seed = Long.getLong("varve.seed", System.nanoTime());
        String cycle = null;
        for (int round = 0; round < 30 && cycle == null; round++) {
            cycle = new HistoryChecker(
                            runHistory(Isolation.SERIALIZABLE, seed + round, Durability.inMemory(), Isolation.SNAPSHOT)
                                    .committed())
                    .findCycle();
        }
        assertNotNull(cycle, "seed " + seed + ": no view saw the read-only anomaly in 30 rounds");
    }

    @Test
    void serializableHistoriesHaveNoCycle() throws Exception {
        long seed = Long.getLong("varve.seed", System.nanoTime());
        for (int round = 0; round < 3; round++) {
            long roundSeed = seed + round;
            Outcome outcome = runHistory(Isolation.SERIALIZABLE, roundSeed);
            String cycle = new HistoryChecker(outcome.committed()).findCycle();
            assertNull(cycle, "seed " + roundSeed + ": committed SERIALIZABLE history is not serializable: " + cycle);
            assertTrue(
                    outcome.committed().size() > THREADS * TXNS_PER_THREAD / 4,
                    "seed " + roundSeed + ": too few commits to mean anything: "
                            + outcome.committed().size());
        }
    }

    /**
     * A log that makes records durable in append order, in groups, on a thread of its own, and
     * asks the database to keep commits invisible until then (deferred visibility).
     */
    static final class GroupCompletingLog implements dev.varve.spi.CommitLog<Integer, String> {
        private final java.util.concurrent.LinkedBlockingQueue<java.util.concurrent.CompletableFuture<Void>> queue =
                new java.util.concurrent.LinkedBlockingQueue<>();
        private final Thread completer;
        private volatile boolean closed;

        GroupCompletingLog() {
            completer = new Thread(
                    () -> {
                        List<java.util.concurrent.CompletableFuture<Void>> group = new ArrayList<>();
                        while (!closed || !queue.isEmpty()) {
                            java.util.concurrent.locks.LockSupport.parkNanos(20_000); // a "force"
                            queue.drainTo(group);
                            group.forEach(f -> f.complete(null));
                            group.clear();
                        }
                    },
                    "group-completing-log");
            completer.setDaemon(true);
            completer.start();
        }

        @Override
        public java.util.concurrent.CompletableFuture<Void> append(dev.varve.spi.CommitRecord<Integer, String> record) {
            java.util.concurrent.CompletableFuture<Void> f = new java.util.concurrent.CompletableFuture<>();
            queue.add(f);
            return f;
        }

        @Override
        public boolean visibleOnlyWhenDurable() {
            return true;
        }

        @Override
        public void checkpoint() {}

        @Override
        public void close() {
            closed = true;
            try {
                completer.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Test
    void serializableHistoriesWithDeferredVisibilityHaveNoCycle() throws Exception {
        long seed = Long.getLong("varve.seed", System.nanoTime());
        for (int round = 0; round < 2; round++) {
            long roundSeed = seed + round;
            GroupCompletingLog log = new GroupCompletingLog();
            Outcome outcome = runHistory(Isolation.SERIALIZABLE, roundSeed, new Durability<>() {
                @Override
                public dev.varve.spi.CommitLog<Integer, String> open(dev.varve.spi.StoreAccess<Integer, String> store) {
                    return log;
                }

                @Override
                public String describe() {
                    return "group-completing";
                }
            });
            String cycle = new HistoryChecker(outcome.committed()).findCycle();
            assertNull(
                    cycle,
                    "seed " + roundSeed + ": deferred-visibility SERIALIZABLE history is not serializable: " + cycle);
            assertTrue(
                    outcome.committed().size() > THREADS * TXNS_PER_THREAD / 4,
                    "seed " + roundSeed + ": too few commits to mean anything: "
                            + outcome.committed().size());
        }
    }

    @Test
    void snapshotHistoriesOfTheSameWorkloadShowCycles() throws Exception {
        long seed = Long.getLong("varve.seed", System.nanoTime());
        String cycle = null;
        for (int round = 0; round < 30 && cycle == null; round++) {
            cycle = new HistoryChecker(
                            runHistory(Isolation.SNAPSHOT, seed + round).committed())
                    .findCycle();
        }
        assertNotNull(cycle, "seed " + seed + ": snapshot isolation never produced write skew in 30 rounds");
    }

    @Test
    void checkerFindsTheWriteSkewCycleOfAnInterleavedSnapshotHistory() {
        try (Database<Integer, String> db = Database.<Integer, String>builder().open()) {
            db.put(0, "0");
            db.put(1, "0");
            var t1 = db.begin(Isolation.SNAPSHOT);
            var t2 = db.begin(Isolation.SNAPSHOT);
            HistoryChecker.Txn r1 = new HistoryChecker.Txn(1);
            HistoryChecker.Txn r2 = new HistoryChecker.Txn(2);
            r1.reads.put(1, Long.parseLong(t1.get(1)));
            r2.reads.put(0, Long.parseLong(t2.get(0)));
            t1.put(0, "1");
            r1.writes.add(0);
            t2.put(1, "2");
            r2.writes.add(1);
            t1.commit();
            t2.commit();
            r1.commitTs = t1.commitTimestamp();
            r2.commitTs = t2.commitTimestamp();
            String cycle = new HistoryChecker(List.of(r1, r2)).findCycle();
            assertNotNull(cycle);
            assertTrue(cycle.contains("rw(key 1)") && cycle.contains("rw(key 0)"), cycle);
        }
    }

    @Test
    void checkerFindsAPredicateCycleAndAcceptsASerialHistory() {
        HistoryChecker.Txn scanner1 = new HistoryChecker.Txn(1);
        scanner1.snapshotTs = 1;
        scanner1.commitTs = 2;
        scanner1.scans.add(new int[] {0, 5});
        scanner1.writes.add(7);
        HistoryChecker.Txn scanner2 = new HistoryChecker.Txn(2);
        scanner2.snapshotTs = 1;
        scanner2.commitTs = 3;
        scanner2.scans.add(new int[] {5, 10});
        scanner2.writes.add(3);
        assertNotNull(new HistoryChecker(List.of(scanner1, scanner2)).findCycle());
        scanner2.snapshotTs = 2; // now it saw scanner1's insert: serial order 1, 2
        scanner2.reads.put(7, 1L);
        assertEquals(null, new HistoryChecker(List.of(scanner1, scanner2)).findCycle());
    }
}
