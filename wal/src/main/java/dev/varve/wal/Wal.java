// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import dev.varve.Codec;
import dev.varve.Durability;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Entry point of the write-ahead log: {@link Durability} settings that make commits survive a
 * crash by logging them to files in one directory.
 *
 * <pre>{@code
 * Database<String, Long> db = Database.<String, Long>builder()
 *         .durability(Wal.full(Path.of("data"), Codec.STRING, Codec.LONG))
 *         .open();                                   // recovers what the directory holds
 * }</pre>
 *
 * <p>What a successful {@code commit()} promises in each mode:
 * <ul>
 *   <li>{@link Sync#FULL}: the commit's log record has been written and forced to the device
 *       ({@link java.nio.channels.FileChannel#force}); it survives a process or OS crash. Commits
 *       waiting at the same time share one force (group commit).
 *   <li>{@link Sync#RELAXED}: the record has been written to the file (the OS page cache); it
 *       survives a process crash. An OS crash or power loss can lose the commits of at most the
 *       last unforced interval, bounded by {@link Builder#flushInterval}, {@link
 *       Builder#flushBytes} and {@link Builder#flushRecords}; what survives is always a prefix of
 *       the commit order.
 * </ul>
 *
 * <p>A change feed ({@code Database.watch}) delivers a commit only once it holds the same
 * promise: under {@code FULL} once forced, so no crash takes back an event; under {@code
 * RELAXED} once written, not forced, so an OS crash or power loss may take back the last
 * commits a watcher was given. A commit whose write or force failed is never delivered.
 *
 * <p>When {@code commit()} throws because the log failed (an I/O error, a full disk, a close that
 * gave up on a stuck write), the commit's outcome is <em>unknown</em>, as for a failed commit in
 * JDBC: its record may have reached the disk, and then it reappears after reopening. The
 * database refuses further writes until it is reopened.
 *
 * <p>A directory is open in at most one database at a time: a second {@code open()} fails with
 * {@link IllegalStateException}, saying "already open in this process" (under any name of the
 * directory: a symlink, a bind mount) or "locked by another process". Other processes are kept
 * out by an OS lock on the file {@code LOCK} in the directory; on Linux and macOS this is a
 * POSIX record lock, which the OS drops when the owning process closes <em>any</em> descriptor of
 * that file. So do not copy the directory, or open {@code LOCK}, from inside the process that has
 * it open (a {@code Files.copy}, an in-process backup tool): that silently lets another process
 * open the directory while this one writes to it, and the two corrupt each other's log. Opens
 * from within this process are still refused. A copy made by another process leaves the lock
 * alone, but a copy of a live directory is not a consistent backup either; close the database
 * first.
 *
 * <p>Recovery on {@code open()} loads the newest checkpoint, then replays the log after it; a
 * crash-torn last record is cut off, other damage fails the open with {@link
 * CorruptLogException}. Before the log takes new commits, recovery forces what it replayed
 * (records a crashed process wrote but never forced survive in the OS page cache and are
 * replayed; new commits are never built on them unforced).
 *
 * <p>A failed checkpoint (say a full disk while writing {@code checkpoint.tmp}, or a codec that
 * throws) leaves the log as it was, so it does not stop the database: {@code Database.checkpoint()}
 * throws the failure, a background checkpoint keeps it, tries again after the next {@link
 * Builder#checkpointEvery} bytes and makes {@code close()} throw it (after flushing everything)
 * unless a later checkpoint succeeded. Either way {@code checkpoint.tmp} is deleted. Three failed
 * checkpoints in a row, foreground or background, fail the log (it could no longer be kept
 * bounded): commits are then refused until reopening.
 *
 * <p>All methods are thread-safe; the {@code Durability} values returned are immutable.
 */
public final class Wal {

    /** How hard a commit is pushed to disk before {@code commit()} returns. */
    public enum Sync {
        /**
         * Written to the file at once; forced to the device on a bound of time, bytes or records.
         * Commits (and change-feed events) are acknowledged once written, before the force.
         */
        RELAXED,
        /** Written and forced to the device before the commit is acknowledged. */
        FULL
    }

    private Wal() {}

    /**
     * {@link Sync#RELAXED} logging with default settings.
     *
     * @param <K> key type
     * @param <V> value type
     * @param dir the log directory; created if absent
     * @param keyCodec encodes keys
     * @param valueCodec encodes values
     * @return the durability setting for {@code Database.Builder.durability}
     * @throws NullPointerException if any argument is {@code null}
     */
    public static <K, V> Durability<K, V> relaxed(Path dir, Codec<K> keyCodec, Codec<V> valueCodec) {
        return builder(dir, keyCodec, valueCodec).sync(Sync.RELAXED).build();
    }

    /**
     * {@link Sync#FULL} logging with default settings.
     *
     * @param <K> key type
     * @param <V> value type
     * @param dir the log directory; created if absent
     * @param keyCodec encodes keys
     * @param valueCodec encodes values
     * @return the durability setting for {@code Database.Builder.durability}
     * @throws NullPointerException if any argument is {@code null}
     */
    public static <K, V> Durability<K, V> full(Path dir, Codec<K> keyCodec, Codec<V> valueCodec) {
        return builder(dir, keyCodec, valueCodec).sync(Sync.FULL).build();
    }

    /**
     * A builder for tuned settings; starts as {@link Sync#FULL} with the documented defaults.
     *
     * @param <K> key type
     * @param <V> value type
     * @param dir the log directory; created if absent
     * @param keyCodec encodes keys
     * @param valueCodec encodes values
     * @return a new builder
     * @throws NullPointerException if any argument is {@code null}
     */
    public static <K, V> Builder<K, V> builder(Path dir, Codec<K> keyCodec, Codec<V> valueCodec) {
        return new Builder<>(dir, keyCodec, valueCodec);
    }

    /**
     * Collects log settings; each setter rejects a bad value at once with a message naming the
     * option and the value. Not thread-safe; {@link #build()} returns an immutable value.
     *
     * @param <K> key type
     * @param <V> value type
     */
    public static final class Builder<K, V> {
        private final Path dir;
        private final Codec<K> keyCodec;
        private final Codec<V> valueCodec;
        private Sync sync = Sync.FULL;
        private Duration flushInterval;
        private long flushBytes = WalOptions.DEFAULT_FLUSH_BYTES;
        private int flushRecords = WalOptions.DEFAULT_FLUSH_RECORDS;
        private int maxBatchBytes = WalOptions.DEFAULT_MAX_BATCH_BYTES;
        private long segmentSize = WalOptions.DEFAULT_SEGMENT_SIZE;
        private long checkpointEvery = WalOptions.DEFAULT_CHECKPOINT_EVERY;
        private Duration closeTimeout = WalOptions.DEFAULT_CLOSE_TIMEOUT;
        private FileIo fileIo = FileIo.REAL;
        private boolean visibleOnlyWhenDurable;

        private Builder(Path dir, Codec<K> keyCodec, Codec<V> valueCodec) {
            this.dir = Objects.requireNonNull(dir, "dir");
            this.keyCodec = Codec.checkedIfEnabled(Objects.requireNonNull(keyCodec, "keyCodec"));
            this.valueCodec = Codec.checkedIfEnabled(Objects.requireNonNull(valueCodec, "valueCodec"));
        }

        /**
         * The sync mode. Default {@link Sync#FULL}.
         *
         * @param sync the mode
         * @return this builder
         * @throws NullPointerException if {@code sync} is {@code null}
         */
        public Builder<K, V> sync(Sync sync) {
            this.sync = Objects.requireNonNull(sync, "sync");
            return this;
        }

        /**
         * The longest a written record may stay unforced: in {@code RELAXED} the bound on what an
         * OS crash can lose (default 100 ms); in {@code FULL} how long the writer may hold a group
         * open to gather more commits before forcing (default 0: force as soon as something is
         * written; commits arriving during a force form the next group).
         *
         * @param interval the bound, zero or more, at most one hour
         * @return this builder
         * @throws IllegalArgumentException if {@code interval} is negative or above one hour
         * @throws NullPointerException if {@code interval} is {@code null}
         */
        public Builder<K, V> flushInterval(Duration interval) {
            Objects.requireNonNull(interval, "flushInterval");
            if (interval.isNegative() || interval.compareTo(Duration.ofHours(1)) > 0) {
                throw new IllegalArgumentException("flushInterval must be between 0 and 1 hour, was " + interval);
            }
            this.flushInterval = interval;
            return this;
        }

        /**
         * Force once this many written bytes are unforced, whatever the interval. Default 4 MiB.
         *
         * @param bytes the bound in bytes, at least 1
         * @return this builder
         * @throws IllegalArgumentException if {@code bytes} is below 1
         */
        public Builder<K, V> flushBytes(long bytes) {
            if (bytes < 1) {
                throw new IllegalArgumentException("flushBytes must be at least 1, was " + bytes);
            }
            this.flushBytes = bytes;
            return this;
        }

        /**
         * Force once this many written records are unforced, whatever the interval. Default 10000.
         *
         * @param records the bound, at least 1
         * @return this builder
         * @throws IllegalArgumentException if {@code records} is below 1
         */
        public Builder<K, V> flushRecords(int records) {
            if (records < 1) {
                throw new IllegalArgumentException("flushRecords must be at least 1, was " + records);
            }
            this.flushRecords = records;
            return this;
        }

        /**
         * The most bytes the writer gathers into one {@code write} call (its buffer size); a
         * larger single record is written on its own. Default 1 MiB.
         *
         * @param bytes the buffer size in bytes, from 4 KiB to 256 MiB
         * @return this builder
         * @throws IllegalArgumentException if {@code bytes} is out of range
         */
        public Builder<K, V> maxBatchBytes(int bytes) {
            if (bytes < 4096 || bytes > (256 << 20)) {
                throw new IllegalArgumentException("maxBatchBytes must be between 4096 and 268435456, was " + bytes);
            }
            this.maxBatchBytes = bytes;
            return this;
        }

        /**
         * The size after which the log starts a new segment file (a segment holds at least one
         * record, so one larger record makes a larger segment). Default 32 MiB.
         *
         * @param bytes the size in bytes, from 1 KiB to 1 GiB
         * @return this builder
         * @throws IllegalArgumentException if {@code bytes} is out of range
         */
        public Builder<K, V> segmentSize(long bytes) {
            if (bytes < 1024 || bytes > (1L << 30)) {
                throw new IllegalArgumentException("segmentSize must be between 1024 and 1073741824, was " + bytes);
            }
            this.segmentSize = bytes;
            return this;
        }

        /**
         * Write a checkpoint in the background after this many log bytes since the last one, then
         * delete the segments it covers. Default 256 MiB; 0 turns background checkpoints off
         * ({@code Database.checkpoint()} still works).
         *
         * @param logBytes the log growth in bytes, 0 or more
         * @return this builder
         * @throws IllegalArgumentException if {@code logBytes} is negative
         */
        public Builder<K, V> checkpointEvery(long logBytes) {
            if (logBytes < 0) {
                throw new IllegalArgumentException("checkpointEvery must be 0 (off) or more, was " + logBytes);
            }
            this.checkpointEvery = logBytes;
            return this;
        }

        /**
         * How long {@code close()} waits for the writer thread to flush and stop (and for a
         * checkpoint in flight) before failing what is still pending. A writer still running then
         * (a write stuck in the kernel) is interrupted and waited for at most as long again, up to
         * 5 s; if it is still running, {@code close()} throws, and the directory stays locked
         * until that thread exits, since it may still write to the log. Default 30 s.
         *
         * @param timeout the wait, from 1 ms to 1 hour
         * @return this builder
         * @throws IllegalArgumentException if {@code timeout} is out of range
         * @throws NullPointerException if {@code timeout} is {@code null}
         */
        public Builder<K, V> closeTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "closeTimeout");
            if (timeout.toMillis() < 1 || timeout.compareTo(Duration.ofHours(1)) > 0) {
                throw new IllegalArgumentException("closeTimeout must be between 1 ms and 1 hour, was " + timeout);
            }
            this.closeTimeout = timeout;
            return this;
        }

        /**
         * Whether a commit stays invisible to every reader until its record is as durable as the
         * sync mode promises (forced under {@code FULL}, written under {@code RELAXED}). Default
         * false: a commit is visible as soon as it is installed, while its record is still being
         * written and forced, so a reader (a snapshot, a transaction, {@code Database.get}) may
         * see a commit that a crash then takes away (only readers: a commit that depends on it
         * is later in the log, so it is never durable without it). With true, readers see only
         * durable commits; a writer of a key whose last commit is not yet durable still sees it:
         * a transaction whose snapshot misses it aborts with a write-write conflict (hot keys
         * then commit about once per force each), and an autocommit write builds on it. The
         * committer itself sees its commit once {@code commit()} returns, either way.
         *
         * @param visibleOnlyWhenDurable true to hide commits from readers until durable
         * @return this builder
         */
        public Builder<K, V> visibleOnlyWhenDurable(boolean visibleOnlyWhenDurable) {
            this.visibleOnlyWhenDurable = visibleOnlyWhenDurable;
            return this;
        }

        /** Test hook: routes file access through {@code io}. */
        Builder<K, V> fileIo(FileIo io) {
            this.fileIo = Objects.requireNonNull(io, "fileIo");
            return this;
        }

        /**
         * The settings collected so far.
         *
         * @return an immutable durability setting; each {@code open()} of it opens the directory
         */
        public Durability<K, V> build() {
            Duration interval = flushInterval != null
                    ? flushInterval
                    : sync == Sync.FULL ? Duration.ZERO : WalOptions.DEFAULT_RELAXED_FLUSH_INTERVAL;
            return new WalDurability<>(
                    new WalOptions(
                            dir,
                            sync,
                            interval.toNanos(),
                            flushBytes,
                            flushRecords,
                            maxBatchBytes,
                            segmentSize,
                            checkpointEvery,
                            closeTimeout.toNanos(),
                            fileIo,
                            visibleOnlyWhenDurable),
                    keyCodec,
                    valueCodec);
        }
    }
}
