// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import java.nio.file.Path;
import java.util.Objects;

/**
 * The write-ahead log or a checkpoint in a directory cannot be trusted: a damaged record is
 * followed by intact ones, a checkpoint fails its checksum, segments are missing or out of order,
 * or a codec cannot decode what was written. Thrown by {@code Database.Builder.open()} (through
 * {@link dev.varve.Durability#open}); the directory is left untouched so it can be inspected.
 *
 * <p>A torn tail (the last record short or failing its checksum, nothing intact after it) is not
 * corruption: it is what a crash during a write leaves, and recovery cuts it off.
 */
public final class CorruptLogException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    /** The damaged file. */
    private final transient Path file;

    /** Byte offset in {@link #file} of the damaged record or field. */
    private final long offset;

    /**
     * Creates the exception.
     *
     * @param file the damaged file
     * @param offset byte offset of the damaged record or field in {@code file}
     * @param problem what is wrong, without the file and offset (they are added)
     * @param cause the underlying failure, or {@code null}
     * @throws NullPointerException if {@code file} or {@code problem} is {@code null}
     */
    public CorruptLogException(Path file, long offset, String problem, Throwable cause) {
        super(
                "corrupt write-ahead log: " + Objects.requireNonNull(problem, "problem") + " in "
                        + Objects.requireNonNull(file, "file") + " at offset " + offset,
                cause);
        this.file = file;
        this.offset = offset;
    }

    /**
     * The damaged file.
     *
     * @return the file's path (as found in the log directory); {@code null} after deserialization
     */
    public Path file() {
        return file;
    }

    /**
     * Where in {@link #file()} the damage starts.
     *
     * @return the byte offset
     */
    public long offset() {
        return offset;
    }
}
