// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.ssi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Random commit streams run against three deciders at once: a brute-force model that searches
 * the explicit rw-edge set for a dangerous structure through the committer, an uncapped graph
 * (which must agree with it exactly) and a graph capped at a few records with a watermark held
 * back by long-running readers (which must abort whenever the uncapped one does). Each stream is
 * replayed from its printed seed; {@code -Dvarve.ssi.seed=N} runs one stream.
 */
class ConflictGraphRandomizedTest {

    private static final int STREAMS = 300;
    private static final int STEPS = 400;

    private enum Kind {
        READ_WRITE,
        READ_ONLY,
        UNRECORDED_WRITER
    }

    private static final class Txn {
        final long snapshotTs;
        final Kind kind;
        final boolean longRunning;

        Txn(long snapshotTs, Kind kind, boolean longRunning) {
            this.snapshotTs = snapshotTs;
            this.kind = kind;
            this.longRunning = longRunning;
        }
    }

    /** A committed transaction in the brute-force model. */
    private record Node(long commitTs, long snapshotTs, boolean readOnly, boolean recorded) {}

    /** Totals over all streams, to show the streams exercise what they claim to. */
    private long commits;

    private long uncappedAborts;
    private long cappedOnlyAborts;
    private long firstEdgeAborts;
    private long readOnlySaves;
    private long summarisedDecisions;

    @Test
    void cappedGraphAbortsWheneverUncappedGraphDoesAndUncappedMatchesBruteForce() {
        Long only = Long.getLong("varve.ssi.seed");
        long base = only != null ? only : new Random().nextLong();
        int streams = only != null ? 1 : STREAMS;
        for (int i = 0; i < streams; i++) {
            long seed = base + i;
            try {
                runStream(seed);
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError(
                        "stream failed; rerun with -Dvarve.ssi.seed=" + seed + ": " + e.getMessage(), e);
            }
        }
        System.out.printf(
                "ssi random streams: base seed %d, %d commits, %d aborts, %d more "
                        + "aborts when capped, %d first-edge, %d saved by the read-only rule%n",
                base, commits, uncappedAborts, cappedOnlyAborts, firstEdgeAborts, readOnlySaves);
        if (only == null) { // the streams must reach every rule, or passing proves little
            assertTrue(commits > 10_000, "commits " + commits);
            assertTrue(uncappedAborts > 100, "uncapped aborts " + uncappedAborts);
            assertTrue(firstEdgeAborts > 10, "first-edge aborts " + firstEdgeAborts);
            assertTrue(readOnlySaves > 10, "read-only saves " + readOnlySaves);
            assertTrue(summarisedDecisions > 100, "decisions through a summary " + summarisedDecisions);
        }
    }

    private void runStream(long seed) {
        Random rnd = new Random(seed);
        int cap = 1 + rnd.nextInt(12);
        double edgeChance = 0.05 + rnd.nextDouble() * 0.3;
        ConflictGraph<Long> uncapped = new ConflictGraph<>(1 << 20);
        ConflictGraph<Long> capped = new ConflictGraph<>(cap);

        Map<Long, Node> nodes = new HashMap<>();
        Map<Long, Set<Long>> outEdges = new HashMap<>(); // a -> {b} for every a ->rw b committed
        List<Txn> active = new ArrayList<>();
        long lastCommit = 0;

        for (int step = 0; step < STEPS; step++) {
            if (active.size() < 2 || (active.size() < 12 && rnd.nextInt(3) == 0)) {
                Kind kind = Kind.values()[rnd.nextInt(10) < 5 ? 0 : rnd.nextInt(3)];
                active.add(new Txn(lastCommit, kind, rnd.nextInt(20) == 0));
                continue;
            }
            int pick = rnd.nextInt(active.size());
            Txn t = active.get(pick);
            if (t.longRunning && rnd.nextInt(40) != 0) {
                continue; // long-running readers hold the watermark back
            }
            active.remove(pick);
            long s = t.snapshotTs;
            if (t.kind == Kind.UNRECORDED_WRITER) {
                lastCommit++;
                nodes.put(lastCommit, new Node(lastCommit, s, false, false));
                continue;
            }
            boolean readOnly = t.kind == Kind.READ_ONLY;

            // Out-edges: committed writers after my snapshot, some of which wrote what I read.
            List<Long> outs = new ArrayList<>();
            for (long c = s + 1; c <= lastCommit; c++) {
                Node n = nodes.get(c);
                if (!n.readOnly && rnd.nextDouble() < edgeChance) {
                    outs.add(c);
                }
            }
            // In-edges: recorded readers after my snapshot, some of which read what I write.
            Set<Long> ins = new HashSet<>();
            if (!readOnly) {
                for (long c = s + 1; c <= lastCommit; c++) {
                    if (nodes.get(c).recorded && rnd.nextDouble() < edgeChance) {
                        ins.add(c);
                    }
                }
            }
            long[] outArray = outs.stream().mapToLong(Long::longValue).toArray();
            long[] uncappedIns = foundInEdges(uncapped, s, ins);
            long[] cappedIns = foundInEdges(capped, s, ins);
            assertEquals(ins.size(), uncappedIns.length, "uncapped graph lost a reader");

            boolean brute = bruteForceDangerous(nodes, outEdges, s, readOnly, outs, ins);
            DangerousStructure du = uncapped.check(s, readOnly, outArray, uncappedIns);
            DangerousStructure dc = capped.check(s, readOnly, outArray, cappedIns);
            String where = " at step " + step + " (cap " + cap + ", snapshot " + s + ", readOnly " + readOnly
                    + ", outs " + outs + ", ins " + ins + ")";
            assertEquals(brute, du != null, "uncapped graph disagrees with brute force: " + du + where);
            if (du != null && dc == null) {
                fail("capped graph let through " + du.describe() + where);
            }
            if (dc != null && dc.summarized()) {
                summarisedDecisions++;
            }
            if (du != null) {
                uncappedAborts++;
                if (du.role() == DangerousStructure.Role.FIRST_EDGE) {
                    firstEdgeAborts++;
                }
            } else if (dc != null) {
                cappedOnlyAborts++;
            } else if (readOnly || ins.stream().anyMatch(r -> nodes.get(r).readOnly)) {
                if (bruteForceDangerousIgnoringReadOnly(nodes, outEdges, outs, ins)) {
                    readOnlySaves++;
                }
            }
            if (dc != null) {
                continue; // aborted (the capped decision is the stricter one)
            }

            long c = ++lastCommit;
            commits++;
            nodes.put(c, new Node(c, s, readOnly, true));
            outEdges.computeIfAbsent(c, k -> new HashSet<>()).addAll(outs);
            for (long r : ins) {
                outEdges.computeIfAbsent(r, k -> new HashSet<>()).add(c);
            }
            uncapped.recordCommit(c, s, readOnly, outArray, c);
            capped.recordCommit(c, s, readOnly, outArray, c);
            assertTrue(capped.retainedRecords() <= cap + 1, "retained " + capped.retainedRecords() + where);

            if (rnd.nextInt(4) == 0) {
                long watermark = lastCommit;
                for (Txn a : active) {
                    watermark = Math.min(watermark, a.snapshotTs);
                }
                uncapped.prune(watermark);
                capped.prune(watermark);
            }
        }
    }

    /** The in-edge sources the core could find: those among the records the graph still has. */
    private static long[] foundInEdges(ConflictGraph<Long> graph, long snapshotTs, Set<Long> ins) {
        List<Long> found = new ArrayList<>();
        graph.forEachOverlapping(snapshotTs, r -> {
            assertTrue(r.commitTimestamp() > snapshotTs);
            assertEquals(r.commitTimestamp(), (long) r.payload());
            if (ins.contains(r.payload())) {
                found.add(r.payload());
            }
        });
        return found.stream().mapToLong(Long::longValue).toArray();
    }

    /**
     * Whether adding the committer T (commit timestamp +infinity) with these edges creates a path
     * a ->rw b ->rw c through one of its edges with c committed strictly before a and b (or
     * a == c committed before b), and c committed at or before a's snapshot if a is read-only.
     * Paths through T: a ->rw T ->rw c and T ->rw b ->rw c; T cannot be c, as it commits last.
     */
    private static boolean bruteForceDangerous(
            Map<Long, Node> nodes,
            Map<Long, Set<Long>> edges,
            long snapshotTs,
            boolean readOnly,
            List<Long> outs,
            Set<Long> ins) {
        for (long a : ins) {
            Node na = nodes.get(a);
            for (long c : outs) {
                boolean commitsFirst = c < a || c == a;
                if (commitsFirst && (!na.readOnly || c <= na.snapshotTs)) {
                    return true;
                }
            }
        }
        for (long b : outs) {
            for (long c : edges.getOrDefault(b, Set.of())) {
                if (c < b && (!readOnly || c <= snapshotTs)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean bruteForceDangerousIgnoringReadOnly(
            Map<Long, Node> nodes, Map<Long, Set<Long>> edges, List<Long> outs, Set<Long> ins) {
        Map<Long, Node> asReadWrite = new HashMap<>();
        nodes.forEach((c, n) -> asReadWrite.put(c, new Node(c, n.snapshotTs(), false, true)));
        return bruteForceDangerous(asReadWrite, edges, Long.MAX_VALUE, false, outs, ins);
    }
}
