// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import dev.varve.Backup;
import dev.varve.spi.CommitLog;
import dev.varve.spi.CommitRecord;
import dev.varve.spi.MapDefinition;
import dev.varve.spi.MapReplay;
import dev.varve.spi.StoreAccess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.NavigableSet;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The commit log of a database restored into memory from a backup: keeps nothing (every append
 * is durable at once, as in memory), but holds the backup's map catalog, so that each named map
 * gets its restored state at its first {@code openMap} (with codecs, checked against the
 * backup's ids, as after a durable restart) and the database can be backed up again. Thread-safe
 * (the catalog is).
 *
 * @param <K> key type
 * @param <V> value type
 */
final class RestoredLog<K, V> implements CommitLog<K, V> {

    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

    /** The backup's catalog, never saved: maps, codecs, and the restored bytes of maps not opened yet. */
    private final MapCatalog maps;

    private final StoreAccess<K, V> store;
    private volatile boolean closed;

    RestoredLog(MapCatalog maps, StoreAccess<K, V> store) {
        this.maps = maps;
        this.store = store;
    }

    @Override
    public CompletableFuture<Void> append(CommitRecord<K, V> record) {
        return DONE;
    }

    @Override
    public void checkpoint() {}

    @Override
    public Backup backup(Path target) {
        Objects.requireNonNull(target, "target");
        if (closed) {
            throw new IllegalStateException("the database is closed");
        }
        return Backups.write(FileIo.REAL, target, store, Backups.of(maps));
    }

    @Override
    public <K2, V2> int openMap(MapDefinition<K2, V2> map, MapReplay<K2, V2> replay) {
        Objects.requireNonNull(map, "map");
        int id;
        try {
            id = maps.open(map);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // NOTE: never thrown: the catalog is never saved
        }
        maps.replayRecovered(id, map, replay);
        return id;
    }

    @Override
    public void dropMap(int id, String name, long throughTs) {
        try {
            maps.drop(id);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // NOTE: never thrown: the catalog is never saved
        }
    }

    @Override
    public NavigableSet<String> recordedMapNames() {
        return maps.names();
    }

    @Override
    public int recordedMapId(String name) {
        return maps.idOf(name);
    }

    @Override
    public void close() {
        closed = true;
    }
}
