// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Database;
import dev.varve.Internals;
import dev.varve.Transaction;
import dev.varve.TransactionException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Interrupts of latch waiters at the first busy attempt (the spin phase, forced with the
 * LATCH_BUSY hook): the waiter still gives up with TransactionException once it reaches the park
 * phase, keeps its interrupt status, and a transaction leaves none of its other latches behind.
 */
class AdversaryLatchInterruptTest {

    private static Store<Long, Long> storeOf(Database<Long, Long> db) {
        try (Transaction<Long, Long> tx = db.begin()) {
            return Internals.store(tx);
        }
    }

    /** Interrupts the thread that first finds a latch busy, right there (before any spin). */
    private static void interruptAtFirstBusyLatch(Store<Long, Long> store, Thread waiter) {
        store.hook(point -> {
            if (point == TestHook.Point.LATCH_BUSY && Thread.currentThread() == waiter) {
                Thread.currentThread().interrupt();
            }
        });
    }

    private static Throwable start(Thread t, CountDownLatch go, CompletableFuture<Throwable> outcome) throws Exception {
        t.start();
        go.countDown();
        return outcome.get(20, TimeUnit.SECONDS);
    }

    @Test
    void aTransactionInterruptedInTheSpinPhaseReleasesItsEarlierLatches() throws Exception {
        try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
            db.put(-5L, -5L);
            db.put(0L, 0L);
            Store<Long, Long> store = storeOf(db);
            CountDownLatch inside = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            CompletableFuture<Long> slow = LatchReleaseTest.holdKeyZero(db, inside, release);
            assertTrue(inside.await(10, TimeUnit.SECONDS));
            Thread[] waiter = new Thread[1];
            CompletableFuture<Throwable> result = new CompletableFuture<>();
            CountDownLatch go = new CountDownLatch(1);
            waiter[0] = new Thread(
                    () -> {
                        try {
                            go.await();
                            try (Transaction<Long, Long> tx = db.begin()) {
                                tx.put(-5L, 55L); // latched first (key order)
                                tx.put(0L, 7L); // busy: the compute holds it
                                tx.put(5L, 7L);
                                tx.commit();
                            }
                            result.complete(null);
                        } catch (Throwable e) {
                            result.complete(
                                    Thread.currentThread().isInterrupted()
                                            ? e
                                            : new AssertionError("interrupt status lost", e));
                        }
                    },
                    "interrupted-transaction");
            interruptAtFirstBusyLatch(store, waiter[0]);
            Throwable t = start(waiter[0], go, result);
            store.hook(TestHook.NONE);
            assertInstanceOf(TransactionException.class, t, String.valueOf(t));
            assertEquals(
                    "interrupted while waiting for the write latch of key 0, which another committer holds;"
                            + " the transaction was rolled back",
                    t.getMessage());
            // key -5 was latched before the wait: released, and not aborted in a way a writer trips on
            assertFalse(
                    VersionChain.isLatched(store.index().get(-5L)),
                    "key -5 still latched by the interrupted transaction");
            assertEquals(-5L, db.get(-5L));
            assertNull(db.get(5L));
            CompletableFuture<Long> put = CompletableFuture.supplyAsync(() -> db.put(-5L, 6L));
            assertEquals(-5L, put.get(10, TimeUnit.SECONDS), "key -5 is writable and reads its committed value");
            release.countDown();
            assertEquals(1L, slow.get(10, TimeUnit.SECONDS));
            assertEquals(1L, db.get(0L));
        }
    }

    @Test
    void anAutocommitWaiterInterruptedInTheSpinPhaseGivesUpAndWritesNothing() throws Exception {
        try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
            db.put(0L, 0L);
            Store<Long, Long> store = storeOf(db);
            CountDownLatch inside = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            CompletableFuture<Long> slow = LatchReleaseTest.holdKeyZero(db, inside, release);
            assertTrue(inside.await(10, TimeUnit.SECONDS));
            Thread[] waiter = new Thread[1];
            CompletableFuture<Throwable> result = new CompletableFuture<>();
            CountDownLatch go = new CountDownLatch(1);
            waiter[0] = new Thread(
                    () -> {
                        try {
                            go.await();
                            db.compute(0L, v -> v + 100);
                            result.complete(null);
                        } catch (Throwable e) {
                            result.complete(
                                    Thread.currentThread().isInterrupted()
                                            ? e
                                            : new AssertionError("interrupt status lost", e));
                        }
                    },
                    "interrupted-compute");
            interruptAtFirstBusyLatch(store, waiter[0]);
            Throwable t = start(waiter[0], go, result);
            store.hook(TestHook.NONE);
            assertInstanceOf(TransactionException.class, t, String.valueOf(t));
            assertTrue(t.getMessage().contains("key 0"), t.getMessage());
            release.countDown();
            assertEquals(1L, slow.get(10, TimeUnit.SECONDS));
            assertEquals(1L, db.get(0L), "the interrupted compute wrote nothing, the holder's write stands");
            assertEquals(2L, db.compute(0L, v -> v + 1));
        }
    }
}
