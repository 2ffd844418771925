// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

/**
 * The wall-clock time of commits, at millisecond resolution, for history retention: which commit
 * timestamp was the newest at a given instant, and so how far back vacuum must keep versions.
 *
 * <p>Thread-safe: one writer (the committer holding the commit lock) and any number of readers,
 * through this object's monitor, which the writer takes at most once per millisecond.
 */
final class CommitTimes {
    private final long windowMillis;
    /** millis[i]: a wall-clock millisecond; firstTs[i]: the first commit stamped in it (C1). */
    private long[] millis = new long[64];

    private long[] firstTs = new long[64];
    /** Index of the oldest entry kept, and the number kept; guarded by this. */
    private int head;

    private int size;
    /** The millisecond of the newest entry; read and written by the committer under the commit lock. */
    private long lastMillis;

    /*
     * Implementation notes.
     *
     * C1. Entries are in rising order of both millis and firstTs. Every commit with timestamp in
     *     [firstTs[i], firstTs[i + 1]) was stamped during millisecond millis[i] (or, if the wall
     *     clock stepped back, at the latest millisecond seen before it: times never fall). So the
     *     newest commit at or before instant t is firstTs[j + 1] - 1 for the last entry j with
     *     millis[j] <= t, or the newest commit if j is the last entry.
     * C2. The first entry is the opening: (the moment the store opened, its visible timestamp + 1),
     *     so the state recovered at open is the answer for instants up to the first commit.
     * C3. Entries older than the window are dropped, except the newest of them: it answers for the
     *     window's oldest instant, which is the retention horizon.
     */

    /**
     * A clock for a store that opens now at {@code openedAt}.
     *
     * @param windowMillis how far back instants must be answerable (ms)
     * @param visibleTs the visible timestamp at open
     */
    CommitTimes(long windowMillis, long visibleTs) {
        this.windowMillis = windowMillis;
        long now = System.currentTimeMillis();
        append(now, visibleTs + 1);
        lastMillis = now;
    }

    /**
     * Notes that the commit at {@code commitTs} is being stamped now; caller holds the commit
     * lock, and commit timestamps rise from call to call.
     *
     * @param commitTs the commit timestamp
     */
    void committing(long commitTs) {
        long now = System.currentTimeMillis();
        if (now > lastMillis) { // at most once per millisecond (C1)
            lastMillis = now;
            synchronized (this) {
                append(now, commitTs);
                prune(now);
            }
        }
    }

    private void append(long ms, long ts) {
        if (size == millis.length) {
            long[] m = new long[size * 2];
            long[] t = new long[size * 2];
            for (int i = 0; i < size; i++) {
                m[i] = millis[(head + i) % size];
                t[i] = firstTs[(head + i) % size];
            }
            millis = m;
            firstTs = t;
            head = 0;
        }
        int at = (head + size) % millis.length;
        millis[at] = ms;
        firstTs[at] = ts;
        size++;
    }

    /** Drops entries older than the window but the newest of them (C3); caller holds this. */
    private void prune(long now) {
        long oldest = now - windowMillis;
        while (size > 1 && millis[(head + 1) % millis.length] <= oldest) {
            head = (head + 1) % millis.length;
            size--;
        }
    }

    /**
     * The newest commit timestamp at or before the wall-clock instant {@code epochMillis} (C1).
     *
     * @param epochMillis the instant, in ms since the epoch
     * @param newest the newest visible commit timestamp, answered for instants after the last entry
     * @return the commit timestamp, or -1 if the instant is older than every entry kept
     */
    synchronized long timestampAt(long epochMillis, long newest) {
        if (size == 0 || epochMillis < millis[head]) {
            return -1;
        }
        // binary search for the last entry at or before the instant
        int lo = 0;
        int hi = size - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (millis[(head + mid) % millis.length] <= epochMillis) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        if (lo == size - 1) {
            return newest;
        }
        return Math.min(newest, firstTs[(head + lo + 1) % millis.length] - 1);
    }

    /**
     * The retention horizon now: the newest commit at or before the window's oldest instant, which
     * every snapshot taken within the window can read at or above (C3).
     *
     * @param newest the newest visible commit timestamp
     * @return the horizon timestamp
     */
    synchronized long horizon(long newest) {
        long at = timestampAt(System.currentTimeMillis() - windowMillis, newest);
        return at < 0 ? firstTs[head] - 1 : at;
    }

    /**
     * The number of entries kept (for tests of the memory bound).
     *
     * @return the entries
     */
    synchronized int entries() {
        return size;
    }
}
