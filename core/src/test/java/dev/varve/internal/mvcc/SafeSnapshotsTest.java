// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Database;
import dev.varve.Internals;
import dev.varve.Isolation;
import dev.varve.SerializationFailureException;
import dev.varve.Snapshot;
import dev.varve.Transaction;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Safe snapshots (SafeSnapshots S1-S5, SnapshotPins P9): when a read-only SERIALIZABLE commit may
 * skip validation and its record in the conflict graph. A recorded read-only commit takes a
 * commit-clock value (Store T3), so whether the visible timestamp moved says which path it took.
 * Races are forced at named points ({@link PauseHook}), never slept into.
 */
class SafeSnapshotsTest {
    private static final long X = 1;
    private static final long Y = 2;

    private final Database<Long, Long> db = Database.<Long, Long>builder().open();
    private final Store<Long, Long> store = Internals.store(db);

    @AfterEach
    void tearDown() {
        store.hook(TestHook.NONE);
        db.close();
    }

    /** Commits a read-only transaction and says whether it was recorded (took a clock value). */
    private boolean commitWasRecorded(Transaction<Long, Long> readOnly) {
        long before = store.visibleTs();
        readOnly.commit();
        return store.visibleTs() != before;
    }

    @Test
    void aReadOnlyCommitBesideAWriterWithoutOutEdgesIsNotRecorded() {
        db.put(X, 0L);
        db.put(Y, 0L);
        Transaction<Long, Long> reader = db.begin(Isolation.SERIALIZABLE);
        assertEquals(0L, reader.get(X));
        try (Transaction<Long, Long> writer = db.begin(Isolation.SERIALIZABLE)) {
            writer.put(Y, writer.get(Y) + 1); // a transfer-like writer: it writes what it reads
            writer.commit();
        }
        assertEquals(0L, reader.get(Y));
        assertFalse(commitWasRecorded(reader), "the writer had no out-edge: the reader's snapshot is safe");
    }

    @Test
    void aReadOnlyCommitBesideAnOpenOlderSerializableTransactionIsRecorded() {
        db.put(X, 0L);
        Transaction<Long, Long> older = db.begin(Isolation.SERIALIZABLE); // a possible pivot
        older.get(X);
        db.put(Y, 1L);
        Transaction<Long, Long> reader = db.begin(Isolation.SERIALIZABLE);
        reader.get(X);
        assertTrue(commitWasRecorded(reader), "an older possible pivot is open: not decided, so validated");
        older.close();
    }

    @Test
    void olderSnapshotIsolationTransactionsAndViewsAreNoPivots() {
        db.put(X, 0L);
        Transaction<Long, Long> snapshotTx = db.begin(Isolation.SNAPSHOT);
        snapshotTx.get(X);
        Snapshot<Long, Long> view = db.snapshot();
        db.put(Y, 1L);
        Transaction<Long, Long> reader = db.begin(Isolation.SERIALIZABLE);
        reader.get(X);
        db.put(X, 2L);
        assertFalse(commitWasRecorded(reader), "a SNAPSHOT transaction's reads are not tracked: never a pivot");
        snapshotTx.close();
        view.close();
    }

    /** T2 reads x, T3 overwrites x, T2 writes y: T2 ->rw T3, with T3 below the reader's snapshot. */
    private Transaction<Long, Long> pivotWithAnOutEdge() {
        db.put(X, 0L);
        db.put(Y, 0L);
        Transaction<Long, Long> t2 = db.begin(Isolation.SERIALIZABLE);
        assertEquals(0L, t2.get(X));
        t2.put(Y, 1L);
        db.put(X, 1L); // T3
        return t2;
    }

    @Test
    void aReadOnlyCommitAfterAPivotCommittedWithAnOutEdgeBelowItsSnapshotIsValidated() {
        Transaction<Long, Long> t2 = pivotWithAnOutEdge();
        Transaction<Long, Long> reader = db.begin(Isolation.SERIALIZABLE);
        assertEquals(1L, reader.get(X)); // reads T3; not y, so no edge into T2: serializable
        t2.commit();
        assertTrue(commitWasRecorded(reader), "T2 ->rw T3 with T3 at or below the snapshot: unsafe, so validated");
    }

    @Test
    void theReadOnlyAnomalyIsRefused() {
        Transaction<Long, Long> t2 = pivotWithAnOutEdge();
        Transaction<Long, Long> reader = db.begin(Isolation.SERIALIZABLE);
        assertEquals(1L, reader.get(X));
        assertEquals(0L, reader.get(Y)); // reader ->rw T2 once T2 commits
        t2.commit();
        assertThrows(SerializationFailureException.class, reader::commit);
    }

    /**
     * P9: a possible pivot that read the visible timestamp before the reader's snapshot, but
     * publishes its pin only after the reader's scan for pivots, must re-pin at a newer snapshot:
     * otherwise it could read below the reader's snapshot, commit the out-edge, and complete the
     * read-only anomaly with the reader already committed unrecorded.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "vacuum before the reader commits: {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void aPossiblePivotPinnedAfterTheScanReadsAtTheReadersSnapshotOrLater(boolean vacuumFirst) throws Exception {
        db.put(X, 0L);
        db.put(Y, 0L);
        PauseHook pause = new PauseHook(TestHook.Point.PIN_BEFORE_PUBLISH);
        store.hook(pause);
        CompletableFuture<Transaction<Long, Long>> t2 =
                CompletableFuture.supplyAsync(() -> db.begin(Isolation.SERIALIZABLE));
        pause.awaitReached(); // T2 read visibleTs, before x = 1 commits
        db.put(X, 1L); // T3
        Transaction<Long, Long> reader = db.begin(Isolation.SERIALIZABLE); // passes the hook: not the first
        assertEquals(1L, reader.get(X));
        assertEquals(0L, reader.get(Y));
        if (vacuumFirst) {
            db.vacuum(); // publishes a watermark at the reader's snapshot: the check's fast path (P9)
            assertTrue(store.pins().prunableWatermark() >= reader.snapshotTimestamp());
        }
        assertFalse(commitWasRecorded(reader), "T2 is not pinned yet, and nothing has committed an out-edge");
        pause.release();
        Transaction<Long, Long> pivot = t2.get(30, TimeUnit.SECONDS);
        assertTrue(
                pivot.snapshotTimestamp() >= reader.snapshotTimestamp(),
                "T2 pinned " + pivot.snapshotTimestamp() + " below the committed reader's "
                        + reader.snapshotTimestamp());
        assertEquals(1L, pivot.get(X), "T2 sees T3: no T2 ->rw T3, so no cycle through the reader");
        pivot.put(Y, 1L);
        pivot.commit();
    }

    /**
     * Review of 91a800a, finding 4: a commit whose bookkeeping fails after it is stamped is still
     * published; its out-edge must already be in the ring, or a waiting serializable snapshot is
     * called safe at the read-only anomaly (x = 1 from T3, y = 0 without T2).
     */
    @Test
    void aPivotWhoseBookkeepingFailsStillMakesTheSnapshotBelowItUnsafe() throws Exception {
        Transaction<Long, Long> t2 = pivotWithAnOutEdge();
        java.util.concurrent.CountDownLatch waiting = new java.util.concurrent.CountDownLatch(1);
        Thread committer = Thread.currentThread();
        store.hook(point -> {
            if (point == TestHook.Point.SAFE_SNAPSHOT_WAITING) {
                waiting.countDown();
            } else if (point == TestHook.Point.AFTER_STAMP && Thread.currentThread() == committer) {
                throw new IllegalStateException("injected: T2's bookkeeping fails after its stamp");
            }
        });
        CompletableFuture<Snapshot<Long, Long>> view =
                CompletableFuture.supplyAsync(() -> db.snapshot(Isolation.SERIALIZABLE));
        assertTrue(waiting.await(30, TimeUnit.SECONDS), "the snapshot never waited for T2");
        t2.put(Y, 1L);
        assertThrows(RuntimeException.class, t2::commit);
        assertTrue(t2.commitTimestamp() > 0, "T2 was published (it has a commit timestamp)");
        try (Snapshot<Long, Long> safe = view.get(30, TimeUnit.SECONDS)) {
            assertEquals(1L, safe.get(X));
            assertEquals(1L, safe.get(Y), "a view with T3 and without T2 (which read x = 0) is the anomaly");
        }
    }

    // ---- deferred visibility (Store D4): the pivot may not be visible yet ------------------

    private static void commitDurably(Transaction<Long, Long> tx, DeferredVisibilityTest.HeldLog log) {
        CompletableFuture<Long> f = tx.commitAsync();
        log.next().complete(null);
        f.join();
    }

    /**
     * Review of 91a800a, finding 1: T2 committed the out-edge and unpinned, but is not durable,
     * so not visible. A snapshot retaken at once would be the same unsafe one; the caller must
     * instead wait (parked) until T2 is visible, and fail if the log fails first.
     */
    private CompletableFuture<Snapshot<Long, Long>> unsafeUntilThePivotIsDurable(
            Database<Long, Long> deferred, DeferredVisibilityTest.HeldLog log) {
        try (Transaction<Long, Long> setup = deferred.begin()) {
            setup.put(X, 0L);
            setup.put(Y, 0L);
            commitDurably(setup, log);
        }
        Transaction<Long, Long> t2 = deferred.begin(Isolation.SERIALIZABLE);
        assertEquals(0L, t2.get(X));
        try (Transaction<Long, Long> t3 = deferred.begin()) {
            t3.put(X, 1L);
            commitDurably(t3, log);
        }
        t2.put(Y, 1L);
        t2.commitAsync(); // installed and unpinned; invisible until durable
        CompletableFuture<Thread> caller = new CompletableFuture<>();
        CompletableFuture<Snapshot<Long, Long>> view = CompletableFuture.supplyAsync(() -> {
            caller.complete(Thread.currentThread());
            return deferred.snapshot(Isolation.SERIALIZABLE);
        });
        Thread v = caller.join();
        org.awaitility.Awaitility.await()
                .atMost(java.time.Duration.ofSeconds(30))
                .until(() -> v.getState() == Thread.State.TIMED_WAITING || view.isDone());
        assertFalse(view.isDone(), "decided before T2 is visible");
        return view;
    }

    @Test
    void anUnsafeSnapshotWaitsParkedForAnUndurablePivotThenIsRetakenPastIt() throws Exception {
        DeferredVisibilityTest.HeldLog log = new DeferredVisibilityTest.HeldLog(true);
        try (Database<Long, Long> deferred = DeferredVisibilityTest.open(log)) {
            CompletableFuture<Snapshot<Long, Long>> view = unsafeUntilThePivotIsDurable(deferred, log);
            log.next().complete(null); // T2 durable, so visible
            try (Snapshot<Long, Long> safe = view.get(30, TimeUnit.SECONDS)) {
                assertEquals(1L, safe.get(X));
                assertEquals(1L, safe.get(Y));
            }
        }
    }

    @Test
    void anUnsafeSnapshotWhosePivotsLogFailsThrows() throws Exception {
        DeferredVisibilityTest.HeldLog log = new DeferredVisibilityTest.HeldLog(true);
        try (Database<Long, Long> deferred = DeferredVisibilityTest.open(log)) {
            CompletableFuture<Snapshot<Long, Long>> view = unsafeUntilThePivotIsDurable(deferred, log);
            log.next().completeExceptionally(new java.io.IOException("injected: the disk failed"));
            java.util.concurrent.ExecutionException e =
                    assertThrows(java.util.concurrent.ExecutionException.class, () -> view.get(30, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof dev.varve.TransactionException, String.valueOf(e.getCause()));
        }
    }

    // ---- the ring of commits with out-edges (S5), against a model ---------------------------

    @Test
    void theRingSaysSafeExactlyWhenNoCommitAfterTheSnapshotHasAnOutEdgeAtOrBelowIt() {
        SafeSnapshots safe = new SafeSnapshots(new SnapshotPins(() -> Long.MAX_VALUE)); // no pins
        assertEquals(SafeSnapshots.Safety.SAFE, safe.check(0));
        safe.committedWithOutEdges(10, new long[] {7, 5, 9});
        safe.committedWithOutEdges(11, new long[0]); // no out-edge: nothing recorded
        assertEquals(SafeSnapshots.Safety.SAFE, safe.check(4), "every target is above 4");
        assertEquals(SafeSnapshots.Safety.UNSAFE, safe.check(5), "the earliest target counts");
        assertEquals(SafeSnapshots.Safety.UNSAFE, safe.check(9));
        assertEquals(SafeSnapshots.Safety.SAFE, safe.check(10), "committed at or below the snapshot: no pivot");
    }

    @Test
    void theRingIsNeverSafeWhereTheModelIsNotAndExactWhileItHoldsTheWindow() {
        SplittableRandom rnd = new SplittableRandom(Long.getLong("varve.seed", 20261204L));
        for (int round = 0; round < 20; round++) {
            SafeSnapshots safe = new SafeSnapshots(new SnapshotPins(() -> Long.MAX_VALUE));
            List<long[]> model = new ArrayList<>(); // {c2, c3}
            long c = 1;
            int entries = rnd.nextInt(3 * SafeSnapshots.CAPACITY);
            for (int i = 0; i < entries; i++) {
                c += 1 + rnd.nextInt(3);
                long c3 = c - 1 - rnd.nextInt(20);
                safe.committedWithOutEdges(c, new long[] {c - 1, Math.max(0, c3)});
                model.add(new long[] {c, Math.max(0, c3)});
            }
            long oldestHeld = model.size() <= SafeSnapshots.CAPACITY
                    ? Long.MIN_VALUE
                    : model.get(model.size() - SafeSnapshots.CAPACITY)[0];
            for (int probe = 0; probe < 500; probe++) {
                long s = rnd.nextLong(c + 2);
                boolean unsafe = model.stream().anyMatch(e -> e[0] > s && e[1] <= s);
                SafeSnapshots.Safety got = safe.check(s);
                if (unsafe) {
                    assertEquals(SafeSnapshots.Safety.UNSAFE, got, "round " + round + ", s " + s);
                } else if (s >= oldestHeld) {
                    assertEquals(SafeSnapshots.Safety.SAFE, got, "round " + round + ", s " + s + ": held, so exact");
                }
            }
        }
    }
}
