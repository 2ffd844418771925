// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Database;
import dev.varve.Internals;
import dev.varve.Isolation;
import dev.varve.Snapshot;
import dev.varve.Transaction;
import dev.varve.VacuumResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class VacuumTest {

    /** Versions reachable in the chain of {@code key} (a white-box count). */
    private static int chainLength(Database<Integer, Long> db, int key) throws Exception {
        Store<Integer, Long> store = Internals.store(db);
        Object head = store.index().get(key);
        if (head != null && !(head instanceof Version)) {
            return 1; // a settled value
        }
        int n = 0;
        for (Version<?> v = (Version<?>) head; v != null; v = v.getOlderAcquire()) {
            n++;
        }
        return n;
    }

    @Test
    void vacuumKeepsWhatOpenSnapshotsReadAndReclaimsTheRest() throws Exception {
        try (Database<Integer, Long> db = Database.<Integer, Long>builder().open()) {
            db.put(1, 1L);
            db.put(2, 2L);
            Snapshot<Integer, Long> old = db.snapshot();
            db.put(1, 10L);
            db.put(1, 100L);
            db.remove(2);
            VacuumResult pinned = db.vacuum();
            assertEquals(old.snapshotTimestamp(), pinned.watermark());
            assertEquals(1L, old.get(1));
            assertEquals(2L, old.get(2));
            assertEquals(Map.of(1, 1L, 2, 2L), new TreeMap<>(old));
            old.close();

            VacuumResult free = db.vacuum();
            assertEquals(db.stats().visibleTimestamp(), free.watermark());
            assertEquals(1, free.keys(), "key 2's tombstone is older than every snapshot");
            assertTrue(free.versions() >= 3, "versions reclaimed: " + free);
            assertEquals(1, chainLength(db, 1));
            assertEquals(0, chainLength(db, 2));
            assertEquals(100L, db.get(1));
            assertNull(db.get(2));
            assertEquals(1, db.stats().indexedKeys());
            assertEquals(2, db.stats().vacuumRuns());
        }
    }

    @Test
    void committersPruneHotChainsWithoutVacuum() throws Exception {
        try (Database<Integer, Long> db = Database.<Integer, Long>builder().open()) {
            for (long i = 0; i < 10_000; i++) {
                db.put(7, i);
            }
            assertTrue(chainLength(db, 7) <= 300, "chain of a hot key: " + chainLength(db, 7));
            try (Transaction<Integer, Long> tx = db.begin()) {
                long seen = tx.get(7);
                for (long i = 0; i < 1_000; i++) {
                    db.put(7, -i);
                }
                assertEquals(seen, tx.get(7), "a pinned snapshot keeps its version through pruning");
            }
        }
    }

    @Test
    void keysRemovedByVacuumAndReinsertedConcurrentlyAreNeverLost() throws Exception {
        try (Database<Integer, Long> db = Database.<Integer, Long>builder().open()) {
            AtomicBoolean writersDone = new AtomicBoolean();
            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                List<Future<Map<Integer, Long>>> writers = new ArrayList<>();
                for (int w = 0; w < 2; w++) {
                    int base = w * 1000;
                    SplittableRandom rnd = new SplittableRandom(w);
                    writers.add(pool.submit(() -> {
                        Map<Integer, Long> expected = new HashMap<>();
                        for (int i = 0; i < 40_000; i++) {
                            int key = base + rnd.nextInt(16);
                            if (rnd.nextBoolean()) {
                                db.put(key, (long) i);
                                expected.put(key, (long) i);
                            } else if (rnd.nextBoolean()) {
                                db.remove(key);
                                expected.remove(key);
                            } else {
                                try (Transaction<Integer, Long> tx = db.begin(Isolation.SNAPSHOT)) {
                                    tx.put(key, (long) -i);
                                    tx.remove(key + 500);
                                    tx.commit();
                                }
                                expected.put(key, (long) -i);
                                expected.remove(key + 500);
                            }
                            assertEquals(expected.get(key), db.get(key), "key " + key + " after op " + i);
                        }
                        return expected;
                    }));
                }
                Future<Long> vacuum = pool.submit(() -> {
                    long passes = 0;
                    while (!writersDone.get()) {
                        db.vacuum();
                        passes++;
                    }
                    return passes;
                });
                Map<Integer, Long> expected = new HashMap<>();
                for (Future<Map<Integer, Long>> f : writers) {
                    expected.putAll(f.get(60, TimeUnit.SECONDS));
                }
                writersDone.set(true);
                assertTrue(vacuum.get(60, TimeUnit.SECONDS) > 0);
                try (Snapshot<Integer, Long> snap = db.snapshot()) {
                    assertEquals(new TreeMap<>(expected), new TreeMap<>(snap));
                }
            } finally {
                pool.shutdownNow();
                assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
            }
        }
    }

    @Test
    void snapshotsStayStableWhileVacuumRunsInTheBackground() throws Exception {
        try (Database<Integer, Long> db = Database.<Integer, Long>builder()
                .autoVacuum(Duration.ofMillis(1))
                .open()) {
            for (int k = 0; k < 100; k++) {
                db.put(k, 0L);
            }
            Snapshot<Integer, Long> snap = db.snapshot();
            Map<Integer, Long> before = new TreeMap<>(snap);
            long runsBefore = db.stats().vacuumRuns();
            for (int round = 1; round <= 50; round++) {
                for (int k = 0; k < 100; k += 3) {
                    db.put(k, (long) round);
                }
                db.remove(round);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> db.stats().vacuumRuns() > runsBefore + 2);
            assertEquals(before, new TreeMap<>(snap));
            assertEquals(0L, snap.get(7));
            snap.close();
            await().atMost(Duration.ofSeconds(10)).until(() -> chainLengthUnchecked(db, 3) == 1);
        }
    }

    private static int chainLengthUnchecked(Database<Integer, Long> db, int key) {
        try {
            return chainLength(db, key);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
