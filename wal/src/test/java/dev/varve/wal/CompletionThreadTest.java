// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Codec;
import dev.varve.Database;
import dev.varve.Transaction;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where durable commit futures complete: on the log's completer thread, in one hand-off per
 * group — never on the writer thread, and never on a thread started per commit (which is what
 * {@code handleAsync} without an executor does on a machine whose common pool has one thread).
 */
class CompletionThreadTest {

    @Test
    void commitAsyncContinuationsRunOnTheCompleterThread(@TempDir Path dir) throws Exception {
        Set<String> threads = ConcurrentHashMap.newKeySet();
        try (Database<Long, Long> db = Database.<Long, Long>builder()
                .durability(Wal.full(dir, Codec.LONG, Codec.LONG))
                .open()) {
            List<CompletableFuture<Long>> futures = new ArrayList<>();
            for (long i = 0; i < 500; i++) {
                try (Transaction<Long, Long> tx = db.begin()) {
                    tx.put(i, i);
                    futures.add(tx.commitAsync()
                            .whenComplete((ts, failure) ->
                                    threads.add(Thread.currentThread().getName().replaceAll("\\[.*", ""))));
                }
            }
            CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0]))
                    .get(30, TimeUnit.SECONDS);
            assertEquals(500L, db.snapshot().size());
        }
        threads.remove(Thread.currentThread().getName()); // stages on a future already complete
        assertTrue(threads.equals(Set.of("varve-wal-completer")), "continuations ran on " + threads);
    }
}
