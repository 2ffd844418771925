// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.ssi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.internal.ssi.DangerousStructure.Role;
import java.util.ArrayList;
import java.util.ConcurrentModificationException;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Scenarios are written as commit sequences: each transaction has a snapshot {@code s} and, once
 * recorded, a commit timestamp {@code c}; the edges are those the core would find.
 */
class ConflictGraphTest {

    private static final long[] NONE = {};
    private static final long C = DangerousStructure.COMMITTING;

    private final ConflictGraph<String> graph = new ConflictGraph<>(1_000);

    private static long[] edges(long... commitTimestamps) {
        return commitTimestamps;
    }

    /** Records a transaction that had no edges when it committed. */
    private void commitUnconflicted(long commitTs, long snapshotTs, boolean readOnly) {
        assertNull(graph.check(snapshotTs, readOnly, NONE, NONE));
        graph.recordCommit(commitTs, snapshotTs, readOnly, NONE, "T" + commitTs);
    }

    // ---- rule 1: the committer is the pivot ----

    @Test
    void abortsPivotOfWriteSkew() {
        // T1 and T2 both read x and y from snapshot 0; T1 writes x and commits first.
        commitUnconflicted(1, 0, false);
        // T2 writes y: it read x, which T1 overwrote (out-edge), and T1 read y (in-edge).
        DangerousStructure d = graph.check(0, false, edges(1), edges(1));

        assertEquals(new DangerousStructure(Role.PIVOT, 1, C, 1, false, false), d);
        assertEquals(
                "dangerous structure T1(c=1) ->rw pivot(committing) ->rw T3(c=1): "
                        + "write skew, T1 = T3 committed first",
                d.describe());
    }

    @Test
    void abortsPivotWhenT3CommittedBeforeT1() {
        commitUnconflicted(1, 0, false); // T3
        commitUnconflicted(2, 0, false); // T1
        // pivot (snapshot 0): T1 read what it writes, it read what T3 wrote.
        DangerousStructure d = graph.check(0, false, edges(1), edges(2));

        assertEquals(new DangerousStructure(Role.PIVOT, 2, C, 1, false, false), d);
        assertEquals(
                "dangerous structure T1(c=2) ->rw pivot(committing) ->rw T3(c=1): " + "T3 committed first",
                d.describe());
    }

    @Test
    void commitsPivotWhenT1CommittedBeforeT3() {
        commitUnconflicted(1, 0, false); // T1
        commitUnconflicted(2, 0, false); // T3
        // Commit ordering (Cahill et al. 2008; Ports and Grittner 2012 §3): T3 not first.
        assertNull(graph.check(0, false, edges(2), edges(1)));
    }

    @Test
    void abortsPivotWhenAnyPairOfEdgesIsDangerous() {
        commitUnconflicted(1, 0, false);
        commitUnconflicted(2, 0, false);
        commitUnconflicted(3, 0, false);
        commitUnconflicted(4, 0, false);
        // in-edges from 1 and 3, out-edges to 4 and 2: only (R=3, W=2) is dangerous.
        DangerousStructure d = graph.check(0, false, edges(4, 2), edges(1, 3));

        assertEquals(new DangerousStructure(Role.PIVOT, 3, C, 2, false, false), d);
    }

    /**
     * Ports and Grittner §2.1.2 / PostgreSQL's receipts example. B closes the batch (reads and
     * writes control); A inserts a receipt into the batch it read from control; C, read-only,
     * reports the closed batch's receipts. Here C takes its snapshot after B committed, so it
     * reports the batch closed while A's receipt for it is still to come.
     */
    @Test
    void abortsPivotWhenReadOnlyT1SnapshotFollowsT3Commit() {
        // A begins at snapshot 0 and reads control.
        commitUnconflicted(1, 0, false); // B: control++ , commits at 1
        commitUnconflicted(2, 1, true); // C: snapshot 1, reads control and receipts, read-only
        // A inserts its receipt: out-edge A ->rw B (control), in-edge C ->rw A (receipts).
        DangerousStructure d = graph.check(0, false, edges(1), edges(2));

        assertEquals(new DangerousStructure(Role.PIVOT, 2, C, 1, true, false), d);
        assertEquals(
                "dangerous structure T1(c=2, read-only) ->rw pivot(committing) "
                        + "->rw T3(c=1): T3 committed first, before read-only T1's snapshot",
                d.describe());
    }

    @Test
    void commitsPivotWhenReadOnlyT1SnapshotPrecedesT3Commit() {
        commitUnconflicted(1, 0, false); // B commits at 1
        // C read-only from snapshot 0 (saw neither B nor A): out-edge C ->rw B, no pivot yet.
        assertNull(graph.check(0, true, edges(1), NONE));
        graph.recordCommit(2, 0, true, edges(1), "C");
        // A: T3 = B committed after C's snapshot, so C can be serialized before B.
        assertNull(graph.check(0, false, edges(1), edges(2)));
    }

    @Test
    void abortsPivotWhenReadWriteT1WouldBeSafeOnlyIfReadOnly() {
        commitUnconflicted(1, 0, false);
        graph.recordCommit(2, 0, false, edges(1), "T1 wrote something");
        assertNotNull(graph.check(0, false, edges(1), edges(2)));
    }

    // ---- rule 2: the committer is the first edge into a committed pivot ----

    @Test
    void abortsFirstEdgeIntoCommittedPivot() {
        commitUnconflicted(1, 0, false); // T3
        assertNull(graph.check(0, false, edges(1), NONE)); // pivot W: read what T3 wrote
        graph.recordCommit(2, 0, false, edges(1), "W");
        // T (snapshot 0) read what W wrote.
        DangerousStructure d = graph.check(0, false, edges(2), NONE);

        assertEquals(new DangerousStructure(Role.FIRST_EDGE, C, 2, 1, false, false), d);
        assertEquals(
                "dangerous structure T1(committing) ->rw pivot(c=2) ->rw T3(c=1): " + "T3 committed first",
                d.describe());
    }

    /** The receipts example again, with the read-only report committing last. */
    @Test
    void abortsReadOnlyFirstEdgeWhenT3CommittedBeforeItsSnapshot() {
        commitUnconflicted(1, 0, false); // B closes the batch
        graph.recordCommit(2, 0, false, edges(1), "A"); // A inserted into the closed batch
        // C (snapshot 1: sees B, not A) reads receipts A wrote.
        DangerousStructure d = graph.check(1, true, edges(2), NONE);

        assertEquals(new DangerousStructure(Role.FIRST_EDGE, C, 2, 1, true, false), d);
    }

    @Test
    void commitsReadOnlyFirstEdgeWhenT3CommittedAfterItsSnapshot() {
        commitUnconflicted(1, 0, false);
        graph.recordCommit(2, 0, false, edges(1), "W");
        // A read-only T with snapshot 0 saw neither: it serializes before both.
        assertNull(graph.check(0, true, edges(2, 1), NONE));
        // The same reads in a read-write transaction abort.
        assertNotNull(graph.check(0, false, edges(2, 1), NONE));
    }

    @Test
    void commitsFirstEdgeWhenPivotsOutConflictCommittedAfterIt() {
        commitUnconflicted(1, 0, false); // W
        // Y (snapshot 0) writes something W read: the in-edge W ->rw Y, Y committing after W.
        assertNull(graph.check(0, false, NONE, edges(1)));
        graph.recordCommit(2, 0, false, NONE, "Y");
        // T read what W wrote: T ->rw W ->rw Y, but Y did not commit first.
        assertNull(graph.check(0, false, edges(1), NONE));
    }

    @Test
    void readOnlyPivotCandidateNeverAbortsFirstEdge() {
        commitUnconflicted(1, 0, false);
        // a read-only record with an out-edge: it cannot have in-edges, so it is never a pivot.
        graph.recordCommit(2, 0, true, edges(1), "R");
        assertNull(graph.check(0, false, edges(2), NONE));
    }

    // ---- transactions without records ----

    @Test
    void treatsUnrecordedOutEdgeTargetAsHavingNoOutConflicts() {
        // 5 is a blind writer the core never recorded.
        assertNull(graph.check(0, false, edges(5), NONE));
        assertNull(graph.check(0, true, edges(5), NONE));
    }

    @Test
    void treatsUnrecordedInEdgeSourceAsReadWrite() {
        assertEquals(
                new DangerousStructure(Role.PIVOT, 7, C, 5, false, false), graph.check(0, false, edges(5), edges(7)));
        assertNull(graph.check(0, false, edges(7), edges(5)));
    }

    @Test
    void commitsWithoutOutEdges() {
        commitUnconflicted(1, 0, false);
        assertNull(graph.check(0, false, NONE, edges(1)));
    }

    // ---- iteration and pruning ----

    @Test
    void visitsOverlappingRecordsNewestFirst() {
        for (long c = 1; c <= 5; c++) {
            commitUnconflicted(c, c - 1, c % 2 == 0);
        }
        List<String> seen = new ArrayList<>();
        graph.forEachOverlapping(
                2,
                t -> seen.add(t.payload() + "@" + t.commitTimestamp() + "/" + t.snapshotTimestamp()
                        + (t.readOnly() ? "ro" : "rw")));

        assertEquals(List.of("T5@5/4rw", "T4@4/3ro", "T3@3/2rw"), seen);
    }

    @Test
    void visitorThatMutatesFails() {
        commitUnconflicted(1, 0, false);
        commitUnconflicted(2, 0, false);
        ConcurrentModificationException e = assertThrows(
                ConcurrentModificationException.class, () -> graph.forEachOverlapping(0, t -> graph.prune(1)));
        assertEquals("the visitor changed the conflict graph", e.getMessage());
    }

    @Test
    void pruneDropsExactlyRecordsAtOrBelowWatermark() {
        for (long c = 1; c <= 10; c++) {
            commitUnconflicted(c, 0, false);
        }
        assertEquals(4, graph.prune(4));
        assertEquals(6, graph.retainedRecords());
        List<Long> left = new ArrayList<>();
        graph.forEachOverlapping(0, t -> left.add(t.commitTimestamp()));
        assertEquals(List.of(10L, 9L, 8L, 7L, 6L, 5L), left);

        assertEquals(0, graph.prune(4));
        assertEquals(0, graph.prune(3));
        assertEquals(6, graph.prune(100));
        assertEquals(0, graph.retainedRecords());
    }

    @Test
    void rejectsSnapshotBelowPrunedWatermark() {
        commitUnconflicted(1, 0, false);
        graph.prune(4);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> graph.check(3, false, edges(5), NONE));
        assertEquals("snapshotTs 3 is below the watermark already pruned at, 4", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> graph.recordCommit(6, 3, false, NONE, "late"));
        assertNull(graph.check(4, false, edges(5), NONE));
    }

    // ---- summarisation ----

    @Test
    void summaryKeepsRetainedRecordsBoundedUnderLongRunningReader() {
        ConflictGraph<String> capped = new ConflictGraph<>(8);
        for (long c = 1; c <= 10_000; c++) {
            long[] out = c > 1 ? edges(c - 1) : NONE;
            capped.recordCommit(c, c - 1 > 0 ? c - 2 : 0, false, out, "T" + c);
            assertEquals(0, capped.prune(0)); // the reader at snapshot 0 never finishes
            assertTrue(capped.retainedRecords() <= 9, "retained " + capped.retainedRecords());
        }
        assertEquals(9, capped.retainedRecords());
        assertTrue(capped.summaryOverlaps(0));
        assertTrue(capped.summaryOverlaps(9_991));
        assertFalse(capped.summaryOverlaps(9_992));
        List<Long> full = new ArrayList<>();
        capped.forEachOverlapping(0, t -> full.add(t.commitTimestamp()));
        assertEquals(List.of(10_000L, 9_999L, 9_998L, 9_997L, 9_996L, 9_995L, 9_994L, 9_993L), full);
        // The reader finishes; the summary goes with the records it covers.
        assertEquals(9, capped.prune(10_000));
        assertEquals(0, capped.retainedRecords());
        assertFalse(capped.summaryOverlaps(0));
    }

    @Test
    void summaryIsInEdgeSourceOfEveryReadWriteCommitterItOverlaps() {
        ConflictGraph<String> capped = new ConflictGraph<>(1);
        capped.recordCommit(1, 0, false, NONE, "T1: read y, wrote x; its read set is lost");
        capped.recordCommit(2, 1, false, NONE, "pushes T1 into the summary");
        assertTrue(capped.summaryOverlaps(0));
        assertEquals(2, capped.retainedRecords()); // record 2 and the summary

        // T read x (out-edge to 1) and writes y: the in-edge from 1 can no longer be found,
        // so the summary stands in for it and the write skew is still caught.
        assertEquals(new DangerousStructure(Role.PIVOT, 1, C, 1, false, true), capped.check(0, false, edges(1), NONE));
        // No out-edge at or below the summary's newest commit: no structure through it.
        assertNull(capped.check(0, false, edges(2), NONE));
        // A read-only committer writes nothing, so nothing reads what it writes.
        assertNull(capped.check(0, true, edges(1), NONE));
        // The summary does not overlap a snapshot that saw all of it.
        assertNull(capped.check(1, false, edges(2), NONE));
    }

    @Test
    void summaryForgetsReadOnlyFlagAndMayAbortFalsely() {
        ConflictGraph<String> uncapped = new ConflictGraph<>(10);
        ConflictGraph<String> capped = new ConflictGraph<>(1);
        for (ConflictGraph<String> g : List.of(uncapped, capped)) {
            // 1 is an unrecorded blind writer; R (read-only, snapshot 0) commits at 2.
            g.recordCommit(2, 0, true, edges(1), "R");
            g.recordCommit(3, 2, false, NONE, "pushes R into the capped summary");
        }
        // T wrote what R read and read what 1 wrote: R read-only with snapshot 0 < 1, safe.
        assertNull(uncapped.check(0, false, edges(1), edges(2)));
        // Folded, R is taken to be read-write: a false positive, never a false negative.
        assertEquals(
                new DangerousStructure(Role.PIVOT, 2, C, 1, false, true), capped.check(0, false, edges(1), edges(2)));
    }

    @Test
    void summaryAnswersForPivotsOutConflict() {
        ConflictGraph<String> capped = new ConflictGraph<>(1);
        capped.recordCommit(1, 0, false, NONE, "X");
        capped.recordCommit(2, 0, false, edges(1), "W, pivot with out-conflict to 1");
        capped.recordCommit(3, 2, false, NONE, "pushes W into the summary");

        // A read-only T that saw 1 but not 2 read what W wrote. (A read-write T with snapshot 0
        // would already abort as a pivot: the summary is an in-edge source of it.)
        DangerousStructure d = capped.check(1, true, edges(2), NONE);
        assertEquals(new DangerousStructure(Role.FIRST_EDGE, C, 2, 1, true, true), d);
        assertEquals(
                "dangerous structure T1(committing, read-only) ->rw pivot(c=2) ->rw T3(c=1): "
                        + "T3 committed first, before read-only T1's snapshot "
                        + "(summarised old transactions stood in; may be a false positive)",
                d.describe());
    }

    // ---- argument checks ----

    @Test
    void rejectsNonPositiveCap() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ConflictGraph<String>(0));
        assertEquals("maxRetainedRecords must be between 1 and 1073741823: 0", e.getMessage());
    }

    @Test
    void rejectsCommitTimestampsOutOfOrder() {
        commitUnconflicted(5, 0, false);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> graph.recordCommit(5, 0, false, NONE, "again"));
        assertEquals("commitTs 5 must be above snapshotTs 0 and the last recorded commitTs 5", e.getMessage());
    }

    @Test
    void rejectsEdgeToTransactionTheCommitterSaw() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> graph.check(3, false, edges(3), NONE));
        assertEquals("outEdgeTargets holds 3, which did not commit after snapshotTs 3", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> graph.recordCommit(9, 3, false, edges(9), "self"));
        assertEquals(
                "outEdgeTargets holds 9, which did not commit after snapshotTs 3 " + "and before commitTs 9",
                e.getMessage());
    }

    @Test
    void rejectsInEdgeOfReadOnlyCommitter() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> graph.check(0, true, NONE, edges(1)));
        assertEquals("a read-only committer has no in-edges, got 1", e.getMessage());
    }

    @Test
    void rejectsNullPayload() {
        assertThrows(NullPointerException.class, () -> graph.recordCommit(1, 0, false, NONE, null));
    }

    @Test
    void rejectsStructureWithCommitterOutOfItsRole() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> new DangerousStructure(Role.PIVOT, C, 2, 1, false, false));
        assertEquals("role PIVOT does not match t1=-1, pivot=2, t3=1", e.getMessage());
    }
}
