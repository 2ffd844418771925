// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.varve.Database;
import dev.varve.Internals;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Builder#failureListener: a failed vacuum pass reaches the listener, on its own thread, and the thread ends with the database. */
class FailureListenerTest {

    private static boolean listenerThreadAlive() {
        return Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().equals("varve-failure-listener") && t.isAlive());
    }

    @Test
    void aFailedBackgroundVacuumPassReachesTheListener() throws Exception {
        CompletableFuture<Object[]> heard = new CompletableFuture<>();
        RuntimeException injected = new IllegalStateException("injected into a background pass");
        Database<Long, Long> db = Database.<Long, Long>builder()
                .autoVacuum(Duration.ofMillis(1))
                .failureListener((kind, failure) -> heard.complete(
                        new Object[] {kind, failure, Thread.currentThread().getName()}))
                .open();
        try {
            Store<Long, Long> store = Internals.store(db);
            AtomicReference<RuntimeException> armed = new AtomicReference<>(injected);
            store.hook(point -> {
                if (point == TestHook.Point.VACUUM_AFTER_KEEPER
                        && Thread.currentThread().getName().startsWith("varve-vacuum-")) {
                    RuntimeException e = armed.getAndSet(null);
                    if (e != null) {
                        throw e;
                    }
                }
            });
            db.put(1L, 1L);
            db.remove(1L); // a tombstone: a key the next pass visits
            Object[] h = heard.get(30, TimeUnit.SECONDS);
            assertEquals(Database.FailureKind.VACUUM, h[0]);
            assertSame(injected, h[1]);
            assertEquals("varve-failure-listener", h[2], "never on the failing thread");
            assertSame(injected, db.health().vacuumFailure(), "health() says so too");
        } finally {
            db.close();
        }
        await("the listener's thread ends with the database")
                .atMost(Duration.ofSeconds(10))
                .until(() -> !listenerThreadAlive());
    }

    @Test
    void aFailedCommittersPassReachesTheListenerAndAThrowingListenerIsDropped() throws Exception {
        CompletableFuture<Database.FailureKind> heard = new CompletableFuture<>();
        RuntimeException injected = new IllegalStateException("injected into a committer's pass");
        try (Database<Long, Long> db = Database.<Long, Long>builder() // no autoVacuum: committers vacuum
                .failureListener((kind, failure) -> {
                    heard.complete(kind);
                    throw new IllegalArgumentException("a listener that throws");
                })
                .open()) {
            Store<Long, Long> store = Internals.store(db);
            AtomicReference<RuntimeException> armed = new AtomicReference<>(injected);
            store.hook(point -> {
                if (point == TestHook.Point.VACUUM_AFTER_KEEPER) {
                    RuntimeException e = armed.getAndSet(null);
                    if (e != null) {
                        throw e;
                    }
                }
            });
            for (long i = 0; i < 600; i++) { // a committer's pass every 256 commits visits the tombstones
                db.put(i, i);
                db.remove(i);
            }
            assertEquals(Database.FailureKind.VACUUM, heard.get(30, TimeUnit.SECONDS));
            assertNotEquals(null, db.health().vacuumFailure());
            db.put(-1L, 1L); // the database goes on
            assertEquals(1L, db.get(-1L));
        }
    }
}
