// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.ssi;

import java.util.ConcurrentModificationException;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The SSI conflict graph: records of committed serializable transactions, and the rule that
 * aborts a committing transaction which would complete a dangerous structure of
 * rw-antidependencies (Cahill, Röhm, Fekete, SIGMOD 2008; Ports and Grittner, VLDB 2012, §3–4).
 *
 * <p>The caller (the core's commit path) finds the committer's rw-antidependencies with committed
 * concurrent transactions and hands them over as commit timestamps: out-edges {@code T ->rw W}
 * (T read something a committed W wrote after T's snapshot) and in-edges {@code R ->rw T} (a
 * committed R whose commit is after T's snapshot read something T writes). {@link #check} decides;
 * {@link #recordCommit} then records T; {@link #prune} forgets what no active transaction
 * overlaps. Memory is bounded: beyond {@code maxRetainedRecords} records the oldest are folded into
 * one conservative summary, which may cause false-positive aborts but never lets a dangerous
 * structure through.
 *
 * <p>Every commit timestamp handed to the graph, other than a recorded one, is taken to belong to
 * a transaction without out-conflicts that wrote something (a blind writer, or a
 * {@code SNAPSHOT}-isolation writer), unless it is at or below the summary's newest commit
 * timestamp, when the summary answers for it.
 *
 * <p>Not thread-safe; callers serialize all calls (the core holds its commit lock). Null arguments
 * throw {@link NullPointerException}.
 *
 * @param <P> the type of the payload each record carries (the core's read set)
 */
public final class ConflictGraph<P> {

    /** A cap on retained records that suits a few thousand concurrent transactions. */
    public static final int DEFAULT_MAX_RETAINED_RECORDS = 10_000;

    /** The earliest out-conflict of a transaction with none to an earlier commit. */
    private static final long NONE = Long.MAX_VALUE;

    private static final int INITIAL_CAPACITY = 16;
    /** The largest cap: the ring, a power of two, must hold one record more. */
    private static final int MAX_CAP = (1 << 30) - 1;

    private final int maxRetainedRecords;

    /** Commit timestamps of the records, a ring parallel to {@link #records}, for the searches. */
    private long[] commitTimestamps;
    /** Full records in commit order, a power-of-two ring starting at {@link #head}. */
    private Record<P>[] records;

    private int head;
    private int size;

    private boolean hasSummary;
    /** Newest commit timestamp the summary covers; meaningful only while {@link #hasSummary}. */
    private long summaryMaxCommitTs;
    /** Lower bound of every folded record's earliest out-conflict; NONE if none had one. */
    private long summaryEarliestOutConflict = NONE;

    /** Highest watermark pruned at; no active transaction's snapshot may be below it. */
    private long prunedThrough = -1;

    private long lastRecordedCommitTs = -1;
    /** Counts mutations, to fail a visitor of {@link #forEachOverlapping} that mutates. */
    private int modCount;

    /*
     * Implementation notes.
     *
     * Structure. Records arrive in commit order, so they live in a ring in that order; the
     * summary covers everything folded out of its old end:
     *
     *     commit order ------------------------------------------------------------------>
     *     [ summary: every c <= summaryMaxCommitTs ]  [r0][r1] ... [r(size-1)]  committer T
     *                                                  head                     (unrecorded)
     *
     * A record keeps commitTs, snapshotTs, readOnly, the payload and earliestOutConflict: the
     * smallest commit timestamp among its out-edge targets, all of which committed before it. A
     * lookup by commit timestamp is a binary search over the parallel long[] ring, O(log n).
     *
     * Invariants.
     *   I1  r0.commitTs < r1.commitTs < ... (recordCommit rejects anything else).
     *   I2  summaryMaxCommitTs < r0.commitTs: folding takes the oldest record, so a commit
     *       timestamp at or below summaryMaxCommitTs never has a full record.
     *   I3  size <= maxRetainedRecords, so retainedRecords() <= maxRetainedRecords + 1.
     *   I4  r.earliestOutConflict < r.commitTs, or NONE; NONE for read-only records.
     *   I5  summaryEarliestOutConflict <= earliestOutConflict of every record folded into it.
     *   I6  every record and the summary have commitTs > prunedThrough, the highest watermark.
     *
     * The rule. Every cycle in the serialization graph of SI transactions contains a dangerous
     * structure T1 ->rw T2 ->rw T3 of concurrent transactions (Fekete et al., TODS 2005; Cahill
     * et al. 2008) in which T3 is the first of the cycle to commit, and if T1 is read-only, T3
     * committed at or before T1's snapshot (Ports and Grittner 2012: §3, Theorem 1 with the
     * commit-ordering refinement; §4.1, Theorem 3). We abort when T3 committed before T1 and
     * T2 (T1 may be T3), a weaker condition, so every cycle is broken. Edges are always
     * recorded by the later committer, so every edge between committed transactions was seen
     * when the later one committed, and any new structure contains the committer T. T commits
     * last, so it is never T3 (T3 commits first; T1 = T3 = T would need T to commit both first
     * and last): it is the pivot or T1.
     *
     *   Rule 1, T is the pivot: an in-edge R ->rw T and an out-edge T ->rw W with
     *     c(W) <= c(R)  (equality when W = R: write skew), and
     *     if R is read-only, c(W) <= s(R).
     *   Since s(R) < c(R), both reduce to min over W of c(W) <= bound(R), with bound(R) = s(R)
     *   for a read-only R and c(R) otherwise: one pass over the out-edges for the minimum, one
     *   over the in-edges. O(in + out) lookups.
     *
     *   Rule 2, T is T1: an out-edge T ->rw W to a committed pivot W that has an out-edge
     *     W ->rw X with c(X) < c(W), and if T is read-only, c(X) <= s(T).
     *   Both tests get easier as c(X) gets smaller, so the least such c(X),
     *   earliestOutConflict(W), decides. O(out) lookups.
     *
     * What earliestOutConflict holds. Only out-edges to transactions that committed before the
     * record: exactly the out-edges handed to recordCommit. A later committer Y with an in-edge
     * R ->rw Y does give R an out-edge, but c(Y) > c(R), and rule 2 needs c(X) < c(W) with W = R,
     * so such an edge can never make R a dangerous pivot; storing it would only feed false
     * positives into the summary, where c(Y) could undercut a newer folded record's commit
     * timestamp. recordCommit therefore takes no in-edges and never touches older records,
     * which stay immutable. PostgreSQL does the same (ReleasePredicateLocks sets
     * earliestOutConflictCommit only from out-conflicts to transactions already committed, and
     * only for read-write transactions). A read-only record has no in-edge, so it can never be
     * a pivot: its earliestOutConflict is NONE (I4).
     *
     * Unrecorded commit timestamps. The core records serializable committers only. A target above
     * summaryMaxCommitTs with no record is a writer without out-conflicts (NONE) and, as an in-edge
     * source, is not read-only (bound = its commit timestamp): the most conservative answer for a
     * record we do not have.
     *
     * Pruning. An edge only ever joins the committer T to a commit after T's snapshot, and T is
     * active, so s(T) >= watermark. A record with c <= watermark can no longer be looked up or
     * be an in-edge source, and is dropped; so is the summary once summaryMaxCommitTs <= watermark.
     * check and recordCommit reject a snapshot below the highest watermark (I6): it would mean the
     * caller computed the watermark wrongly and may already have lost records.
     *
     * Why summarisation never lets a dangerous structure through. Folding record F keeps
     * summaryMaxCommitTs = c(F) (the maximum, by I1) and summaryEarliestOutConflict =
     * min(old, eoc(F)) (I5), and drops F's payload, snapshot and read-only flag. Take any
     * structure the uncapped graph would find, where a folded F plays a part:
     *   - F as R in rule 1, the edge found through F's payload. The payload is gone, so the
     *     caller cannot report the edge; instead the summary is an implicit in-edge source of
     *     every read-write committer T with summaryMaxCommitTs > s(T) (T has an in-edge, so it
     *     writes; F overlapped T, so c(F) > s(T)), with bound = summaryMaxCommitTs >= c(F) >=
     *     bound(F). The uncapped test c(W) <= bound(F) implies ours.
     *   - F as R in rule 1, the caller reporting c(F) anyway: the lookup resolves to the summary,
     *     not read-only, bound = c(F) >= bound(F). Same implication.
     *   - F as W in rule 1: only c(W) is used, and the caller passes it exactly.
     *   - F as W in rule 2: the uncapped test eoc(F) < c(F) [and eoc(F) <= s(T)] implies
     *     summaryEarliestOutConflict < c(F) [and <= s(T)] by I5, with the exact c(F) given.
     * A commit timestamp at or below summaryMaxCommitTs that never had a record (a blind writer)
     * is answered for by the summary too: its true earliestOutConflict NONE is >= the summary's,
     * and as a reader it would be read-write with the same bound. So the capped graph aborts
     * whenever the uncapped graph does. The cost is false positives, as in PostgreSQL's
     * summarisation into OldCommittedSxact (Ports and Grittner 2012, §6.2); unlike PostgreSQL we
     * keep no per-transaction earliest out-conflict for summarised transactions (its SLRU), so
     * rule 2 through the summary uses the minimum over all of them.
     *
     * The caller's side of the bargain. Rule 1 needs an in-edge from every committed reader,
     * read-only ones included: in Ports and Grittner's receipts/batch example (§2.1.2) the
     * read-only report is T1. So the core must record read-only serializable committers too,
     * while a read-write transaction may still overlap them, even when it skipped the check.
     */

    /**
     * Creates an empty graph.
     *
     * @param maxRetainedRecords the most full records kept before the oldest are folded into the
     *     summary; see {@link #DEFAULT_MAX_RETAINED_RECORDS}
     * @throws IllegalArgumentException if {@code maxRetainedRecords} is not between 1 and
     *     {@code 2^30 - 1}
     */
    public ConflictGraph(int maxRetainedRecords) {
        if (maxRetainedRecords < 1 || maxRetainedRecords > MAX_CAP) {
            throw new IllegalArgumentException(
                    "maxRetainedRecords must be between 1 and " + MAX_CAP + ": " + maxRetainedRecords);
        }
        this.maxRetainedRecords = maxRetainedRecords;
        int capacity = Math.min(INITIAL_CAPACITY, ringCapacityFor(maxRetainedRecords));
        this.commitTimestamps = new long[capacity];
        this.records = newRing(capacity);
    }

    /**
     * Decides whether a transaction may commit, given its rw-antidependencies with committed
     * concurrent transactions. Does not change the graph. A read-write committer also gets an
     * in-edge from the summary when {@link #summaryOverlaps} its snapshot, since the summarised
     * transactions' read sets are gone.
     *
     * @param snapshotTs the committer's snapshot timestamp
     * @param readOnly whether the committer wrote nothing
     * @param outEdgeTargets commit timestamps of committed transactions that wrote something the
     *     committer read after its snapshot; duplicates allowed
     * @param inEdgeSources commit timestamps of committed transactions, concurrent with the
     *     committer, that read something it writes; duplicates allowed
     * @return {@code null} if the committer may commit, else the structure it would complete
     * @throws IllegalArgumentException if {@code snapshotTs} is negative or below a watermark
     *     already pruned at, if an edge's commit timestamp is not above {@code snapshotTs}, or
     *     if a read-only committer has an in-edge
     */
    public DangerousStructure check(long snapshotTs, boolean readOnly, long[] outEdgeTargets, long[] inEdgeSources) {
        checkSnapshot(snapshotTs);
        checkEdges("outEdgeTargets", outEdgeTargets, snapshotTs, NONE);
        checkEdges("inEdgeSources", inEdgeSources, snapshotTs, NONE);
        if (readOnly && inEdgeSources.length > 0) {
            throw new IllegalArgumentException("a read-only committer has no in-edges, got " + inEdgeSources.length);
        }
        if (outEdgeTargets.length == 0) {
            return null; // with no out-edge, T can be neither pivot nor T1
        }
        DangerousStructure asPivot = readOnly ? null : checkAsPivot(snapshotTs, outEdgeTargets, inEdgeSources);
        return asPivot != null ? asPivot : checkAsFirstEdge(snapshotTs, readOnly, outEdgeTargets);
    }

    /** Rule 1: some R ->rw T ->rw W with c(W) <= bound(R). */
    private DangerousStructure checkAsPivot(long snapshotTs, long[] outs, long[] ins) {
        long earliestOut = NONE;
        for (long w : outs) {
            earliestOut = Math.min(earliestOut, w);
        }
        for (long r : ins) {
            if (hasSummary && r <= summaryMaxCommitTs) {
                if (earliestOut <= r) {
                    return new DangerousStructure(
                            DangerousStructure.Role.PIVOT, r, DangerousStructure.COMMITTING, earliestOut, false, true);
                }
                continue;
            }
            Record<P> reader = recordAt(r);
            boolean readerReadOnly = reader != null && reader.readOnly;
            long bound = readerReadOnly ? reader.snapshotTs : r;
            if (earliestOut <= bound) {
                return new DangerousStructure(
                        DangerousStructure.Role.PIVOT,
                        r,
                        DangerousStructure.COMMITTING,
                        earliestOut,
                        readerReadOnly,
                        false);
            }
        }
        if (summaryOverlaps(snapshotTs) && earliestOut <= summaryMaxCommitTs) {
            return new DangerousStructure(
                    DangerousStructure.Role.PIVOT,
                    summaryMaxCommitTs,
                    DangerousStructure.COMMITTING,
                    earliestOut,
                    false,
                    true);
        }
        return null;
    }

    /** Rule 2: some T ->rw W ->rw X with c(X) < c(W), and c(X) <= s(T) if T is read-only. */
    private DangerousStructure checkAsFirstEdge(long snapshotTs, boolean readOnly, long[] outs) {
        for (long w : outs) {
            boolean summarized = hasSummary && w <= summaryMaxCommitTs;
            long x;
            if (summarized) {
                x = summaryEarliestOutConflict;
            } else {
                Record<P> pivot = recordAt(w);
                x = pivot == null ? NONE : pivot.earliestOutConflict;
            }
            if (x < w && (!readOnly || x <= snapshotTs)) {
                return new DangerousStructure(
                        DangerousStructure.Role.FIRST_EDGE, DangerousStructure.COMMITTING, w, x, readOnly, summarized);
            }
        }
        return null;
    }

    /**
     * Records a committed transaction, after {@link #check} returned {@code null} for it and the
     * caller assigned its commit timestamp. Folds the oldest records into the summary when more
     * than {@code maxRetainedRecords} are kept. In-edges are not needed: they never change what
     * the graph keeps about the transactions they come from (see the implementation notes).
     *
     * @param commitTs the commit timestamp, above every commit timestamp recorded so far
     * @param snapshotTs the transaction's snapshot timestamp
     * @param readOnly whether the transaction wrote nothing
     * @param outEdgeTargets the out-edges passed to {@link #check}
     * @param payload what {@link #forEachOverlapping} hands back for this transaction
     * @throws IllegalArgumentException if {@code snapshotTs} is negative or below a watermark
     *     already pruned at, if {@code commitTs} is not above {@code snapshotTs} and every commit
     *     timestamp recorded so far, or if an out-edge target is not between {@code snapshotTs}
     *     and {@code commitTs} (exclusive)
     */
    public void recordCommit(long commitTs, long snapshotTs, boolean readOnly, long[] outEdgeTargets, P payload) {
        Objects.requireNonNull(payload, "payload");
        checkSnapshot(snapshotTs);
        if (commitTs <= snapshotTs || commitTs <= lastRecordedCommitTs) {
            throw new IllegalArgumentException("commitTs " + commitTs
                    + " must be above snapshotTs " + snapshotTs
                    + " and the last recorded commitTs " + lastRecordedCommitTs);
        }
        checkEdges("outEdgeTargets", outEdgeTargets, snapshotTs, commitTs);
        long earliestOutConflict = NONE;
        if (!readOnly) { // a read-only transaction is never a pivot (I4)
            for (long w : outEdgeTargets) {
                earliestOutConflict = Math.min(earliestOutConflict, w);
            }
        }
        append(new Record<>(commitTs, snapshotTs, readOnly, earliestOutConflict, payload));
        lastRecordedCommitTs = commitTs;
        while (size > maxRetainedRecords) {
            foldOldest();
        }
    }

    /**
     * Visits the full records of transactions that committed after {@code snapshotTs}, newest
     * first: the candidates for in-edges of a committer with that snapshot. Summarised
     * transactions are not visited; see {@link #summaryOverlaps}.
     *
     * @param snapshotTs the committer's snapshot timestamp
     * @param visitor receives each record; it must not change this graph
     * @throws ConcurrentModificationException if the visitor changed this graph
     */
    public void forEachOverlapping(long snapshotTs, Consumer<? super CommittedTransaction<P>> visitor) {
        Objects.requireNonNull(visitor, "visitor");
        int expectedModCount = modCount;
        int first = firstAbove(snapshotTs);
        for (int i = size - 1; i >= first; i--) {
            visitor.accept(records[slot(i)]);
            if (modCount != expectedModCount) {
                throw new ConcurrentModificationException("the visitor changed the conflict graph");
            }
        }
    }

    /**
     * Whether summarised transactions may have committed after {@code snapshotTs}. If so, their
     * read sets are gone and {@link #check} counts the summary as an in-edge source of any
     * read-write committer with that snapshot.
     *
     * @param snapshotTs a snapshot timestamp
     * @return {@code true} if a summary exists whose newest commit timestamp is above
     *     {@code snapshotTs}
     */
    public boolean summaryOverlaps(long snapshotTs) {
        return hasSummary && summaryMaxCommitTs > snapshotTs;
    }

    /**
     * Drops what no active transaction overlaps: records with a commit timestamp at or below
     * {@code watermark}, and the summary once its newest commit timestamp is at or below it.
     * Afterwards {@link #check} and {@link #recordCommit} reject snapshots below
     * {@code watermark}.
     *
     * @param watermark the oldest snapshot timestamp of any active transaction that may still
     *     call {@link #check}; a smaller value than before is allowed and prunes nothing new
     * @return how many were dropped, counting the summary as one
     */
    public int prune(long watermark) {
        int dropped = 0;
        while (size > 0 && commitTimestamps[head] <= watermark) {
            removeOldest();
            dropped++;
        }
        if (hasSummary && summaryMaxCommitTs <= watermark) {
            hasSummary = false;
            summaryEarliestOutConflict = NONE;
            dropped++;
        }
        prunedThrough = Math.max(prunedThrough, watermark);
        modCount++;
        return dropped;
    }

    /**
     * How many records are kept, for statistics.
     *
     * @return the number of full records, plus one if a summary exists; at most
     *     {@code maxRetainedRecords + 1}
     */
    public int retainedRecords() {
        return size + (hasSummary ? 1 : 0);
    }

    // ---- records ----

    private void append(Record<P> record) {
        if (size == records.length) {
            grow();
        }
        int s = slot(size);
        records[s] = record;
        commitTimestamps[s] = record.commitTs;
        size++;
        modCount++;
    }

    private void foldOldest() {
        Record<P> oldest = records[head];
        summaryMaxCommitTs = oldest.commitTs; // the maximum folded so far, by I1
        summaryEarliestOutConflict = Math.min(summaryEarliestOutConflict, oldest.earliestOutConflict);
        hasSummary = true;
        removeOldest();
    }

    private void removeOldest() {
        records[head] = null; // drop the payload
        head = (head + 1) & (records.length - 1);
        size--;
        modCount++;
    }

    /** The record committed at {@code commitTs}, or null if none is kept. */
    private Record<P> recordAt(long commitTs) {
        int i = firstAbove(commitTs - 1);
        if (i < size && commitTimestamps[slot(i)] == commitTs) {
            return records[slot(i)];
        }
        return null;
    }

    /** The logical index of the oldest record committed after {@code ts}; size if none. */
    private int firstAbove(long ts) {
        int lo = 0;
        int hi = size;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (commitTimestamps[slot(mid)] > ts) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo;
    }

    private int slot(int index) {
        return (head + index) & (records.length - 1);
    }

    private void grow() {
        int capacity = records.length;
        long[] newTimestamps = new long[capacity * 2];
        Record<P>[] newRecords = newRing(capacity * 2);
        for (int i = 0; i < size; i++) {
            newTimestamps[i] = commitTimestamps[slot(i)];
            newRecords[i] = records[slot(i)];
        }
        commitTimestamps = newTimestamps;
        records = newRecords;
        head = 0;
    }

    /** The power-of-two ring size that holds one record more than the cap. */
    private static int ringCapacityFor(int maxRetainedRecords) {
        return Integer.highestOneBit(maxRetainedRecords) << 1; // > maxRetainedRecords
    }

    @SuppressWarnings("unchecked") // a Record<?>[] holds only Record<P>s, all stored by append
    private static <P> Record<P>[] newRing(int capacity) {
        return (Record<P>[]) new Record<?>[capacity];
    }

    // ---- argument checks ----

    private void checkSnapshot(long snapshotTs) {
        if (snapshotTs < 0) {
            throw new IllegalArgumentException("snapshotTs must be non-negative: " + snapshotTs);
        }
        if (snapshotTs < prunedThrough) {
            throw new IllegalArgumentException(
                    "snapshotTs " + snapshotTs + " is below the watermark already pruned at, " + prunedThrough);
        }
    }

    private static void checkEdges(String name, long[] edges, long snapshotTs, long commitTs) {
        Objects.requireNonNull(edges, name);
        for (long c : edges) {
            if (c <= snapshotTs || c >= commitTs) {
                throw new IllegalArgumentException(name + " holds " + c
                        + ", which did not commit after snapshotTs " + snapshotTs
                        + (commitTs == NONE ? "" : " and before commitTs " + commitTs));
            }
        }
    }

    /** A committed transaction kept in full. Immutable. */
    private static final class Record<P> implements CommittedTransaction<P> {
        final long commitTs;
        final long snapshotTs;
        final boolean readOnly;
        /** Least commit timestamp of an out-edge target (all committed earlier), or NONE. */
        final long earliestOutConflict;

        final P payload;

        Record(long commitTs, long snapshotTs, boolean readOnly, long earliestOutConflict, P payload) {
            this.commitTs = commitTs;
            this.snapshotTs = snapshotTs;
            this.readOnly = readOnly;
            this.earliestOutConflict = earliestOutConflict;
            this.payload = payload;
        }

        @Override
        public long commitTimestamp() {
            return commitTs;
        }

        @Override
        public long snapshotTimestamp() {
            return snapshotTs;
        }

        @Override
        public boolean readOnly() {
            return readOnly;
        }

        @Override
        public P payload() {
            return payload;
        }

        @Override
        public String toString() {
            return "CommittedTransaction[c=" + commitTs + ", s=" + snapshotTs
                    + (readOnly ? ", read-only" : "")
                    + (earliestOutConflict == NONE ? "" : ", earliestOut=" + earliestOutConflict)
                    + "]";
        }
    }
}
