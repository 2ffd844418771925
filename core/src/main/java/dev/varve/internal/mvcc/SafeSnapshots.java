// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import dev.varve.TransactionException;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Safe snapshots (Ports &amp; Grittner, "Serializable Snapshot Isolation in PostgreSQL", VLDB
 * 2012, §4.2 and §4.3): whether a read-only SERIALIZABLE reader at a snapshot timestamp can take
 * part in no serialization anomaly, so needs neither validation nor a record in the conflict
 * graph, and reads with no read set at all when it declared itself read-only up front.
 *
 * <p>Thread-safe. {@link #committedWithOutEdges} runs under the store's commit lock; {@link
 * #check} and {@link #awaitDecided} take no lock.
 */
public final class SafeSnapshots {
    /** What {@link #check} can say of a snapshot. */
    public enum Safety {
        /** No serialization anomaly can involve a read-only reader at it. */
        SAFE,
        /** A committed possible pivot makes it unsafe for good (S2). */
        UNSAFE,
        /** A possible pivot older than it is still open: not decided yet (S3). */
        UNDECIDED
    }

    /** Commits with out-edges the ring keeps; a power of two. */
    static final int CAPACITY = 1024;

    private final SnapshotPins pins;
    /** The ring (S5); null until the first commit with out-edges (most stores never have one). */
    private volatile Ring ring;
    /** Entries whose writing may have begun; written under the commit lock (S5). */
    private volatile long claimed;
    /** Entries written whole; written under the commit lock (S5). */
    private volatile long published;
    /** The forced-schedule hook; set by Store#hook before the threads it pauses start. */
    TestHook hook = TestHook.NONE;

    /** The slots of the ring (S5). */
    private static final class Ring {
        /** The commit timestamp of each commit with out-edges, in commit order. */
        final AtomicLongArray pivotCommits = new AtomicLongArray(CAPACITY);
        /** The earliest commit timestamp each of them has an out-edge to. */
        final AtomicLongArray earliestTargets = new AtomicLongArray(CAPACITY);
    }

    /**
     * Safe-snapshot bookkeeping over a store's pins.
     *
     * @param pins the store's snapshot pins
     */
    public SafeSnapshots(SnapshotPins pins) {
        this.pins = pins;
    }

    /*
     * Implementation notes.
     *
     * S1. Theorem 3 of Ports & Grittner (§4.1): every serialization anomaly has a dangerous
     *     structure T1 ->rw T2 ->rw T3 in which T3 commits first, and if T1 is read-only, T3
     *     committed before T1's snapshot s. T1 ->rw T2 needs T2's writes to be invisible at s, so
     *     c2 > s; T2 ->rw T3 needs T3 invisible at T2's snapshot s2, so s2 < c3 <= s. So only a
     *     SERIALIZABLE transaction that writes (a possible pivot: SnapshotRegistry R3) with a
     *     snapshot older than s can make s unsafe, and it does so exactly when it commits with an
     *     out-edge to a commit at or below s. (A transaction that writes nothing has no in-edge;
     *     a SNAPSHOT transaction's reads are not tracked, so it is never a pivot in our graph; an
     *     autocommit reads the latest value under its latch, so has no out-edge.)
     * S2. A commit with out-edges records (c2, the earliest target c3) here under the commit lock,
     *     right after validation (ConflictFinder finds every out-edge to an earlier commit at the
     *     committer's own commit: "the later committer records the edge"), so before any later
     *     step can fail and leave the commit published without it, and before its committer
     *     unpins. An entry of a commit that then fails unpublished is spurious, which is sound. s is unsafe iff some recorded c2 > s has c3 <= s, once every possible
     *     pivot older than s has finished.
     * S3. check(s) first asks the pins whether a possible pivot older than s is open
     *     (SnapshotPins P9), then reads the ring. If the scan found none, each such pivot
     *     unpinned before the scan read its slot: its record here happened-before its unpin (its
     *     commit returned first), which the scan's volatile read observed, so the ring read after
     *     it holds the record. One that the scan missed altogether reads at a snapshot >= s (P9)
     *     and is no pivot toward s. In the other order, a pivot could record and unpin between
     *     the two reads, and s would be called safe.
     * S4. awaitDecided(s) waits while check(s) is UNDECIDED. The possible pivots older than s are
     *     a fixed set (every later one reads at >= s, P9), so the wait ends when they have, not
     *     when the store goes idle: a steady stream of new writers cannot starve it. A caller
     *     that gets UNSAFE takes a new snapshot (PostgreSQL's DEFERRABLE does the same), once
     *     the pivot it was given is visible (with deferred visibility it may not be yet, and a
     *     snapshot taken at once would be the same one). The waiter releases expired and leaked
     *     pins while it parks: on an idle store nothing else would.
     * S5. The ring is a sequence of entries written by one thread at a time (under the commit
     *     lock) in commit order, so their c2 rise. Entry n lives in slot n mod CAPACITY. A writer
     *     claims entry n (claimed = n + 1) before it overwrites the slot and publishes it
     *     (published = n + 1) after; all accesses are volatile. A reader reads published p, then
     *     each entry j < p newest first, and after reading an entry re-reads claimed: if claimed
     *     > j + CAPACITY, the slot may hold a later entry, and the reader gives up (UNSAFE, which
     *     is always sound). Otherwise the slot held entry j: any overwrite it read would have been
     *     preceded by its claim. Entries older than the ring holds are unknown: a snapshot whose
     *     window reaches past them is called UNSAFE.
     */

    /**
     * Records a read-write SERIALIZABLE commit that has rw-antidependencies out to earlier
     * commits (S2); caller holds the commit lock, and calls this before the committer unpins.
     *
     * @param commitTs the commit timestamp
     * @param outEdgeTargets the commit timestamps of its out-edges (all below commitTs); nothing
     *     is recorded if empty
     */
    public void committedWithOutEdges(long commitTs, long[] outEdgeTargets) {
        if (outEdgeTargets.length == 0) {
            return;
        }
        long earliest = Long.MAX_VALUE;
        for (long target : outEdgeTargets) {
            earliest = Math.min(earliest, target);
        }
        Ring r = ring;
        if (r == null) {
            r = new Ring();
            ring = r; // a volatile store: before the entry is published, and so before the unpin (S3)
        }
        long n = published; // only the commit lock's holder writes it
        int slot = (int) (n & (CAPACITY - 1));
        claimed = n + 1; // S5: before the slot changes
        r.earliestTargets.set(slot, earliest);
        r.pivotCommits.set(slot, commitTs);
        published = n + 1;
    }

    /**
     * Whether a read-only SERIALIZABLE reader at {@code snapshotTs} is safe (S1-S3).
     *
     * @param snapshotTs its snapshot timestamp, at most the visible timestamp
     * @return SAFE, UNSAFE, or UNDECIDED while a possible pivot older than it is open
     */
    public Safety check(long snapshotTs) {
        long pivot = decide(snapshotTs);
        return pivot == UNDECIDED ? Safety.UNDECIDED : pivot == NO_PIVOT ? Safety.SAFE : Safety.UNSAFE;
    }

    /** What {@link #decide} returns for a safe snapshot. */
    private static final long NO_PIVOT = -1;
    /** What {@link #decide} returns while a possible pivot older than the snapshot is open. */
    private static final long UNDECIDED = -2;

    /**
     * NO_PIVOT if safe, UNDECIDED, or else the commit timestamp of a pivot that makes it unsafe
     * (s + 1 when the ring no longer holds the window).
     */
    private long decide(long s) {
        boolean noOlderPivot = pins.noPossiblePivotOlderThan(s); // S3: the pins first
        hook.at(TestHook.Point.READ_ONLY_SHORTCUT_BETWEEN_CHECKS);
        return noOlderPivot ? pivotToward(s) : UNDECIDED;
    }

    /**
     * NO_PIVOT if no recorded commit after {@code s} has an out-edge at or below it, else one
     * such commit's timestamp (S2, S5).
     */
    private long pivotToward(long s) {
        long p = published;
        Ring r = ring; // not null if p > 0: set before the first entry was published
        for (long j = p - 1; j >= 0; j--) {
            if (p - j > CAPACITY) {
                return s + 1; // older than the ring holds
            }
            int slot = (int) (j & (CAPACITY - 1));
            long c2 = r.pivotCommits.get(slot);
            long c3 = r.earliestTargets.get(slot);
            if (claimed > j + CAPACITY) {
                return s + 1; // overwritten while read (S5)
            }
            if (c2 <= s) {
                return NO_PIVOT; // entries rise: none older is after s
            }
            if (c3 <= s) {
                return c2;
            }
        }
        return NO_PIVOT;
    }

    /**
     * Waits until {@code snapshotTs} is decided (S4), polling on the engine's backoff ladder
     * (CommitProtocol#idle: spins, yields, then parks from 1 µs doubling to 1 ms), running
     * {@code whileParked} before each park.
     *
     * @param snapshotTs the snapshot timestamp, pinned by the caller
     * @param whileParked run before each park; throws if the store closed meanwhile (and may
     *     release expired pins, which an idle store would otherwise never do)
     * @return -1 if safe; else a commit timestamp above {@code snapshotTs} that a snapshot taken
     *     anew must reach to be past the pivot that made this one unsafe
     * @throws TransactionException if the thread is interrupted while waiting (its interrupt
     *     status is kept)
     */
    public long awaitDecided(long snapshotTs, Runnable whileParked) {
        for (int round = 0; ; round++) {
            long pivot = decide(snapshotTs);
            if (pivot != UNDECIDED) {
                return pivot;
            }
            if (round == 0) {
                hook.at(TestHook.Point.SAFE_SNAPSHOT_WAITING);
            }
            if (CommitProtocol.parks(round)) {
                whileParked.run();
            }
            if (!CommitProtocol.idle(round)) {
                throw new TransactionException("interrupted while waiting for a safe snapshot at " + snapshotTs
                        + " (a SERIALIZABLE transaction that may write was open at it)");
            }
        }
    }
}
