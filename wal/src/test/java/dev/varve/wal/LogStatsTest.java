// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Codec;
import dev.varve.Database;
import dev.varve.LogStats;
import dev.varve.Transaction;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Database.logStats(): what the log wrote and forced, each figure moved by what moves it. */
class LogStatsTest {
    @TempDir
    Path dir;

    @Test
    void fullDurabilityForcesEveryCommitOfASingleWriter() {
        try (Database<String, Long> db = Database.<String, Long>builder()
                .durability(Wal.full(dir, Codec.STRING, Codec.LONG))
                .open()) {
            LogStats before = db.logStats();
            for (long i = 0; i < 20; i++) {
                try (Transaction<String, Long> tx = db.begin()) {
                    tx.put("k" + i, i);
                    tx.put("j" + i, i);
                    tx.commit(); // one record, forced before commit returns
                }
            }
            LogStats after = db.logStats();
            assertEquals(20, after.records() - before.records());
            assertTrue(after.forces() - before.forces() >= 20, after.toString());
            assertTrue(after.bytesWritten() - before.bytesWritten() >= 20 * 2 * 3, after.toString());
            assertTrue(after.recordsPerForce() > 0 && after.recordsPerForce() <= 1.0, after.toString());
            assertTrue(after.forceP50().compareTo(after.forceP99()) <= 0, after.toString());
            assertTrue(after.forceP99().compareTo(after.forceMax()) <= 0, after.toString());
            assertTrue(after.lastForce().compareTo(after.forceMax()) <= 0, after.toString());
            assertEquals(0, after.checkpoints());
            db.checkpoint();
            assertEquals(1, db.logStats().checkpoints());
            try (Transaction<String, Long> tx = db.begin()) {
                tx.get("k1");
                tx.commit(); // read-only: logs nothing
            }
            assertEquals(after.records(), db.logStats().records());
        }
    }

    @Test
    void relaxedDurabilityWritesWithoutForcingEachCommit() {
        try (Database<String, Long> db = Database.<String, Long>builder()
                .durability(Wal.builder(dir, Codec.STRING, Codec.LONG)
                        .sync(Wal.Sync.RELAXED)
                        .flushInterval(Duration.ofHours(1))
                        .flushBytes(1L << 40)
                        .flushRecords(1 << 30)
                        .build())
                .open()) {
            db.put("first", 0L); // opens the first segment (its header is forced)
            long forces = db.logStats().forces();
            for (long i = 0; i < 50; i++) {
                db.put("k" + i, i);
            }
            LogStats s = db.logStats();
            assertEquals(51, s.records());
            assertEquals(forces, s.forces(), "RELAXED with every flush trigger far away forces nothing");
        }
    }

    @Test
    void anInMemoryDatabaseLogsNothingAndAClosedOneRefuses() {
        Database<String, Long> db = Database.<String, Long>builder().open();
        db.put("a", 1L);
        assertEquals(LogStats.NONE, db.logStats());
        db.close();
        assertThrows(IllegalStateException.class, db::logStats);
    }

    @Test
    void percentilesAreOverTheLastWindowOfForces() {
        LogCounters c = new LogCounters();
        assertEquals(Duration.ZERO, c.read().forceP50());
        for (int i = 0; i < 1000; i++) {
            c.forced(2_000_000); // 2 ms, then pushed out of the window
        }
        for (int i = 1; i <= LogStats.LATENCY_WINDOW; i++) {
            c.forced(i * 1_000L); // 1..1024 us
        }
        LogStats s = c.read();
        assertEquals(1000 + LogStats.LATENCY_WINDOW, s.forces());
        assertEquals(Duration.ofNanos(512_000), s.forceP50());
        assertEquals(Duration.ofNanos(1_014_000), s.forceP99()); // rank ceil(0.99 * 1024) = 1014
        assertEquals(Duration.ofMillis(2), s.forceMax(), "the max is since the log was opened");
        assertEquals(Duration.ofNanos(1_024_000), s.lastForce());
    }

    @Test
    void writtenCountsBytesAndRecords() {
        LogCounters c = new LogCounters();
        c.written(100, 3);
        c.written(50, 1);
        c.forced(10);
        c.checkpointed();
        LogStats s = c.read();
        assertEquals(150, s.bytesWritten());
        assertEquals(4, s.records());
        assertEquals(4.0, s.recordsPerForce());
        assertEquals(1, s.checkpoints());
    }
}
