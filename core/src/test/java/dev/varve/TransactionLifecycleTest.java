// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TransactionLifecycleTest {
    private final Database<String, Long> db = Database.<String, Long>builder().open();

    @AfterEach
    void close() {
        db.close();
    }

    @Test
    void uncommittedWritesAreInvisibleToOthersAndVisibleToTheWriter() {
        try (Transaction<String, Long> tx = db.begin(Isolation.SNAPSHOT)) {
            tx.put("a", 1L);
            assertEquals(1L, tx.get("a"));
            assertTrue(tx.containsKey("a"));
            assertNull(db.get("a"));
            try (Transaction<String, Long> other = db.begin(Isolation.SNAPSHOT)) {
                assertNull(other.get("a"));
            }
            tx.remove("a");
            assertNull(tx.get("a"));
            tx.put("a", 2L);
            tx.commit();
        }
        assertEquals(2L, db.get("a"));
    }

    @Test
    void snapshotDoesNotChangeWhileHeld() {
        db.put("a", 1L);
        try (Transaction<String, Long> tx = db.begin(Isolation.SNAPSHOT);
                Snapshot<String, Long> snap = db.snapshot()) {
            db.put("a", 2L);
            db.put("b", 3L);
            db.remove("a");
            assertEquals(1L, tx.get("a"));
            assertNull(tx.get("b"));
            assertEquals(1L, snap.get("a"));
            assertEquals(1, snap.size());
            assertEquals(tx.snapshotTimestamp(), snap.snapshotTimestamp());
        }
        assertNull(db.get("a"));
        assertEquals(3L, db.get("b"));
    }

    @Test
    void closeWithoutCommitRollsBack() {
        try (Transaction<String, Long> tx = db.begin()) {
            tx.put("a", 1L);
        }
        assertNull(db.get("a"));
    }

    @Test
    void finishedTransactionRefusesUseButRollbackAndCloseAreNoOps() {
        Transaction<String, Long> tx = db.begin();
        tx.put("a", 1L);
        tx.commit();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> tx.get("a"));
        assertEquals("transaction already committed: it cannot be used any more", e.getMessage());
        assertThrows(IllegalStateException.class, () -> tx.put("b", 1L));
        assertThrows(IllegalStateException.class, tx::commit);
        assertThrows(IllegalStateException.class, tx::asMap);
        tx.rollback();
        tx.close();

        Transaction<String, Long> rolledBack = db.begin();
        rolledBack.rollback();
        IllegalStateException e2 = assertThrows(IllegalStateException.class, rolledBack::commit);
        assertEquals("transaction already rolled back: it cannot be used any more", e2.getMessage());
        assertThrows(IllegalStateException.class, rolledBack::commitTimestamp);
    }

    @Test
    void viewOfFinishedTransactionRefusesUse() {
        Transaction<String, Long> tx = db.begin();
        var view = tx.asMap();
        tx.rollback();
        assertThrows(IllegalStateException.class, () -> view.get("a"));
        assertThrows(IllegalStateException.class, view::firstEntry);
        assertThrows(IllegalStateException.class, () -> view.put("a", 1L));
    }

    @Test
    void nullKeysAndValuesAreRejected() {
        assertThrows(NullPointerException.class, () -> db.put(null, 1L));
        assertThrows(NullPointerException.class, () -> db.put("a", null));
        assertThrows(NullPointerException.class, () -> db.get(null));
        assertThrows(NullPointerException.class, () -> db.remove(null));
        try (Transaction<String, Long> tx = db.begin()) {
            assertThrows(NullPointerException.class, () -> tx.get(null));
            assertThrows(NullPointerException.class, () -> tx.put(null, 1L));
            assertThrows(NullPointerException.class, () -> tx.put("a", null));
            assertThrows(NullPointerException.class, () -> tx.remove(null));
            assertThrows(NullPointerException.class, () -> tx.asMap().put("a", null));
            assertThrows(NullPointerException.class, () -> tx.asMap().ceilingKey(null));
        }
    }

    @Test
    void closedDatabaseRefusesEverythingWithAClearMessage() {
        Transaction<String, Long> open = db.begin();
        Snapshot<String, Long> snap = db.snapshot();
        db.close();
        assertTrue(db.isClosed());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> db.get("a"));
        assertEquals("database is closed", e.getMessage());
        assertThrows(IllegalStateException.class, () -> db.put("a", 1L));
        assertThrows(IllegalStateException.class, db::begin);
        assertThrows(IllegalStateException.class, db::snapshot);
        assertThrows(IllegalStateException.class, () -> open.get("a"));
        assertThrows(IllegalStateException.class, () -> snap.get("a"));
        assertThrows(IllegalStateException.class, () -> open.put("x", 1L));
        assertThrows(IllegalStateException.class, open::commit);
        db.close(); // idempotent
    }

    @Test
    void closeStopsTheVacuumThreadAndLeaksNone() {
        Database<String, Long> vacuumed = Database.<String, Long>builder()
                .autoVacuum(Duration.ofMillis(1))
                .open();
        vacuumed.put("a", 1L);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> vacuumThreads() > 0);
        vacuumed.close();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> vacuumThreads() == 0);
    }

    private static long vacuumThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("varve-vacuum-") && t.isAlive())
                .count();
    }

    @Test
    void firstCommitterWinsAndTheFailureNamesRuleAndKeys() {
        db.put("a", 1L);
        Transaction<String, Long> t1 = db.begin(Isolation.SNAPSHOT);
        Transaction<String, Long> t2 = db.begin(Isolation.SNAPSHOT);
        t1.put("a", 10L);
        t1.put("b", 10L);
        t2.put("a", 20L);
        t2.put("c", 20L);
        t1.commit();
        SerializationFailureException e = assertThrows(SerializationFailureException.class, t2::commit);
        assertEquals(SerializationFailureException.Reason.WRITE_WRITE_CONFLICT, e.reason());
        assertEquals(List.of("a"), e.keys());
        assertTrue(e.getMessage().startsWith("write-write conflict: keys [a]"), e.getMessage());
        assertFalse(t2.isActive());
        assertEquals(10L, db.get("a"));
        assertNull(db.get("c"));
    }

    @Test
    void commitTimestampsOrderCommits() {
        Transaction<String, Long> t1 = db.begin();
        t1.put("a", 1L);
        t1.commit();
        Transaction<String, Long> t2 = db.begin();
        assertEquals(t1.commitTimestamp(), t2.snapshotTimestamp());
        t2.put("a", 2L);
        t2.commit();
        assertTrue(t2.commitTimestamp() > t1.commitTimestamp());
        Transaction<String, Long> readOnly = db.begin();
        assertEquals(2L, readOnly.get("a"));
        assertTrue(readOnly.isReadOnly());
        readOnly.commit();
        assertEquals(readOnly.snapshotTimestamp(), readOnly.commitTimestamp());
    }

    @Test
    void commitAsyncCompletesWithTheCommitTimestampOrTheFailure() throws Exception {
        Transaction<String, Long> t1 = db.begin(Isolation.SNAPSHOT);
        Transaction<String, Long> t2 = db.begin(Isolation.SNAPSHOT);
        t1.put("k", 1L);
        t2.put("k", 2L);
        CompletableFuture<Long> ok = t1.commitAsync();
        assertEquals(t1.commitTimestamp(), ok.get());
        CompletableFuture<Long> failed = t2.commitAsync();
        ExecutionException e = assertThrows(ExecutionException.class, failed::get);
        assertTrue(e.getCause() instanceof SerializationFailureException);
    }

    @Test
    void snapshotIsReadOnly() {
        db.put("a", 1L);
        try (Snapshot<String, Long> snap = db.snapshot()) {
            assertThrows(UnsupportedOperationException.class, () -> snap.put("b", 1L));
            assertThrows(UnsupportedOperationException.class, () -> snap.remove("a"));
            assertThrows(UnsupportedOperationException.class, snap::pollFirstEntry);
            assertThrows(
                    UnsupportedOperationException.class, () -> snap.firstEntry().setValue(3L));
            var it = snap.entrySet().iterator();
            it.next();
            assertThrows(UnsupportedOperationException.class, it::remove);
        }
        assertEquals(1L, db.get("a"));
    }

    @Test
    void autocommitConditionalWritesAreAtomic() {
        assertNull(db.putIfAbsent("a", 1L));
        assertEquals(1L, db.putIfAbsent("a", 2L));
        assertFalse(db.replace("a", 5L, 6L));
        assertTrue(db.replace("a", 1L, 6L));
        assertEquals(6L, db.replace("a", 7L));
        assertNull(db.replace("missing", 7L));
        assertNull(db.get("missing"));
        assertFalse(db.remove("a", 1L));
        assertTrue(db.remove("a", 7L));
        assertNull(db.get("a"));
        assertEquals(1L, db.compute("c", v -> v == null ? 1L : v + 1));
        assertEquals(2L, db.compute("c", v -> v == null ? 1L : v + 1));
        assertNull(db.compute("c", v -> null));
        assertNull(db.get("c"));
        assertEquals(null, db.remove("c"));
    }

    @Test
    void builderRejectsBadOptionsNamingThem() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> Database.<String, Long>builder().autoVacuum(Duration.ofNanos(10)));
        assertEquals("autoVacuum period must be at least 1 ms, was PT0.00000001S", e.getMessage());
        IllegalArgumentException e2 = assertThrows(
                IllegalArgumentException.class,
                () -> Database.<String, Long>builder().maxAttempts(0));
        assertEquals("maxAttempts must be at least 1, was 0", e2.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () -> Database.<String, Long>builder().retryBackoff(Duration.ofMillis(5), Duration.ofMillis(1)));
        assertThrows(
                NullPointerException.class,
                () -> Database.<String, Long>builder().durability(null));
        assertThrows(NullPointerException.class, () -> Database.builder(null));
    }

    @Test
    void customComparatorOrdersKeysAndViewsReportIt() {
        try (Database<String, Long> reversed = Database.<String, Long>builder(java.util.Comparator.reverseOrder())
                .open()) {
            reversed.put("a", 1L);
            reversed.put("b", 2L);
            try (Snapshot<String, Long> snap = reversed.snapshot()) {
                assertEquals("b", snap.firstKey());
                assertEquals(java.util.Comparator.reverseOrder(), snap.comparator());
            }
        }
        try (Snapshot<String, Long> snap = db.snapshot()) {
            assertNull(snap.comparator());
        }
    }

    @Test
    @SuppressWarnings({"unchecked", "rawtypes"})
    void aKeyOfTheWrongClassIsRejectedAtPutNotAtCommit() {
        db.put("a", 1L);
        try (Transaction<String, Long> tx = db.begin()) {
            Transaction raw = tx;
            ClassCastException put =
                    org.junit.jupiter.api.Assertions.assertThrows(ClassCastException.class, () -> raw.put(42L, 1L));
            assertEquals(
                    "key 42 of java.lang.Long cannot be compared with this index's keys of java.lang.String",
                    put.getMessage());
            org.junit.jupiter.api.Assertions.assertThrows(ClassCastException.class, () -> raw.remove(42L));
            tx.put("b", 2L);
            tx.commit(); // the rejected writes left nothing behind
        }
        assertEquals(2L, db.get("b"));
    }
}
