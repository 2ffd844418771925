// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

/**
 * The ring of recent write sets: the keys written by the last {@link #RECENT} commits, by commit
 * timestamp, out of which ConflictFinder#validate finds a committer's out-edges to the commits
 * since its index scan. Written under the commit lock; read under it, except
 * {@link #keysWrittenHint}, a racy read used as a hint.
 *
 * <p>Invariants:
 * W1. Slot c & (RECENT - 1) describes commit c iff commitTs[slot] == c.
 * W2. It holds c's keys, or FORGOTTEN, and validation treats FORGOTTEN as "not recorded" (a scan
 *     of the index instead).
 * W3. At most ConflictFinder.MAX_RING_KEYS keys are held: a larger commit is recorded FORGOTTEN,
 *     and the oldest slots are forgotten to make room.
 * W4. Slots of commits at or below the watermark are forgotten (release), since every validating
 *     transaction is pinned at a snapshot at or above the watermark and only reads commits after
 *     its snapshot; so a key deleted and vacuumed is not kept alive here.
 */
final class RecentWrites {
    /** What a slot holds once its keys were let go (validation then scans the index). */
    static final Object FORGOTTEN = new Object();

    static final int RECENT = 1024; // a power of two
    /** The commit timestamp each slot describes (slot = commitTs & (RECENT - 1)), or 0. */
    final long[] commitTs = new long[RECENT];
    /**
     * What that commit wrote: an Object[] of default-map keys, a single key (a MapKey for a named
     * map's), a ConflictFinder.MapsWritten (keys grouped by map), null (nothing) or FORGOTTEN.
     */
    final Object[] keys = new Object[RECENT];
    /** How many keys the slot holds (0 once forgotten). */
    private final int[] held = new int[RECENT];
    /** Keys written by all recorded commits up to and including that one. */
    private final long[] keysWrittenThrough = new long[RECENT];

    private long keysWritten;
    /** Keys the slots hold now (W3). */
    private long keysHeld;
    /** The oldest commit whose slot may still hold keys. */
    private long oldestHeld = 1;
    /** The newest commit recorded. */
    private long newest;

    void record(long ts, Object written, int count) {
        int slot = (int) ts & (RECENT - 1);
        forget(slot); // its previous occupant, ts - RECENT, is out of the window
        if (count > ConflictFinder.MAX_RING_KEYS) {
            written = FORGOTTEN;
            count = 0;
        }
        while (keysHeld + count > ConflictFinder.MAX_RING_KEYS && oldestHeld < ts) {
            forget((int) oldestHeld++ & (RECENT - 1));
        }
        keysWritten += count;
        keys[slot] = written;
        held[slot] = count;
        keysHeld += count;
        keysWrittenThrough[slot] = keysWritten;
        commitTs[slot] = ts;
        newest = ts;
    }

    private void forget(int slot) {
        if (held[slot] > 0 || keys[slot] != null) {
            keysHeld -= held[slot];
            held[slot] = 0;
            keys[slot] = FORGOTTEN;
        }
    }

    /** Forgets the slots of commits at or below {@code watermark} (W4); amortized O(1). */
    void release(long watermark) {
        oldestHeld = Math.max(oldestHeld, newest - RECENT + 1);
        while (oldestHeld <= Math.min(watermark, newest)) {
            int slot = (int) oldestHeld & (RECENT - 1);
            if (commitTs[slot] == oldestHeld) {
                forget(slot);
            }
            oldestHeld++;
        }
    }

    /** The keys written by the commits in (from, to], or -1 if unknown; may be stale. */
    long keysWrittenHint(long from, long to) {
        if (to <= from) {
            return 0;
        }
        if (to - from >= RECENT) {
            return -1;
        }
        int a = (int) from & (RECENT - 1);
        int b = (int) to & (RECENT - 1);
        if (commitTs[a] != from || commitTs[b] != to) {
            return -1;
        }
        return Math.max(0, keysWrittenThrough[b] - keysWrittenThrough[a]);
    }
}
