// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** transactAsync completes its future whatever the executor does; the retry backoff bounds. */
class AsyncAndBackoffTest {
    private final ExecutorService pool = Executors.newSingleThreadExecutor();

    @AfterEach
    void tearDown() throws InterruptedException {
        pool.shutdownNow();
        assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
    }

    /** Runs the first {@code accepted} tasks on the pool, then rejects every task. */
    private Executor acceptingOnly(int accepted) {
        AtomicInteger left = new AtomicInteger(accepted);
        return task -> {
            if (left.getAndDecrement() <= 0) {
                throw new RejectedExecutionException("test executor is saturated");
            }
            pool.execute(task);
        };
    }

    private static Throwable failureOf(java.util.concurrent.CompletableFuture<?> f) throws Exception {
        try {
            f.get(10, TimeUnit.SECONDS);
            throw new AssertionError("completed normally");
        } catch (TimeoutException e) {
            throw new AssertionError("transactAsync's future never completed", e);
        } catch (ExecutionException e) {
            return e.getCause();
        }
    }

    @Test
    void aRejectedHandOffOfACommittedResultCompletesTheFutureSayingItCommitted() throws Exception {
        try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
            var f = db.transactAsync(
                    tx -> {
                        tx.put(1L, 10L);
                        return "done";
                    },
                    acceptingOnly(1));
            Throwable t = failureOf(f);
            assertInstanceOf(TransactionException.class, t);
            assertEquals("the transaction committed, but the executor rejected completing its future", t.getMessage());
            assertInstanceOf(RejectedExecutionException.class, t.getCause());
            assertEquals(10L, db.get(1L));
        }
    }

    @Test
    void aRejectedRetryCompletesTheFutureSayingNothingCommitted() throws Exception {
        try (Database<Long, Long> db = Database.<Long, Long>builder()
                .retryBackoff(java.time.Duration.ZERO, java.time.Duration.ZERO)
                .open()) {
            AtomicInteger runs = new AtomicInteger();
            var f = db.transactAsync(
                    tx -> {
                        runs.incrementAndGet();
                        tx.put(1L, 10L);
                        throw new SerializationFailureException(
                                SerializationFailureException.Reason.WRITE_WRITE_CONFLICT,
                                List.of(1L),
                                "injected conflict");
                    },
                    acceptingOnly(2)); // the first attempt and its hand-off; the retry is rejected
            Throwable t = failureOf(f);
            assertInstanceOf(TransactionException.class, t);
            assertTrue(t.getMessage().startsWith("the transaction did not commit:"), t.getMessage());
            assertEquals(1, runs.get());
            assertEquals(null, db.get(1L));
        }
    }

    @Test
    void aRejectedFirstAttemptCompletesTheFutureInsteadOfThrowing() throws Exception {
        try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
            var f = db.transactAsync(
                    tx -> {
                        tx.put(1L, 1L);
                        return 1;
                    },
                    acceptingOnly(0));
            Throwable t = failureOf(f);
            assertTrue(t.getMessage().startsWith("the transaction did not commit:"), t.getMessage());
            assertInstanceOf(RejectedExecutionException.class, t.getCause());
        }
    }

    @Test
    void aZeroInitialBackoffNeverWaits() {
        long max = 500_000_000L;
        for (int attempt = 1; attempt <= 70; attempt++) {
            assertEquals(0, Database.backoffBound(0, max, attempt), "attempt " + attempt);
        }
    }

    @Test
    void theBackoffBoundDoublesUpToTheCapWithoutOverflow() {
        long initial = 50_000;
        long max = 20_000_000;
        assertEquals(50_000, Database.backoffBound(initial, max, 1));
        assertEquals(100_000, Database.backoffBound(initial, max, 2));
        assertEquals(12_800_000, Database.backoffBound(initial, max, 9));
        assertEquals(max, Database.backoffBound(initial, max, 10));
        for (int attempt = 10; attempt <= 200; attempt++) {
            assertEquals(max, Database.backoffBound(initial, max, attempt), "attempt " + attempt);
        }
        assertEquals(Long.MAX_VALUE, Database.backoffBound(Long.MAX_VALUE / 2 + 1, Long.MAX_VALUE, 3));
    }
}
