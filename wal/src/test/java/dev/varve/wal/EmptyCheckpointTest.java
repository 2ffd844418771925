// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Codec;
import dev.varve.Database;
import dev.varve.Transaction;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A checkpoint of an empty store still tells recovery where the commit clock stands. */
class EmptyCheckpointTest {

    @Test
    void commitsAfterAnEmptyCheckpointKeepIncreasingTimestamps(@TempDir Path dir) {
        long before;
        try (Database<Long, Long> db = Database.<Long, Long>builder()
                .durability(Wal.full(dir, Codec.LONG, Codec.LONG))
                .open()) {
            for (long i = 0; i < 10; i++) {
                db.put(i, i);
            }
            for (long i = 0; i < 10; i++) {
                db.remove(i);
            }
            db.checkpoint();
            before = db.stats().visibleTimestamp();
        }
        try (Database<Long, Long> db = Database.<Long, Long>builder()
                .durability(Wal.full(dir, Codec.LONG, Codec.LONG))
                .open()) {
            assertEquals(before, db.stats().visibleTimestamp(), "the clock resumes where it stood");
            assertNull(db.get(1L));
            try (Transaction<Long, Long> tx = db.begin()) {
                tx.put(1L, 42L);
                tx.commit();
                assertTrue(tx.commitTimestamp() > before);
            }
        }
        try (Database<Long, Long> db = Database.<Long, Long>builder()
                .durability(Wal.full(dir, Codec.LONG, Codec.LONG))
                .open()) {
            assertEquals(42L, db.get(1L));
        }
    }
}
