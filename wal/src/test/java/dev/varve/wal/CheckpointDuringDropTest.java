// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.varve.Codec;
import dev.varve.spi.MapDefinition;
import dev.varve.spi.StoreAccess;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A named map dropped while a checkpoint reads the store (its snapshot had already listed the
 * map): the checkpoint still succeeds, and loading it skips the dropped map (MapCatalog C1). The
 * schedule is forced by a store whose snapshot drops the map between two maps.
 */
class CheckpointDuringDropTest {
    @TempDir
    Path dir;

    @Test
    void aMapDroppedDuringTheCheckpointsSnapshotIsWrittenAndSkippedOnLoad() throws Exception {
        MapCatalog maps = MapCatalog.open(FileIo.REAL, dir, Codec.STRING, Codec.LONG, "natural");
        int x = maps.open(new MapDefinition<>("x", Codec.INT, Codec.STRING, null));
        StoreAccess<String, Long> store = new StoreAccess<>() {
            @Override
            public void replay(long commitTimestamp, String key, Long value) {}

            @Override
            public void recoveredThrough(long commitTimestamp) {}

            @Override
            public long readSnapshot(BiConsumer<? super String, ? super Long> consumer) {
                throw new AssertionError("the checkpoint reads every map");
            }

            @Override
            public long readSnapshot(MapSnapshotConsumer consumer) {
                consumer.beginMap(0);
                consumer.accept("k", 1L);
                try {
                    maps.drop(x); // dropMap runs now: the snapshot listed x before
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                consumer.beginMap(x);
                consumer.accept(7, "seven");
                return 5;
            }

            @Override
            public java.util.Comparator<? super String> comparator() {
                return java.util.Comparator.naturalOrder();
            }
        };
        Checkpoints.Written w = Checkpoints.write(FileIo.REAL, dir, store, maps, 0);
        assertNotNull(w, "the checkpoint was written");
        MapCatalog reloaded = MapCatalog.open(FileIo.REAL, dir, Codec.STRING, Codec.LONG, "natural");
        Map<String, Long> loaded = new TreeMap<>();
        FakeStore<String, Long> into = new FakeStore<>();
        long ts = Checkpoints.load(FileIo.REAL, w.file(), into, Codec.STRING, Codec.LONG, reloaded);
        loaded.putAll(into.map);
        assertEquals(5, ts);
        assertEquals(Map.of("k", 1L), loaded);
        assertEquals(Map.of(), reloaded.recoveredNotIn(java.util.Set.of())); // x's entries were skipped
    }
}
