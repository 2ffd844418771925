// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One committed version of a key's value: immutable except for the link to the next older version,
 * which vacuum may cut. A {@code null} value is a tombstone (the key was removed at {@link
 * #commitTs}). The versions of a key form its version chain, newest first; the versioned index maps
 * each key to the head of its chain.
 */
public final class Version<V> {
    private static final VarHandle OLDER;
    private static final VarHandle COMMIT_TS;

    static {
        try {
            var lookup = MethodHandles.lookup();
            OLDER = lookup.findVarHandle(Version.class, "older", Version.class);
            COMMIT_TS = lookup.findVarHandle(Version.class, "commitTs", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * The commit timestamp of a version whose committer holds it as a write latch and has not yet
     * been given a commit timestamp: above every snapshot, so no reader uses it.
     */
    public static final long PENDING = Long.MAX_VALUE;

    /**
     * The commit timestamp of a write latch whose committer gave up (its commit failed or threw):
     * above every snapshot, so no reader uses it, and not {@link #PENDING}, so no writer waits for
     * it. Writers link over it as if it were not there (see {@link VersionChain#live}).
     */
    public static final long ABORTED = Long.MAX_VALUE - 1;

    /**
     * The value, or {@code null} for a tombstone. Written once, before the version is stamped
     * (see the notes); an autocommit latch fills it in after linking.
     */
    public V value;

    /** {@link #PENDING} until the committer stamps it, then the commit timestamp, never again changed. */
    // NOTE: readers load it plainly, racing the opaque stamp: a racer sees PENDING or c, both
    // above its snapshot (see Stamping in the notes).
    public long commitTs;

    /** Next older version, or {@code null} at the end of the chain (or after vacuum cut it). */
    @SuppressWarnings("unused") // accessed through OLDER
    private Version<V> older;

    /**
     * Whether the next older version is known to be the chain's last (its own older link was
     * cut): set by the committer that cut there, under the commit lock, and read only by later
     * committers under it, so a committer cutting below this version counts the one version it
     * unlinks without loading it (a cache miss on a cold object). Never set back: a cut link is
     * never linked again. Fits in the object's padding.
     */
    boolean olderIsLast;

    /**
     * A version not yet linked into the index.
     *
     * @param value the value, or null for a tombstone
     * @param commitTs its commit timestamp, or {@link #PENDING} for a write latch
     * @param older the next older version, or null
     */
    public Version(V value, long commitTs, Version<V> older) {
        this.value = value;
        this.commitTs = commitTs;
        this.older = older; // published by the release CAS that links this version as head
    }

    /*
     * Implementation notes.
     *
     * Version chain: index[key] -> v(c_n) -> v(c_n-1) -> ... -> v(c_k) -> null, newest first.
     * Invariants:
     *  V1. Commit timestamps strictly decrease along the chain; only the head can be PENDING.
     *  V2. A PENDING head is a write latch: the committer that linked it is the only thread that
     *      may stamp it (with its commit timestamp, or ABORTED: A1-A3) or restore what it
     *      replaced; every other writer that finds it waits until it is stamped (Store L1).
     *  V3. A version with commitTs > Store.visibleTs (PENDING included) may be linked but no
     *      reader uses it: every reader skips versions above its snapshot.
     *  V4. A head is replaced only with the VersionedIndex node's value CAS (compute, replace,
     *      putIfAbsent) when it is not PENDING; vacuum may remove a key whose head is a tombstone
     *      below the watermark with remove(key, head). Both are CASes on the same skiplist node's
     *      value, so a committer and vacuum racing on one key serialize there.
     * Linearization point of installing a version: the successful value CAS (or node insert). It
     * becomes visible to new snapshots only when Store.visibleTs passes its commit timestamp.
     *
     * Aborted latches. A committer that gives up a latch stamps it ABORTED (abort()) before it
     * tries anything else, so no exception (a throwing comparator, OutOfMemoryError) can leave a
     * latch behind: the stamp needs no search, no comparator and no allocation. Invariants:
     *  A1. Only a head can be ABORTED; its older link is the entry it was linked over (never
     *      itself ABORTED: writers link over live(head), not over head).
     *  A2. Readers skip it like PENDING (ABORTED > every snapshot); writers do not wait for it
     *      (isLatched is false) and first-committer-wins looks through it (headCommitTs).
     *  A3. Physically removing it (restoring the entry it was linked over) is best effort: the
     *      aborting committer tries once, and the next writer or vacuum replaces it otherwise.
     *
     * Stamping. The committer stamps its versions (PENDING -> c) under the store's commit lock,
     * before it publishes visibleTs = c with a volatile write; value was written before the
     * stamp. A reader uses a version only if commitTs <= its snapshot, read from visibleTs, so
     * the volatile write/read orders the stamp and the value before the reader's use. A reader
     * racing with the stamp sees PENDING or c, both above its snapshot. The stamp is an opaque
     * (atomic) store; readers use plain loads.
     *
     * The only later store is vacuum's cut, setOlderRelease(null), which pairs with
     * getOlderAcquire in readers. A reader that sees the cut has run off the end of the chain;
     * that can only happen to a reader whose snapshot is below the vacuum horizon published
     * before the cut (SnapshotPins P4), and such a reader is never a registered one, so it
     * re-reads at a fresh snapshot (Store#readLatest).
     */

    /**
     * Stamps a version this committer linked as PENDING; caller holds the store's commit lock.
     *
     * @param commitTimestamp the commit timestamp
     */
    public void stamp(long commitTimestamp) {
        COMMIT_TS.setOpaque(this, commitTimestamp);
    }

    /**
     * Releases a write latch its committer gives up, without touching the index: no comparator
     * call, no allocation, so it cannot fail (see "Aborted latches" in the notes). Harmless on a
     * candidate version that was never linked.
     */
    public void abort() {
        COMMIT_TS.setOpaque(this, ABORTED);
    }

    /**
     * Sets the older link of a version not yet linked into the index (published by that link).
     *
     * @param newOlder the next older version, or null
     */
    public void setOlderPlain(Version<V> newOlder) {
        OLDER.set(this, newOlder);
    }

    /**
     * The next older version (an acquire load).
     *
     * @return the older version, or null at the end of the chain
     */
    @SuppressWarnings("unchecked")
    public Version<V> getOlderAcquire() {
        return (Version<V>) OLDER.getAcquire(this);
    }

    /**
     * Pairs with {@link #getOlderAcquire()}; used only by vacuum to cut the chain's tail.
     *
     * @param newOlder the new older version, or null to cut
     */
    public void setOlderRelease(Version<V> newOlder) {
        OLDER.setRelease(this, newOlder);
    }

    /**
     * Detaches and returns the older link (an atomic exchange with null): of all the cuts that
     * race on one link, exactly one gets the version it pointed to, so cuts count what they
     * unlink exactly once (VersionChain#cutBelow).
     *
     * @return the older version the link held, or null if it was already cut
     */
    @SuppressWarnings("unchecked")
    public Version<V> takeOlder() {
        return (Version<V>) OLDER.getAndSet(this, (Version<V>) null);
    }

    /**
     * Whether this version records a removal.
     *
     * @return true if the value is null
     */
    public boolean isTombstone() {
        return value == null;
    }
}
