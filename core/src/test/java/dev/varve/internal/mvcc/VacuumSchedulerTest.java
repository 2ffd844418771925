// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.varve.Database;
import dev.varve.Internals;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The background vacuum keeps running after a pass throws, and reports what it threw (S1). */
class VacuumSchedulerTest {
    @Test
    void aPassThatThrowsAnErrorIsReportedAndTheNextPassRuns() {
        try (Database<Long, Long> db =
                Database.<Long, Long>builder().autoVacuum(Duration.ofMillis(1)).open()) {
            Store<Long, Long> store = Internals.store(db);
            OutOfMemoryError injected = new OutOfMemoryError("injected into a background pass");
            AtomicReference<OutOfMemoryError> armed = new AtomicReference<>(injected);
            store.hook(point -> {
                if (point == TestHook.Point.VACUUM_AFTER_KEEPER
                        && Thread.currentThread().getName().startsWith("varve-vacuum-")) {
                    OutOfMemoryError e = armed.getAndSet(null);
                    if (e != null) {
                        throw e;
                    }
                }
            });
            // A tombstone is a chain every pass visits (a dirty key, or any key of a full pass).
            db.put(1L, 1L);
            db.remove(1L);
            await().atMost(Duration.ofSeconds(10)).until(() -> db.stats().lastVacuumFailure() != null);
            assertSame(injected, db.stats().lastVacuumFailure());
            long runs = db.stats().vacuumRuns();
            db.put(2L, 2L);
            db.remove(2L);
            await().atMost(Duration.ofSeconds(10)).until(() -> db.stats().vacuumRuns() > runs);
        }
    }
}
