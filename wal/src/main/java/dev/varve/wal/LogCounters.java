// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import dev.varve.LogStats;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * A log's statistics ({@link LogStats}): written by the log's writer thread, and by checkpoints
 * for their count; read by any thread.
 *
 * <p>Implementation notes.
 *
 * <ol>
 *   <li>Only the writer thread writes bytes, records, forces and the latencies, so each is a
 *       plain read-modify-write published by a volatile store: a reader sees every count as of
 *       some recent moment, each exact (not one atomic cut across them).
 *   <li>The latency window is a ring of the last {@link LogStats#LATENCY_WINDOW} forces; a reader
 *       copies the filled part and sorts it, so percentiles cost the reader, never the writer
 *       (not HdrHistogram: it has no stable module name, and a recent window is what an operator
 *       looking at a latency spike wants).
 * </ol>
 */
final class LogCounters {
    private volatile long bytesWritten;
    private volatile long records;
    private volatile long forces;
    private volatile long lastForceNanos;
    private volatile long maxForceNanos;
    private final LongAdder checkpoints = new LongAdder();
    private final AtomicLongArray recentForceNanos = new AtomicLongArray(LogStats.LATENCY_WINDOW);

    /** Counts a group written (writer thread). */
    void written(long bytes, int groupRecords) {
        bytesWritten = bytesWritten + bytes;
        records = records + groupRecords;
    }

    /** Counts a force that took {@code nanos} (writer thread). */
    void forced(long nanos) {
        long n = forces;
        recentForceNanos.lazySet((int) (n % LogStats.LATENCY_WINDOW), nanos);
        lastForceNanos = nanos;
        if (nanos > maxForceNanos) {
            maxForceNanos = nanos;
        }
        forces = n + 1; // last: a reader that sees this count sees its latency in the ring
    }

    /** Counts a checkpoint written (any thread). */
    void checkpointed() {
        checkpoints.increment();
    }

    /** The statistics now (any thread). */
    LogStats read() {
        long n = forces;
        int filled = (int) Math.min(n, LogStats.LATENCY_WINDOW);
        long[] window = new long[filled];
        for (int i = 0; i < filled; i++) {
            window[i] = recentForceNanos.get(i);
        }
        Arrays.sort(window);
        return new LogStats(
                bytesWritten,
                records,
                n,
                checkpoints.sum(),
                Duration.ofNanos(lastForceNanos),
                Duration.ofNanos(percentile(window, 0.50)),
                Duration.ofNanos(percentile(window, 0.99)),
                Duration.ofNanos(maxForceNanos));
    }

    /** The nearest-rank percentile {@code p} of sorted {@code values}; 0 if there are none. */
    static long percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(p * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }
}
