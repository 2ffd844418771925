// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Codec;
import dev.varve.Database;
import dev.varve.Durability;
import dev.varve.Snapshot;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The log under a real {@link Database}. */
class DatabaseDurabilityTest {

    @TempDir
    Path dir;

    private Durability<String, Long> durability(Wal.Sync sync) {
        return Wal.builder(dir, Codec.STRING, Codec.LONG)
                .sync(sync)
                .segmentSize(4096)
                .build();
    }

    private static TreeMap<String, Long> contents(Database<String, Long> db) throws Exception {
        try (Snapshot<String, Long> s = db.snapshot()) {
            return new TreeMap<>(s);
        }
    }

    @ParameterizedTest
    @EnumSource(Wal.Sync.class)
    void reopenedDatabaseHoldsEveryCommit(Wal.Sync sync) throws Exception {
        TreeMap<String, Long> expected;
        try (Database<String, Long> db =
                Database.<String, Long>builder().durability(durability(sync)).open()) {
            assertEquals(sync.name().toLowerCase() + "(" + dir + ")", db.durability());
            db.put("alice", 100L);
            db.put("bob", 50L);
            db.transact(tx -> {
                tx.put("alice", tx.get("alice") - 30);
                tx.put("bob", tx.get("bob") + 30);
                return null;
            });
            db.put("carol", 1L);
            db.remove("carol");
            List<CompletableFuture<Long>> async = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                var tx = db.begin();
                tx.put("k" + i, (long) i);
                async.add(tx.commitAsync());
            }
            CompletableFuture.allOf(async.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);
            expected = contents(db);
        }
        try (Database<String, Long> db =
                Database.<String, Long>builder().durability(durability(sync)).open()) {
            assertEquals(expected, contents(db));
            assertEquals(70L, db.get("alice"));
            assertEquals(80L, db.get("bob"));
            assertNull(db.get("carol"));
            db.put("dave", 7L); // the clock continues after recovery
        }
        try (Database<String, Long> db =
                Database.<String, Long>builder().durability(durability(sync)).open()) {
            assertEquals(7L, db.get("dave"));
            assertEquals(expected.size() + 1, contents(db).size());
        }
    }

    @Test
    void checkpointThenReopen() throws Exception {
        TreeMap<String, Long> expected;
        try (Database<String, Long> db = Database.<String, Long>builder()
                .durability(durability(Wal.Sync.FULL))
                .open()) {
            for (int i = 0; i < 500; i++) {
                db.put("k" + (i % 37), (long) i);
            }
            db.checkpoint();
            assertTrue(WalTestSupport.files(dir, ".seg").size() <= 1);
            for (int i = 0; i < 50; i++) {
                db.put("after" + i, (long) i);
            }
            expected = contents(db);
        }
        try (Database<String, Long> db = Database.<String, Long>builder()
                .durability(durability(Wal.Sync.FULL))
                .open()) {
            assertEquals(expected, contents(db));
        }
    }

    @Test
    void secondOpenOfAnOpenDirectoryFails() throws Exception {
        try (Database<String, Long> db = Database.<String, Long>builder()
                .durability(durability(Wal.Sync.FULL))
                .open()) {
            db.put("a", 1L);
            IllegalStateException e = assertThrows(
                    IllegalStateException.class,
                    () -> Database.<String, Long>builder()
                            .durability(durability(Wal.Sync.RELAXED))
                            .open());
            assertTrue(e.getMessage().contains("is already open in this process"), e.getMessage());
            assertEquals(1L, db.get("a"));
        }
        assertTrue(
                WalTestSupport.walThreads().isEmpty(),
                WalTestSupport.walThreads().toString());
    }

    /** What a reader of a FULL database may observe while a commit's force is running. */
    @ParameterizedTest(name = "visibleOnlyWhenDurable={0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void aReaderSeesACommitDuringItsForceOnlyWithoutVisibleOnlyWhenDurable(boolean visibleOnlyWhenDurable)
            throws Exception {
        FaultyIo io = FaultyIo.counting();
        Durability<String, Long> d = Wal.builder(dir, Codec.STRING, Codec.LONG)
                .sync(Wal.Sync.FULL)
                .visibleOnlyWhenDurable(visibleOnlyWhenDurable)
                .fileIo(io)
                .build();
        try (Database<String, Long> db =
                Database.<String, Long>builder().durability(d).open()) {
            db.put("warm", 1L); // the segment exists: the next force is the commit's own
            WalTestSupport.Gate gate = new WalTestSupport.Gate(FaultyIo.Op.FORCE, ".seg");
            io.pauseAt(gate);
            CompletableFuture<Long> put = CompletableFuture.supplyAsync(() -> db.put("alice", 100L));
            gate.awaitEntered(); // written, being forced, not acknowledged
            if (visibleOnlyWhenDurable) {
                assertNull(db.get("alice"));
                assertTrue(contents(db).get("alice") == null);
            } else {
                org.awaitility.Awaitility.await()
                        .atMost(10, TimeUnit.SECONDS)
                        .until(() -> Long.valueOf(100L).equals(db.get("alice")));
            }
            gate.release.countDown();
            assertNull(put.get(10, TimeUnit.SECONDS));
            assertEquals(100L, db.get("alice"));
        }
    }
}
