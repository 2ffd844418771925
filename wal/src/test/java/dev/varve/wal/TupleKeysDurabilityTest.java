// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.varve.Codec;
import dev.varve.Database;
import dev.varve.Snapshot;
import dev.varve.Tuple;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tuple keys through {@link Codec#TUPLE}, a real log, a checkpoint and two reopens. */
class TupleKeysDurabilityTest {

    @TempDir
    Path dir;

    private Database<Tuple, Long> open() {
        return Database.<Tuple, Long>builder()
                .durability(Wal.full(dir, Codec.TUPLE, Codec.LONG))
                .open();
    }

    private static TreeMap<Tuple, Long> contents(Database<Tuple, Long> db) {
        try (Snapshot<Tuple, Long> s = db.snapshot()) {
            return new TreeMap<>(s);
        }
    }

    @Test
    void tupleKeysSurviveReopenInTheSameOrder() throws Exception {
        UUID id = new UUID(-1L, 5L);
        List<Tuple> keys = List.of(
                Tuple.of(1L, 2L),
                Tuple.of(1L, Long.MIN_VALUE),
                Tuple.of(1L, Long.MAX_VALUE),
                Tuple.of(-1L, "a\0b", new byte[] {0, 0, -1}),
                Tuple.of(Tuple.of(null, 3L), true, id),
                Tuple.of("", new byte[0], false),
                Tuple.of());
        TreeMap<Tuple, Long> expected;
        try (Database<Tuple, Long> db = open()) {
            long v = 0;
            for (Tuple k : keys) {
                db.put(k, v++);
            }
            db.checkpoint(); // the checkpoint image holds these
            db.transact(tx -> {
                tx.put(Tuple.of(2L, 1L), 21L); // the log tail holds these
                tx.remove(Tuple.of(1L, 2L));
                return null;
            });
            expected = contents(db);
        }
        try (Database<Tuple, Long> db = open()) {
            assertEquals(expected, contents(db));
            assertEquals(
                    List.copyOf(expected.keySet()), List.copyOf(contents(db).keySet()));
            try (Snapshot<Tuple, Long> s = db.snapshot()) {
                assertEquals(
                        Map.of(Tuple.of(1L, Long.MIN_VALUE), 1L, Tuple.of(1L, Long.MAX_VALUE), 2L),
                        Tuple.prefix(s, Tuple.of(1L)));
            }
            db.put(Tuple.of(3L), 3L);
        }
        try (Database<Tuple, Long> db = open()) {
            expected.put(Tuple.of(3L), 3L);
            assertEquals(expected, contents(db));
        }
    }
}
