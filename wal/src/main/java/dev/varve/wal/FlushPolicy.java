// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

/**
 * When the log writer forces what it has written: a pure function of the oldest unforced
 * record's age, the unforced bytes and the unforced record count (the three flush triggers of a
 * group-commit loop, as in BookKeeper's {@code Journal}). No I/O, no clock: the writer passes the
 * numbers in.
 *
 * @param maxDelayNanos force once the oldest unforced record is this old (0: at once)
 * @param maxBytes force once this many bytes are unforced
 * @param maxRecords force once this many records are unforced
 */
record FlushPolicy(long maxDelayNanos, long maxBytes, int maxRecords) {

    /** {@link #decide} result: nothing is waiting; sleep until woken. */
    static final long IDLE = -1;

    /** {@link #decide} result: force now. */
    static final long FORCE_NOW = 0;

    FlushPolicy {
        if (maxDelayNanos < 0 || maxBytes < 1 || maxRecords < 1) {
            throw new IllegalArgumentException("bad flush policy: maxDelayNanos=" + maxDelayNanos + ", maxBytes="
                    + maxBytes + ", maxRecords=" + maxRecords);
        }
    }

    /**
     * Decides whether to force now.
     *
     * @param oldestAgeNanos how long ago the oldest unforced record was appended (ignored when
     *     {@code records} is 0)
     * @param bytes unforced bytes written
     * @param records unforced records written
     * @return {@link #IDLE} if nothing is unforced, {@link #FORCE_NOW}, or else the nanoseconds
     *     to wait before asking again (positive)
     */
    long decide(long oldestAgeNanos, long bytes, int records) {
        if (records == 0) {
            return IDLE;
        }
        if (oldestAgeNanos >= maxDelayNanos || bytes >= maxBytes || records >= maxRecords) {
            return FORCE_NOW;
        }
        return maxDelayNanos - oldestAgeNanos;
    }
}
