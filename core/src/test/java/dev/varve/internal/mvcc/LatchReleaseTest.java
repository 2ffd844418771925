// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * No exception anywhere in a commit leaves a write latch behind, and a writer waiting for a latch
 * parks (instead of spinning) and answers an interrupt.
 */
class LatchReleaseTest {

    /** Natural order on longs through a comparator (no sort-key shortcut), failing when armed. */
    static final class FailingComparator implements Comparator<Long> {
        /** Throws at this call (counted from arming); 0 = disarmed. */
        final AtomicLong failAt = new AtomicLong();

        final AtomicLong calls = new AtomicLong();

        void armAt(long call) {
            calls.set(0);
            failAt.set(call);
        }

        @Override
        public int compare(Long a, Long b) {
            long at = failAt.get();
            if (at > 0 && calls.incrementAndGet() == at) {
                failAt.set(0);
                throw new IllegalStateException("injected comparator failure at call " + at);
            }
            return Long.compare(a, b);
        }
    }

    private static void assertNoLatchLeft(Database<Long, Long> db, long keys, String context) throws Exception {
        Store<Long, Long> store;
        try (Transaction<Long, Long> tx = db.begin()) {
            store = Internals.store(tx);
        }
        for (var c = store.index().cursor(); c.next(); ) {
            assertFalse(VersionChain.isLatched(c.entry()), context + ": key " + c.key() + " is still latched");
        }
        // Every key is writable again: a left latch would make this wait forever.
        CompletableFuture<Void> writes = CompletableFuture.runAsync(() -> {
            for (long k = 0; k < keys; k++) {
                db.put(k, -k);
            }
        });
        try {
            writes.get(10, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError(context + ": a writer waited 10 s for a latch nobody holds", e);
        }
        for (long k = 0; k < keys; k++) {
            assertEquals(-k, db.get(k), context);
        }
    }

    /**
     * A comparator failure at every call index of a commit in turn: some fall in the search before
     * a latch, some inside the index after the latch's CAS (its tower), some in SSI validation,
     * some in the rollback itself.
     */
    @Test
    void aComparatorFailureAtAnyCallOfACommitLeavesNoLatch() throws Exception {
        for (long failAt = 1; failAt <= 400; failAt++) {
            FailingComparator cmp = new FailingComparator();
            try (Database<Long, Long> db = Database.<Long, Long>builder(cmp).open()) {
                for (long k = 0; k < 64; k += 2) {
                    db.put(k, k);
                }
                Transaction<Long, Long> reader = db.begin(); // a concurrent SERIALIZABLE reader
                reader.asMap().subMap(0L, 64L).size();
                Transaction<Long, Long> tx = db.begin();
                tx.asMap().subMap(10L, 30L).size();
                for (long k = 1; k < 64; k += 3) {
                    tx.put(k, 1000 + k);
                }
                cmp.armAt(failAt);
                boolean failed = false;
                try {
                    tx.commit();
                } catch (IllegalStateException e) {
                    failed = true;
                    assertTrue(e.getMessage().startsWith("injected"), e.toString());
                } finally {
                    cmp.failAt.set(0);
                    tx.close();
                    reader.close();
                }
                assertNoLatchLeft(db, 64, "failure at comparator call " + failAt + (failed ? "" : " (not reached)"));
            }
        }
    }

    @Test
    void anExceptionRightAfterALatchIsLinkedReleasesIt() throws Exception {
        try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
            db.put(1L, 1L);
            Store<Long, Long> store;
            try (Transaction<Long, Long> tx = db.begin()) {
                store = Internals.store(tx);
            }
            AtomicBoolean armed = new AtomicBoolean(true);
            store.hook(point -> {
                if (point == TestHook.Point.AFTER_LATCH && armed.getAndSet(false)) {
                    throw new OutOfMemoryError("injected after the latch CAS");
                }
            });
            Transaction<Long, Long> tx = db.begin();
            tx.put(1L, 2L);
            tx.put(2L, 2L);
            assertThrows(OutOfMemoryError.class, tx::commit);
            assertFalse(tx.isActive());
            store.hook(TestHook.NONE);
            assertEquals(1L, db.get(1L));
            assertEquals(null, db.get(2L));
            assertNoLatchLeft(db, 3, "OutOfMemoryError after the first latch");
        }
    }

    @Test
    void aCommitWhoseBookkeepingFailsIsPublishedWholeAndTheDatabaseTurnsReadOnly() throws Exception {
        try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
            db.put(1L, 1L);
            Store<Long, Long> store = Internals.store(db);
            AtomicBoolean armed = new AtomicBoolean(true);
            store.hook(point -> {
                if (point == TestHook.Point.AFTER_STAMP && armed.getAndSet(false)) {
                    throw new OutOfMemoryError("injected after the stamps");
                }
            });
            Transaction<Long, Long> tx = db.begin();
            tx.put(1L, 2L);
            tx.put(2L, 2L);
            TransactionException e = assertThrows(TransactionException.class, tx::commit);
            store.hook(TestHook.NONE);
            assertEquals(
                    "commit 2 is visible and in the log, but recording it for conflict detection failed;"
                            + " the database refuses further writes until it is reopened",
                    e.getMessage());
            assertInstanceOf(OutOfMemoryError.class, e.getCause());
            assertEquals(2L, tx.commitTimestamp()); // committed: it has a timestamp
            assertEquals(2L, db.get(1L)); // both writes visible: published whole
            assertEquals(2L, db.get(2L));
            IllegalStateException refused = assertThrows(IllegalStateException.class, () -> db.put(3L, 3L));
            assertTrue(
                    refused.getMessage().startsWith("database is read-only: the commit log failed"),
                    refused.getMessage());
            for (long k = 1; k <= 2; k++) {
                assertFalse(VersionChain.isLatched(store.index().get(k)), "key " + k + " still latched");
            }
        }
    }

    @Test
    void anAutocommitWhoseFunctionThrowsReleasesItsLatch() throws Exception {
        try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
            db.put(0L, 5L);
            long zero = db.get(0L) - 5L;
            assertThrows(ArithmeticException.class, () -> db.compute(0L, v -> v / zero));
            assertEquals(5L, db.get(0L));
            assertNoLatchLeft(db, 2, "compute that threw");
        }
    }

    /** Starts a compute on key 0 whose function blocks until {@code release} opens. */
    static CompletableFuture<Long> holdKeyZero(Database<Long, Long> db, CountDownLatch inside, CountDownLatch release) {
        return CompletableFuture.supplyAsync(() -> db.compute(0L, v -> {
            inside.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            return v + 1;
        }));
    }

    @Test
    void aWriterWaitingForASlowComputeParksInsteadOfSpinning() throws Exception {
        try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
            db.put(0L, 0L);
            CountDownLatch inside = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            CompletableFuture<Long> slow = holdKeyZero(db, inside, release);
            assertTrue(inside.await(10, TimeUnit.SECONDS));
            Thread[] waiter = new Thread[1];
            CompletableFuture<Long> put = new CompletableFuture<>();
            waiter[0] = new Thread(() -> put.complete(db.put(0L, 100L)), "latch-waiter");
            waiter[0].start();
            await("the waiting writer parks")
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> waiter[0].getState() == Thread.State.TIMED_WAITING);
            release.countDown();
            assertEquals(1L, slow.get(10, TimeUnit.SECONDS));
            assertEquals(1L, put.get(10, TimeUnit.SECONDS)); // waited, then wrote over the compute
            assertEquals(100L, db.get(0L));
        }
    }

    @Test
    void aWriterWaitingForALatchAnswersAnInterrupt() throws Exception {
        try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
            db.put(0L, 0L);
            CountDownLatch inside = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            CompletableFuture<Long> slow = holdKeyZero(db, inside, release);
            assertTrue(inside.await(10, TimeUnit.SECONDS));
            CompletableFuture<Throwable> outcome = new CompletableFuture<>();
            Thread waiter = new Thread(
                    () -> {
                        try (Transaction<Long, Long> tx = db.begin()) {
                            tx.put(0L, 7L);
                            tx.put(1L, 7L);
                            tx.commit();
                            outcome.complete(null);
                        } catch (Throwable t) {
                            outcome.complete(
                                    Thread.currentThread().isInterrupted()
                                            ? t
                                            : new AssertionError("interrupt status lost", t));
                        }
                    },
                    "latch-waiter");
            waiter.start();
            await().atMost(Duration.ofSeconds(10)).until(() -> waiter.getState() == Thread.State.TIMED_WAITING);
            waiter.interrupt();
            Throwable t;
            try {
                t = outcome.get(10, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                throw new AssertionError("the interrupted writer still waits for the latch", e);
            }
            assertInstanceOf(TransactionException.class, t);
            assertEquals(
                    "interrupted while waiting for the write latch of key 0, which another committer holds;"
                            + " the transaction was rolled back",
                    t.getMessage());
            release.countDown();
            assertEquals(1L, slow.get(10, TimeUnit.SECONDS));
            assertEquals(null, db.get(1L)); // nothing of the interrupted commit is visible
            assertNoLatchLeft(db, 2, "after the interrupted commit");
        }
    }

    @Test
    void anInterruptedThreadCanStillCommitWhenNoLatchIsBusy() {
        try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
            Thread.currentThread().interrupt();
            try {
                db.put(1L, 1L);
                db.transact(tx -> {
                    tx.put(2L, 2L);
                    return null;
                });
            } finally {
                assertTrue(Thread.interrupted());
            }
            assertEquals(2L, db.get(2L));
        }
    }

    @Test
    void theHookPointAfterALatchIsReached() throws ExecutionException {
        // Guards the test above: the point it injects at must exist on the commit path.
        try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
            Store<Long, Long> store;
            try (Transaction<Long, Long> tx = db.begin()) {
                store = Internals.store(tx);
            }
            AtomicLong reached = new AtomicLong();
            store.hook(point -> {
                if (point == TestHook.Point.AFTER_LATCH) {
                    reached.incrementAndGet();
                }
            });
            db.transact(tx -> {
                tx.put(1L, 1L);
                tx.put(2L, 2L);
                return null;
            });
            db.put(3L, 3L);
            assertEquals(3, reached.get());
        }
    }

    /**
     * A comparator that stalls one committer in the middle of its latching (the key before is
     * latched, the commit lock is not held): commits of other keys go on, and a writer of the
     * latched key parks until the stalled commit finishes.
     */
    @Test
    void aCommitterStalledInsideTheComparatorBlocksOnlyTheKeysItLatched() throws Exception {
        CountDownLatch stalled = new CountDownLatch(1);
        CountDownLatch resume = new CountDownLatch(1);
        Thread[] slowThread = new Thread[1];
        AtomicBoolean armed = new AtomicBoolean();
        Comparator<Long> slow = (a, b) -> {
            // a is the key searched for: key 10 is searched right after key 5 was latched
            if (Thread.currentThread() == slowThread[0] && armed.get() && a == 10L && stalled.getCount() > 0) {
                stalled.countDown();
                try {
                    resume.await();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            }
            return Long.compare(a, b);
        };
        try (Database<Long, Long> db = Database.<Long, Long>builder(slow).open()) {
            db.put(5L, 0L);
            db.put(10L, 0L);
            db.put(20L, 0L);
            CompletableFuture<Void> slowCommit = new CompletableFuture<>();
            slowThread[0] = new Thread(
                    () -> {
                        try (Transaction<Long, Long> tx = db.begin(Isolation.SNAPSHOT)) {
                            tx.put(5L, 1L);
                            tx.put(10L, 1L);
                            armed.set(true);
                            tx.commit();
                            slowCommit.complete(null);
                        } catch (Throwable t) {
                            slowCommit.completeExceptionally(t);
                        }
                    },
                    "stalled-committer");
            slowThread[0].start();
            assertTrue(stalled.await(10, TimeUnit.SECONDS));
            // Key 5 is latched, key 10 not yet; the commit lock is free.
            assertEquals(0L, db.put(20L, 2L)); // another key commits at once
            assertEquals(0L, db.put(10L, 3L)); // so does key 10, latched by nobody yet
            Thread waiter = new Thread(() -> db.put(5L, 4L), "waiter-for-key-5");
            waiter.start();
            await("the writer of the latched key parks")
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> waiter.getState() == Thread.State.TIMED_WAITING);
            resume.countDown();
            // The stalled commit finds key 10 committed after its snapshot: it loses, and its
            // latch of key 5 is released.
            ExecutionException lost =
                    assertThrows(ExecutionException.class, () -> slowCommit.get(10, TimeUnit.SECONDS));
            assertInstanceOf(SerializationFailureException.class, lost.getCause());
            waiter.join(10_000);
            assertFalse(waiter.isAlive());
            assertEquals(4L, db.get(5L));
            assertEquals(3L, db.get(10L));
        }
    }
}
