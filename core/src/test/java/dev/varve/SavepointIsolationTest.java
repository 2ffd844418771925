// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Savepoints and isolation: reads made after a savepoint that was rolled back stay in a
 * SERIALIZABLE transaction's read set (write skew through such a read is still refused), and a
 * write that was rolled back is not committed at all (no write-write conflict, no rw-edge from
 * its readers). Each test has a control run in which the outcome must differ, so that it can
 * fail.
 */
class SavepointIsolationTest {

    private static Database<String, Long> open() {
        Database<String, Long> db = Database.<String, Long>builder().open();
        db.put("alice", 1L); // on call
        db.put("bob", 1L); // on call
        return db;
    }

    /**
     * Write skew (doctors on call): T1 checks alice is on call and takes bob off; T2 checks bob and
     * takes alice off. T1's check is read after a savepoint and then rolled back.
     *
     * @param rollBackTheRead true: T1 reads after a savepoint it rolls back to; false: the
     *     control, in which T1 does not read alice at all, and the commit must succeed
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void writeSkewThroughAReadAfterARolledBackSavepointIsRefused(boolean rollBackTheRead) {
        try (Database<String, Long> db = open()) {
            Transaction<String, Long> t1 = db.begin(Isolation.SERIALIZABLE);
            Transaction<String, Long> t2 = db.begin(Isolation.SERIALIZABLE);
            Savepoint sp = t1.savepoint();
            if (rollBackTheRead) {
                assertEquals(1L, t1.get("alice"));
                t1.put("scratch", 1L); // a write after the savepoint too, undone below
            }
            t1.rollbackTo(sp);
            t1.put("bob", 0L);
            assertEquals(1L, t2.get("bob"));
            t2.put("alice", 0L);
            t2.commit();
            if (rollBackTheRead) {
                SerializationFailureException e = assertThrows(SerializationFailureException.class, t1::commit);
                assertEquals(SerializationFailureException.Reason.DANGEROUS_STRUCTURE, e.reason());
                assertEquals(1L, db.get("bob"));
            } else {
                t1.commit(); // no read of alice: T1 -> T2 -> T1 is not a cycle
                assertEquals(0L, db.get("bob"));
            }
            assertEquals(null, db.get("scratch"));
        }
    }

    /** The same write skew, the read being a range scan of a named map, rolled back twice. */
    @Test
    void aRangeScannedAfterARolledBackSavepointStaysInTheReadSet() {
        try (Database<String, Long> db = Database.<String, Long>builder().open()) {
            NamedMap<String, Long> doctors = db.openMap("doctors");
            doctors.put("alice", 1L);
            doctors.put("bob", 1L);
            Transaction<String, Long> t1 = db.begin(Isolation.SERIALIZABLE);
            Transaction<String, Long> t2 = db.begin(Isolation.SERIALIZABLE);
            Savepoint outer = t1.savepoint();
            Savepoint inner = t1.savepoint();
            long onCall = t1.map(doctors).subMap("a", "b").values().stream()
                    .mapToLong(Long::longValue)
                    .sum(); // reads the range [a, b): alice only
            assertEquals(1L, onCall);
            t1.rollbackTo(inner);
            t1.rollbackTo(outer);
            t1.map(doctors).put("bob", 0L);
            t2.map(doctors).put("alice", 0L);
            assertEquals(1L, t2.map(doctors).get("bob"));
            t2.commit();
            SerializationFailureException e = assertThrows(SerializationFailureException.class, t1::commit);
            assertEquals(SerializationFailureException.Reason.DANGEROUS_STRUCTURE, e.reason());
        }
    }

    /**
     * T1 writes a key after a savepoint and rolls it back; T2 writes that key and commits first.
     *
     * @param rollBack true: T1 commits (its rolled-back write is no write); false: the control,
     *     first committer wins
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aRolledBackWriteDoesNotConflict(boolean rollBack) {
        try (Database<String, Long> db = open()) {
            for (Isolation isolation : Isolation.values()) {
                Transaction<String, Long> t1 = db.begin(isolation);
                t1.put("carol", 5L); // a write that stays
                Savepoint sp = t1.savepoint();
                t1.put("alice", 100L + isolation.ordinal());
                t1.remove("bob");
                if (rollBack) {
                    t1.rollbackTo(sp);
                }
                db.put("alice", 7L); // T2, committed after T1's snapshot
                db.put("bob", 8L);
                if (rollBack) {
                    t1.commit();
                    assertEquals(7L, db.get("alice"), isolation.toString());
                    assertEquals(8L, db.get("bob"), isolation.toString());
                } else {
                    SerializationFailureException e = assertThrows(SerializationFailureException.class, t1::commit);
                    assertEquals(SerializationFailureException.Reason.WRITE_WRITE_CONFLICT, e.reason());
                }
                assertEquals(rollBack ? 5L : null, db.get("carol"), isolation.toString());
                db.remove("carol");
                // Nothing of T1 is left latched: both keys are writable by the next transaction.
                try (Transaction<String, Long> t3 = db.begin(isolation)) {
                    t3.put("alice", 1L);
                    t3.put("bob", 1L);
                    t3.commit();
                }
                assertEquals(Map.of("alice", 1L, "bob", 1L), committed(db));
            }
        }
    }

    /**
     * T1 reads a and writes b (then rolls the write of b back) and c; T2 reads b and writes a. If
     * the write of b counted, T2 -rw-> T1 -rw-> T2 would be a cycle and one commit refused.
     *
     * @param rollBack true: both commit; false: the control, in which T1's write of b stays and
     *     T1's commit is refused
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aRolledBackWriteMakesNoRwEdgeFromItsReaders(boolean rollBack) {
        try (Database<String, Long> db = Database.<String, Long>builder().open()) {
            db.put("a", 0L);
            db.put("b", 0L);
            Transaction<String, Long> t1 = db.begin(Isolation.SERIALIZABLE);
            Transaction<String, Long> t2 = db.begin(Isolation.SERIALIZABLE);
            assertEquals(0L, t1.get("a"));
            Savepoint sp = t1.savepoint();
            t1.put("b", 1L);
            if (rollBack) {
                t1.rollbackTo(sp);
            }
            t1.put("c", 1L);
            assertEquals(0L, t2.get("b"));
            t2.put("a", 2L);
            t2.commit();
            if (rollBack) {
                t1.commit(); // serial order T1, T2
                assertEquals(Map.of("a", 2L, "b", 0L, "c", 1L), committed(db));
            } else {
                SerializationFailureException e = assertThrows(SerializationFailureException.class, t1::commit);
                assertTrue(e.getMessage().contains("dangerous structure"), e.getMessage());
                assertEquals(Map.of("a", 2L, "b", 0L), committed(db));
            }
        }
    }

    private static Map<String, Long> committed(Database<String, Long> db) {
        try (Snapshot<String, Long> s = db.snapshot()) {
            return new TreeMap<>(s);
        }
    }
}
