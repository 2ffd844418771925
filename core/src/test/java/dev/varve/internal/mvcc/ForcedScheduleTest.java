// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.varve.Database;
import dev.varve.Internals;
import dev.varve.SerializationFailureException;
import dev.varve.Snapshot;
import dev.varve.Transaction;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Races in the commit protocol, each forced into its bad interleaving with a {@link PauseHook}
 * at a named point rather than hoped for.
 */
class ForcedScheduleTest {
    private final Database<Integer, Integer> db =
            Database.<Integer, Integer>builder().open();

    @AfterEach
    void tearDown() {
        db.close();
    }

    private Store<Integer, Integer> store() {
        try (Transaction<Integer, Integer> tx = db.begin()) {
            return Internals.store(tx);
        }
    }

    private static final int CONTROL = 0; // the current batch number
    private static final int BATCH_1 = 100; // receipts of batch 1 are keys 100..199

    /**
     * Ports and Grittner's receipts/report anomaly (VLDB 2012, §2.2) with the report R paused
     * between the two checks of the read-only shortcut, while the pivot T2 (older snapshot)
     * commits and unpins. R ->rw T2 ->rw T3 with T3 committed before R's snapshot: R must not
     * commit unrecorded next to T2.
     */
    @Test
    void aReadOnlyCommitCannotSkipValidationWhileAnOlderPivotCommitsAndUnpins() throws Exception {
        db.put(CONTROL, 1);
        Transaction<Integer, Integer> newReceipt = db.begin(); // T2
        assertEquals(1, newReceipt.get(CONTROL));
        db.transact(
                tx -> { // T3, close-batch
                    tx.put(CONTROL, tx.get(CONTROL) + 1);
                    return null;
                });
        Transaction<Integer, Integer> report = db.begin(); // R: sees batch 2, so batch 1 is closed
        assertEquals(2, report.get(CONTROL));
        assertEquals(0, report.asMap().subMap(BATCH_1, BATCH_1 + 100).size());

        PauseHook pause = new PauseHook(TestHook.Point.READ_ONLY_SHORTCUT_BETWEEN_CHECKS);
        store().hook(pause);
        CompletableFuture<Void> reportCommit = CompletableFuture.runAsync(report::commit);
        pause.awaitReached();
        boolean pivotCommitted;
        try {
            newReceipt.put(BATCH_1 + 1, 42); // a receipt into batch 1, which R reported empty
            newReceipt.commit();
            pivotCommitted = true;
        } catch (SerializationFailureException e) {
            pivotCommitted = false;
        } finally {
            newReceipt.close(); // unpinned: no snapshot older than R's is open any more
        }
        pause.release();
        boolean reportCommitted;
        try {
            reportCommit.get(30, TimeUnit.SECONDS);
            reportCommitted = true;
        } catch (ExecutionException e) {
            assertInstanceOf(SerializationFailureException.class, e.getCause());
            reportCommitted = false;
        }
        assertFalse(
                pivotCommitted && reportCommitted,
                "R (report: batch 1 empty) and T2 (receipt into batch 1 with the old batch number) both"
                        + " committed: R ->rw T2 ->rw T3 ->wr R is a cycle");
    }

    /** One transaction committed from two threads at once: the second caller is refused cleanly. */
    @Test
    void aSecondConcurrentCommitOfOneTransactionIsRefused() throws Exception {
        Transaction<Integer, Integer> tx = db.begin();
        tx.put(1, 1);
        tx.put(2, 2);
        PauseHook pause = new PauseHook(TestHook.Point.AFTER_LATCH);
        store().hook(pause);
        CompletableFuture<Void> first = CompletableFuture.runAsync(tx::commit);
        pause.awaitReached(); // the first commit holds the latch of key 1
        IllegalStateException second = assertThrows(IllegalStateException.class, tx::commit);
        assertEquals(
                "transaction is being committed by another thread: it cannot be used any more", second.getMessage());
        assertThrows(IllegalStateException.class, tx::rollback);
        assertThrows(IllegalStateException.class, () -> tx.get(1));
        pause.release();
        first.get(30, TimeUnit.SECONDS);
        assertEquals(1, db.get(1));
        assertEquals(2, db.get(2));
        tx.close(); // finished: a no-op now
    }

    /** Two threads close one snapshot at once: the one that loses the state CAS returns quietly. */
    @Test
    void aCloseThatLosesTheRaceToAnotherCloseReturnsQuietly() throws Exception {
        Snapshot<Integer, Integer> snapshot = db.snapshot();
        PauseHook pause = new PauseHook(TestHook.Point.ROLLBACK_BEFORE_CAS);
        store().hook(pause);
        CompletableFuture<Void> first = CompletableFuture.runAsync(snapshot::close);
        pause.awaitReached(); // it read the state as active, and has not CASed yet
        snapshot.close(); // the second close wins the CAS and releases the pin
        assertEquals(0, db.stats().openSnapshots());
        pause.release();
        first.get(30, TimeUnit.SECONDS); // loses the CAS: no exception, nothing released twice
        assertEquals(0, db.stats().openSnapshots());
        assertThrows(IllegalStateException.class, snapshot::firstKey);
    }

    /** A rollback from another thread that loses the race to a commit leaves the commit standing. */
    @Test
    void aRollbackThatLosesTheRaceToACommitLeavesTheCommitStanding() throws Exception {
        Transaction<Integer, Integer> tx = db.begin();
        tx.put(1, 1);
        PauseHook pause = new PauseHook(TestHook.Point.ROLLBACK_BEFORE_CAS);
        store().hook(pause);
        CompletableFuture<Void> rollback = CompletableFuture.runAsync(tx::rollback);
        pause.awaitReached();
        tx.commit(); // wins the CAS (ACTIVE -> COMMITTING)
        pause.release();
        rollback.get(30, TimeUnit.SECONDS); // finds it committed: nothing to do
        assertEquals(1, db.get(1));
        assertEquals(0, db.stats().openSnapshots());
    }
}
