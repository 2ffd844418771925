// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench;

import dev.varve.Codec;
import dev.varve.Durability;
import dev.varve.wal.Wal;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Locale;
import java.util.stream.Stream;

/** How the driver's database keeps commits: in memory, or in a write-ahead log ({@code varve-wal}). */
public enum DurabilityMode {
    /** {@link Durability#inMemory()}. */
    MEMORY,
    /** {@link Wal#relaxed}: written to the OS at commit, forced on a bound. */
    RELAXED,
    /** {@link Wal#full}: forced before {@code commit()} returns (group commit). */
    FULL,
    /** FULL with {@code visibleOnlyWhenDurable(true)}: readers see a commit only once forced. */
    FULL_DEFERRED;

    static DurabilityMode parse(String value) {
        try {
            return valueOf(value.toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "--durability " + value + " is not memory, relaxed, full or full-deferred");
        }
    }

    /** The lower-case name used on the command line and in reports. */
    public String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /**
     * The durability for a database with these codecs, logging into {@code dir}.
     *
     * @param dir the log directory (ignored in memory)
     * @param keys the key codec
     * @param values the value codec
     * @param <K> key type
     * @param <V> value type
     * @return the durability for {@code Database.Builder.durability}
     */
    public <K, V> Durability<K, V> create(Path dir, Codec<K> keys, Codec<V> values) {
        switch (this) {
            case RELAXED:
                return Wal.relaxed(dir, keys, values);
            case FULL:
                return Wal.full(dir, keys, values);
            case FULL_DEFERRED:
                return Wal.builder(dir, keys, values)
                        .sync(Wal.Sync.FULL)
                        .visibleOnlyWhenDurable(true)
                        .build();
            default:
                return Durability.inMemory();
        }
    }

    /**
     * The directory a durable run logs to: {@code requested}, which must be empty or absent (a
     * benchmark loads its own data), or a new temporary directory.
     *
     * @param requested the {@code --dir} option, or null
     * @return the directory, or null in memory
     * @throws IllegalArgumentException if {@code requested} holds files
     */
    public Path directory(Path requested) {
        if (this == MEMORY) {
            return null;
        }
        try {
            if (requested == null) {
                return Files.createTempDirectory("varve-bench-");
            }
            if (Files.isDirectory(requested)) {
                try (Stream<Path> s = Files.list(requested)) {
                    if (s.findAny().isPresent()) {
                        throw new IllegalArgumentException(
                                "--dir " + requested + " is not empty; the benchmark loads its own data");
                    }
                }
            }
            return requested;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Opens a workload's database with the durability and background vacuum the options ask for.
     *
     * @param options the settings (durability mode, vacuum period)
     * @param dir the log directory, from {@link #directory}
     * @param keyCodec encodes keys for the log
     * @param valueCodec encodes values for the log
     * @param <K> the key type
     * @param <V> the value type
     * @return the open database
     */
    public static <K extends Comparable<? super K>, V> dev.varve.Database<K, V> openWorkload(
            Options options, java.nio.file.Path dir, Codec<K> keyCodec, Codec<V> valueCodec) {
        dev.varve.Database.Builder<K, V> b = dev.varve.Database.<K, V>builder()
                .durability(options.durability().create(dir, keyCodec, valueCodec));
        if (!options.vacuum().isZero()) {
            b.autoVacuum(options.vacuum());
        }
        return b.open();
    }

    /**
     * Backs up a workload's database into {@code target}: with its log's codecs when durable,
     * with {@code keyCodec} and {@code valueCodec} in memory.
     *
     * @param db the open database
     * @param options the settings (the durability mode)
     * @param target an absent or empty directory
     * @param keyCodec the default map's key codec
     * @param valueCodec the default map's value codec
     * @param <K> the key type
     * @param <V> the value type
     * @return what was written
     */
    public static <K, V> dev.varve.Backup backupWorkload(
            dev.varve.Database<K, V> db, Options options, Path target, Codec<K> keyCodec, Codec<V> valueCodec) {
        return options.durability() == MEMORY ? db.backup(target, keyCodec, valueCodec) : db.backup(target);
    }

    /**
     * Closes a workload's database (if it was opened) and deletes its temporary directory when
     * the user gave none.
     *
     * @param db the database, or null if it was never opened
     * @param options the settings ({@link Options#dir()} null means {@code dir} is temporary)
     * @param dir the log directory, or null
     */
    public static void closeWorkload(dev.varve.Database<?, ?> db, Options options, java.nio.file.Path dir) {
        if (db != null) {
            db.close();
        }
        if (options.dir() == null) {
            deleteTree(dir);
        }
    }

    /** Deletes a directory tree, quietly: used for the temporary directories of {@link #directory}. */
    static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // NOTE: a leftover temporary file is harmless; the report is what matters.
                }
            });
        } catch (IOException e) {
            // NOTE: as above.
        }
    }
}
