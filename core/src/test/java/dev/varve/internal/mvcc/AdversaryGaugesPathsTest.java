// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.varve.Database;
import dev.varve.Internals;
import dev.varve.Isolation;
import dev.varve.NamedMap;
import dev.varve.SerializationFailureException;
import dev.varve.Snapshot;
import dev.varve.Transaction;
import dev.varve.VacuumResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Review 8: the exact gauges (MapIndex M4) against a brute-force walk on the paths
 * GaugesDifferentialTest does not drive: commits refused after latching some keys (write-write
 * and SSI), every autocommit form (compute to a value and to removal, putIfAbsent, both replaces,
 * conditional remove, removal of an absent key), a transaction's removal of an absent key,
 * asMap() writes over its own writes, committers' vacuum passes (no explicit vacuum), a full
 * pass's own count of what it left (VacuumResult), and dropMap/openMap of the same name.
 */
class AdversaryGaugesPathsTest {

    private static final int KEYS = 12;

    @Test
    void gaugesMatchAWalkOnAbortedLatchesAutocommitFormsAndAbsentRemovals() {
        for (long seed = 1; seed <= 10; seed++) {
            run(seed, 2_000);
        }
    }

    private static void run(long seed, int steps) {
        Random r = new Random(seed);
        try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
            NamedMap<Long, Long> other = db.openMap("other");
            List<Snapshot<Long, Long>> snapshots = new ArrayList<>();
            for (int step = 0; step < steps; step++) {
                int op = r.nextInt(100);
                long key = r.nextInt(KEYS);
                long value = step;
                String where = "seed " + seed + " step " + step + " op " + op;
                if (op < 8) {
                    db.compute(key, v -> v == null ? Long.valueOf(value) : v % 3 == 0 ? null : Long.valueOf(v + 1));
                } else if (op < 14) {
                    db.putIfAbsent(key, value);
                } else if (op < 18) {
                    db.replace(key, value);
                } else if (op < 22) {
                    Long current = db.get(key);
                    db.replace(key, current == null ? -1L : current, value);
                } else if (op < 26) {
                    Long current = db.get(key);
                    db.remove(key, current == null ? -1L : current);
                } else if (op < 32) {
                    db.remove(key); // often absent: writes nothing
                } else if (op < 40) {
                    db.put(key, value);
                } else if (op < 55) {
                    // A transaction refused by first-committer-wins after it latched the keys
                    // below the conflicting one (its keys latch in ascending order).
                    Transaction<Long, Long> tx =
                            db.begin(r.nextBoolean() ? Isolation.SNAPSHOT : Isolation.SERIALIZABLE);
                    int n = 2 + r.nextInt(4);
                    long conflicting = -1;
                    for (int i = 0; i < n; i++) {
                        long k = r.nextInt(KEYS);
                        if (r.nextInt(3) == 0) {
                            tx.remove(k); // may be absent: a tombstone over nothing
                        } else {
                            tx.put(k, value);
                        }
                        if (r.nextBoolean()) {
                            tx.put(other, k, value);
                        }
                        conflicting = k;
                    }
                    if (r.nextBoolean()) {
                        db.put(conflicting, -value); // committed after tx's snapshot
                        assertThrows(SerializationFailureException.class, tx::commit, where);
                    } else {
                        tx.commit();
                    }
                } else if (op < 62) {
                    // SSI refusal after latching: write skew on two keys.
                    long a = r.nextInt(KEYS);
                    long b = (a + 1) % KEYS;
                    Transaction<Long, Long> t1 = db.begin(Isolation.SERIALIZABLE);
                    Transaction<Long, Long> t2 = db.begin(Isolation.SERIALIZABLE);
                    t1.get(a);
                    t1.get(b);
                    t2.get(a);
                    t2.get(b);
                    t1.put(a, value);
                    t2.put(b, value);
                    t1.commit();
                    assertThrows(SerializationFailureException.class, t2::commit, where);
                } else if (op < 70) {
                    try (Transaction<Long, Long> tx = db.begin()) {
                        var m = tx.asMap();
                        m.put(key, value);
                        m.remove(key); // own write replaced by a tombstone
                        m.remove((key + 1) % KEYS);
                        m.put((key + 2) % KEYS, value);
                        tx.commit();
                    }
                } else if (op < 76) {
                    other.compute(key, v -> v == null ? Long.valueOf(value) : null);
                } else if (op < 82) {
                    snapshots.add(db.snapshot());
                } else if (op < 90 && !snapshots.isEmpty()) {
                    snapshots.remove(r.nextInt(snapshots.size())).close();
                } else if (op < 95) {
                    VacuumResult pass = db.vacuum();
                    GaugesDifferentialTest.assertGauges(db, where + " (after a full pass)");
                    assertEquals(pass.retainedVersions(), db.gauges().versions(), where + ": what the pass left");
                    assertEquals(pass.liveKeys(), db.gauges().liveKeys(), where + ": live keys the pass saw");
                } else if (op < 97) {
                    db.dropMap("other");
                    other = db.openMap("other");
                }
                GaugesDifferentialTest.assertGauges(db, where);
            }
            snapshots.forEach(Snapshot::close);
            db.vacuum();
            GaugesDifferentialTest.assertGauges(db, "seed " + seed + " at the end");
        }
    }

    @Test
    void aCommitRefusedAfterLatchingOverASettledValueRestoresItUncounted() {
        try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
            db.put(1L, 1L);
            db.put(2L, 2L);
            db.vacuum(); // both settled: bare values
            Store<Long, Long> store = Internals.store(db);
            assertEquals(1L, (Long) store.index().get(1L));
            Transaction<Long, Long> tx = db.begin(Isolation.SNAPSHOT);
            tx.put(1L, 10L); // latched over the settled value
            tx.remove(2L);
            db.put(2L, 20L);
            assertThrows(SerializationFailureException.class, tx::commit);
            GaugesDifferentialTest.assertGauges(db, "after the refused commit");
            assertEquals(3, db.gauges().versions(), "1 settled; 2 -> 20 over the settled 2");
            assertEquals(2, db.gauges().liveKeys());
            db.remove(1L);
            db.remove(7L); // absent: nothing written
            GaugesDifferentialTest.assertGauges(db, "after removals");
            db.vacuum();
            GaugesDifferentialTest.assertGauges(db, "after the pass");
            assertEquals(1, db.gauges().versions());
            assertEquals(1, db.gauges().liveKeys());
        }
    }

    @Test
    void aTransactionRemovingAnAbsentKeyCountsItsTombstoneUntilVacuumDropsIt() {
        try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
            try (Transaction<Long, Long> tx = db.begin()) {
                tx.remove(5L);
                tx.commit();
            }
            GaugesDifferentialTest.assertGauges(db, "after the commit");
            assertEquals(1, db.gauges().versions(), "a tombstone over nothing is a version");
            assertEquals(0, db.gauges().liveKeys());
            db.vacuum();
            GaugesDifferentialTest.assertGauges(db, "after the pass");
            assertEquals(0, db.gauges().versions());
            assertNull(db.get(5L));
        }
    }

    /**
     * Writers whose transactions conflict (write-write and SSI refusals after latching), autocommit
     * forms, and a vacuum thread passing all the while, then a walk once all are quiet.
     */
    @Test
    void gaugesMatchAWalkAfterConflictingWritersRacedVacuum() throws Exception {
        try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
            NamedMap<Long, Long> other = db.openMap("other");
            int writers = 3;
            CyclicBarrier start = new CyclicBarrier(writers + 1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<CompletableFuture<Void>> running = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                long seed = w;
                running.add(CompletableFuture.runAsync(() -> {
                    Random r = new Random(seed);
                    try {
                        start.await();
                        for (int i = 0; i < 4_000; i++) {
                            long k = r.nextInt(6);
                            int op = r.nextInt(10);
                            if (op < 5) {
                                try (Transaction<Long, Long> tx = db.begin()) {
                                    Long v = tx.get(k);
                                    tx.get((k + 1) % 6);
                                    if (r.nextBoolean()) {
                                        tx.remove((k + 1) % 6);
                                    }
                                    tx.put(k, v == null ? 0 : v + 1);
                                    tx.put(other, k, (long) i);
                                    tx.commit();
                                } catch (SerializationFailureException expected) {
                                    // refused after latching: nothing may be counted
                                }
                            } else if (op < 7) {
                                db.compute(
                                        k, v -> v == null ? Long.valueOf(1) : v % 4 == 0 ? null : Long.valueOf(v + 1));
                            } else if (op < 8) {
                                try (Snapshot<Long, Long> s = db.snapshot()) {
                                    db.put(k, (long) i);
                                    s.get(k);
                                }
                            } else {
                                db.remove(k);
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
                    while (running.stream().anyMatch(f -> !f.isDone())) {
                        db.vacuum();
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            });
            vacuum.start();
            CompletableFuture.allOf(running.toArray(new CompletableFuture<?>[0]))
                    .get(120, TimeUnit.SECONDS);
            vacuum.join();
            assertNull(failure.get());
            GaugesDifferentialTest.assertGauges(db, "after the race");
            db.vacuum();
            GaugesDifferentialTest.assertGauges(db, "after a last pass");
        }
    }
}
