// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.spi.CommitLog;
import dev.varve.spi.CommitRecord;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Savepoints through the public API (issue 16 §3): rollback of puts, overwrites and removals in
 * the default map and in named maps, nesting and invalidation, misuse, a transaction whose writes
 * are all undone committing as a read-only one, and open iterators meeting a rollback.
 */
class SavepointTest {

    private static Database<Integer, String> open() {
        return Database.<Integer, String>builder().open();
    }

    private static Map<Integer, String> contents(NavigableMap<Integer, String> view) {
        return new TreeMap<>(view);
    }

    private static Map<Integer, String> committed(Database<Integer, String> db) {
        try (Snapshot<Integer, String> s = db.snapshot()) {
            return new TreeMap<>(s);
        }
    }

    private static <K, V> Map<K, V> committed(Database<?, ?> db, NamedMap<K, V> map) {
        try (Snapshot<?, ?> s = db.snapshot()) {
            return new TreeMap<>(s.map(map));
        }
    }

    @ParameterizedTest
    @EnumSource(Isolation.class)
    void rollbackToUndoesPutsOverwritesAndRemovesInTheDefaultMap(Isolation isolation) {
        try (Database<Integer, String> db = open()) {
            db.put(1, "one");
            db.put(2, "two");
            db.put(3, "three");
            try (Transaction<Integer, String> tx = db.begin(isolation)) {
                tx.put(1, "one-before"); // an own write before the savepoint
                tx.remove(2); // an own removal before the savepoint
                Savepoint sp = tx.savepoint();
                tx.put(1, "one-after"); // overwrites an own write
                tx.put(2, "two-after"); // writes over an own removal
                tx.remove(3); // removes a committed key
                tx.put(4, "four"); // a new key
                tx.asMap().put(5, "five"); // through the view
                tx.asMap().remove(4); // a key written after the savepoint, removed again
                assertEquals(Map.of(1, "one-after", 2, "two-after", 5, "five"), contents(tx.asMap()));

                tx.rollbackTo(sp);

                assertEquals("one-before", tx.get(1));
                assertNull(tx.get(2), "removed before the savepoint: removed again");
                assertEquals("three", tx.get(3), "removed after the savepoint: back");
                assertNull(tx.get(4));
                assertNull(tx.get(5));
                assertEquals(Map.of(1, "one-before", 3, "three"), contents(tx.asMap()));
                assertEquals(Map.of(1, "one", 2, "two", 3, "three"), committed(db), "nothing committed yet");
                tx.commit();
            }
            assertEquals(Map.of(1, "one-before", 3, "three"), committed(db));
        }
    }

    @Test
    void rollbackToUndoesWritesInEveryNamedMapIncludingOnesFirstUsedAfterTheSavepoint() {
        try (Database<Integer, String> db = open()) {
            NamedMap<String, Long> accounts = db.openMap("accounts");
            NamedMap<Long, String> late = db.openMap("late");
            accounts.put("alice", 100L);
            accounts.put("bob", 50L);
            late.put(1L, "kept");
            try (Transaction<Integer, String> tx = db.begin()) {
                NavigableMap<String, Long> acc = tx.map(accounts);
                acc.put("alice", 90L);
                Savepoint sp = tx.savepoint();
                acc.put("alice", 0L);
                tx.put(accounts, "bob", 1L);
                tx.remove(accounts, "alice");
                acc.put("carol", 7L);
                tx.map(late).put(2L, "new"); // the first use of this map: after the savepoint
                tx.remove(late, 1L);
                tx.put(9, "default"); // the default map, first written after the savepoint

                tx.rollbackTo(sp);

                assertEquals(Map.of("alice", 90L, "bob", 50L), new TreeMap<>(acc));
                assertEquals(Map.of(1L, "kept"), new TreeMap<>(tx.map(late)));
                assertNull(tx.get(9));
                acc.put("dave", 3L); // writes after the rollback are kept
                tx.commit();
            }
            assertEquals(Map.of("alice", 90L, "bob", 50L, "dave", 3L), committed(db, accounts));
            assertEquals(Map.of(1L, "kept"), committed(db, late));
            assertEquals(Map.of(), committed(db));
        }
    }

    @Test
    void nestedSavepointsRollBackToTheirOwnPointAndInvalidateTheLaterOnes() {
        try (Database<Integer, String> db = open();
                Transaction<Integer, String> tx = db.begin()) {
            tx.put(0, "zero");
            Savepoint sp1 = tx.savepoint();
            tx.put(1, "one");
            Savepoint sp2 = tx.savepoint();
            tx.put(2, "two");
            tx.put(0, "zero-2");
            Savepoint sp3 = tx.savepoint();
            tx.put(3, "three");
            tx.remove(1);

            tx.rollbackTo(sp2);
            assertEquals(Map.of(0, "zero", 1, "one"), contents(tx.asMap()));
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> tx.rollbackTo(sp3));
            assertEquals("savepoint #3 is no longer valid: rollbackTo(savepoint #2) undid it", e.getMessage());
            assertEquals(Map.of(0, "zero", 1, "one"), contents(tx.asMap()), "a refused rollback changes nothing");

            tx.put(4, "four"); // sp2 is still valid: roll back to it again
            tx.rollbackTo(sp2);
            assertEquals(Map.of(0, "zero", 1, "one"), contents(tx.asMap()));

            Savepoint sp4 = tx.savepoint(); // a new savepoint after the rollback nests inside sp2
            assertEquals("savepoint #4", sp4.toString());
            tx.put(5, "five");
            tx.rollbackTo(sp1);
            assertEquals(Map.of(0, "zero"), contents(tx.asMap()));
            assertThrows(IllegalStateException.class, () -> tx.rollbackTo(sp2));
            assertThrows(IllegalStateException.class, () -> tx.rollbackTo(sp4));
            tx.rollbackTo(sp1); // again: nothing to undo
            assertEquals(Map.of(0, "zero"), contents(tx.asMap()));
            tx.commit();
            assertEquals(Map.of(0, "zero"), committed(db));
        }
    }

    @Test
    void aSavepointTakenBeforeAnyWriteUndoesEverythingAndCanBeReused() {
        try (Database<Integer, String> db = open()) {
            NamedMap<Integer, String> other = db.openMap("other");
            db.put(1, "committed");
            try (Transaction<Integer, String> tx = db.begin()) {
                Savepoint sp = tx.savepoint();
                for (int round = 0; round < 3; round++) {
                    tx.put(1, "r" + round);
                    tx.put(2, "r" + round);
                    tx.map(other).put(round, "x");
                    assertFalse(tx.isReadOnly());
                    tx.rollbackTo(sp);
                    assertEquals(Map.of(1, "committed"), contents(tx.asMap()), "round " + round);
                    assertEquals(Map.of(), new TreeMap<>(tx.map(other)), "round " + round);
                    assertTrue(tx.isReadOnly(), "round " + round);
                }
                tx.map(other).put(42, "kept");
                tx.commit();
            }
            assertEquals(Map.of(1, "committed"), committed(db));
            assertEquals(Map.of(42, "kept"), committed(db, other));
        }
    }

    @Test
    void manyWritesOfOneKeyAfterASavepointRollBackToItsValueThen() {
        try (Database<Integer, String> db = open();
                Transaction<Integer, String> tx = db.begin()) {
            for (int k = 0; k < 300; k++) { // past the write set's array tier: the tree tier undoes too
                tx.put((k * 7919) % 300, "v" + k);
            }
            Map<Integer, String> atSavepoint = contents(tx.asMap());
            Savepoint sp = tx.savepoint();
            for (int i = 0; i < 2000; i++) {
                int key = (i * 31) % 400;
                if (i % 3 == 0) {
                    tx.remove(key);
                } else {
                    tx.put(key, "w" + i);
                }
            }
            tx.rollbackTo(sp);
            assertEquals(atSavepoint, contents(tx.asMap()));
            tx.commit();
            assertEquals(atSavepoint, committed(db));
        }
    }

    @Test
    void aSavepointOfAnotherTransactionIsRefused() {
        try (Database<Integer, String> db = open();
                Transaction<Integer, String> t1 = db.begin();
                Transaction<Integer, String> t2 = db.begin()) {
            Savepoint sp = t1.savepoint();
            t2.put(1, "t2");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> t2.rollbackTo(sp));
            assertEquals("savepoint #1 belongs to another transaction, not to " + t2, e.getMessage());
            assertEquals("t2", t2.get(1), "nothing was undone");
            t1.rollbackTo(sp); // still its own
        }
    }

    @Test
    void savepointsAreRefusedAfterCommitAndAfterRollback() {
        try (Database<Integer, String> db = open()) {
            Transaction<Integer, String> committed = db.begin();
            Savepoint sp1 = committed.savepoint();
            committed.put(1, "one");
            committed.commit();
            IllegalStateException e = assertThrows(IllegalStateException.class, committed::savepoint);
            assertEquals("transaction already committed: it cannot be used any more", e.getMessage());
            e = assertThrows(IllegalStateException.class, () -> committed.rollbackTo(sp1));
            assertEquals("transaction already committed: it cannot be used any more", e.getMessage());

            Transaction<Integer, String> rolledBack = db.begin();
            Savepoint sp2 = rolledBack.savepoint();
            rolledBack.rollback();
            e = assertThrows(IllegalStateException.class, rolledBack::savepoint);
            assertEquals("transaction already rolled back: it cannot be used any more", e.getMessage());
            e = assertThrows(IllegalStateException.class, () -> rolledBack.rollbackTo(sp2));
            assertEquals("transaction already rolled back: it cannot be used any more", e.getMessage());
            assertEquals(Map.of(1, "one"), committed(db));
        }
    }

    @Test
    void aNullSavepointIsRefused() {
        try (Database<Integer, String> db = open();
                Transaction<Integer, String> tx = db.begin()) {
            NullPointerException e = assertThrows(NullPointerException.class, () -> tx.rollbackTo(null));
            assertEquals("savepoint", e.getMessage());
            Transaction<Integer, String> done = db.begin();
            done.rollback();
            assertThrows(NullPointerException.class, () -> done.rollbackTo(null), "null is checked first");
        }
    }

    @Test
    void writesAfterARollbackCommitAndALaterSnapshotReadsThem() {
        try (Database<Integer, String> db = open()) {
            db.put(1, "one");
            long before;
            try (Transaction<Integer, String> tx = db.begin()) {
                before = tx.snapshotTimestamp();
                Savepoint sp = tx.savepoint();
                tx.put(1, "undone");
                tx.put(2, "undone");
                tx.rollbackTo(sp);
                tx.put(2, "two");
                tx.remove(1);
                tx.commit();
                assertTrue(tx.commitTimestamp() > before);
            }
            try (Snapshot<Integer, String> s = db.snapshot()) {
                assertEquals(Map.of(2, "two"), new TreeMap<>(s));
            }
            assertNull(db.get(1));
        }
    }

    /** A log that keeps every record it is handed. */
    private static final class RecordingLog implements CommitLog<Integer, String> {
        final List<CommitRecord<Integer, String>> records = new ArrayList<>();

        @Override
        public synchronized CompletableFuture<Void> append(CommitRecord<Integer, String> record) {
            records.add(record);
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public void checkpoint() {}

        @Override
        public void close() {}
    }

    private static Database<Integer, String> open(RecordingLog log) {
        return Database.<Integer, String>builder()
                .durability(new Durability<>() {
                    @Override
                    public CommitLog<Integer, String> open(dev.varve.spi.StoreAccess<Integer, String> store) {
                        return log;
                    }

                    @Override
                    public String describe() {
                        return "recording";
                    }
                })
                .open();
    }

    @ParameterizedTest
    @EnumSource(Isolation.class)
    void aTransactionWhoseWritesAreAllUndoneCommitsAsAReadOnlyOne(Isolation isolation) {
        RecordingLog log = new RecordingLog();
        try (Database<Integer, String> db = open(log)) {
            db.put(1, "one");
            assertEquals(1, log.records.size());
            Database.Counters start = db.counters();
            try (Transaction<Integer, String> tx = db.begin(isolation)) {
                assertEquals("one", tx.get(1));
                tx.put(1, "before-savepoint");
                Savepoint sp = tx.savepoint(); // the write set exists: undone through its log
                tx.put(2, "two");
                tx.rollbackTo(sp);
                assertFalse(tx.isReadOnly(), "the write before the savepoint stays");
                tx.remove(1);
                Savepoint whole = tx.savepoint();
                tx.rollbackTo(whole);
                assertFalse(tx.isReadOnly());
                tx.commit();
            }
            assertEquals(2, log.records.size(), "the transaction that still wrote logged a record");
            assertEquals(1, log.records.get(1).size());

            try (Transaction<Integer, String> tx = db.begin(isolation)) {
                Savepoint sp = tx.savepoint();
                tx.put(3, "three");
                tx.asMap().put(4, "four");
                assertFalse(tx.isReadOnly());
                tx.rollbackTo(sp);
                assertTrue(tx.isReadOnly());
                tx.commit();
                assertEquals(tx.snapshotTimestamp(), tx.commitTimestamp(), "serialized at its snapshot");
            }
            assertEquals(2, log.records.size(), "no record of zero writes");
            Database.Counters counted = db.counters().minus(start);
            assertEquals(1, counted.transactionCommits());
            assertEquals(1, counted.readOnlyCommits());
            assertEquals(Map.of(), committed(db));
        }
    }

    @Test
    void aCommitWritesOnlyTheMapsWhoseWritesWereNotAllUndone() {
        try (Database<Integer, String> db = open()) {
            NamedMap<Integer, String> a = db.openMap("a");
            NamedMap<Integer, String> b = db.openMap("b");
            b.put(1, "b1");
            try (Transaction<Integer, String> tx = db.begin()) {
                tx.put(a, 1, "a1");
                Savepoint sp = tx.savepoint();
                tx.put(b, 1, "changed");
                tx.put(b, 2, "new");
                tx.rollbackTo(sp); // b's write set is now empty, a's is not
                assertFalse(tx.isReadOnly());
                tx.commit();
            }
            assertEquals(Map.of(1, "a1"), committed(db, a));
            assertEquals(Map.of(1, "b1"), committed(db, b));
            db.put(7, "seven"); // the next commit works
            assertEquals("seven", db.get(7));
        }
    }

    @Test
    void anOpenIteratorSeesTheRolledBackStateFromItsNextStep() {
        try (Database<Integer, String> db = open()) {
            for (int k = 1; k <= 6; k++) {
                db.put(k, "c" + k);
            }
            try (Transaction<Integer, String> tx = db.begin()) {
                Savepoint sp = tx.savepoint();
                tx.put(4, "w4");
                tx.remove(5);
                tx.put(7, "w7");
                tx.remove(1);
                Iterator<Map.Entry<Integer, String>> it = tx.asMap().entrySet().iterator();
                assertEquals(Map.entry(2, "c2"), it.next());

                tx.rollbackTo(sp);

                List<Map.Entry<Integer, String>> rest = new ArrayList<>();
                it.forEachRemaining(rest::add);
                // 1 is behind the position and not revisited; 4 has its committed value again,
                // 5 is back, 7 is gone.
                assertEquals(
                        List.of(Map.entry(3, "c3"), Map.entry(4, "c4"), Map.entry(5, "c5"), Map.entry(6, "c6")), rest);
            }
        }
    }

    @Test
    void anIteratorOverANamedMapAndADescendingViewSeeTheRollbackToo() {
        try (Database<Integer, String> db = open()) {
            NamedMap<Integer, String> m = db.openMap("m");
            for (int k = 1; k <= 4; k++) {
                m.put(k, "c" + k);
            }
            try (Transaction<Integer, String> tx = db.begin()) {
                tx.map(m).put(10, "w10");
                Savepoint sp = tx.savepoint();
                tx.map(m).remove(2);
                tx.map(m).put(3, "w3");
                tx.map(m).put(0, "w0");
                Iterator<Integer> down = tx.map(m).descendingKeySet().iterator();
                assertEquals(10, down.next());
                Iterator<Map.Entry<Integer, String>> up = tx.map(m).entrySet().iterator();
                assertEquals(Map.entry(0, "w0"), up.next());
                tx.rollbackTo(sp);
                List<Integer> downRest = new ArrayList<>();
                down.forEachRemaining(downRest::add);
                assertEquals(List.of(4, 3, 2, 1), downRest);
                List<Map.Entry<Integer, String>> upRest = new ArrayList<>();
                up.forEachRemaining(upRest::add);
                assertEquals(
                        List.of(
                                Map.entry(1, "c1"),
                                Map.entry(2, "c2"),
                                Map.entry(3, "c3"),
                                Map.entry(4, "c4"),
                                Map.entry(10, "w10")),
                        upRest);
            }
        }
    }

    @Test
    void anEntryAlreadyLookedAheadToIsReturnedAsItWasAfterARollbackAsAfterAWrite() {
        try (Database<Integer, String> db = open()) {
            db.put(1, "c1");
            db.put(3, "c3");
            try (Transaction<Integer, String> tx = db.begin()) {
                Savepoint sp = tx.savepoint();
                tx.put(2, "w2");
                Iterator<Map.Entry<Integer, String>> it = tx.asMap().entrySet().iterator();
                assertEquals(Map.entry(1, "c1"), it.next());
                assertTrue(it.hasNext()); // looks ahead to 2
                tx.rollbackTo(sp);
                assertEquals(Map.entry(2, "w2"), it.next(), "documented: a looked-ahead entry is not taken back");
                assertEquals(Map.entry(3, "c3"), it.next());
                assertFalse(it.hasNext());

                // The same holds for a plain write made after the look-ahead.
                Iterator<Map.Entry<Integer, String>> again =
                        tx.asMap().entrySet().iterator();
                assertTrue(again.hasNext()); // looks ahead to 1
                tx.put(1, "w1");
                assertEquals(Map.entry(1, "c1"), again.next());
                assertNull(tx.get(2), "the rollback itself did happen");
            }
        }
    }

    @Test
    void anIteratorRemovesAndSetsValuesAfterARollback() {
        try (Database<Integer, String> db = open()) {
            for (int k = 1; k <= 3; k++) {
                db.put(k, "c" + k);
            }
            try (Transaction<Integer, String> tx = db.begin()) {
                Savepoint sp = tx.savepoint();
                tx.remove(2);
                Iterator<Map.Entry<Integer, String>> it = tx.asMap().entrySet().iterator();
                Map.Entry<Integer, String> first = it.next();
                tx.rollbackTo(sp);
                first.setValue("set1"); // writes through after the rollback
                Map.Entry<Integer, String> second = it.next();
                assertEquals(Map.entry(2, "c2"), second);
                it.remove();
                tx.commit();
            }
            assertEquals(Map.of(1, "set1", 3, "c3"), committed(db));
        }
    }

    @Test
    void aTransactionThatTakesNoSavepointRecordsNoUndo() throws ReflectiveOperationException {
        try (Database<Integer, String> db = open();
                Transaction<Integer, String> tx = db.begin()) {
            for (int k = 0; k < 100; k++) {
                tx.put(k, "v");
                tx.asMap().put(k + 1000, "w");
            }
            java.lang.reflect.Field undo = dev.varve.internal.mvcc.MapTx.class.getDeclaredField("undo");
            undo.setAccessible(true);
            assertNull(undo.get(tx.core().main()), "no savepoint: no undo log");
            tx.savepoint();
            assertTrue(undo.get(tx.core().main()) != null, "the field this test watches is the undo log");
        }
    }
}
