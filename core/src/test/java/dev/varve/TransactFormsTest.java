// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The transaction forms beside transact(Function): run, call (checked bodies), a per-call retry policy, inferred types. */
class TransactFormsTest {
    /** A body that conflicts with a write made before its commit, {@code failures} times. */
    private static void conflictOnce(Database<Long, String> db, Transaction<Long, String> tx, AtomicInteger failures) {
        tx.get(1L); // read, so a concurrent write to 1 after the snapshot conflicts
        tx.put(1L, "mine");
        if (failures.getAndDecrement() > 0) {
            db.put(1L, "theirs"); // commits after tx's snapshot: tx's commit is refused
        }
    }

    @Test
    void runTakesAVoidBodyAndCommitsIt() {
        try (Database<Long, String> db = Database.open()) {
            db.run(tx -> tx.put(1L, "a"));
            db.run(Isolation.SNAPSHOT, tx -> tx.put(2L, "b"));
            assertEquals("a", db.get(1L));
            assertEquals("b", db.get(2L));
        }
    }

    @Test
    void runRetriesASerializationFailure() {
        try (Database<Long, String> db = Database.open()) {
            AtomicInteger failures = new AtomicInteger(2);
            AtomicInteger attempts = new AtomicInteger();
            db.run(tx -> {
                attempts.incrementAndGet();
                conflictOnce(db, tx, failures);
            });
            assertEquals(3, attempts.get());
            assertEquals("mine", db.get(1L));
        }
    }

    @Test
    void callRethrowsACheckedExceptionUnwrappedAndRollsBack() {
        try (Database<Long, String> db = Database.open()) {
            IOException thrown = new IOException("disk said no");
            AtomicInteger attempts = new AtomicInteger();
            IOException e = assertThrows(
                    IOException.class,
                    () -> db.call(tx -> {
                        attempts.incrementAndGet();
                        tx.put(1L, "never");
                        throw thrown;
                    }));
            assertSame(thrown, e);
            assertEquals(1, attempts.get(), "a body's own exception is not retried");
            assertEquals(null, db.get(1L), "rolled back");
        }
    }

    @Test
    void callReturnsTheResultOfTheCommittedAttempt() throws Exception {
        try (Database<Long, String> db = Database.open()) {
            db.put(1L, "x");
            String got = db.call(tx -> {
                if (tx.get(1L) == null) {
                    throw new IOException("unreachable");
                }
                tx.put(2L, "y");
                return tx.get(1L);
            });
            assertEquals("x", got);
            assertEquals("y", db.get(2L));
        }
    }

    @Test
    void aPerCallRetryPolicyOverridesTheDatabases() {
        try (Database<Long, String> db =
                Database.builder(Long.class, String.class).maxAttempts(50).open()) {
            AtomicInteger failures = new AtomicInteger(10);
            AtomicInteger attempts = new AtomicInteger();
            SerializationFailureException e = assertThrows(
                    SerializationFailureException.class,
                    () -> db.transact(RetryPolicy.attempts(3), Isolation.SERIALIZABLE, tx -> {
                        attempts.incrementAndGet();
                        conflictOnce(db, tx, failures);
                        return null;
                    }));
            assertEquals(3, attempts.get());
            assertEquals(3, e.attempts());

            AtomicInteger once = new AtomicInteger();
            assertThrows(
                    SerializationFailureException.class,
                    () -> db.call(RetryPolicy.noRetry(), Isolation.SERIALIZABLE, tx -> {
                        once.incrementAndGet();
                        conflictOnce(db, tx, new AtomicInteger(1));
                        return null;
                    }));
            assertEquals(1, once.get());
        }
    }

    @Test
    void retryPoliciesAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> RetryPolicy.attempts(0));
        assertThrows(IllegalArgumentException.class, () -> new RetryPolicy(2, Duration.ofMillis(-1), Duration.ZERO));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> new RetryPolicy(2, Duration.ofMillis(5), Duration.ofMillis(1)));
        assertTrue(e.getMessage().contains("maxBackoff"), e.getMessage());
        assertThrows(NullPointerException.class, () -> new RetryPolicy(2, null, Duration.ZERO));
        try (Database<Long, String> db = Database.open()) {
            assertThrows(NullPointerException.class, () -> db.transact(null, Isolation.SNAPSHOT, tx -> 1));
            assertThrows(NullPointerException.class, () -> db.run(null));
        }
    }

    @Test
    void typesAreInferredByOpenAndByTheClassBuilder() {
        try (Database<Long, String> db = Database.open();
                Database<String, Integer> other = Database.builder(String.class, Integer.class)
                        .autoVacuum(Duration.ofSeconds(1))
                        .open()) {
            db.put(1L, "a");
            other.put("a", 1);
            assertEquals(1, other.get("a"));
            assertEquals("memory", db.durability());
        }
    }
}
