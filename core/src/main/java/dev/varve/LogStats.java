// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import java.time.Duration;

/**
 * What a database's commit log has done since it was opened ({@link Database#logStats()}): the
 * counts are monotonic, the force latencies are over the most recent forces. An in-memory
 * database's log writes nothing: every field is zero. Immutable.
 *
 * @param bytesWritten bytes of commit records written to the log's files (markers and segment
 *     headers not included)
 * @param records commit records written
 * @param forces {@code fsync}s of the log's segments (group commit: one force makes a whole
 *     group durable)
 * @param checkpoints checkpoints written (background and {@link Database#checkpoint()})
 * @param lastForce how long the latest force took; zero before the first
 * @param forceP50 the median force latency over the last {@link #LATENCY_WINDOW} forces
 * @param forceP99 the 99th percentile over the same window
 * @param forceMax the longest force since the log was opened
 */
public record LogStats(
        long bytesWritten,
        long records,
        long forces,
        long checkpoints,
        Duration lastForce,
        Duration forceP50,
        Duration forceP99,
        Duration forceMax) {

    /** How many of the most recent forces the percentiles are over. */
    public static final int LATENCY_WINDOW = 1024;

    /** The statistics of a log that writes nothing (an in-memory database's). */
    public static final LogStats NONE =
            new LogStats(0, 0, 0, 0, Duration.ZERO, Duration.ZERO, Duration.ZERO, Duration.ZERO);

    /**
     * Records per force: the mean group size of group commit.
     *
     * @return records divided by forces, 0 before the first force
     */
    public double recordsPerForce() {
        return forces == 0 ? 0 : (double) records / forces;
    }
}
