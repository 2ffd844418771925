// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TransactTest {
    private final Database<String, Long> db = Database.<String, Long>builder()
            .maxAttempts(5)
            .retryBackoff(Duration.ofNanos(1000), Duration.ofMillis(1))
            .open();
    private final ExecutorService executor = Executors.newFixedThreadPool(2);

    @AfterEach
    void tearDown() throws InterruptedException {
        executor.shutdownNow();
        assertTrue(executor.awaitTermination(10, TimeUnit.SECONDS));
        db.close();
    }

    /** A body that loses a write-write race on "k" the first {@code losses} times it runs. */
    private java.util.function.Function<Transaction<String, Long>, Long> losing(int losses, AtomicInteger runs) {
        return tx -> {
            Long seen = tx.get("k");
            if (runs.incrementAndGet() <= losses) {
                db.put("k", -1L); // a concurrent commit after this transaction's snapshot
            }
            tx.put("k", seen == null ? 1 : seen + 1);
            return (long) runs.get();
        };
    }

    @Test
    void transactRetriesSerializationFailuresFromANewSnapshot() {
        AtomicInteger runs = new AtomicInteger();
        assertEquals(3L, db.transact(losing(2, runs)));
        assertEquals(0L, db.get("k")); // -1 from the last concurrent put, plus one
    }

    @Test
    void transactGivesUpAfterMaxAttemptsWithTheAttemptCount() {
        AtomicInteger runs = new AtomicInteger();
        SerializationFailureException e =
                assertThrows(SerializationFailureException.class, () -> db.transact(losing(100, runs)));
        assertEquals(5, e.attempts());
        assertEquals(5, runs.get());
        assertTrue(
                e.getMessage().startsWith("gave up after 5 attempts; last failure: write-write conflict"),
                e.getMessage());
        assertEquals(SerializationFailureException.Reason.WRITE_WRITE_CONFLICT, e.reason());
    }

    @Test
    void otherExceptionsRollBackAndPropagateUnchangedWithoutRetry() {
        AtomicInteger runs = new AtomicInteger();
        IllegalArgumentException boom = new IllegalArgumentException("boom");
        IllegalArgumentException thrown = assertThrows(
                IllegalArgumentException.class,
                () -> db.transact(tx -> {
                    runs.incrementAndGet();
                    tx.put("x", 1L);
                    throw boom;
                }));
        assertSame(boom, thrown);
        assertEquals(1, runs.get());
        assertNull(db.get("x"));
        assertEquals(0, db.stats().openSnapshots(), "the failed transaction released its snapshot");
    }

    @Test
    void bodyThatCommitsItselfIsNotCommittedAgain() {
        assertEquals("done", db.transact(tx -> {
            tx.put("y", 2L);
            tx.commit();
            return "done";
        }));
        assertEquals(2L, db.get("y"));
    }

    @Test
    void transactAsyncRetriesWithoutBlockingAndCompletesWithTheResult() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        CompletableFuture<Long> f = db.transactAsync(losing(3, runs), executor);
        assertEquals(4L, f.get(10, TimeUnit.SECONDS));
        assertEquals(4, runs.get());
    }

    @Test
    void transactAsyncFailsWithTheLastFailureOrTheBodysException() {
        AtomicInteger runs = new AtomicInteger();
        ExecutionException giveUp = assertThrows(
                ExecutionException.class,
                () -> db.transactAsync(losing(100, runs), executor).get(10, TimeUnit.SECONDS));
        assertEquals(5, ((SerializationFailureException) giveUp.getCause()).attempts());
        IllegalStateException boom = new IllegalStateException("boom");
        ExecutionException thrown = assertThrows(
                ExecutionException.class,
                () -> db.transactAsync(
                                tx -> {
                                    throw boom;
                                },
                                executor)
                        .get(10, TimeUnit.SECONDS));
        assertSame(boom, thrown.getCause());
    }

    @Test
    void transactAsyncOnAClosedDatabaseFails() {
        db.close();
        ExecutionException e = assertThrows(
                ExecutionException.class,
                () -> db.transactAsync(tx -> 1, executor).get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof IllegalStateException);
        assertEquals("database is closed", e.getCause().getMessage());
    }
}
