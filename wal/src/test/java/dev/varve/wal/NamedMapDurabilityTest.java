// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Codec;
import dev.varve.Database;
import dev.varve.NamedMap;
import dev.varve.Transaction;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Named maps in a durable database: one record per commit across maps, recovered through the log
 * tail and through checkpoints, a map left unopened for a run surviving that run's checkpoints, a
 * durable drop, and refusals of reopening with other codecs or another order.
 */
class NamedMapDurabilityTest {
    @TempDir
    Path dir;

    private Database<String, Long> open(Wal.Sync sync) {
        return Database.<String, Long>builder()
                .durability(
                        sync == Wal.Sync.FULL
                                ? Wal.full(dir, Codec.STRING, Codec.LONG)
                                : Wal.relaxed(dir, Codec.STRING, Codec.LONG))
                .open();
    }

    @Test
    void aCommitAcrossMapsIsRecoveredWholeFromTheLogAndFromACheckpoint() {
        for (boolean checkpoint : new boolean[] {false, true}) {
            try (Database<String, Long> db = open(Wal.Sync.FULL)) {
                NamedMap<Integer, String> names = db.openMap("names" + checkpoint, Codec.INT, Codec.STRING);
                NamedMap<Long, Long> desc =
                        db.openMap("desc" + checkpoint, Comparator.reverseOrder(), Codec.LONG, Codec.LONG);
                try (Transaction<String, Long> tx = db.begin()) {
                    tx.put("k", 1L);
                    tx.map(names).put(1, "one");
                    tx.map(desc).put(5L, 50L);
                    tx.map(desc).put(6L, 60L);
                    tx.commit();
                }
                names.put(2, "two");
                desc.remove(5L);
                if (checkpoint) {
                    db.checkpoint();
                }
            }
            try (Database<String, Long> db = open(Wal.Sync.FULL)) {
                assertEquals(1L, db.get("k"));
                NamedMap<Integer, String> names = db.openMap("names" + checkpoint, Codec.INT, Codec.STRING);
                NamedMap<Long, Long> desc =
                        db.openMap("desc" + checkpoint, Comparator.reverseOrder(), Codec.LONG, Codec.LONG);
                try (var snap = db.snapshot()) {
                    assertEquals(Map.of(1, "one", 2, "two"), new TreeMap<>(snap.map(names)));
                    assertEquals(List.of(6L), List.copyOf(snap.map(desc).keySet()));
                }
                names.put(3, "three"); // the map takes commits after its recovery
                assertEquals("three", names.get(3));
            }
        }
    }

    @Test
    void aMapNotOpenedInARunSurvivesThatRunsCheckpoints() {
        try (Database<String, Long> db = open(Wal.Sync.FULL)) {
            NamedMap<String, String> quiet = db.openMap("quiet", Codec.STRING, Codec.STRING);
            quiet.put("a", "1");
            quiet.put("b", "2");
            quiet.remove("b");
        }
        try (Database<String, Long> db = open(Wal.Sync.RELAXED)) {
            for (long i = 0; i < 50; i++) {
                db.put("x" + i, i);
                if (i % 10 == 0) {
                    db.checkpoint();
                }
            }
        }
        try (Database<String, Long> db = open(Wal.Sync.FULL)) {
            db.checkpoint(); // from the checkpoint's recovered bytes, once more
        }
        try (Database<String, Long> db = open(Wal.Sync.FULL)) {
            NamedMap<String, String> quiet = db.openMap("quiet", Codec.STRING, Codec.STRING);
            assertEquals("1", quiet.get("a"));
            assertNull(quiet.get("b"));
            assertEquals(49L, db.get("x49"));
        }
    }

    @Test
    void aDroppedMapDoesNotComeBackAndItsNameOpensEmpty() {
        try (Database<String, Long> db = open(Wal.Sync.FULL)) {
            NamedMap<String, Long> gone = db.openMap("gone", Codec.STRING, Codec.LONG);
            gone.put("a", 1L);
            db.checkpoint();
            gone.put("b", 2L);
            assertTrue(db.dropMap("gone"));
        }
        try (Database<String, Long> db = open(Wal.Sync.FULL)) {
            NamedMap<String, Long> again = db.openMap("gone", Codec.STRING, Codec.LONG);
            assertNull(again.get("a"));
            assertNull(again.get("b"));
            again.put("c", 3L);
        }
        try (Database<String, Long> db = open(Wal.Sync.FULL)) {
            assertEquals(3L, db.openMap("gone", Codec.STRING, Codec.LONG).get("c"));
        }
    }

    @Test
    void reopeningWithOtherCodecsOrAnotherOrderIsRefusedWithWhatIsThere() {
        try (Database<String, Long> db = open(Wal.Sync.FULL)) {
            db.openMap("m", Codec.STRING, Codec.LONG).put("a", 1L);
        }
        try (Database<String, Long> db = open(Wal.Sync.FULL)) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> db.openMap("m", Codec.INT, Codec.LONG));
            assertTrue(e.getMessage().contains("map 'm'"), e.getMessage());
            assertTrue(e.getMessage().contains("varve.string/1"), e.getMessage());
            assertTrue(e.getMessage().contains("varve.int/1"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> db.openMap("m", Codec.STRING, Codec.INT));
            assertTrue(e.getMessage().contains("varve.long/1") && e.getMessage().contains("varve.int/1"));
            e = assertThrows(
                    IllegalArgumentException.class,
                    () -> db.openMap("m", Comparator.<String>reverseOrder(), Codec.STRING, Codec.LONG));
            assertTrue(e.getMessage().contains("natural ordering"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> db.<String, Long>openMap("m"));
            assertTrue(e.getMessage().contains("needs codecs") || e.getMessage().contains("need codecs"));
            assertEquals(1L, db.openMap("m", Codec.STRING, Codec.LONG).get("a")); // the refusals changed nothing
        }
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> Database.<byte[], Long>builder(java.util.Arrays::compareUnsigned)
                        .durability(Wal.full(dir, Codec.BYTES, Codec.LONG))
                        .open());
        assertTrue(e.getMessage().contains("the default map"), e.getMessage());
        assertTrue(
                e.getMessage().contains("varve.string/1") && e.getMessage().contains("varve.bytes/1"), e.getMessage());
        try (Database<String, Long> db = open(Wal.Sync.FULL)) {
            assertEquals(1L, db.openMap("m", Codec.STRING, Codec.LONG).get("a")); // the refused open left the lock
        }
    }

    @Test
    void mapsNotOpenedSinceTheRestartAreListedAndCanBeDropped() {
        try (Database<String, Long> db = open(Wal.Sync.FULL)) {
            db.openMap("kept", Codec.STRING, Codec.LONG).put("k", 1L);
            db.openMap("unwanted", Codec.STRING, Codec.LONG).put("u", 2L);
        }
        try (Database<String, Long> db = open(Wal.Sync.FULL)) {
            assertEquals(java.util.Set.of("kept", "unwanted"), db.mapNames()); // neither opened in this run
            assertTrue(db.dropMap("unwanted"));
            assertEquals(java.util.Set.of("kept"), db.mapNames());
            assertTrue(!db.dropMap("unwanted"));
        }
        try (Database<String, Long> db = open(Wal.Sync.FULL)) {
            assertEquals(java.util.Set.of("kept"), db.mapNames());
            assertNull(db.openMap("unwanted", Codec.INT, Codec.INT).get(1)); // a new map, other codecs
            assertEquals(1L, db.openMap("kept", Codec.STRING, Codec.LONG).get("k"));
        }
    }

    /**
     * Under RELAXED, a commit that moves a key out of a map and a drop of that map right after:
     * the drop is durable when dropMap returns, so the commit before it must be too, or a power
     * loss would leave the key in neither map (not a prefix of what happened).
     */
    @Test
    void aDropIsNeverDurableBeforeTheCommitsThatPrecededIt() throws Exception {
        for (int seed = 0; seed < 6; seed++) {
            Path d = dir.resolve("power-" + seed);
            FaultyIo.Disk disk = new FaultyIo.Disk();
            FaultyIo io = FaultyIo.counting(disk);
            Database<String, Long> db = Database.<String, Long>builder()
                    .durability(Wal.builder(d, Codec.STRING, Codec.LONG)
                            .sync(Wal.Sync.RELAXED)
                            .flushInterval(java.time.Duration.ofHours(1))
                            .fileIo(io)
                            .checkpointEvery(0)
                            .build())
                    .open();
            NamedMap<String, Long> x = db.openMap("x", Codec.STRING, Codec.LONG);
            x.put("a", 1L);
            db.transact(tx -> {
                tx.put("a", tx.map(x).remove("a")); // moved out of x
                return null;
            });
            assertTrue(db.dropMap("x"));
            io.crash();
            try {
                db.close();
            } catch (RuntimeException expected) {
                // the process is gone: its close fails
            }
            disk.powerLoss(new java.util.Random(seed));
            try (Database<String, Long> reopened = Database.<String, Long>builder()
                    .durability(Wal.builder(d, Codec.STRING, Codec.LONG)
                            .fileIo(FaultyIo.counting(disk))
                            .build())
                    .open()) {
                assertEquals(1L, reopened.get("a"), "seed " + seed + ": the move was lost though the drop survived");
                assertEquals(java.util.Set.of(), reopened.mapNames());
            }
        }
    }

    /**
     * The force a drop waits for fails (the disk model fails that force): dropMap reports the
     * log's failure and drops nothing, neither in this run nor on disk.
     */
    @Test
    void aDropWhoseForceFailsDropsNothing() throws Exception {
        int forcesBeforeDrop = dropRun(dir.resolve("count"), FaultyIo.counting(), false);
        Path d = dir.resolve("failing");
        FaultyIo failing = FaultyIo.failing(FaultyIo.Op.FORCE, forcesBeforeDrop + 1, FaultyIo.Mode.FAIL);
        dropRun(d, failing, true);
        try (Database<String, Long> reopened = Database.<String, Long>builder()
                .durability(Wal.builder(d, Codec.STRING, Codec.LONG).build())
                .open()) {
            assertEquals(java.util.Set.of("x"), reopened.mapNames());
            assertEquals(1L, reopened.openMap("x", Codec.STRING, Codec.LONG).get("a"));
        }
    }

    /** Writes x under RELAXED, then drops it; returns the forces counted before the drop. */
    private static int dropRun(Path d, FaultyIo io, boolean dropFails) {
        Database<String, Long> db = Database.<String, Long>builder()
                .durability(Wal.builder(d, Codec.STRING, Codec.LONG)
                        .sync(Wal.Sync.RELAXED)
                        .flushInterval(java.time.Duration.ofHours(1))
                        .fileIo(io)
                        .checkpointEvery(0)
                        .build())
                .open();
        try {
            NamedMap<String, Long> x = db.openMap("x", Codec.STRING, Codec.LONG);
            x.put("a", 1L);
            int before = io.forces.get();
            if (dropFails) {
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> db.dropMap("x"));
                assertTrue(e.getMessage().contains("injected"), e.getMessage());
                assertTrue(!x.isDropped(), "a drop whose force failed dropped the map");
            } else {
                assertTrue(db.dropMap("x"));
            }
            return before;
        } finally {
            try {
                db.close();
            } catch (RuntimeException failedLog) {
                // the failing run's log failed: its close reports it
            }
        }
    }
}
