// SPDX-License-Identifier: Apache-2.0
package dev.varve.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Database;
import dev.varve.Isolation;
import dev.varve.NamedMap;
import dev.varve.SerializationFailureException;
import java.util.Arrays;
import java.util.List;
import java.util.NavigableMap;
import org.junit.jupiter.api.Test;

/**
 * The recorder on real Varve transactions, deterministic interleavings: the versions reads learn
 * by identity, the anomalies SNAPSHOT lets through (write skew over values, removals, absent keys,
 * named maps and byte[] keys; a phantom) reported with their cycles, SERIALIZABLE refusing them,
 * and the puts the recorder refuses because identity could not tell their versions apart.
 */
class RecorderTest {
    /** A value: a new object per put, as the recorder needs. */
    record Shift(boolean onCall) {}

    private static Database<String, Shift> doctors() {
        Database<String, Shift> db = Database.<String, Shift>builder().open();
        db.put("alice", new Shift(true));
        db.put("bob", new Shift(true));
        return db;
    }

    @Test
    void aReadLearnsTheVersionItSawByTheIdentityOfTheValue() {
        try (Database<String, Shift> db = doctors()) {
            HistoryRecorder<String, Shift> recorder = HistoryRecorder.of(db);
            Shift off = new Shift(false);
            try (RecordedTransaction<String, Shift> t1 = recorder.begin()) {
                t1.put("alice", off);
                assertSame(off, t1.get("alice")); // its own write: not recorded as a read
                t1.commit();
            }
            try (RecordedTransaction<String, Shift> t2 = recorder.begin()) {
                assertSame(off, t2.get("alice")); // the premise: get returns the object put
                assertEquals(new Shift(true), t2.get("bob"));
                assertNull(t2.get("carol"));
                t2.commit();
            }
            List<TxnRecord> txns = recorder.history().transactions();
            assertEquals(
                    List.of(
                            "T1 (snapshot 2, commit 3): write key alice",
                            "T2 (snapshot 3, commit 3): read key alice from T1, read key bob initial, read key carol"
                                    + " absent"),
                    txns.stream().map(TxnRecord::describe).toList());
            recorder.check().assertSerializable();
        }
    }

    @Test
    void writeSkewUnderSnapshotIsReportedWithItsCycle() {
        try (Database<String, Shift> db = doctors()) {
            HistoryRecorder<String, Shift> recorder = HistoryRecorder.of(db);
            // Both doctors ask to leave; each sees the other on call, so each leaves.
            RecordedTransaction<String, Shift> t1 = recorder.begin(Isolation.SNAPSHOT);
            RecordedTransaction<String, Shift> t2 = recorder.begin(Isolation.SNAPSHOT);
            assertTrue(t1.get("alice").onCall() && t1.get("bob").onCall());
            assertTrue(t2.get("alice").onCall() && t2.get("bob").onCall());
            t1.put("alice", new Shift(false));
            t2.put("bob", new Shift(false));
            t1.commit();
            t2.commit(); // snapshot isolation: no write-write conflict, both commit

            CheckResult result = recorder.check();
            assertFalse(result.serializable());
            assertEquals("T1 -rw(key bob)-> T2 -rw(key alice)-> T1", result.cycleText());
            assertEquals("G2-item", result.cyclePhenomenon());
            assertEquals(
                    "not serializable: a cycle of 2 transactions (G2-item: a cycle of item anti-dependencies)\n"
                            + "  T1 -rw(key bob)-> T2 -rw(key alice)-> T1\n"
                            + "  T1 (snapshot 2, commit 3): read key alice initial, read key bob initial, write key"
                            + " alice\n"
                            + "  T2 (snapshot 2, commit 4): read key alice initial, read key bob initial, write key bob",
                    result.toString());
            Dependency first = result.cycle().get(0);
            assertEquals(Dependency.Kind.RW, first.kind());
            assertEquals("bob", first.key());
            assertEquals(TxnRecord.DEFAULT_MAP, first.map());
            assertEquals(3, first.from().commitTimestamp());
        }
    }

    @Test
    void theSameWriteSkewUnderSerializableAbortsOneAndIsSerializable() {
        try (Database<String, Shift> db = doctors()) {
            HistoryRecorder<String, Shift> recorder = HistoryRecorder.of(db);
            RecordedTransaction<String, Shift> t1 = recorder.begin(Isolation.SERIALIZABLE);
            RecordedTransaction<String, Shift> t2 = recorder.begin(Isolation.SERIALIZABLE);
            t1.get("alice");
            t1.get("bob");
            t2.get("alice");
            t2.get("bob");
            t1.put("alice", new Shift(false));
            t2.put("bob", new Shift(false));
            t1.commit();
            assertThrows(SerializationFailureException.class, t2::commit);
            History history = recorder.history();
            assertEquals(
                    List.of(true, false),
                    history.transactions().stream().map(TxnRecord::isCommitted).toList());
            CheckResult result = history.check();
            assertTrue(result.serializable(), result::toString);
            assertEquals(1, result.committedTransactions());
        }
    }

    @Test
    void writeSkewThroughRemovalsIsReported() {
        try (Database<String, Shift> db = doctors()) {
            HistoryRecorder<String, Shift> recorder = HistoryRecorder.of(db);
            RecordedTransaction<String, Shift> t1 = recorder.begin(Isolation.SNAPSHOT);
            RecordedTransaction<String, Shift> t2 = recorder.begin(Isolation.SNAPSHOT);
            t1.get("alice");
            t1.get("bob");
            t2.get("alice");
            t2.get("bob");
            t1.remove("alice");
            t2.remove("bob");
            t1.commit();
            t2.commit();
            assertEquals(
                    "T1 -rw(key bob)-> T2 -rw(key alice)-> T1", recorder.check().cycleText());
        }
    }

    @Test
    void writeSkewOverAbsentKeysIsAPredicateCycle() {
        try (Database<String, Shift> db = Database.<String, Shift>builder().open()) {
            HistoryRecorder<String, Shift> recorder = HistoryRecorder.of(db);
            // Each takes the shift if nobody has: both find the other's key absent.
            RecordedTransaction<String, Shift> t1 = recorder.begin(Isolation.SNAPSHOT);
            RecordedTransaction<String, Shift> t2 = recorder.begin(Isolation.SNAPSHOT);
            assertFalse(t1.containsKey("bob"));
            assertFalse(t2.containsKey("alice"));
            t1.put("alice", new Shift(true));
            t2.put("bob", new Shift(true));
            t1.commit();
            t2.commit();
            CheckResult result = recorder.check();
            assertEquals(
                    "T1 -predicate rw(key bob, read absent)-> T2 -predicate rw(key alice, read absent)-> T1",
                    result.cycleText());
            assertEquals("G2", result.cyclePhenomenon());
        }
    }

    @Test
    void aPhantomUnderSnapshotIsAPredicateCycleAndSerializableRefusesIt() {
        for (Isolation isolation : Isolation.values()) {
            try (Database<Integer, Shift> db =
                    Database.<Integer, Shift>builder().open()) {
                HistoryRecorder<Integer, Shift> recorder = HistoryRecorder.of(db);
                db.put(20, new Shift(true)); // outside the range
                // At most two shifts in [0, 10): each counts one... none, and adds one.
                RecordedTransaction<Integer, Shift> t1 = recorder.begin(isolation);
                RecordedTransaction<Integer, Shift> t2 = recorder.begin(isolation);
                assertTrue(t1.scan(0, 10).isEmpty());
                assertTrue(t2.scan(0, 10).isEmpty());
                t1.put(3, new Shift(true));
                t2.put(7, new Shift(true));
                t1.commit();
                if (isolation == Isolation.SERIALIZABLE) {
                    assertThrows(SerializationFailureException.class, t2::commit);
                    recorder.check().assertSerializable();
                } else {
                    t2.commit();
                    CheckResult result = recorder.check();
                    assertEquals(
                            "T1 -predicate rw(key 7, scan [0, 10))-> T2 -predicate rw(key 3, scan [0, 10))-> T1",
                            result.cycleText());
                    assertEquals(
                            Dependency.Kind.PREDICATE_RW, result.cycle().get(0).kind());
                }
            }
        }
    }

    @Test
    void scansRecordTheEntriesTheyReturnAsReads() {
        try (Database<Integer, Shift> db = Database.<Integer, Shift>builder().open()) {
            HistoryRecorder<Integer, Shift> recorder = HistoryRecorder.of(db);
            recorder.transact(tx -> {
                tx.put(1, new Shift(true));
                tx.put(5, new Shift(true));
                return null;
            });
            NavigableMap<Integer, Shift> seen = recorder.transact(tx -> tx.scan(0, null));
            assertEquals(List.of(1, 5), List.copyOf(seen.keySet()));
            assertThrows(UnsupportedOperationException.class, () -> seen.put(2, new Shift(false)));
            assertEquals(
                    "T2 (snapshot 1, commit 1): scan [0, end), read key 1 from T1, read key 5 from T1",
                    recorder.history().transactions().get(1).describe());
        }
    }

    @Test
    void writeSkewAcrossNamedMapsNamesTheMaps() {
        try (Database<String, Shift> db = Database.<String, Shift>builder().open()) {
            NamedMap<String, Shift> ward = db.openMap("ward");
            db.put("alice", new Shift(true));
            ward.put("bob", new Shift(true));
            HistoryRecorder<String, Shift> recorder = HistoryRecorder.of(db);
            RecordedTransaction<String, Shift> t1 = recorder.begin(Isolation.SNAPSHOT);
            RecordedTransaction<String, Shift> t2 = recorder.begin(Isolation.SNAPSHOT);
            t1.get(ward, "bob");
            t2.get("alice");
            t1.put("alice", new Shift(false));
            t2.put(ward, "bob", new Shift(false));
            t1.commit();
            t2.commit();
            assertEquals(
                    "T1 -rw(key bob in ward)-> T2 -rw(key alice)-> T1",
                    recorder.check().cycleText());
        }
    }

    @Test
    void byteArrayKeysAreOneKeyByTheirMapsOrder() {
        try (Database<String, Shift> db = Database.<String, Shift>builder().open()) {
            NamedMap<byte[], Shift> blobs = db.openMap("blobs", Arrays::compareUnsigned);
            blobs.put(new byte[] {1}, new Shift(true));
            blobs.put(new byte[] {2}, new Shift(true));
            HistoryRecorder<String, Shift> recorder = HistoryRecorder.of(db);
            RecordedTransaction<String, Shift> t1 = recorder.begin(Isolation.SNAPSHOT);
            RecordedTransaction<String, Shift> t2 = recorder.begin(Isolation.SNAPSHOT);
            t1.get(blobs, new byte[] {2}); // equal arrays, distinct objects, everywhere
            t2.get(blobs, new byte[] {1});
            t1.put(blobs, new byte[] {1}, new Shift(false));
            t2.put(blobs, new byte[] {2}, new Shift(false));
            t1.commit();
            t2.commit();
            assertEquals(
                    "T1 -rw(key [2] in blobs)-> T2 -rw(key [1] in blobs)-> T1",
                    recorder.check().cycleText());
        }
    }

    // ---- puts the recorder refuses ------------------------------------------------------------

    @Test
    void theSameObjectPutTwiceIntoAKeyIsRefused() {
        try (Database<String, Shift> db = Database.<String, Shift>builder().open()) {
            HistoryRecorder<String, Shift> recorder = HistoryRecorder.of(db);
            Shift shared = new Shift(true);
            recorder.transact(tx -> {
                tx.put("alice", shared);
                tx.put("alice", shared); // the same transaction twice: one version
                tx.put("bob", shared); // another key: no ambiguity
                return null;
            });
            try (RecordedTransaction<String, Shift> t2 = recorder.begin()) {
                IllegalArgumentException e =
                        assertThrows(IllegalArgumentException.class, () -> t2.put("alice", shared));
                assertTrue(
                        e.getMessage()
                                .startsWith("T2 puts into key alice the very object that T1 put there"
                                        + " (dev.varve.testkit.RecorderTest$Shift Shift[onCall=true]). The recorder"
                                        + " tells which version a read saw by the identity of the value object it"
                                        + " returned, so every put needs a new object"),
                        e::getMessage);
                t2.put("alice", new Shift(true)); // nothing was written by the refused put
                t2.commit();
            }
            // Integer.valueOf caches small numbers: two puts of 5 are one object.
            try (Database<String, Integer> numbers =
                    Database.<String, Integer>builder().open()) {
                HistoryRecorder<String, Integer> r = HistoryRecorder.of(numbers);
                r.transact(tx -> {
                    tx.put("n", 5);
                    return null;
                });
                IllegalArgumentException e = assertThrows(
                        IllegalArgumentException.class,
                        () -> r.transact(tx -> {
                            tx.put("n", 5);
                            return null;
                        }));
                assertTrue(e.getMessage().contains("(java.lang.Integer 5)"), e::getMessage);
                assertEquals(
                        List.of(true, false),
                        r.history().transactions().stream()
                                .map(TxnRecord::isCommitted)
                                .toList());
            }
            recorder.check().assertSerializable();
        }
    }

    @Test
    void putBackTheObjectReadIsRefused() {
        try (Database<String, Shift> db = doctors()) {
            HistoryRecorder<String, Shift> recorder = HistoryRecorder.of(db);
            try (RecordedTransaction<String, Shift> t1 = recorder.begin()) {
                Shift s = t1.get("alice");
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t1.put("alice", s));
                assertTrue(
                        e.getMessage()
                                .startsWith("T1 puts into key alice the very object that T1 read there"
                                        + " (dev.varve.testkit.RecorderTest$Shift Shift[onCall=true]), a version from"
                                        + " before the recording or written without the recorder."),
                        e::getMessage);
            }
        }
    }

    @Test
    void anAbortedAttemptsObjectMayBePutAgain() {
        try (Database<String, Shift> db = doctors()) {
            HistoryRecorder<String, Shift> recorder = HistoryRecorder.of(db);
            Shift off = new Shift(false); // made once, outside the body: every attempt puts it
            int[] attempts = {0};
            recorder.transact(tx -> {
                tx.get("alice");
                if (attempts[0]++ == 0) {
                    // A conflicting commit in between: this attempt fails first-committer-wins.
                    recorder.transact(other -> {
                        other.put("alice", new Shift(true));
                        return null;
                    });
                }
                tx.put("alice", off);
                return null;
            });
            assertEquals(2, attempts[0]);
            try (RecordedTransaction<String, Shift> reader = recorder.begin()) {
                assertSame(off, reader.get("alice"));
                reader.commit();
            }
            History history = recorder.history();
            assertEquals(
                    List.of(
                            "T1 (snapshot 2, aborted): write key alice",
                            "T2 (snapshot 2, commit 3): write key alice",
                            "T3 (snapshot 3, commit 4): read key alice from T2, write key alice",
                            "T4 (snapshot 4, commit 4): read key alice from T3"),
                    history.transactions().stream().map(TxnRecord::describe).toList());
            history.check().assertSerializable();
        }
    }

    @Test
    void aTransactionRecordedInsideDatabaseTransactIsCommittedByTheDatabase() {
        try (Database<String, Shift> db = doctors()) {
            HistoryRecorder<String, Shift> recorder = HistoryRecorder.of(db);
            db.transact(tx -> {
                RecordedTransaction<String, Shift> r = recorder.record(tx);
                r.put("carol", new Shift(r.get("alice").onCall()));
                return null; // db.transact commits tx; the recorder learns it from tx
            });
            assertEquals(
                    "T1 (snapshot 2, commit 3): read key alice initial, write key carol",
                    recorder.history().transactions().get(0).describe());
            try (var tx = db.begin()) {
                tx.rollback();
                assertThrows(IllegalStateException.class, () -> recorder.record(tx));
            }
        }
    }

    // ---- histories a correct database cannot make: unrecorded writes of recorded objects ------

    @Test
    void aReadOfAnObjectOnlyAnAbortedTransactionPutIsG1a() {
        try (Database<String, Shift> db = doctors()) {
            HistoryRecorder<String, Shift> recorder = HistoryRecorder.of(db);
            Shift ghost = new Shift(false);
            try (RecordedTransaction<String, Shift> t1 = recorder.begin()) {
                t1.put("alice", ghost);
                t1.rollback();
            }
            db.put("alice", ghost); // an unrecorded write smuggles the aborted object in
            recorder.transact(tx -> tx.get("alice"));
            CheckResult result = recorder.check();
            assertFalse(result.serializable());
            assertEquals(
                    "G1a (aborted read): T2 read key alice as written by T1 (snapshot 2, aborted)",
                    result.anomalies().get(0).toString());
        }
    }

    @Test
    void aReadOfAnUnfinishedWriteIsRefused() {
        try (Database<String, Shift> db = doctors()) {
            HistoryRecorder<String, Shift> recorder = HistoryRecorder.of(db);
            Shift early = new Shift(false);
            RecordedTransaction<String, Shift> t1 = recorder.begin();
            t1.put("alice", early);
            db.put("alice", early); // as if t1's write were visible before it committed
            recorder.transact(tx -> tx.get("alice"));
            IllegalStateException e = assertThrows(IllegalStateException.class, recorder::history);
            assertEquals(
                    "T2 read key alice as written by T1, which has not finished: check the history after every"
                            + " recorded transaction finished",
                    e.getMessage());
            t1.close();
        }
    }
}
