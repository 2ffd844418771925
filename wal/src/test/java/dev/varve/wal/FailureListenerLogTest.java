// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.varve.Codec;
import dev.varve.Database;
import dev.varve.TransactionException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Builder#failureListener hears of the log's failure once, as it happens. */
class FailureListenerLogTest {
    @TempDir
    Path dir;

    @Test
    void theLogsFailureReachesTheListener() throws Exception {
        CompletableFuture<Object[]> heard = new CompletableFuture<>();
        FaultyIo io = FaultyIo.counting(new FaultyIo.Disk());
        Database<String, Long> db = Database.<String, Long>builder()
                .durability(Wal.builder(dir, Codec.STRING, Codec.LONG)
                        .sync(Wal.Sync.FULL)
                        .fileIo(io)
                        .build())
                .failureListener((kind, failure) -> heard.complete(new Object[] {kind, failure}))
                .open();
        try {
            db.put("a", 1L);
            io.crash(); // every later file operation fails: the next force fails the log
            assertThrows(TransactionException.class, () -> db.put("b", 2L));
            Object[] h = heard.get(30, TimeUnit.SECONDS);
            assertEquals(Database.FailureKind.LOG, h[0]);
            assertSame(db.health().logFailure(), h[1], "the failure health() reports");
        } finally {
            try {
                db.close();
            } catch (RuntimeException expected) {
                // the log's final flush fails too
            }
        }
    }
}
