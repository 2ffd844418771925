// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Codec;
import dev.varve.Database;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** With -Dvarve.codec.check=true a lossy codec is refused at the commit that would log it, not found at recovery. */
class LossyCodecTest {
    @TempDir
    Path dir;

    /** Drops everything after the first character: "tea" is logged as "t". */
    static final Codec<String> FIRST_CHAR_ONLY = Codec.of(
            "test.first-char/1",
            s -> Codec.STRING.encode(s.isEmpty() ? s : s.substring(0, 1)),
            b -> Codec.STRING.decode(b, 0, b.length));

    @AfterEach
    void clear() {
        System.clearProperty("varve.codec.check");
    }

    @Test
    void withTheCheckALossyValueIsRefusedAtCommitAndNothingIsLogged() {
        System.setProperty("varve.codec.check", "true");
        try (Database<Long, String> db = Database.<Long, String>builder()
                .durability(Wal.full(dir, Codec.LONG, FIRST_CHAR_ONLY))
                .open()) {
            db.put(1L, "t"); // one character: no loss
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> db.put(2L, "tea"));
            assertEquals(
                    "cannot log commit 2: codec test.first-char/1 is lossy: tea encodes to 1 bytes that decode to t",
                    e.getMessage());
            assertTrue(e.getCause() instanceof IllegalArgumentException, String.valueOf(e.getCause()));
            assertNull(db.get(2L), "the refused commit is not visible");
            assertTrue(db.health().ok(), db.health().toString());
        }
        try (Database<Long, String> db = Database.<Long, String>builder()
                .durability(Wal.full(dir, Codec.LONG, FIRST_CHAR_ONLY))
                .open()) {
            assertEquals("t", db.get(1L));
            assertNull(db.get(2L));
        }
    }

    @Test
    void withoutTheCheckTheLossIsSilentUntilRecovery() {
        try (Database<Long, String> db = Database.<Long, String>builder()
                .durability(Wal.full(dir, Codec.LONG, FIRST_CHAR_ONLY))
                .open()) {
            db.put(2L, "tea");
            assertEquals("tea", db.get(2L), "in memory the value is whole");
        }
        try (Database<Long, String> db = Database.<Long, String>builder()
                .durability(Wal.full(dir, Codec.LONG, FIRST_CHAR_ONLY))
                .open()) {
            assertEquals("t", db.get(2L), "what the log kept");
        }
    }
}
