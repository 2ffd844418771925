package dev.varve;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One committed version of a key's value: immutable except for the link to the next older version,
 * which vacuum may cut. A {@code null} value is a tombstone (the key was removed at {@link
 * #commitTs}). The versions of a key form its version chain, newest first; the versioned index maps
 * each key to the head of its chain.
 */
final class Version<V> {
    private static final VarHandle OLDER;

    static {
        try {
            OLDER = MethodHandles.lookup().findVarHandle(Version.class, "older", Version.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The value, or {@code null} for a tombstone. */
    final V value;

    final long commitTs;

    /** Next older version, or {@code null} at the end of the chain (or after vacuum cut it). */
    @SuppressWarnings("unused") // accessed through OLDER
    private Version<V> older;

    Version(V value, long commitTs, Version<V> older) {
        this.value = value;
        this.commitTs = commitTs;
        this.older = older; // published by the release CAS that links this version as head
    }

    /*
     * Implementation notes.
     *
     * Version chain: index[key] -> v(c_n) -> v(c_n-1) -> ... -> v(c_k) -> null, newest first.
     * Invariants:
     *  - commit timestamps strictly decrease along the chain;
     *  - a version with commitTs > Store.visibleTs may be linked (its commit is being installed)
     *    but no reader uses it: every reader skips versions above its snapshot;
     *  - only committers (holding the store's commit lock) replace a head, with the
     *    ConcurrentSkipListMap's value CAS (replace(key, head, newHead)); vacuum (no lock) may
     *    remove a key whose head is a tombstone below the watermark with remove(key, head). Both
     *    are CASes on the same skiplist node's value, so a committer and vacuum racing on one key
     *    serialize there: either the new version is linked first (vacuum's remove fails) or the
     *    key is gone first (the committer's replace fails and it inserts a new head).
     * Linearization point of installing a version: the successful value CAS (or putIfAbsent). It
     * becomes visible to new snapshots only when Store.visibleTs passes its commit timestamp.
     *
     * A version is written once by its committer before that CAS publishes it; readers reach it
     * only through the CAS (or through an older link written before it), so value and commitTs
     * need no ordering of their own (final fields).
     *
     * The only later store is vacuum's cut, setOlderRelease(null), which pairs with
     * getOlderAcquire in readers. A reader that sees the cut has run off the end of the chain;
     * that can only happen to a reader whose snapshot is below the vacuum horizon published
     * before the cut (Store#vacuumHorizon), and such a reader is never a registered one, so it
     * re-reads at a fresh snapshot (Store#readLatest).
     */

    @SuppressWarnings("unchecked")
    Version<V> getOlderAcquire() {
        return (Version<V>) OLDER.getAcquire(this);
    }

    /** Pairs with {@link #getOlderAcquire()}; used only by vacuum to cut the chain's tail. */
    void setOlderRelease(Version<V> newOlder) {
        OLDER.setRelease(this, newOlder);
    }

    boolean isTombstone() {
        return value == null;
    }

    /*
     * Settled values. An index entry is either the head Version of a chain or, once vacuum found
     * a key's only version older than every snapshot (below the watermark), the bare value itself:
     * a key at rest then costs what it costs in a plain ConcurrentSkipListMap. A settled value is
     * visible to every pinned snapshot (all are at or above the watermark it was settled at, and
     * a pin that raced with vacuum retries above the horizon); an unpinned autocommit read may
     * see it although its snapshot is older, which is a read of a newer committed state and still
     * linearizable. For first-committer-wins and SSI it counts as committed at time 0.
     */

    /** The commit timestamp of the newest version of an index entry (0 for a settled value). */
    static long headCommitTs(Object head) {
        return head instanceof Version ? ((Version<?>) head).commitTs : SETTLED_TS;
    }

    /** The commit timestamp a settled value is treated as having. */
    static final long SETTLED_TS = 0;

    /**
     * The value visible at {@code snapshotTs} in the index entry {@code head} (a chain head or a
     * settled value), or null if absent or removed there, or if {@code head} is null.
     */
    @SuppressWarnings("unchecked")
    static <V> V valueAt(Object head, long snapshotTs) {
        if (!(head instanceof Version)) {
            return (V) head; // null, or a settled value
        }
        Version<V> v = (Version<V>) head;
        while (v != null && v.commitTs > snapshotTs) {
            v = v.getOlderAcquire();
        }
        return v == null ? null : v.value;
    }

    /** The latest committed value of an index entry, or null (absent or a tombstone). */
    @SuppressWarnings("unchecked")
    static <V> V latestValue(Object head) {
        return head instanceof Version ? ((Version<V>) head).value : (V) head;
    }

    /** An index entry as a version chain head, wrapping a settled value as committed at time 0. */
    @SuppressWarnings("unchecked")
    static <V> Version<V> asVersion(Object head) {
        return head instanceof Version ? (Version<V>) head : new Version<>((V) head, SETTLED_TS, null);
    }
}
