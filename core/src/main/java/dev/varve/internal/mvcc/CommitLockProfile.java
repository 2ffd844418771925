// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

/**
 * How long commits hold the commit lock, for an instrumented run: switched on for the whole JVM
 * with {@code -Dvarve.profileCommitLock=true}, reported when the database closes (at INFO on the
 * {@code dev.varve} logger). The commit lock is the one serial section every read-write commit,
 * recorded read-only SERIALIZABLE commit and autocommit write passes through, so {@code 1e9 /
 * mean hold (ns)} is the commit rate at which it saturates, whatever the number of cores.
 *
 * <p>Not thread-safe by itself: every method is called by the holder of the commit lock
 * ({@link #locked}, {@link #unlocking}) or under it ({@link #report}).
 */
final class CommitLockProfile {
    /** Whether holds are timed; read once, so the checks fold away when off. */
    static final boolean ENABLED = Boolean.getBoolean("varve.profileCommitLock");

    private long lockedAt;
    private long holds;
    private long heldNanos;
    private long maxNanos;

    /*
     * Implementation notes.
     *
     * L1. Every field is guarded by the commit lock: lockedAt is written by the thread that just
     *     took it and read by the same thread before it lets go, so no other synchronisation is
     *     needed, and off (ENABLED false) nothing is written at all.
     * L2. A hold is timed from the moment the lock is taken to just before it is released: the
     *     wait to take it is not a hold (it is what the holds of others cost).
     */

    /** Notes that the caller just took the commit lock (L2). */
    void locked() {
        lockedAt = System.nanoTime();
    }

    /** Notes that the caller is about to release the commit lock (L2). */
    void unlocking() {
        long held = System.nanoTime() - lockedAt;
        holds++;
        heldNanos += held;
        if (held > maxNanos) {
            maxNanos = held;
        }
    }

    /**
     * The holds so far.
     *
     * @return the count
     */
    long holds() {
        return holds;
    }

    /**
     * The time the commit lock was held, in all, so far.
     *
     * @return nanoseconds
     */
    long heldNanos() {
        return heldNanos;
    }

    /**
     * What the holds so far say: count, mean and longest hold, and the commit rate at which the
     * lock would be busy all the time.
     *
     * @return one line
     */
    String report() {
        if (holds == 0) {
            return "commit lock: never held by a commit";
        }
        double mean = (double) heldNanos / holds;
        return String.format(
                java.util.Locale.ROOT,
                "commit lock: %d holds by commits, mean %.0f ns, longest %.1f us;" + " it saturates at %.0f commits/s",
                holds,
                mean,
                maxNanos / 1000.0,
                1e9 / mean);
    }
}
