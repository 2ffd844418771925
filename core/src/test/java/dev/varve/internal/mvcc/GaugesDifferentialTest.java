// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.varve.Database;
import dev.varve.Internals;
import dev.varve.NamedMap;
import dev.varve.Snapshot;
import dev.varve.Transaction;
import dev.varve.VacuumResult;
import dev.varve.internal.index.VersionedIndex;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The gauges {@code liveKeys} and {@code versions} (MapIndex M4) against a brute-force walk of
 * every chain, after random writes, removals, snapshots held and released, committer pruning and
 * vacuum passes, and after writers and vacuum raced on the same hot chains (where a version cut
 * by a committer and by vacuum at once must still be counted once).
 */
class GaugesDifferentialTest {

    /** {versions, live keys} of {@code map} by walking every chain; aborted latches are not versions. */
    static long[] walk(MapIndex<?, ?> map) {
        long versions = 0;
        long live = 0;
        for (VersionedIndex.Cursor<?> c = map.index().cursor(); c.next(); ) {
            Object entry = c.entry();
            Version<?> head = VersionChain.chainOrNull(entry);
            if (head == null) {
                versions++;
                live++;
                continue;
            }
            Version<?> newest = null;
            for (Version<?> v = head; v != null; v = v.getOlderAcquire()) {
                if (v.commitTs == Version.ABORTED || v.commitTs == Version.PENDING) {
                    continue;
                }
                if (newest == null) {
                    newest = v;
                }
                versions++;
            }
            if (newest != null && !newest.isTombstone()) {
                live++;
            }
        }
        return new long[] {versions, live};
    }

    /** Asserts each map's counts, the gauges and stats() against a walk of every chain. */
    static void assertGauges(Database<Long, Long> db, String where) {
        Store<Long, Long> store = Internals.store(db);
        long versions = 0;
        long live = 0;
        for (MapIndex<?, ?> map : store.maps()) {
            if (map == null) {
                continue;
            }
            long[] counted = walk(map);
            assertEquals(counted[0], map.versions(), where + ": versions of " + map);
            assertEquals(counted[1], map.liveKeys(), where + ": live keys of " + map);
            versions += counted[0];
            live += counted[1];
        }
        Database.Gauges g = db.gauges();
        assertEquals(versions, g.versions(), where + ": versions gauge");
        assertEquals(live, g.liveKeys(), where + ": liveKeys gauge");
        assertEquals(versions, db.stats().retainedVersions(), where + ": stats().retainedVersions");
        assertEquals(live, db.stats().liveKeys(), where + ": stats().liveKeys");
    }

    @Test
    void gaugesMatchAWalkOfEveryChainAfterEveryStep() {
        for (long seed = 1; seed <= 12; seed++) {
            run(seed, 1_500);
        }
    }

    private static void run(long seed, int steps) {
        Random r = new Random(seed);
        try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
            NamedMap<Long, Long> other = db.openMap("other");
            List<Snapshot<Long, Long>> snapshots = new ArrayList<>();
            for (int step = 0; step < steps; step++) {
                int op = r.nextInt(100);
                long key = r.nextInt(20);
                String where = "seed " + seed + " step " + step + " op " + op;
                if (op < 30) {
                    db.put(key, (long) step);
                } else if (op < 40) {
                    db.remove(key);
                } else if (op < 60) {
                    try (Transaction<Long, Long> tx = db.begin()) {
                        for (int i = 0; i < 1 + r.nextInt(4); i++) {
                            long k = r.nextInt(20);
                            if (r.nextInt(4) == 0) {
                                tx.remove(k);
                            } else {
                                tx.put(k, (long) step);
                            }
                            if (r.nextBoolean()) {
                                tx.map(other).put(k, (long) -step);
                            } else if (r.nextInt(3) == 0) {
                                tx.map(other).remove(k);
                            }
                        }
                        if (r.nextInt(10) == 0) {
                            tx.rollback(); // latched nothing: counts nothing
                        } else {
                            tx.commit();
                        }
                    }
                } else if (op < 70) {
                    other.put(key, (long) step);
                } else if (op < 80) {
                    snapshots.add(db.snapshot());
                } else if (op < 90 && !snapshots.isEmpty()) {
                    snapshots.remove(r.nextInt(snapshots.size())).close();
                } else {
                    db.vacuum();
                }
                assertGauges(db, where);
            }
            snapshots.forEach(Snapshot::close);
            db.vacuum();
            assertGauges(db, "seed " + seed + " at the end");
            db.dropMap("other");
            assertGauges(db, "seed " + seed + " after dropMap");
        }
    }

    @Test
    void aTailCutByACommitterWhileAPassHoldsAKeeperInItIsCountedOnce() throws Exception {
        ExecutorService vacuumThread = Executors.newSingleThreadExecutor();
        try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
            Store<Long, Long> store = Internals.store(db);
            db.put(1L, 1L); // a, commit 1
            Snapshot<Long, Long> s1 = db.snapshot(); // pins 1
            db.put(1L, 2L); // b, commit 2
            Snapshot<Long, Long> s2 = db.snapshot(); // pins 2
            db.put(1L, 3L); // c, commit 3: chain c -> b -> a (the watermark is 1)
            s1.close();
            assertEquals(2L, store.pins().refresh());
            PauseHook hook = new PauseHook(TestHook.Point.VACUUM_AFTER_KEEPER);
            store.hook(hook);
            Future<VacuumResult> pass = vacuumThread.submit(db::vacuum); // watermark 2: keeper b, a below it
            hook.awaitReached();
            s2.close();
            assertEquals(3L, store.pins().refresh());
            db.put(1L, 4L); // d, commit 4 prunes: keeper c, cuts b and a
            hook.release(); // the pass now cuts below b: a was taken already, so it counts nothing
            pass.get(30, TimeUnit.SECONDS);
            store.hook(TestHook.NONE);
            assertGauges(db, "after the pass");
            assertEquals(2, db.gauges().versions(), "d -> c");
            assertEquals(2, db.counters().reclaimedVersions(), "a and b, each once");
        } finally {
            vacuumThread.shutdownNow();
        }
    }

    @Test
    void versionsCutByCommittersAndVacuumAtOnceAreCountedOnce() throws Exception {
        try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
            int writers = 3;
            int rounds = 20_000;
            CyclicBarrier start = new CyclicBarrier(writers + 1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> threads = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                long base = w;
                threads.add(new Thread(() -> {
                    try {
                        start.await();
                        for (int i = 0; i < rounds; i++) {
                            long key = (base + i) % 4; // four hot chains shared by every writer
                            if (i % 97 == 0) {
                                try (Snapshot<Long, Long> s = db.snapshot()) {
                                    db.put(key, (long) i); // a chain longer than committers reach
                                    s.get(key);
                                }
                            } else if (i % 13 == 0) {
                                db.remove(key);
                            } else {
                                db.put(key, (long) i);
                            }
                        }
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    }
                }));
            }
            Thread vacuum = new Thread(() -> {
                try {
                    start.await();
                    while (threads.stream().anyMatch(Thread::isAlive)) {
                        db.vacuum();
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            });
            threads.forEach(Thread::start);
            vacuum.start();
            for (Thread t : threads) {
                t.join();
            }
            vacuum.join();
            assertEquals(null, failure.get());
            assertGauges(db, "after the race");
            db.vacuum();
            assertGauges(db, "after a last pass");
        }
    }
}
