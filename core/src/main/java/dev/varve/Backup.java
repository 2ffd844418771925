// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * What {@link Database#backup(Path)} wrote: a directory holding a consistent image of every map
 * of a database at one snapshot timestamp, which {@link Database.Builder#restore(Path)} (or a
 * write-ahead log opened on a copy of the directory) loads again.
 *
 * <p>Immutable and thread-safe.
 *
 * @param directory the backup directory, as given to {@code backup}
 * @param snapshotTimestamp the commit timestamp of the image: it holds every commit at or below
 *     it and none above
 * @param entries the live keys per map in the image: {@code ""} for the default map, each named
 *     map under its name; an unmodifiable map in name order
 * @param bytes the size of the backup's files together, in bytes
 * @param created when the backup's manifest was written (the writing machine's clock)
 */
public record Backup(Path directory, long snapshotTimestamp, Map<String, Long> entries, long bytes, Instant created) {

    /**
     * Checks the parts and copies {@code entries}.
     *
     * @param directory the backup directory
     * @param snapshotTimestamp the commit timestamp of the image, 0 or more
     * @param entries the live keys per map name ({@code ""} for the default map)
     * @param bytes the size of the backup's files in bytes, 0 or more
     * @param created when the manifest was written
     * @throws NullPointerException if {@code directory}, {@code entries} or {@code created} is null
     * @throws IllegalArgumentException if {@code snapshotTimestamp} or {@code bytes} is negative
     */
    public Backup {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(created, "created");
        entries = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(entries));
        if (snapshotTimestamp < 0 || bytes < 0) {
            throw new IllegalArgumentException(
                    "snapshotTimestamp and bytes must be 0 or more, were " + snapshotTimestamp + " and " + bytes);
        }
    }

    /**
     * The live keys in the image, over every map.
     *
     * @return the sum of {@link #entries()}
     */
    public long totalEntries() {
        long n = 0;
        for (long e : entries.values()) {
            n += e;
        }
        return n;
    }
}
