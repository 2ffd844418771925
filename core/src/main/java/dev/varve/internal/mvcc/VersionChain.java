// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import java.util.function.LongConsumer;

/**
 * The index entry of a key and every operation on it: the one home of the entry union. An entry
 * is null (absent), the head {@link Version} of the key's chain (newest first; its head may be a
 * PENDING write latch or an ABORTED one), or a settled value (any other object). Stateless; the
 * chain's invariants are in {@link Version}'s notes.
 */
public final class VersionChain {
    private VersionChain() {}

    /*
     * Implementation notes.
     *
     * Settled values. An index entry is either the head Version of a chain or, once vacuum found
     * a key's only version older than every snapshot (below the watermark), the bare value itself:
     * a key at rest then costs what it costs in a plain skip list. A settled value is
     * visible to every pinned snapshot (all are at or above the watermark it was settled at, and
     * a pin that raced with vacuum retries above the horizon); an unpinned autocommit read may
     * see it although its snapshot is older, which is a read of a newer committed state and still
     * linearizable. For first-committer-wins and SSI it counts as committed at time 0.
     */

    /**
     * The commit timestamp of the newest version of an index entry that is not an aborted latch
     * (0 for a settled value or nothing).
     *
     * @param head an index entry, or null
     * @return the commit timestamp
     */
    public static long headCommitTs(Object head) {
        head = live(head);
        return head instanceof Version ? ((Version<?>) head).commitTs : SETTLED_TS;
    }

    /** The commit timestamp a settled value is treated as having. */
    public static final long SETTLED_TS = 0;

    /**
     * The value visible at {@code snapshotTs} in the index entry {@code head} (a chain head or a
     * settled value), or null if absent or removed there, or if {@code head} is null.
     *
     * @param <V> the value type
     * @param head an index entry, or null
     * @param snapshotTs the snapshot timestamp
     * @return the visible value, or null
     */
    @SuppressWarnings("unchecked")
    public static <V> V valueAt(Object head, long snapshotTs) {
        if (!(head instanceof Version)) {
            return (V) head; // null, or a settled value
        }
        // Every read's hot loop: the newest version at or below the snapshot.
        Version<V> v = (Version<V>) head;
        while (v != null && v.commitTs > snapshotTs) {
            v = v.getOlderAcquire();
        }
        return v == null ? null : v.value;
    }

    /**
     * The latest value of an index entry whose head is neither PENDING nor ABORTED, or null
     * (absent or a tombstone).
     *
     * @param <V> the value type
     * @param head an index entry, or null
     * @return the latest value, or null
     */
    @SuppressWarnings("unchecked")
    public static <V> V latestValue(Object head) {
        return head instanceof Version ? ((Version<V>) head).value : (V) head;
    }

    /**
     * How linking {@code head} over the version it points to changed the map's live keys
     * (MapIndex M4): +1 for a value over a tombstone or nothing, -1 for a tombstone over a value.
     *
     * @param head a version just linked (its older link is the previous newest version)
     * @return -1, 0 or +1
     */
    public static int liveDelta(Version<?> head) {
        Version<?> previous = head.getOlderAcquire();
        boolean wasLive = previous != null && !previous.isTombstone();
        return (head.isTombstone() ? 0 : 1) - (wasLive ? 1 : 0);
    }

    /**
     * An index entry as a version chain head, wrapping a settled value as committed at time 0.
     *
     * @param <V> the value type
     * @param head an index entry
     * @return the head version
     */
    @SuppressWarnings("unchecked")
    public static <V> Version<V> asVersion(Object head) {
        return head instanceof Version ? (Version<V>) head : new Version<>((V) head, SETTLED_TS, null);
    }

    /**
     * An index entry with an aborted latch at its head skipped: the aborted version's older
     * version, or null if it was linked over nothing; any other entry as it is.
     *
     * @param head an index entry, or null
     * @return the entry without an aborted head
     */
    public static Object live(Object head) {
        if (head instanceof Version && ((Version<?>) head).commitTs == Version.ABORTED) {
            return ((Version<?>) head).getOlderAcquire();
        }
        return head;
    }

    /**
     * Whether an index entry is an aborted write latch.
     *
     * @param head an index entry, or null
     * @return true if its head is an ABORTED version
     */
    public static boolean isAborted(Object head) {
        return head instanceof Version && ((Version<?>) head).commitTs == Version.ABORTED;
    }

    /**
     * Whether an index entry is a write latch (a PENDING version).
     *
     * @param head an index entry, or null
     * @return true if its head is a PENDING version
     */
    public static boolean isLatched(Object head) {
        return head instanceof Version && ((Version<?>) head).commitTs == Version.PENDING;
    }

    /**
     * Hands {@code sink} the commit timestamp of every committed version of the chain at
     * {@code head} above {@code after} and at or below {@code through}, newest first. PENDING and
     * ABORTED versions are above any bound a caller passes, so they are skipped; a settled value
     * counts as committed at {@link #SETTLED_TS}, below every snapshot.
     *
     * @param head an index entry, or null
     * @param after the exclusive lower bound (a snapshot timestamp)
     * @param through the inclusive upper bound
     * @param sink receives the timestamps
     * @return whether any timestamp was handed to {@code sink}
     */
    public static boolean forEachCommittedBetween(Object head, long after, long through, LongConsumer sink) {
        if (!(head instanceof Version)) {
            return false; // absent, or a settled value older than every snapshot
        }
        boolean any = false;
        for (Version<?> v = (Version<?>) head; v != null && v.commitTs > after; v = v.getOlderAcquire()) {
            long c = v.commitTs;
            if (c <= through) { // PENDING (a latch, ours or a later committer's) is above any bound
                sink.accept(c);
                any = true;
            }
        }
        return any;
    }

    /**
     * The version chain of an index entry, or null if the entry is absent or a settled value.
     *
     * @param <V> the value type
     * @param entry an index entry, or null
     * @return the head version, or null
     */
    @SuppressWarnings("unchecked")
    public static <V> Version<V> chainOrNull(Object entry) {
        return entry instanceof Version ? (Version<V>) entry : null;
    }

    /**
     * Cuts every version older than {@code keeper} off the chain and counts them. The caller
     * guarantees that no pinned snapshot reads below the keeper (its commit timestamp is at or
     * below a watermark computed with the pin handshake, SnapshotPins P3), so nothing reads the
     * cut versions and each of their links may be detached in turn. Each link is taken by one
     * atomic exchange ({@link Version#takeOlder}), so when a committer and vacuum cut the same
     * chain at once, every version is counted by exactly one of them.
     *
     * @param <V> the value type
     * @param keeper the version that stays the chain's oldest
     * @return the number of versions cut (0 if there was nothing below the keeper)
     */
    public static <V> int cutBelow(Version<V> keeper) {
        if (keeper.getOlderAcquire() == null) {
            return 0;
        }
        Version<V> v = keeper.takeOlder();
        if (v == null) {
            return 0; // another cut took it first
        }
        if (keeper.olderIsLast) {
            return 1; // v's older was cut before (by a committer, under the lock): v is all of it
        }
        int cut = 1;
        while (v.getOlderAcquire() != null && (v = v.takeOlder()) != null) {
            cut++;
        }
        return cut;
    }
}
