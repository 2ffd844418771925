// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Codec;
import dev.varve.Database;
import dev.varve.TransactionException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Database.health(): a failed log shows there, not only at the next commit. */
class HealthTest {
    @TempDir
    Path dir;

    @Test
    void aHealthyDurableDatabaseIsOkAndAClosedOneSaysSo() {
        Database<String, Long> db = Database.<String, Long>builder()
                .durability(Wal.full(dir, Codec.STRING, Codec.LONG))
                .open();
        db.put("a", 1L);
        Database.Health h = db.health();
        assertTrue(h.ok(), h.toString());
        assertNull(h.logFailure());
        assertNull(h.checkpointFailure());
        assertNull(h.vacuumFailure());
        db.close();
        assertTrue(db.health().closed());
        assertFalse(db.health().ok());
    }

    @Test
    void aFailedLogIsReportedByHealth() {
        FaultyIo io = FaultyIo.counting(new FaultyIo.Disk());
        Database<String, Long> db = Database.<String, Long>builder()
                .durability(Wal.builder(dir, Codec.STRING, Codec.LONG)
                        .sync(Wal.Sync.FULL)
                        .fileIo(io)
                        .build())
                .open();
        db.put("a", 1L);
        assertTrue(db.health().ok());
        io.crash(); // every later file operation fails: the next force fails the log
        assertThrows(TransactionException.class, () -> db.put("b", 2L));
        Database.Health h = db.health();
        assertFalse(h.ok(), h.toString());
        assertNotNull(h.logFailure(), h.toString());
        assertFalse(h.closed());
        try {
            db.close();
        } catch (RuntimeException expected) {
            // the log's final flush fails too
        }
    }

    @Test
    void inMemoryIsAlwaysHealthyWhileOpen() {
        try (Database<String, Long> db = Database.open()) {
            db.put("a", 1L);
            assertTrue(db.health().ok(), db.health().toString());
        }
    }

    /** A durable open refused for its JMX name must release its log: the directory opens again. */
    @Test
    void anOpenRefusedForItsJmxNameReleasesItsLog() {
        Path first = dir.resolve("first");
        Path second = dir.resolve("second");
        try (Database<String, Long> db = Database.<String, Long>builder()
                .name("health-same")
                .jmx(true)
                .durability(Wal.full(first, Codec.STRING, Codec.LONG))
                .open()) {
            db.put("a", 1L);
            assertThrows(
                    IllegalStateException.class,
                    () -> Database.<String, Long>builder()
                            .name("health-same")
                            .jmx(true)
                            .durability(Wal.full(second, Codec.STRING, Codec.LONG))
                            .open());
            try (Database<String, Long> again = Database.<String, Long>builder()
                    .durability(Wal.full(second, Codec.STRING, Codec.LONG))
                    .open()) { // refused with "already open" if the refused one kept the lock
                again.put("b", 2L);
                assertTrue(again.health().ok());
            }
        }
    }
}
