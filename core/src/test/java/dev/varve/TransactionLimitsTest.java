// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Transactions that cannot hurt the database (issue 15 §3): a leaked transaction is found and no
 * longer holds vacuum back; the age bound rolls an old transaction back, releases its snapshot at
 * once, and refuses a read that raced the release; the open transactions are listed oldest first.
 */
class TransactionLimitsTest {

    /** Begins a transaction that reads at the current snapshot and is then dropped unclosed. */
    private static void leakOne(Database<Long, Long> db) {
        Transaction<Long, Long> tx = db.begin();
        assertEquals(0L, tx.get(1L));
        // tx goes out of scope here without commit, rollback or close
    }

    /** Writes key 1 {@code n} more times (versions a leaked snapshot would keep). */
    private static void overwrite(Database<Long, Long> db, int n) {
        for (long v = 1; v <= n; v++) {
            db.put(1L, v);
        }
    }

    @Test
    void aLeakedTransactionIsFoundAndNoLongerHoldsVacuumBack() {
        try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
            db.put(1L, 0L);
            leakOne(db);
            overwrite(db, 100);
            db.vacuum();
            assertEquals(1, db.gauges().openSnapshots());
            assertEquals(101, db.gauges().versions(), "the leaked snapshot still pins every version");
            await("the leaked transaction is collected and its pin released")
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> {
                        System.gc();
                        db.vacuum(); // a pass reaps, then moves past the released snapshot
                        return db.counters().leakedTransactions() == 1;
                    });
            db.vacuum();
            assertEquals(0, db.gauges().openSnapshots());
            assertEquals(1, db.gauges().versions(), "vacuum moved past the leaked snapshot");
            assertEquals(100L, db.get(1L));
        }
    }

    @Test
    void aTransactionInUseIsNotALeakWhateverTheCollectorDoes() {
        try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
            db.put(1L, 0L);
            Transaction<Long, Long> tx = db.begin();
            assertEquals(0L, tx.get(1L));
            overwrite(db, 10);
            for (int i = 0; i < 3; i++) {
                System.gc();
                db.vacuum();
            }
            assertEquals(0, db.counters().leakedTransactions());
            assertEquals(0L, tx.get(1L), "its snapshot is intact");
            tx.commit();
            assertEquals(0, db.gauges().openSnapshots());
        }
    }

    @Test
    void withLeakTrackingTheOpenTransactionsNameWhereTheyWereBegun() {
        try (Database<Long, Long> db =
                Database.<Long, Long>builder().leakTracking(true).open()) {
            db.put(1L, 0L);
            try (Transaction<Long, Long> older = db.begin();
                    Transaction<Long, Long> newer = (older.get(1L) == 0L ? db : null).begin(Isolation.SNAPSHOT)) {
                db.put(2L, 2L);
                try (Transaction<Long, Long> newest = db.begin()) {
                    List<Database.OpenTransaction> open = db.openTransactions();
                    assertEquals(3, open.size());
                    assertEquals(older.snapshotTimestamp(), open.get(0).snapshotTimestamp());
                    assertEquals(newest.snapshotTimestamp(), open.get(2).snapshotTimestamp());
                    assertTrue(open.get(0).snapshotTimestamp() <= open.get(1).snapshotTimestamp());
                    assertTrue(open.get(1).snapshotTimestamp() < open.get(2).snapshotTimestamp());
                    for (Database.OpenTransaction t : open) {
                        assertNotNull(t.age());
                        assertTrue(
                                t.begunAt().stream()
                                        .anyMatch(f -> f.getMethodName()
                                                .equals("withLeakTrackingTheOpenTransactionsNameWhereTheyWereBegun")),
                                t.begunAt().toString());
                    }
                    assertTrue(open.get(0).age().compareTo(open.get(2).age()) >= 0, "the oldest first");
                    assertNotNull(newer);
                }
            }
            assertEquals(List.of(), db.openTransactions());
        }
    }

    @Test
    void withoutTrackingTheOpenTransactionsAreListedWithoutAges() {
        try (Database<Long, Long> db = Database.<Long, Long>builder().open();
                Transaction<Long, Long> tx = db.begin()) {
            List<Database.OpenTransaction> open = db.openTransactions();
            assertEquals(1, open.size());
            assertEquals(tx.snapshotTimestamp(), open.get(0).snapshotTimestamp());
            assertNull(open.get(0).age());
            assertNull(open.get(0).begunAt());
        }
    }

    @Test
    void anOldTransactionIsRolledBackAndVacuumMovesPastIt() {
        Duration bound = Duration.ofMillis(50);
        try (Database<Long, Long> db =
                Database.<Long, Long>builder().maxTransactionAge(bound).open()) {
            db.put(1L, 0L);
            Transaction<Long, Long> tx = db.begin();
            assertEquals(0L, tx.get(1L));
            overwrite(db, 20);
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> db.openTransactions().get(0).age().compareTo(bound) > 0);
            db.vacuum(); // reaps the expired pin, then vacuums past it
            assertEquals(1, db.counters().expiredTransactions());
            assertEquals(0, db.gauges().openSnapshots(), "released before the transaction was used again");
            assertEquals(1, db.gauges().versions(), "vacuum moved past its snapshot");
            TransactionException e = assertThrows(TransactionException.class, () -> tx.get(1L));
            assertTrue(e.getMessage().contains("maxTransactionAge (50 ms)"), e.getMessage());
            assertTrue(e.getMessage().contains("open for "), e.getMessage());
            assertThrows(IllegalStateException.class, tx::commit, "it was rolled back");
            tx.close(); // harmless
            assertEquals(0, db.counters().leakedTransactions());
        }
    }

    @Test
    void anOldTransactionIsRefusedAtCommitToo() {
        Duration bound = Duration.ofMillis(20);
        try (Database<Long, Long> db =
                Database.<Long, Long>builder().maxTransactionAge(bound).open()) {
            Transaction<Long, Long> tx = db.begin();
            tx.put(1L, 1L);
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> db.openTransactions().get(0).age().compareTo(bound) > 0);
            db.vacuum();
            assertThrows(TransactionException.class, tx::commit);
            assertNull(db.get(1L), "nothing was committed");
        }
    }

    @Test
    void aReadThatRacedTheReleaseIsRefusedNotAnsweredFromACutChain() throws Exception {
        CountDownLatch inSearch = new CountDownLatch(1);
        CountDownLatch resume = new CountDownLatch(1);
        boolean[] armed = {false};
        Comparator<Long> pausing = (a, b) -> {
            if (armed[0] && Thread.currentThread().getName().equals("reader") && (a == 7L || b == 7L)) {
                armed[0] = false;
                inSearch.countDown(); // the reader is inside its read, after checkActive
                try {
                    resume.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return Long.compare(a, b);
        };
        Duration bound = Duration.ofMillis(20);
        try (Database<Long, Long> db =
                Database.<Long, Long>builder(pausing).maxTransactionAge(bound).open()) {
            db.put(7L, 0L);
            Transaction<Long, Long> tx = db.begin(Isolation.SNAPSHOT);
            db.put(7L, 1L); // the snapshot needs version 0
            armed[0] = true;
            CompletableFuture<Object> read = new CompletableFuture<>();
            Thread reader = new Thread(
                    () -> {
                        try {
                            read.complete(tx.get(7L));
                        } catch (Throwable t) {
                            read.complete(t);
                        }
                    },
                    "reader");
            reader.start();
            assertTrue(inSearch.await(30, TimeUnit.SECONDS));
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> db.openTransactions().get(0).age().compareTo(bound) > 0);
            db.put(7L, 2L);
            db.vacuum(); // releases the pin, then cuts version 0 off the chain the reader will walk
            assertEquals(1, db.counters().expiredTransactions());
            resume.countDown();
            Object outcome = read.get(30, TimeUnit.SECONDS);
            assertTrue(outcome instanceof TransactionException, "the read answered " + outcome);
        }
    }

    @Test
    void theAgeBoundIsValidated() {
        assertThrows(IllegalArgumentException.class, () -> Database.builder().maxTransactionAge(Duration.ZERO));
        assertThrows(NullPointerException.class, () -> Database.builder().maxTransactionAge(null));
    }
}
