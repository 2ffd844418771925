// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Database;
import dev.varve.Internals;
import dev.varve.Isolation;
import dev.varve.SerializationFailureException;
import dev.varve.Snapshot;
import dev.varve.Transaction;
import dev.varve.TransactionException;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A plain transaction releases its pin without an atomic exchange (SnapshotPins.Pin
 * #releaseExclusive), trusting its state CAS to make the release happen once. A second release of
 * a registry slot frees it under whoever pinned it next, whose snapshot vacuum could then reclaim.
 * These tests drive every way a transaction can finish (failed commits, a close racing a commit
 * or another close, snapshot views and their cleaner), then fill every slot of the registry with
 * fresh snapshots and make every call that could release the old pin again: a second release
 * shows as one open snapshot fewer than were opened. A pinned snapshot must then still read its
 * values after vacuum.
 */
class AdversaryPinReleaseTest {
    /** Enough pins to take all 128 registry slots (8 probes from a random start), the rest overflow. */
    private static final int FILL = 2_000;

    private final LatchReleaseTest.FailingComparator cmp = new LatchReleaseTest.FailingComparator();
    private final Database<Long, Long> db = Database.<Long, Long>builder(cmp).open();
    private final Store<Long, Long> store = Internals.store(db);
    private final List<Snapshot<Long, Long>> fillers = new ArrayList<>();

    @AfterEach
    void tearDown() {
        store.hook(TestHook.NONE);
        fillers.forEach(Snapshot::close);
        db.close();
    }

    /** Pins FILL snapshots at the current state, so a slot freed twice is a slot someone holds. */
    private void fillRegistry() {
        int before = db.stats().openSnapshots();
        for (int i = 0; i < FILL; i++) {
            fillers.add(db.snapshot());
        }
        assertEquals(before + FILL, db.stats().openSnapshots());
    }

    /**
     * Every filler is still counted, and the pinned snapshot {@code pinned} (value {@code v} at
     * key 1) still reads it after newer writes and two vacuum passes.
     */
    private void assertNothingReleasedTwice(String context, int othersOpen, Snapshot<Long, Long> pinned, long v) {
        assertEquals(FILL + othersOpen, db.stats().openSnapshots(), context + ": a pin was released twice");
        db.put(1L, -1L);
        db.put(1L, -2L);
        db.vacuum();
        db.vacuum();
        assertEquals(v, pinned.get(1L), context + ": a pinned snapshot lost its version to vacuum");
    }

    @Test
    void aCommitRefusedForAWriteWriteConflictReleasesItsPinOnce() {
        db.put(1L, 10L);
        Transaction<Long, Long> tx = db.begin();
        tx.get(1L);
        tx.put(1L, 11L);
        db.put(1L, 12L); // commits after tx's snapshot
        SerializationFailureException e = assertThrows(SerializationFailureException.class, tx::commit);
        assertTrue(e.getMessage().contains("keys [1]"), e.getMessage());
        assertEquals(0, db.stats().openSnapshots(), "the refused transaction kept its pin");
        fillRegistry();
        tx.close();
        tx.rollback();
        assertThrows(IllegalStateException.class, tx::commit);
        assertThrows(IllegalStateException.class, tx::asMap);
        assertNothingReleasedTwice("close after a refused commit", 0, fillers.get(0), 12L);
    }

    @Test
    void aCommitThatReturnedReleasesItsPinOnceWhateverIsCalledAfterIt() {
        db.put(1L, 10L);
        Transaction<Long, Long> tx = db.begin();
        var view = tx.asMap();
        view.put(2L, 20L);
        tx.commit();
        assertEquals(0, db.stats().openSnapshots());
        fillRegistry();
        tx.close();
        tx.close();
        tx.rollback();
        assertThrows(IllegalStateException.class, tx::commit);
        assertThrows(IllegalStateException.class, () -> view.get(2L));
        assertThrows(IllegalStateException.class, () -> tx.commitAsync());
        assertNothingReleasedTwice("calls after a commit", 0, fillers.get(0), 10L);
    }

    @Test
    void aCommitWhoseComparatorThrowsReleasesItsPinOnce() {
        db.put(1L, 10L);
        Transaction<Long, Long> tx = db.begin();
        tx.put(3L, 30L);
        tx.put(4L, 40L);
        cmp.armAt(1); // the first comparison of the commit (its latch phase) throws
        IllegalStateException e = assertThrows(IllegalStateException.class, tx::commit);
        assertEquals("injected comparator failure at call 1", e.getMessage());
        assertEquals(0, db.stats().openSnapshots());
        fillRegistry();
        tx.close();
        assertThrows(IllegalStateException.class, tx::commit);
        assertNothingReleasedTwice("close after a comparator failure", 0, fillers.get(0), 10L);
    }

    @Test
    void aCommitWhoseBookkeepingFailsReleasesItsPinOnce() {
        db.put(1L, 10L);
        AtomicBoolean armed = new AtomicBoolean(true);
        store.hook(point -> {
            if (point == TestHook.Point.AFTER_STAMP && armed.getAndSet(false)) {
                throw new OutOfMemoryError("injected after the stamps");
            }
        });
        Transaction<Long, Long> tx = db.begin();
        tx.put(2L, 20L);
        TransactionException e = assertThrows(TransactionException.class, tx::commit);
        assertTrue(e.getMessage().startsWith("commit 2 is visible and in the log"), e.getMessage());
        assertEquals(2L, tx.commitTimestamp());
        assertEquals(0, db.stats().openSnapshots());
        fillRegistry();
        tx.close();
        tx.rollback();
        // The database is read-only now: check the count, and that the fillers read at 2.
        assertEquals(FILL, db.stats().openSnapshots(), "a pin was released twice");
        db.vacuum();
        assertEquals(20L, fillers.get(0).get(2L));
    }

    @Test
    void aCloseOnAnotherThreadWhileTheCommitIsUnderTheLockIsRefusedAndReleasesNothing() throws Exception {
        db.put(1L, 10L);
        PauseHook hook = new PauseHook(TestHook.Point.AFTER_STAMP);
        store.hook(hook);
        Transaction<Long, Long> tx = db.begin();
        tx.put(2L, 20L);
        CompletableFuture<Void> commit = CompletableFuture.runAsync(tx::commit);
        hook.awaitReached();
        // (stats() would wait for the commit lock the paused committer holds: read the pins)
        assertEquals(1, store.pins().pinnedCount(), "the committer is still pinned");
        IllegalStateException refused = assertThrows(IllegalStateException.class, tx::close);
        assertEquals(
                "transaction is being committed by another thread: it cannot be rolled back", refused.getMessage());
        assertEquals(1, store.pins().pinnedCount(), "the refused close released the committer's pin");
        hook.release();
        commit.get(30, TimeUnit.SECONDS);
        assertEquals(0, db.stats().openSnapshots());
        fillRegistry();
        tx.close();
        assertNothingReleasedTwice("a close refused during the commit, then a close after it", 0, fillers.get(0), 10L);
    }

    @Test
    void aCloseThatReadTheTransactionAsActiveAndThenLostItsCasToACommitReleasesNothing() throws Exception {
        db.put(1L, 10L);
        PauseHook hook = new PauseHook(TestHook.Point.ROLLBACK_BEFORE_CAS);
        store.hook(hook);
        Transaction<Long, Long> tx = db.begin();
        tx.put(2L, 20L);
        CompletableFuture<Void> close = CompletableFuture.runAsync(tx::close);
        hook.awaitReached(); // the closer read ACTIVE
        tx.commit(); // wins the CAS and releases the pin
        assertEquals(0, db.stats().openSnapshots());
        fillRegistry();
        hook.release(); // the closer's CAS fails: it must not release the pin again
        close.get(30, TimeUnit.SECONDS);
        assertNothingReleasedTwice("a close that lost its CAS to the commit", 0, fillers.get(0), 10L);
    }

    @Test
    void twoClosesOfAPlainTransactionReleaseItsPinOnce() throws Exception {
        db.put(1L, 10L);
        PauseHook hook = new PauseHook(TestHook.Point.ROLLBACK_BEFORE_CAS);
        store.hook(hook);
        Transaction<Long, Long> tx = db.begin(Isolation.SNAPSHOT);
        tx.get(1L);
        CompletableFuture<Void> first = CompletableFuture.runAsync(tx::close);
        hook.awaitReached();
        tx.close(); // the second close wins
        assertEquals(0, db.stats().openSnapshots());
        fillRegistry();
        hook.release();
        first.get(30, TimeUnit.SECONDS);
        assertNothingReleasedTwice("two racing closes", 0, fillers.get(0), 10L);
    }

    @Test
    void twoClosesOfASnapshotAndItsCleanerReleaseItsPinOnce() throws Exception {
        db.put(1L, 10L);
        PauseHook hook = new PauseHook(TestHook.Point.ROLLBACK_BEFORE_CAS);
        store.hook(hook);
        Snapshot<Long, Long> s = db.snapshot();
        WeakReference<Snapshot<Long, Long>> ref = new WeakReference<>(s);
        CompletableFuture<Void> first = CompletableFuture.runAsync(s::close);
        hook.awaitReached();
        s.close(); // wins, and cleans its cleanable
        assertEquals(0, db.stats().openSnapshots());
        fillRegistry();
        hook.release();
        first.get(30, TimeUnit.SECONDS);
        s.close();
        s = null;
        first = null;
        await("the closed snapshot is collected").atMost(Duration.ofSeconds(20)).until(() -> {
            System.gc();
            return ref.get() == null;
        });
        assertNothingReleasedTwice("two closes and the cleaner of one snapshot", 0, fillers.get(0), 10L);
    }

    @Test
    void aLeakedSnapshotIsReleasedByItsCleanerExactlyOnce() {
        db.put(1L, 10L);
        leakSnapshotThatRead();
        fillRegistry(); // the leaked pin is one of FILL + 1
        assertEquals(FILL + 1, db.stats().openSnapshots());
        await("the cleaner releases the leaked snapshot")
                .atMost(Duration.ofSeconds(20))
                .until(() -> {
                    System.gc();
                    return db.stats().openSnapshots() <= FILL;
                });
        assertNothingReleasedTwice("a leaked snapshot's cleaner", 0, fillers.get(0), 10L);
    }

    private void leakSnapshotThatRead() {
        Snapshot<Long, Long> s = db.snapshot();
        assertEquals(10L, s.get(1L));
        assertEquals(1, s.headMap(5L).size());
    }

    @Test
    void transactRetriesReleaseEveryAttemptsPinOnce() {
        db.put(1L, 10L);
        Snapshot<Long, Long> pinned = db.snapshot();
        int[] attempts = {0};
        long result = db.transact(tx -> {
            long v = tx.get(1L);
            if (++attempts[0] < 3) {
                db.put(1L, v + 1); // a concurrent commit: this attempt fails on write-write
            }
            tx.put(1L, v * 100);
            return v;
        });
        assertEquals(3, attempts[0]);
        assertEquals(12L, result);
        assertEquals(1, db.stats().openSnapshots(), "transact left or freed pins");
        fillRegistry();
        assertNothingReleasedTwice("transact's retries", 1, pinned, 10L);
        pinned.close();
    }

    @Test
    void transactAsyncRetriesReleaseEveryAttemptsPinOnce() throws Exception {
        db.put(1L, 10L);
        Snapshot<Long, Long> pinned = db.snapshot();
        int[] attempts = {0};
        long result = db.transactAsync(
                        tx -> {
                            long v = tx.get(1L);
                            if (++attempts[0] < 3) {
                                db.put(1L, v + 1);
                            }
                            tx.put(1L, v * 100);
                            return v;
                        },
                        Runnable::run)
                .get(30, TimeUnit.SECONDS);
        assertEquals(3, attempts[0]);
        assertEquals(12L, result);
        assertEquals(1, db.stats().openSnapshots(), "transactAsync left or freed pins");
        fillRegistry();
        assertNothingReleasedTwice("transactAsync's retries", 1, pinned, 10L);
        pinned.close();
    }
}
