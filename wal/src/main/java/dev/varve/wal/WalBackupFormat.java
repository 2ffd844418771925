// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import dev.varve.Backup;
import dev.varve.Codec;
import dev.varve.Durability;
import dev.varve.spi.BackupFormat;
import dev.varve.spi.CommitLog;
import dev.varve.spi.MapDefinition;
import dev.varve.spi.StoreAccess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.IntFunction;

/**
 * The {@link BackupFormat} of {@code varve-wal}, which {@code varve-core} finds through {@link
 * java.util.ServiceLoader}: backups of in-memory databases, and restores into memory or into a
 * log directory. Applications call {@code Database.backup} and {@code
 * Database.Builder.restore} rather than this class; the format is described by {@link
 * BackupManifest}. Stateless and thread-safe.
 */
public final class WalBackupFormat implements BackupFormat {

    /** Creates the provider (for {@link java.util.ServiceLoader}). */
    public WalBackupFormat() {}

    /**
     * {@inheritDoc}
     *
     * @throws NullPointerException if an argument is null
     */
    @Override
    public Backup write(
            Path target,
            StoreAccess<?, ?> store,
            Codec<?> keyCodec,
            Codec<?> valueCodec,
            IntFunction<MapDefinition<?, ?>> namedMaps) {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(keyCodec, "keyCodec");
        Objects.requireNonNull(valueCodec, "valueCodec");
        Objects.requireNonNull(namedMaps, "namedMaps");
        String order = MapDefinition.comparatorId(store.comparator());
        return Backups.write(FileIo.REAL, target, store, Backups.of(keyCodec, valueCodec, order, namedMaps));
    }

    /**
     * {@inheritDoc} Into memory ({@link Durability#inMemory()}), the default map's codecs must be
     * given; into a log directory ({@code Wal.full}, {@code Wal.relaxed}, {@code Wal.builder}),
     * the log's codecs are used (given codecs are checked against the backup as well), the
     * backup is copied into its directory, which must be absent or empty, and the directory is
     * opened as usual.
     *
     * @throws IllegalArgumentException if {@code durability} is neither in memory nor a {@link
     *     Wal}
     * @throws NullPointerException if {@code backup} or {@code durability} is null
     */
    @Override
    public <K, V> Durability<K, V> restore(
            Path backup, Durability<K, V> durability, Codec<K> keyCodec, Codec<V> valueCodec) {
        Objects.requireNonNull(backup, "backup");
        Objects.requireNonNull(durability, "durability");
        if (durability == Durability.<K, V>inMemory()) {
            return new Restore<>(backup, null, keyCodec, valueCodec);
        }
        if (durability instanceof WalDurability<K, V> wal) {
            return new Restore<>(backup, wal, keyCodec, valueCodec);
        }
        throw new IllegalArgumentException("cannot restore a backup into " + durability.describe()
                + ": restore into memory (the default) or a write-ahead log (dev.varve.wal.Wal)");
    }

    /** The durability {@link #restore} returns: verifies, then loads into memory or copies into the log's directory. */
    private static final class Restore<K, V> implements Durability<K, V> {
        private final Path backup;
        /** Null: into memory. */
        private final WalDurability<K, V> wal;

        private final Codec<K> keyCodec;
        private final Codec<V> valueCodec;

        Restore(Path backup, WalDurability<K, V> wal, Codec<K> keyCodec, Codec<V> valueCodec) {
            this.backup = backup;
            this.wal = wal;
            this.keyCodec = keyCodec == null ? null : Codec.checkedIfEnabled(keyCodec);
            this.valueCodec = valueCodec == null ? null : Codec.checkedIfEnabled(valueCodec);
        }

        @Override
        public CommitLog<K, V> open(StoreAccess<K, V> store) {
            Objects.requireNonNull(store, "store");
            String order = MapDefinition.comparatorId(store.comparator());
            try {
                if (wal == null) {
                    if (keyCodec == null) {
                        throw new IllegalStateException("restoring backup " + backup + " into memory needs the"
                                + " default map's codecs: Database.builder().restore(dir, keyCodec, valueCodec)");
                    }
                    Backups.Verified v = Backups.verified(Backups.READ_ONLY, backup); // B3: all of it first
                    Backups.checkDefaultMap(v, keyCodec, valueCodec, order);
                    return new RestoredLog<>(Backups.loadInto(v, store, keyCodec, valueCodec), store);
                }
                Backups.Verified v = Backups.verified(Backups.READ_ONLY, backup);
                Backups.checkDefaultMap(v, wal.keyCodec(), wal.valueCodec(), order);
                if (keyCodec != null) {
                    Backups.checkDefaultMap(v, keyCodec, valueCodec, order);
                }
                Backups.copyInto(wal.options().io(), v, wal.options().dir());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot restore backup " + backup + ": " + e, e);
            }
            return wal.open(store);
        }

        @Override
        public String describe() {
            return (wal == null ? "memory" : wal.describe()) + " restored from " + backup;
        }

        @Override
        public String toString() {
            return describe();
        }
    }
}
