// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.testing.TestThreads;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.NavigableMap;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Several named maps in one database: one transaction across them, atomic visibility in every
 * map, write skew and phantoms whose reads and writes sit in different maps, and conservation
 * under concurrent transfers between maps.
 */
class MultiMapTest {

    private static Database<String, Long> open() {
        return Database.<String, Long>builder().open();
    }

    @Test
    void oneTransactionWritesTwoMapsWithTheirOwnTypesAndOrders() {
        try (Database<String, Long> db = open()) {
            NamedMap<Integer, String> names = db.openMap("names");
            NamedMap<Long, byte[]> blobs = db.openMap("blobs", Comparator.reverseOrder());
            try (Transaction<String, Long> tx = db.begin()) {
                tx.put("count", 2L);
                tx.map(names).put(1, "one");
                tx.map(names).put(2, "two");
                tx.map(blobs).put(10L, new byte[] {1});
                tx.map(blobs).put(20L, new byte[] {2});
                assertEquals("one", tx.map(names).get(1)); // read-your-writes in the named map
                assertEquals(List.of(20L, 10L), new ArrayList<>(tx.map(blobs).keySet())); // its own order
                tx.commit();
            }
            assertEquals(2L, db.get("count"));
            assertEquals("two", names.get(2));
            assertEquals(List.of(20L, 10L), List.copyOf(snapshotKeys(db, blobs)));
            assertEquals(java.util.Set.of("blobs", "names"), db.mapNames());
            assertNull(db.get("1"), "the default map holds none of the named maps' keys");
        }
    }

    private static <K> List<K> snapshotKeys(Database<?, ?> db, NamedMap<K, ?> map) {
        try (Snapshot<?, ?> s = db.snapshot()) {
            return new ArrayList<>(s.map(map).keySet());
        }
    }

    @Test
    void theSameKeyInTwoMapsNeverConflicts() {
        try (Database<String, Long> db = open()) {
            NamedMap<String, Long> a = db.openMap("a");
            NamedMap<String, Long> b = db.openMap("b");
            a.put("k", 0L);
            b.put("k", 0L);
            db.put("k", 0L);
            Transaction<String, Long> t1 = db.begin(Isolation.SERIALIZABLE);
            Transaction<String, Long> t2 = db.begin(Isolation.SERIALIZABLE);
            Transaction<String, Long> t3 = db.begin(Isolation.SERIALIZABLE);
            t1.map(a).put("k", t1.map(a).get("k") + 1);
            t2.map(b).put("k", t2.map(b).get("k") + 1);
            t3.put("k", t3.get("k") + 1);
            t1.commit();
            t2.commit();
            t3.commit();
            assertEquals(1L, a.get("k"));
            assertEquals(1L, b.get("k"));
            assertEquals(1L, db.get("k"));
        }
    }

    @Test
    void firstCommitterWinsPerMapAndKey() {
        try (Database<String, Long> db = open()) {
            NamedMap<String, Long> a = db.openMap("a");
            a.put("k", 0L);
            Transaction<String, Long> t1 = db.begin(Isolation.SNAPSHOT);
            Transaction<String, Long> t2 = db.begin(Isolation.SNAPSHOT);
            t1.map(a).put("k", 1L);
            t1.put("x", 1L);
            t2.map(a).put("k", 2L);
            t2.put("y", 2L);
            t1.commit();
            SerializationFailureException e = assertThrows(SerializationFailureException.class, t2::commit);
            assertEquals(SerializationFailureException.Reason.WRITE_WRITE_CONFLICT, e.reason());
            assertTrue(e.getMessage().contains("a:k"), e.getMessage());
            assertNull(db.get("y"), "nothing of the refused commit is visible in any map");
            assertEquals(1L, a.get("k"));
        }
    }

    /** Two doctors on call, one per map; each transaction reads both and takes itself off call in its own map. */
    @ParameterizedTest
    @EnumSource(Isolation.class)
    void writeSkewAcrossMapsIsAbortedOnlyUnderSerializable(Isolation isolation) {
        try (Database<String, Long> db = open()) {
            NamedMap<String, Boolean> wardA = db.openMap("wardA");
            NamedMap<String, Boolean> wardB = db.openMap("wardB");
            wardA.put("alice", true);
            wardB.put("bob", true);
            Transaction<String, Long> t1 = db.begin(isolation);
            Transaction<String, Long> t2 = db.begin(isolation);
            assertTrue(t1.map(wardA).get("alice") && t1.map(wardB).get("bob"));
            assertTrue(t2.map(wardA).get("alice") && t2.map(wardB).get("bob"));
            t1.map(wardA).put("alice", false); // reads in both maps, write in A
            t2.map(wardB).put("bob", false); // reads in both maps, write in B
            t1.commit();
            if (isolation == Isolation.SERIALIZABLE) {
                SerializationFailureException e = assertThrows(SerializationFailureException.class, t2::commit);
                assertEquals(SerializationFailureException.Reason.DANGEROUS_STRUCTURE, e.reason());
                assertTrue(wardB.get("bob"), "bob stays on call");
            } else {
                t2.commit(); // snapshot isolation allows the skew: nobody is on call
                assertEquals(false, wardA.get("alice"));
                assertEquals(false, wardB.get("bob"));
            }
        }
    }

    /** Reads only in one map, writes only in the other: T1 reads A writes B, T2 reads B writes A. */
    @ParameterizedTest
    @EnumSource(Isolation.class)
    void writeSkewWithReadsAndWritesInDifferentMaps(Isolation isolation) {
        try (Database<String, Long> db = open()) {
            NamedMap<Integer, Long> a = db.openMap("a");
            NamedMap<Integer, Long> b = db.openMap("b");
            a.put(1, 10L);
            b.put(1, 10L);
            Transaction<String, Long> t1 = db.begin(isolation);
            Transaction<String, Long> t2 = db.begin(isolation);
            long seenByT1 = t1.map(a).get(1);
            long seenByT2 = t2.map(b).get(1);
            t1.map(b).put(1, seenByT1 + 1); // b := a + 1
            t2.map(a).put(1, seenByT2 + 1); // a := b + 1
            t1.commit();
            if (isolation == Isolation.SERIALIZABLE) {
                assertThrows(SerializationFailureException.class, t2::commit);
                assertEquals(10L, a.get(1));
            } else {
                t2.commit();
                assertEquals(11L, a.get(1)); // no serial order gives a = b = 11
                assertEquals(11L, b.get(1));
            }
        }
    }

    /**
     * A phantom across maps: T1 counts a range of map A and inserts into map B; T2 counts a range
     * of map B and inserts into T1's range of map A. Each insert is a phantom for the other's scan.
     */
    @ParameterizedTest
    @EnumSource(Isolation.class)
    void phantomInsertIntoARangeScannedInAnotherMapsView(Isolation isolation) {
        try (Database<String, Long> db = open()) {
            NamedMap<Integer, String> a = db.openMap("a");
            NamedMap<Integer, String> b = db.openMap("b", Comparator.reverseOrder());
            Transaction<String, Long> t1 = db.begin(isolation);
            Transaction<String, Long> t2 = db.begin(isolation);
            NavigableMap<Integer, String> t1a = t1.map(a);
            NavigableMap<Integer, String> t2b = t2.map(b);
            assertTrue(t1a.subMap(0, 10).isEmpty()); // an empty range is still read
            assertTrue(t2b.subMap(10, true, 0, true).isEmpty()); // b is descending: 10 .. 0
            t1.map(b).put(5, "t1");
            t2.map(a).put(5, "t2"); // into the range T1 scanned
            t1.commit();
            if (isolation == Isolation.SERIALIZABLE) {
                assertThrows(SerializationFailureException.class, t2::commit);
                assertNull(a.get(5));
            } else {
                t2.commit();
                assertEquals("t2", a.get(5));
                assertEquals("t1", b.get(5));
            }
        }
    }

    @Test
    void blindWritesToANamedMapReadNothingAndCommitWithTheRest() {
        try (Database<String, Long> db = open()) {
            NamedMap<Integer, String> a = db.openMap("a");
            a.put(1, "old");
            Transaction<String, Long> writer = db.begin(Isolation.SERIALIZABLE);
            Transaction<String, Long> reader = db.begin(Isolation.SERIALIZABLE);
            writer.put(a, 1, "blind"); // reads nothing: no rw-antidependency from what it overwrote
            writer.remove(a, 2);
            writer.put("x", 1L);
            assertEquals("blind", writer.map(a).get(1)); // read-your-writes through the view
            assertEquals("old", reader.map(a).get(1));
            reader.put("y", 1L);
            writer.commit();
            reader.commit(); // reader ->rw writer only: no dangerous structure
            assertEquals("blind", a.get(1));
            assertEquals(1L, db.get("x"));
            try (Snapshot<String, Long> s = db.snapshot()) {
                assertThrows(UnsupportedOperationException.class, () -> s.map(a).put(3, "no"));
            }
            Transaction<String, Long> late = db.begin();
            db.dropMap("a");
            assertThrows(IllegalStateException.class, () -> late.put(a, 5, "dropped"));
            assertThrows(NullPointerException.class, () -> late.put(null, 5, "x"));
            late.rollback();
            assertThrows(IllegalStateException.class, () -> late.remove(a, 5));
        }
    }

    @Test
    void aSnapshotReadsEveryMapAtOneTimestamp() {
        try (Database<String, Long> db = open()) {
            NamedMap<Integer, Long> a = db.openMap("a");
            a.put(1, 1L);
            db.put("one", 1L);
            try (Snapshot<String, Long> before = db.snapshot()) {
                try (Transaction<String, Long> tx = db.begin()) {
                    tx.map(a).put(1, 2L);
                    tx.put("one", 2L);
                    tx.commit();
                }
                assertEquals(1L, before.map(a).get(1));
                assertEquals(1L, before.get("one"));
                assertThrows(
                        UnsupportedOperationException.class, () -> before.map(a).put(2, 2L));
            }
            try (Snapshot<String, Long> after = db.snapshot()) {
                assertEquals(2L, after.map(a).get(1));
                assertEquals(2L, after.get("one"));
            }
        }
    }

    /**
     * Accounts split over the default map and a named map with another key type; transfers
     * between random accounts, most of them across the two maps, under several threads. Every
     * snapshot and the end state must hold the initial total.
     */
    @ParameterizedTest
    @EnumSource(Isolation.class)
    void transfersAcrossMapsConserveTheTotal(Isolation isolation) throws Exception {
        int accounts = 16;
        long initial = 1_000;
        try (Database<String, Long> db = open()) {
            NamedMap<Integer, Long> savings = db.openMap("savings");
            for (int i = 0; i < accounts; i++) {
                db.put("c" + i, initial);
                savings.put(i, initial);
            }
            long total = 2 * accounts * initial;
            AtomicLong commits = new AtomicLong();
            AtomicLong badSnapshots = new AtomicLong();
            List<Callable<Void>> tasks = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                SplittableRandom rnd = new SplittableRandom(t);
                tasks.add(() -> {
                    for (int i = 0; i < 2_000; i++) {
                        int from = rnd.nextInt(accounts);
                        int to = rnd.nextInt(accounts);
                        long amount = 1 + rnd.nextInt(50);
                        boolean fromChecking = rnd.nextBoolean();
                        try {
                            db.transact(isolation, tx -> {
                                NavigableMap<Integer, Long> s = tx.map(savings);
                                if (fromChecking) {
                                    tx.put("c" + from, tx.get("c" + from) - amount);
                                    s.put(to, s.get(to) + amount);
                                } else {
                                    s.put(from, s.get(from) - amount);
                                    tx.put("c" + to, tx.get("c" + to) + amount);
                                }
                                return null;
                            });
                            commits.incrementAndGet();
                        } catch (SerializationFailureException e) {
                            // retries ran out: nothing committed
                        }
                    }
                    return null;
                });
            }
            tasks.add(() -> {
                while (commits.get() < 5_000) {
                    try (Snapshot<String, Long> snap = db.snapshot()) {
                        if (sum(snap, snap.map(savings)) != total) {
                            badSnapshots.incrementAndGet();
                        }
                    }
                    Thread.yield();
                }
                return null;
            });
            TestThreads.runAll(tasks);
            assertEquals(0, badSnapshots.get(), "a snapshot saw part of a transfer");
            try (Snapshot<String, Long> snap = db.snapshot()) {
                assertEquals(total, sum(snap, snap.map(savings)));
            }
            assertTrue(commits.get() >= 5_000, "too few transfers committed: " + commits.get());
        }
    }

    private static long sum(NavigableMap<String, Long> checking, NavigableMap<Integer, Long> savings) {
        long s = 0;
        for (long v : checking.values()) {
            s += v;
        }
        for (long v : savings.values()) {
            s += v;
        }
        return s;
    }
}
