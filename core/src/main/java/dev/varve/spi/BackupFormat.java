// SPDX-License-Identifier: Apache-2.0
package dev.varve.spi;

import dev.varve.Backup;
import dev.varve.Codec;
import dev.varve.Durability;
import java.nio.file.Path;
import java.util.ServiceLoader;
import java.util.function.IntFunction;

/**
 * Writes and reads backups for databases whose commit log does not write them itself (an
 * in-memory database), and restores a backup into a new database: the service {@code varve-wal}
 * provides ({@link ServiceLoader}; on the module path through {@code provides}, on the class path
 * through {@code META-INF/services}). Implementations are stateless and thread-safe.
 */
public interface BackupFormat {

    /**
     * The first provider on the module or class path.
     *
     * @return the provider
     * @throws UnsupportedOperationException if there is none (the message says which module to
     *     add)
     */
    static BackupFormat find() {
        return ServiceLoader.load(BackupFormat.class, BackupFormat.class.getClassLoader())
                .findFirst()
                .or(() -> ServiceLoader.load(BackupFormat.class).findFirst())
                .orElseThrow(() -> new UnsupportedOperationException(
                        "backups need a dev.varve.spi.BackupFormat provider: put varve-wal (module dev.varve.wal)"
                                + " on the class or module path"));
    }

    /**
     * Writes a backup of every map of {@code store} at one snapshot into {@code target} (which
     * must not exist or be an empty directory), without blocking readers or writers.
     *
     * @param target the backup directory
     * @param store the store to read
     * @param keyCodec the codec of the default map's keys
     * @param valueCodec the codec of the default map's values
     * @param namedMaps the definition of the named map with a given id (at least 1), or null if
     *     the map was dropped since; throws {@link IllegalStateException} naming the map if it has
     *     no codecs
     * @return what was written
     * @throws IllegalArgumentException if {@code target} is a file or a non-empty directory
     * @throws IllegalStateException if a map has no codecs, or the store is closed
     * @throws java.io.UncheckedIOException if writing failed (no complete-looking backup is left)
     */
    Backup write(
            Path target,
            StoreAccess<?, ?> store,
            Codec<?> keyCodec,
            Codec<?> valueCodec,
            IntFunction<MapDefinition<?, ?>> namedMaps);

    /**
     * A durability that restores the backup in {@code backup} when the database opens: into
     * memory if {@code durability} is in memory, or, for a write-ahead log, into its (absent or
     * empty) directory, which it then opens as usual. The backup is verified whole (its manifest,
     * every file's size and checksum, every record's CRC, the entry counts and codec ids) before
     * anything is loaded.
     *
     * @param backup the backup directory
     * @param durability where the restored database keeps its commits
     * @param keyCodec the default map's key codec, or null to use the log's (required in memory)
     * @param valueCodec the default map's value codec, or null as {@code keyCodec}
     * @param <K> key type
     * @param <V> value type
     * @return the durability to open the database with
     * @throws IllegalArgumentException if {@code durability} is of a kind this provider cannot
     *     restore into
     */
    <K, V> Durability<K, V> restore(Path backup, Durability<K, V> durability, Codec<K> keyCodec, Codec<V> valueCodec);
}
