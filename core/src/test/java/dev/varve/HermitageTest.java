// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The anomalies of Martin Kleppmann's Hermitage suite (github.com/ept/hermitage), translated to
 * keys and range scans: a "table" of rows id → value starting as {1: 10, 2: 20}; a predicate
 * read is a scan of the whole map filtered by value. Each test states the outcome at SNAPSHOT
 * and at SERIALIZABLE. Writes are buffered, so where Hermitage shows a writer blocking, Varve
 * shows the later committer failing with a write-write conflict.
 */
class HermitageTest {
    private Database<Integer, Integer> db;

    @BeforeEach
    void setUp() {
        db = Database.<Integer, Integer>builder().open();
        db.put(1, 10);
        db.put(2, 20);
    }

    @AfterEach
    void tearDown() {
        db.close();
    }

    private static List<Integer> select(Transaction<Integer, Integer> tx, IntPredicate where) {
        List<Integer> ids = new ArrayList<>();
        for (Map.Entry<Integer, Integer> e : tx.asMap().entrySet()) {
            if (where.test(e.getValue())) {
                ids.add(e.getKey());
            }
        }
        return ids;
    }

    private static SerializationFailureException.Reason failureOf(Transaction<Integer, Integer> tx) {
        return assertThrows(SerializationFailureException.class, tx::commit).reason();
    }

    @ParameterizedTest
    @EnumSource(Isolation.class)
    void g0WriteCyclesArePrevented(Isolation iso) {
        var t1 = db.begin(iso);
        var t2 = db.begin(iso);
        t1.put(1, 11);
        t2.put(1, 12);
        t1.put(2, 21);
        t1.commit();
        t2.put(2, 22);
        assertEquals(SerializationFailureException.Reason.WRITE_WRITE_CONFLICT, failureOf(t2));
        assertEquals(11, db.get(1));
        assertEquals(21, db.get(2));
    }

    @ParameterizedTest
    @EnumSource(Isolation.class)
    void g1aAbortedReadsArePrevented(Isolation iso) {
        var t1 = db.begin(iso);
        var t2 = db.begin(iso);
        t1.put(1, 101);
        assertEquals(List.of(1, 2), select(t2, v -> true));
        assertEquals(10, t2.get(1));
        t1.rollback();
        assertEquals(10, t2.get(1));
        t2.commit();
    }

    @ParameterizedTest
    @EnumSource(Isolation.class)
    void g1bIntermediateReadsArePrevented(Isolation iso) {
        var t1 = db.begin(iso);
        var t2 = db.begin(iso);
        t1.put(1, 101);
        assertEquals(10, t2.get(1));
        t1.put(1, 11);
        t1.commit();
        assertEquals(10, t2.get(1));
        t2.commit();
    }

    @ParameterizedTest
    @EnumSource(Isolation.class)
    void g1cCircularInformationFlowIsPreventedAndSerializableAbortsTheRwCycle(Isolation iso) {
        var t1 = db.begin(iso);
        var t2 = db.begin(iso);
        t1.put(1, 11);
        t2.put(2, 22);
        assertEquals(20, t1.get(2)); // neither sees the other's uncommitted write
        assertEquals(10, t2.get(1));
        t1.commit();
        if (iso == Isolation.SNAPSHOT) {
            t2.commit();
        } else { // T1 ->rw T2 ->rw T1 is a dangerous structure with T2 as pivot
            assertEquals(SerializationFailureException.Reason.DANGEROUS_STRUCTURE, failureOf(t2));
        }
    }

    @ParameterizedTest
    @EnumSource(Isolation.class)
    void otvObservedTransactionVanishesIsPrevented(Isolation iso) {
        var t1 = db.begin(iso);
        var t2 = db.begin(iso);
        t1.put(1, 11);
        t1.put(2, 19);
        t2.put(1, 12);
        t1.commit();
        var t3 = db.begin(iso);
        assertEquals(11, t3.get(1));
        t2.put(2, 18);
        assertEquals(19, t3.get(2));
        assertEquals(SerializationFailureException.Reason.WRITE_WRITE_CONFLICT, failureOf(t2));
        assertEquals(19, t3.get(2));
        assertEquals(11, t3.get(1));
        t3.commit();
    }

    @ParameterizedTest
    @EnumSource(Isolation.class)
    void pmpPredicateManyPrecedersIsPrevented(Isolation iso) {
        var t1 = db.begin(iso);
        var t2 = db.begin(iso);
        assertEquals(List.of(), select(t1, v -> v == 30));
        t2.put(3, 30);
        t2.commit();
        assertEquals(List.of(), select(t1, v -> v % 3 == 0));
        t1.commit();
    }

    @ParameterizedTest
    @EnumSource(Isolation.class)
    void pmpWriteIsPrevented(Isolation iso) {
        var t1 = db.begin(iso);
        var t2 = db.begin(iso);
        for (int id : select(t1, v -> true)) {
            t1.put(id, t1.get(id) + 10);
        }
        assertEquals(List.of(2), select(t2, v -> v == 20));
        for (int id : select(t2, v -> v == 20)) {
            t2.remove(id);
        }
        t1.commit();
        assertEquals(List.of(1), select(t2, v -> true)); // its own delete
        assertEquals(SerializationFailureException.Reason.WRITE_WRITE_CONFLICT, failureOf(t2));
        assertEquals(20, db.get(1));
        assertEquals(30, db.get(2));
    }

    @ParameterizedTest
    @EnumSource(Isolation.class)
    void p4LostUpdateIsPrevented(Isolation iso) {
        var t1 = db.begin(iso);
        var t2 = db.begin(iso);
        assertEquals(10, t1.get(1));
        assertEquals(10, t2.get(1));
        t1.put(1, 11);
        t2.put(1, 11);
        t1.commit();
        assertEquals(SerializationFailureException.Reason.WRITE_WRITE_CONFLICT, failureOf(t2));
    }

    @ParameterizedTest
    @EnumSource(Isolation.class)
    void gSingleReadSkewIsPrevented(Isolation iso) {
        var t1 = db.begin(iso);
        var t2 = db.begin(iso);
        assertEquals(10, t1.get(1));
        assertEquals(10, t2.get(1));
        assertEquals(20, t2.get(2));
        t2.put(1, 12);
        t2.put(2, 18);
        t2.commit();
        assertEquals(20, t1.get(2)); // 10 + 20 = 30, the invariant holds
        t1.commit();
    }

    @ParameterizedTest
    @EnumSource(Isolation.class)
    void gSingleWithPredicateDependenciesIsPrevented(Isolation iso) {
        var t1 = db.begin(iso);
        var t2 = db.begin(iso);
        assertEquals(List.of(1, 2), select(t1, v -> v % 5 == 0));
        t2.put(1, 12);
        t2.commit();
        assertEquals(List.of(), select(t1, v -> v % 3 == 0));
        t1.commit();
    }

    @ParameterizedTest
    @EnumSource(Isolation.class)
    void gSingleWrite1IsPrevented(Isolation iso) {
        var t1 = db.begin(iso);
        var t2 = db.begin(iso);
        assertEquals(10, t1.get(1));
        t2.put(1, 12);
        t2.put(2, 18);
        t2.commit();
        t1.remove(2);
        assertEquals(SerializationFailureException.Reason.WRITE_WRITE_CONFLICT, failureOf(t1));
        assertEquals(18, db.get(2));
    }

    @ParameterizedTest
    @EnumSource(Isolation.class)
    void gSingleWrite2IsPrevented(Isolation iso) {
        var t1 = db.begin(iso);
        var t2 = db.begin(iso);
        assertEquals(List.of(1, 2), select(t1, v -> true));
        t2.put(1, 12);
        t1.remove(2);
        t2.put(2, 18);
        t1.commit();
        assertEquals(SerializationFailureException.Reason.WRITE_WRITE_CONFLICT, failureOf(t2));
        assertNull(db.get(2));
        assertEquals(10, db.get(1));
    }

    @Test
    void g2ItemWriteSkewCommitsUnderSnapshotAndAbortsUnderSerializable() {
        for (Isolation iso : Isolation.values()) {
            setUpFresh();
            var t1 = db.begin(iso);
            var t2 = db.begin(iso);
            assertEquals(30, t1.get(1) + t1.get(2));
            assertEquals(30, t2.get(1) + t2.get(2));
            t1.put(1, 11);
            t2.put(2, 21);
            t1.commit();
            if (iso == Isolation.SNAPSHOT) {
                t2.commit(); // write skew: the anomaly snapshot isolation allows
                assertEquals(32, db.get(1) + db.get(2));
            } else {
                assertEquals(SerializationFailureException.Reason.DANGEROUS_STRUCTURE, failureOf(t2));
            }
        }
    }

    @Test
    void g2PredicateAntiDependencyCycleCommitsUnderSnapshotAndAbortsUnderSerializable() {
        for (Isolation iso : Isolation.values()) {
            setUpFresh();
            var t1 = db.begin(iso);
            var t2 = db.begin(iso);
            assertEquals(List.of(), select(t1, v -> v % 3 == 0));
            assertEquals(List.of(), select(t2, v -> v % 3 == 0));
            t1.put(3, 30);
            t2.put(4, 42);
            t1.commit();
            if (iso == Isolation.SNAPSHOT) {
                t2.commit();
            } else { // phantom: T1 inserted into the range T2 scanned, and vice versa
                assertEquals(SerializationFailureException.Reason.DANGEROUS_STRUCTURE, failureOf(t2));
            }
        }
    }

    @Test
    void g2TwoEdgesWithAReadOnlyObserverAbortsOnlyUnderSerializable() {
        for (Isolation iso : Isolation.values()) {
            setUpFresh();
            var t1 = db.begin(iso);
            assertEquals(List.of(1, 2), select(t1, v -> true));
            var t2 = db.begin(iso);
            t2.put(2, 25);
            t2.commit();
            var t3 = db.begin(iso);
            assertEquals(List.of(1, 2), select(t3, v -> true));
            assertEquals(25, t3.get(2));
            t3.commit();
            t1.put(1, 0);
            if (iso == Isolation.SNAPSHOT) {
                t1.commit();
            } else { // T3 ->rw T1 ->rw T2, T2 committed before T3's snapshot
                assertEquals(SerializationFailureException.Reason.DANGEROUS_STRUCTURE, failureOf(t1));
            }
        }
    }

    private void setUpFresh() {
        tearDown();
        setUp();
    }
}
