// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import dev.varve.Codec;
import dev.varve.Durability;
import dev.varve.spi.CommitLog;
import dev.varve.spi.StoreAccess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/** The {@link Durability} built by {@link Wal}: opens (locks, recovers, starts) a log directory. */
final class WalDurability<K, V> implements Durability<K, V> {

    private final WalOptions options;
    private final Codec<K> keyCodec;
    private final Codec<V> valueCodec;

    WalDurability(WalOptions options, Codec<K> keyCodec, Codec<V> valueCodec) {
        this.options = options;
        this.keyCodec = keyCodec;
        this.valueCodec = valueCodec;
    }

    @Override
    public CommitLog<K, V> open(StoreAccess<K, V> store) {
        Objects.requireNonNull(store, "store");
        createDirectories();
        DirectoryLock lock = DirectoryLock.acquire(options.dir());
        try {
            if (Files.exists(options.dir().resolve(Backups.RESTORING))) { // Backups B4
                throw new IllegalStateException("log directory " + options.dir() + " holds an unfinished restore of"
                        + " a backup (file " + Backups.RESTORING + "): delete the directory and restore again");
            }
            // NOTE: the catalog goes through the real file system, not options.io(): test doubles
            // of the disk model the log's own files (their fault sweeps count its operations),
            // and the catalog is forced, renamed and its directory forced before it is relied on.
            MapCatalog maps = MapCatalog.open(
                    FileIo.REAL,
                    options.dir(),
                    keyCodec,
                    valueCodec,
                    dev.varve.spi.MapDefinition.comparatorId(store.comparator()));
            Recovery.Result r = new Recovery<>(options.io(), options.dir(), store, keyCodec, valueCodec, maps).run();
            return new WalLog<>(options, keyCodec, valueCodec, store, lock, r, maps);
        } catch (IOException e) {
            lock.close();
            throw new UncheckedIOException("cannot recover log directory " + options.dir() + ": " + e, e);
        } catch (RuntimeException | Error e) {
            lock.close();
            throw e;
        }
    }

    /**
     * Creates the log directory and any missing parents, and forces each created directory's
     * entry into its parent, outermost first: a directory whose entry is not durable can vanish,
     * with every segment in it, at a power loss.
     */
    private void createDirectories() {
        Path dir = options.dir().toAbsolutePath();
        Path firstMissing = null;
        for (Path p = dir; p != null && !Files.exists(p); p = p.getParent()) {
            firstMissing = p;
        }
        try {
            Files.createDirectories(dir);
            if (firstMissing != null) {
                for (Path p = firstMissing; p != null; p = child(dir, p)) {
                    options.io().forceDirectory(p.getParent());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create log directory " + options.dir() + ": " + e, e);
        }
    }

    /** The next directory below {@code p} on the way to {@code dir}, or {@code null} past it. */
    private static Path child(Path dir, Path p) {
        return p.equals(dir) ? null : p.resolve(p.relativize(dir).getName(0));
    }

    /** The settings (for a restore into this log's directory). */
    WalOptions options() {
        return options;
    }

    /** The default map's key codec. */
    Codec<K> keyCodec() {
        return keyCodec;
    }

    /** The default map's value codec. */
    Codec<V> valueCodec() {
        return valueCodec;
    }

    @Override
    public String describe() {
        return options.sync().name().toLowerCase(java.util.Locale.ROOT) + "(" + options.dir() + ")";
    }

    @Override
    public String toString() {
        return describe();
    }
}
