// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Database;
import dev.varve.Internals;
import dev.varve.Isolation;
import dev.varve.SerializationFailureException;
import dev.varve.Transaction;
import dev.varve.TransactionException;
import java.time.Duration;
import java.util.Comparator;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Review 8: the transaction age bound (commit 334adf2) released a transaction's pin from the
 * reaper while the transaction may be anywhere in an operation. Reads re-check {@code
 * isExpired} after each chain walk; these tests force the release into the places where no
 * such check runs: the middle of a commit (after {@code checkActive}, while it latches or before
 * its read-only SSI validation) and the last look-ahead of a scan that an own removal shadows.
 * Each schedule is forced (a {@link PauseHook} at a named point, or a comparator that pauses the
 * reader thread), never slept into. The fix: a transaction that has begun to commit is never
 * expired (SnapshotPins P6: the pin's phase moves OPEN to COMMITTING or to EXPIRED, by CAS), so the
 * commit schedules now end with the commit validated on a pinned snapshot; and a scan re-checks
 * expiry when its index cursor runs out too.
 */
class AdversaryAgeBoundTest {
    private static final Duration BOUND = Duration.ofMillis(20);

    private static Database<Long, Long> open() {
        return Database.<Long, Long>builder().maxTransactionAge(BOUND).open();
    }

    /** Waits until every open transaction is older than the bound (a vacuum pass then reaps it). */
    private static void awaitOlderThanBound(Database<Long, Long> db) {
        await().atMost(Duration.ofSeconds(10))
                .until(() ->
                        db.openTransactions().stream().allMatch(t -> t.age().compareTo(BOUND) > 0));
    }

    private static Object outcome(Runnable r) {
        try {
            r.run();
            return "returned normally";
        } catch (Throwable t) {
            return t;
        }
    }

    /**
     * T (SNAPSHOT) read key 2 at its snapshot, U then committed key 2, so T's write of key 2 must
     * lose (first committer wins). T's commit passes checkActive, latches key 1 and is paused; the
     * age bound releases T's pin and a full vacuum pass, no longer held back, settles key 2 to a
     * bare value, which counts as committed at time 0 (VersionChain SETTLED_TS). T's latch of key
     * 2 then sees no commit after its snapshot and T overwrites U's write: a lost update, from a
     * transaction that was rolled back by the age bound as far as its user was told nothing.
     */
    @Test
    void anExpiredCommitPausedAfterItsFirstLatchMustNotOverwriteACommitVacuumSettled() throws Exception {
        try (Database<Long, Long> db = open()) {
            Store<Long, Long> store = Internals.store(db);
            db.put(1L, 0L);
            db.put(2L, 0L);
            Transaction<Long, Long> t = db.begin(Isolation.SNAPSHOT);
            assertEquals(0L, t.get(2L));
            db.put(2L, 5L); // U, committed after T's snapshot
            t.put(1L, 1L);
            t.put(2L, 1L);
            PauseHook hook = new PauseHook(TestHook.Point.AFTER_LATCH);
            store.hook(hook);
            CompletableFuture<Object> commit = CompletableFuture.supplyAsync(() -> outcome(t::commit));
            hook.awaitReached(); // T is committing: checkActive passed, key 1 is latched
            awaitOlderThanBound(db);
            db.vacuum(); // reaps T's pin (expired), then settles key 2 at the new watermark
            assertEquals(
                    0,
                    db.counters().expiredTransactions(),
                    "a committing transaction is not expired (SnapshotPins P6)");
            hook.release();
            Object result = commit.get(30, TimeUnit.SECONDS);
            store.hook(TestHook.NONE);
            assertTrue(
                    result instanceof SerializationFailureException,
                    "the commit " + result + "; key 2 is now " + db.get(2L) + " (U wrote 5): first committer wins");
            assertEquals(5L, db.get(2L), "U's committed write was overwritten");
        }
    }

    /** The same schedule with U's commit a removal: vacuum drops the key, T's latch inserts it. */
    @Test
    void anExpiredCommitPausedAfterItsFirstLatchMustNotResurrectAKeyVacuumDropped() throws Exception {
        try (Database<Long, Long> db = open()) {
            Store<Long, Long> store = Internals.store(db);
            db.put(1L, 0L);
            db.put(2L, 0L);
            Transaction<Long, Long> t = db.begin(Isolation.SNAPSHOT);
            assertEquals(0L, t.get(2L));
            db.remove(2L); // U, committed after T's snapshot
            t.put(1L, 1L);
            t.put(2L, 1L);
            PauseHook hook = new PauseHook(TestHook.Point.AFTER_LATCH);
            store.hook(hook);
            CompletableFuture<Object> commit = CompletableFuture.supplyAsync(() -> outcome(t::commit));
            hook.awaitReached();
            awaitOlderThanBound(db);
            db.vacuum(); // reaps T's pin, then removes key 2 (a tombstone below the watermark)
            assertEquals(
                    0,
                    db.counters().expiredTransactions(),
                    "a committing transaction is not expired (SnapshotPins P6)");
            hook.release();
            Object result = commit.get(30, TimeUnit.SECONDS);
            store.hook(TestHook.NONE);
            assertTrue(
                    result instanceof SerializationFailureException,
                    "the commit " + result + "; key 2 is now " + db.get(2L) + " (U removed it): first committer wins");
            assertNull(db.get(2L), "U's committed removal was overwritten");
        }
    }

    /** Ports and Grittner's read-only anomaly: T1 ->rw T2 ->rw T3, T3 committed before T1's snapshot. */
    private static Transaction<Long, Long> readOnlyAnomaly(Database<Long, Long> db) {
        final long x = 1L;
        final long y = 2L;
        db.put(x, 0L);
        db.put(y, 0L);
        Transaction<Long, Long> t2 = db.begin(Isolation.SERIALIZABLE); // the pivot
        assertEquals(0L, t2.get(x));
        t2.put(y, 1L);
        db.put(x, 1L); // T3: T2 ->rw T3
        Transaction<Long, Long> t1 = db.begin(Isolation.SERIALIZABLE); // read-only, after T3
        assertEquals(1L, t1.get(x));
        assertEquals(0L, t1.get(y)); // T1 ->rw T2 once T2 commits
        t2.commit();
        return t1;
    }

    /** Control: without the age bound's release, the read-only T1 is refused. */
    @Test
    void controlTheReadOnlyAnomalyIsRefused() {
        try (Database<Long, Long> db = open()) {
            Transaction<Long, Long> t1 = readOnlyAnomaly(db);
            assertThrows(SerializationFailureException.class, t1::commit);
        }
    }

    /**
     * The read-only T1 of the anomaly above is paused inside its commit (between the shortcut's
     * checks: checkActive is behind it); the age bound releases its pin and a full vacuum pass
     * settles y, the version of T2 that T1's out-edge scan must find (and may prune T2's SSI
     * record). T1 then finds no out-edge and commits: a non-serializable read reported committed.
     */
    @Test
    void anExpiredReadOnlyCommitMustNotSkipTheEdgeVacuumSettled() throws Exception {
        try (Database<Long, Long> db = open()) {
            Store<Long, Long> store = Internals.store(db);
            Transaction<Long, Long> t1 = readOnlyAnomaly(db);
            PauseHook hook = new PauseHook(TestHook.Point.READ_ONLY_SHORTCUT_BETWEEN_CHECKS);
            store.hook(hook);
            CompletableFuture<Object> commit = CompletableFuture.supplyAsync(() -> outcome(t1::commit));
            hook.awaitReached();
            awaitOlderThanBound(db);
            db.vacuum(); // reaps T1's pin, then settles y (T2's version) and prunes the graph
            assertEquals(
                    0,
                    db.counters().expiredTransactions(),
                    "a committing transaction is not expired (SnapshotPins P6)");
            hook.release();
            Object result = commit.get(30, TimeUnit.SECONDS);
            store.hook(TestHook.NONE);
            assertTrue(
                    result instanceof SerializationFailureException || result instanceof TransactionException,
                    "T1 (read x=1, y=0) " + result + ": T1 ->rw T2 ->rw T3 ->wr T1 is a cycle");
        }
    }

    /**
     * The anomaly with T2 removing y, and the release done by the periodic watermark refresh of
     * ordinary commits (every 256) instead of a vacuum pass: with no background vacuum, that
     * refresh runs a committers' pass over the dirty keys, which drops y's tombstone, but never
     * prunes the conflict graph. T1's out-edge scan then finds nothing for y and the graph,
     * unpruned, raises no objection: T1 commits a non-serializable read.
     */
    @Test
    void anExpiredReadOnlyCommitMustNotMissTheEdgeOfARemovalCommittersVacuumed() throws Exception {
        try (Database<Long, Long> db = open()) {
            Store<Long, Long> store = Internals.store(db);
            final long x = 1L;
            final long y = 2L;
            db.put(x, 0L);
            db.put(y, 0L);
            Transaction<Long, Long> t2 = db.begin(Isolation.SERIALIZABLE);
            assertEquals(0L, t2.get(x));
            t2.remove(y);
            db.put(x, 1L); // T3
            Transaction<Long, Long> t1 = db.begin(Isolation.SERIALIZABLE);
            assertEquals(1L, t1.get(x));
            assertEquals(0L, t1.get(y));
            t2.commit();
            PauseHook hook = new PauseHook(TestHook.Point.READ_ONLY_SHORTCUT_BETWEEN_CHECKS);
            store.hook(hook);
            CompletableFuture<Object> commit = CompletableFuture.supplyAsync(() -> outcome(t1::commit));
            hook.awaitReached();
            awaitOlderThanBound(db);
            for (long k = 1_000; db.counters().expiredTransactions() == 0 && k < 2_000; k++) {
                db.put(k, k); // every 256th commit refreshes the watermark: it reaps T1, then vacuums y
            }
            assertEquals(
                    0,
                    db.counters().expiredTransactions(),
                    "a committing transaction is not expired (SnapshotPins P6)");
            assertTrue(store.index().get(y) != null, "y's tombstone is kept: T1 still pins its snapshot");
            hook.release();
            Object result = commit.get(30, TimeUnit.SECONDS);
            store.hook(TestHook.NONE);
            assertTrue(
                    result instanceof SerializationFailureException || result instanceof TransactionException,
                    "T1 (read x=1, y=0) " + result + ": T1 ->rw T2 ->rw T3 ->wr T1 is a cycle");
        }
    }

    /**
     * The read-only shortcut (CommitProtocol R1) assumes a pivot T2 stays pinned until its commit
     * is published. Ports and Grittner's receipts anomaly (as in ForcedScheduleTest) with T2's
     * commit paused after its latch, and its pin released by the age bound from the periodic
     * refresh of ordinary commits: a report R begun afterwards (young, never expired) finds no
     * older snapshot and nothing committed since its own, commits unrecorded, and T2 then commits
     * too, having no in-edge from R. The victim of the cycle is R, which did nothing wrong.
     */
    @Test
    void aPivotExpiredMidCommitMustNotLetAYoungReadOnlyTransactionTakeTheShortcut() throws Exception {
        final long control = 0L;
        final long batch1 = 100L;
        try (Database<Long, Long> db = open()) {
            Store<Long, Long> store = Internals.store(db);
            db.put(control, 1L);
            Transaction<Long, Long> t2 = db.begin(Isolation.SERIALIZABLE); // new-receipt
            assertEquals(1L, t2.get(control));
            t2.put(batch1 + 1, 42L); // a receipt into batch 1
            db.run(tx -> tx.put(control, tx.get(control) + 1)); // T3, close-batch: T2 ->rw T3
            PauseHook hook = new PauseHook(TestHook.Point.AFTER_LATCH);
            store.hook(hook);
            CompletableFuture<Object> pivot = CompletableFuture.supplyAsync(() -> outcome(t2::commit));
            hook.awaitReached(); // T2 is committing: its receipt is latched
            awaitOlderThanBound(db);
            for (long k = 1_000; db.counters().expiredTransactions() == 0 && k < 2_000; k++) {
                db.put(k, k); // the periodic refresh reaps T2 (and prunes no SSI record)
            }
            assertEquals(
                    0,
                    db.counters().expiredTransactions(),
                    "a committing transaction is not expired (SnapshotPins P6)");
            Object report;
            try (Transaction<Long, Long> r = db.begin(Isolation.SERIALIZABLE)) { // R, the report
                assertEquals(2L, r.get(control)); // batch 1 is closed
                assertEquals(0, r.asMap().subMap(batch1, batch1 + 100).size()); // and empty
                report = outcome(r::commit);
            }
            hook.release();
            Object receipt = pivot.get(30, TimeUnit.SECONDS);
            store.hook(TestHook.NONE);
            assertTrue(
                    !"returned normally".equals(report) || !"returned normally".equals(receipt),
                    "R (batch 1 empty) and T2 (a receipt into batch 1) both committed: R ->rw T2 ->rw T3 ->wr R");
        }
    }

    /**
     * A scan of T, which removed key 1 itself, is paused inside hasNext (after its checkActive,
     * before the look-ahead past key 1 that T's own removal makes). The age bound releases T's
     * pin and vacuum drops key 2, whose removal U committed after T's snapshot. The look-ahead
     * then walks off the end of the index without reading a chain, so no isExpired check runs,
     * and hasNext answers false: T's view {2=20} is reported empty, without an exception.
     */
    @Test
    void anExpiredScanWhoseOwnRemovalShadowsTheLastKeyMustNotEndEarly() throws Exception {
        CountDownLatch paused = new CountDownLatch(1);
        CountDownLatch resume = new CountDownLatch(1);
        boolean[] armed = {false};
        Comparator<Long> pausing = (a, b) -> {
            if (armed[0] && Thread.currentThread().getName().equals("reader")) {
                armed[0] = false;
                paused.countDown();
                try {
                    resume.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return Long.compare(a, b);
        };
        try (Database<Long, Long> db =
                Database.<Long, Long>builder(pausing).maxTransactionAge(BOUND).open()) {
            db.put(1L, 10L);
            db.put(2L, 20L);
            Transaction<Long, Long> t = db.begin(Isolation.SNAPSHOT);
            db.remove(2L); // U, after T's snapshot: T still sees 2=20
            t.remove(1L); // T's own removal of 1: T's view is {2=20}
            Iterator<Map.Entry<Long, Long>> it = t.asMap().entrySet().iterator(); // looked ahead to 1
            CompletableFuture<Object> scan = new CompletableFuture<>();
            Thread reader = new Thread(
                    () -> {
                        try {
                            armed[0] = true; // the first comparison is inside hasNext, after checkActive
                            scan.complete(it.hasNext() ? it.next() : "hasNext() == false");
                        } catch (Throwable e) {
                            scan.complete(e);
                        }
                    },
                    "reader");
            reader.start();
            assertTrue(paused.await(30, TimeUnit.SECONDS));
            awaitOlderThanBound(db);
            db.vacuum(); // reaps T's pin, then removes key 2 (a tombstone below the watermark)
            assertEquals(1, db.counters().expiredTransactions());
            resume.countDown();
            Object result = scan.get(30, TimeUnit.SECONDS);
            assertTrue(
                    result instanceof TransactionException || Map.entry(2L, 20L).equals(result),
                    "T's view is {2=20}; the expired scan answered " + result);
        }
    }

    /**
     * The same schedule through the navigation methods and a descending scan, each opening its
     * cursor inside the call (unbounded: the cursor's own walk compares nothing, so the first
     * comparison is inside hasNext, after its checkActive). T removed key 1 (or, descending, key
     * 2) itself and U's removal of the other key was dropped by vacuum after the release: the
     * view {2=20} (or {1=10}) is answered as empty.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"isEmpty", "firstEntry", "size", "descendingFirst"})
    void anExpiredNavigationWhoseOwnRemovalShadowsTheLastKeyMustNotAnswerEmpty(String form) throws Exception {
        CountDownLatch paused = new CountDownLatch(1);
        CountDownLatch resume = new CountDownLatch(1);
        boolean[] armed = {false};
        Comparator<Long> pausing = (a, b) -> {
            if (armed[0] && Thread.currentThread().getName().equals("reader")) {
                armed[0] = false;
                paused.countDown();
                try {
                    resume.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return Long.compare(a, b);
        };
        boolean descending = form.equals("descendingFirst");
        long own = descending ? 2L : 1L; // T removes the key its scan meets first
        long other = descending ? 1L : 2L; // U removes the one after it
        try (Database<Long, Long> db =
                Database.<Long, Long>builder(pausing).maxTransactionAge(BOUND).open()) {
            db.put(1L, 10L);
            db.put(2L, 20L);
            Transaction<Long, Long> t = db.begin(Isolation.SNAPSHOT);
            db.remove(other); // U, after T's snapshot: T still sees it
            t.remove(own);
            java.util.NavigableMap<Long, Long> view = t.asMap();
            CompletableFuture<Object> answer = new CompletableFuture<>();
            Thread reader = new Thread(
                    () -> {
                        try {
                            armed[0] = true;
                            Object a;
                            switch (form) {
                                case "isEmpty" -> a = view.isEmpty();
                                case "firstEntry" -> a = String.valueOf(view.firstEntry());
                                case "size" -> a = view.size();
                                default ->
                                    a = String.valueOf(view.descendingMap().firstEntry());
                            }
                            answer.complete(a);
                        } catch (Throwable e) {
                            answer.complete(e);
                        }
                    },
                    "reader");
            reader.start();
            assertTrue(paused.await(30, TimeUnit.SECONDS));
            awaitOlderThanBound(db);
            db.vacuum(); // reaps T's pin, then removes the other key (a tombstone below the watermark)
            assertEquals(1, db.counters().expiredTransactions());
            resume.countDown();
            Object result = answer.get(30, TimeUnit.SECONDS);
            Object right = switch (form) {
                case "isEmpty" -> false;
                case "size" -> 1;
                default -> other + "=" + other * 10;
            };
            assertTrue(
                    result instanceof TransactionException || right.equals(result),
                    form + ": T's view is {" + other + "=" + other * 10 + "}; the expired read answered " + result);
        }
    }
}
