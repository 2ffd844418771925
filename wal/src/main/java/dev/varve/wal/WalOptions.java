// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import java.nio.file.Path;
import java.time.Duration;

/** The validated, immutable settings of one log directory (see {@link Wal.Builder}). */
record WalOptions(
        Path dir,
        Wal.Sync sync,
        long flushIntervalNanos,
        long flushBytes,
        int flushRecords,
        int maxBatchBytes,
        long segmentSize,
        long checkpointEvery,
        long closeTimeoutNanos,
        FileIo io,
        boolean visibleOnlyWhenDurable) {

    static final Duration DEFAULT_RELAXED_FLUSH_INTERVAL = Duration.ofMillis(100);
    static final long DEFAULT_FLUSH_BYTES = 4L << 20;
    static final int DEFAULT_FLUSH_RECORDS = 10_000;
    static final int DEFAULT_MAX_BATCH_BYTES = 1 << 20;
    static final long DEFAULT_SEGMENT_SIZE = 32L << 20;
    static final long DEFAULT_CHECKPOINT_EVERY = 256L << 20;
    static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(30);

    /** The force policy these settings describe. */
    FlushPolicy flushPolicy() {
        return new FlushPolicy(flushIntervalNanos, flushBytes, flushRecords);
    }
}
