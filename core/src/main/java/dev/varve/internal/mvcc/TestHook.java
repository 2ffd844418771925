// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

/**
 * Named points in the engine's protocols at which a test can pause or fail the thread that reaches
 * them, to force an interleaving instead of hoping for it. Production stores use {@link #NONE}.
 *
 * <p>Set on a store before the threads under test start ({@code Store#hook(TestHook)} sets a plain
 * field: the thread start publishes it); called on the thread that reaches the point.
 */
public interface TestHook {
    /** The points, named after the step they follow. */
    enum Point {
        /**
         * A safe-snapshot check (SafeSnapshots S3), between its two steps: the scan for possible
         * pivots older than the snapshot, and the read of the commits with out-edges. Reached by
         * every read-only SERIALIZABLE commit and every check of a serializable snapshot.
         */
        READ_ONLY_SHORTCUT_BETWEEN_CHECKS,
        /**
         * A fresh snapshot's pin read the visible timestamp, before it publishes it in the
         * registry and then reads the vacuum and pivot horizons (SnapshotPins P2, P9).
         */
        PIN_BEFORE_PUBLISH,
        /**
         * A serializable snapshot ({@code Database#snapshot(Isolation)}) found a possible pivot
         * older than its snapshot still open, before it waits for it to finish (SafeSnapshots S4).
         */
        SAFE_SNAPSHOT_WAITING,
        /** A committer linked the write latch of one key (the key's index operation returned). */
        AFTER_LATCH,
        /** A committer is about to wait for a write latch another committer holds. */
        LATCH_BUSY,
        /** A rollback (or close) that read its transaction as active, before its state CAS. */
        ROLLBACK_BEFORE_CAS,
        /**
         * A read-write commit stamped its versions (its record is in the log), before its SSI and
         * vacuum bookkeeping; under the commit lock.
         */
        AFTER_STAMP,
        /**
         * A vacuum pass found the keeper of one key's chain (the newest version at or below its
         * watermark), before it counts and cuts the versions older than it; without the commit
         * lock, so committers may prune that chain meanwhile.
         */
        VACUUM_AFTER_KEEPER,
        /**
         * A watermark refresh raised the vacuum horizon, before it scans the pinned snapshots
         * (SnapshotPins P1).
         */
        REFRESH_BEFORE_SCAN,
        /**
         * A watermark refresh scanned the pinned snapshots and computed its watermark, before it
         * raises the prunable watermark to it (SnapshotPins P7).
         */
        REFRESH_BEFORE_RAISE,
        /**
         * A pin at a past timestamp was published and found a refresh in flight, before it waits
         * for none to be (SnapshotPins P7).
         */
        PIN_AT_AWAITING_REFRESHES,
        /**
         * The change feed's dispatcher read visibleTs, then the ring slot of the next commit to
         * route (ChangeFeed F7), before it checks either; reached on every turn of its loop.
         */
        DISPATCHER_READ_NEXT,
        /**
         * The change feed's dispatcher holds the entry of a visible, durable commit, before it
         * takes the feed's lock to route it to the subscriptions.
         */
        DISPATCHER_BEFORE_ROUTE,
        /**
         * A change feed's replay collected its commits from the version chains and released its
         * pin, before it hands them, then the live events held back meanwhile, to the
         * subscriber's buffer (ChangeFeed F5).
         */
        REPLAY_BEFORE_HANDOVER
    }

    /**
     * Called when a thread reaches {@code point}; may block (to hold the thread there) or throw
     * (to inject a failure at that step).
     *
     * @param point the point reached
     */
    void at(Point point);

    /** The hook of production stores: does nothing. */
    TestHook NONE = point -> {};
}
