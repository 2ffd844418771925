// SPDX-License-Identifier: Apache-2.0
package dev.varve.testkit;

import dev.varve.testkit.TxnRecord.Read;
import dev.varve.testkit.TxnRecord.Scan;
import dev.varve.testkit.TxnRecord.Slot;
import dev.varve.testkit.TxnRecord.Write;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The direct serialization graph of one history and its cycle search: the checker behind {@link
 * History#check()}. Built once, read once; not thread-safe (each check builds its own).
 */
final class SerializationGraph {
    /** How many nodes of a first-found cycle are tried as the start of a shorter one (D2). */
    private static final int SHORTEST_CYCLE_STARTS = 64;

    private final Map<Long, TxnRecord> byId = new HashMap<>();
    /** The committed transactions in id order; a node's index in the graph is its index here. */
    private final List<TxnRecord> committed = new ArrayList<>();

    private final Map<Long, Integer> nodeOf = new HashMap<>();
    /** Per key, its committed versions in version order. */
    private final Map<Slot, Versions> versions = new LinkedHashMap<>();
    /** Per map, per scan order, that map's keys with versions in that order (for range scans). */
    private final Map<String, Map<Comparator<Object>, TreeMap<Object, List<Versions>>>> byOrder = new HashMap<>();

    /** Out-edges by node index: target node index -> the first dependency found (G2). */
    private final List<Map<Integer, Dependency>> out = new ArrayList<>();

    private final List<Anomaly> anomalies = new ArrayList<>();

    /*
     * Implementation notes.
     *
     * The model (Adya's thesis, 1999, and Adya, Liskov, O'Neil, ICDE 2000: see History). A key
     * (map, key) has an initial version, then one version per committed transaction that wrote
     * it: its last write, a value (alive) or a removal (dead, a tombstone). Reads of values
     * name the version they saw (its writer). Predicate reads (a scan of [from, to), and a read
     * that found its key absent, which is the predicate "this key exists") observe, for each
     * key, whether it matched: whether the version they saw is alive. A version changes the
     * matches if it is alive and its predecessor dead or the other way round.
     *
     * Edges, between committed transactions:
     *   ww            consecutive versions' writers;
     *   wr            the writer of the version an item read saw -> the reader;
     *   rw            an item reader -> the writer of the next version after the one it saw;
     *   predicate wr  the writer of the last version, at or before the one a predicate read saw,
     *                 that changed the matches -> the reader;
     *   predicate rw  a predicate reader -> the writer of the first later version that changes
     *                 the matches (an insert after an absent read: a phantom).
     *
     * Invariants.
     *   G1  Each key's versions are in strictly increasing commit-timestamp order: two writers of
     *       one key with one commit timestamp are refused (the order would be undefined).
     *   G2  Every edge joins two distinct committed transactions, and the graph keeps one edge
     *       per ordered pair, the first found: whether a cycle exists depends on the pairs only.
     *   G3  Adya defines more edges than G1-G2's: rw (and predicate rw) to every later version's
     *       writer, not only the next (the first that changes the matches), wr (and predicate
     *       wr) from every earlier one. Each omitted edge T -> Wj is a path here, T -> W(next)
     *       -ww-> ... -ww-> Wj (and Wi -ww-> ... -> T for the wr side), and each edge kept is
     *       one of Adya's: the graph has a cycle if and only if Adya's DSG has one.
     *   G4  Own reads add nothing: a read of a key after the reader's first write of it, a read
     *       naming the reader as the writer, and the keys of a scan that the scanner had written
     *       before the scan (Adya: a transaction's reads of its own writes are no conflicts).
     *   G5  A read that found nothing names no version, so it is placed at the reader's snapshot
     *       timestamp s: it saw the latest dead version committed at or before s (not its own),
     *       or the initial version. In Varve a snapshot sees exactly the commits at or below s,
     *       so for a correct store that is the latest version at or before s; for a faulty one it
     *       is still a dead version the read could have seen, and the edges are Adya's for it.
     *   G6  The initial version is alive if some committed read returned its value, dead if an
     *       absent read was placed on it (G5), unknown otherwise: then the first written version
     *       counts as changing the matches (an insert of an absent key or a removal of a present
     *       one), which can add a predicate edge to or from the key's first writer but not lose
     *       one.
     *   G7  The keys a scan returned are item reads (the recorder records them; a hand-built
     *       history records them as reads), and an item read of the key by the same transaction,
     *       before or after the scan, saw the same snapshot: only the keys in the range with
     *       versions, no item read and no earlier own write are the scan's predicate reads.
     *
     * Cycle search.
     *   D1  An iterative depth-first search (no recursion, so long histories do not overflow the
     *       stack) finds a back edge if and only if the graph has a cycle.
     *   D2  For a readable report, a breadth-first search from each of the first 64 nodes of that
     *       cycle finds the shortest cycle through it; the shortest of those is reported (not
     *       necessarily the shortest of the whole graph).
     */

    SerializationGraph(Collection<TxnRecord> txns) {
        for (TxnRecord t : txns) {
            byId.put(t.id(), t);
            if (t.isCommitted()) {
                committed.add(t);
            }
        }
        committed.sort(Comparator.comparingLong(TxnRecord::id));
        for (int i = 0; i < committed.size(); i++) {
            nodeOf.put(committed.get(i).id(), i);
            out.add(null);
        }
        buildVersionOrders();
        List<PendingRead> pending = placeReads();
        for (Versions v : versions.values()) {
            v.indexMatchChanges();
        }
        for (Versions v : versions.values()) {
            for (int i = 1; i < v.size(); i++) {
                edge(v.writers.get(i - 1), v.writers.get(i), Dependency.Kind.WW, v.slot, null);
            }
        }
        for (PendingRead p : pending) {
            p.addEdges();
        }
    }

    /** The verdict: a shortest-found cycle (D2), if any, and the anomalies. */
    CheckResult result() {
        int[] cycle = anyCycle();
        List<Dependency> edges = new ArrayList<>();
        if (cycle != null) {
            int[] best = cycle;
            for (int i = 0; i < Math.min(cycle.length, SHORTEST_CYCLE_STARTS); i++) {
                int[] c = shortestCycleThrough(cycle[i]);
                if (c != null && c.length < best.length) {
                    best = c;
                }
            }
            for (int i = 0; i < best.length; i++) {
                edges.add(out.get(best[i]).get(best[(i + 1) % best.length]));
            }
        }
        return new CheckResult(committed.size(), edges, anomalies);
    }

    // ---- version orders (G1) -------------------------------------------------------------------

    private void buildVersionOrders() {
        for (TxnRecord t : committed) {
            for (Write w : t.finalWrites().values()) {
                versions.computeIfAbsent(w.slot(), Versions::new).add(t, w.alive());
            }
        }
        for (Versions v : versions.values()) {
            v.sort();
        }
    }

    /** The versions of the keys of {@code scan}'s map within its range, in its order. */
    private Collection<List<Versions>> inRange(Scan scan) {
        TreeMap<Object, List<Versions>> keys = byOrder.computeIfAbsent(scan.map(), m -> new IdentityHashMap<>())
                .computeIfAbsent(scan.order(), order -> {
                    TreeMap<Object, List<Versions>> sorted = new TreeMap<>(order);
                    for (Versions v : versions.values()) {
                        if (v.slot.map().equals(scan.map())) {
                            try {
                                sorted.computeIfAbsent(v.slot.key(), k -> new ArrayList<>(1))
                                        .add(v);
                            } catch (ClassCastException e) {
                                throw new IllegalArgumentException(
                                        "the keys of map '" + scan.map() + "' cannot be compared by the order of a scan"
                                                + " of it: " + e.getMessage(),
                                        e);
                            }
                        }
                    }
                    return sorted;
                });
        try {
            Collection<List<Versions>> range;
            if (scan.from() == null && scan.to() == null) {
                range = keys.values();
            } else if (scan.from() == null) {
                range = keys.headMap(scan.to(), false).values();
            } else if (scan.to() == null) {
                range = keys.tailMap(scan.from(), true).values();
            } else {
                range = keys.subMap(scan.from(), true, scan.to(), false).values();
            }
            return new ArrayList<>(range); // compares the bounds with the keys now, inside the try
        } catch (ClassCastException e) {
            throw new IllegalArgumentException(
                    "the bounds of scan " + scan.range() + " cannot be compared with the keys of its map: "
                            + e.getMessage(),
                    e);
        }
    }

    // ---- reads ---------------------------------------------------------------------------------

    /** Places every committed transaction's reads on versions (G4-G7) and finds G1a/G1b. */
    private List<PendingRead> placeReads() {
        List<PendingRead> pending = new ArrayList<>();
        for (TxnRecord t : committed) {
            Set<Slot> itemRead = new HashSet<>();
            for (Read r : t.reads()) {
                if (t.wroteBefore(r.slot(), r.seq()) || r.writer() == t.id()) {
                    continue; // G4
                }
                itemRead.add(r.slot());
                Versions v = versions.get(r.slot());
                switch (r.kind()) {
                    case ABSENT:
                        if (v != null) {
                            pending.add(new PendingRead(t, v, v.placeAbsent(t), "read absent"));
                        }
                        break;
                    case INTERMEDIATE:
                        TxnRecord w = writer(t, r);
                        anomalies.add(new Anomaly(
                                w.isCommitted() ? Anomaly.Kind.INTERMEDIATE_READ : Anomaly.Kind.ABORTED_READ,
                                t,
                                w,
                                r.slot().map(),
                                r.slot().key()));
                        break;
                    default:
                        if (r.writer() == TxnRecord.INITIAL) {
                            if (v != null) {
                                v.initialSeenAlive = true; // G6
                                pending.add(new PendingRead(t, v, -1, null));
                            }
                            break;
                        }
                        TxnRecord writer = writer(t, r);
                        if (!writer.isCommitted()) {
                            anomalies.add(new Anomaly(
                                    Anomaly.Kind.ABORTED_READ,
                                    t,
                                    writer,
                                    r.slot().map(),
                                    r.slot().key()));
                            break;
                        }
                        Write installed = writer.finalWrites().get(r.slot());
                        if (installed == null) {
                            throw new IllegalArgumentException(
                                    t + " reads " + r.slot() + " as written by " + writer + ", which did not write it");
                        }
                        if (!installed.alive()) {
                            throw new IllegalArgumentException(t + " reads a value of " + r.slot() + " as written by "
                                    + writer + ", which removed it (record a read that found nothing as readAbsent)");
                        }
                        pending.add(new PendingRead(t, v, v.indexOf(writer), null));
                        break;
                }
            }
            for (Scan scan : t.scans()) {
                for (List<Versions> sameKey : inRange(scan)) {
                    for (Versions v : sameKey) {
                        if (!itemRead.contains(v.slot) && !t.wroteBefore(v.slot, scan.seq())) { // G7, G4
                            pending.add(new PendingRead(t, v, v.placeAbsent(t), "scan " + scan.range()));
                        }
                    }
                }
            }
        }
        return pending;
    }

    private TxnRecord writer(TxnRecord reader, Read r) {
        TxnRecord w = byId.get(r.writer());
        if (w == null) {
            throw new IllegalArgumentException(
                    reader + " reads " + r.slot() + " as written by T" + r.writer() + ", which is not in the history");
        }
        return w;
    }

    /** A read placed on a version: {@code position} -1 is the initial version. */
    private final class PendingRead {
        final TxnRecord reader;
        final Versions versions;
        final int position;
        /** The predicate read, as printed; null for an item read. */
        final String predicate;

        PendingRead(TxnRecord reader, Versions versions, int position, String predicate) {
            this.reader = reader;
            this.versions = versions;
            this.position = position;
            this.predicate = predicate;
        }

        void addEdges() {
            List<TxnRecord> w = versions.writers;
            if (predicate == null) {
                if (position >= 0) {
                    edge(w.get(position), reader, Dependency.Kind.WR, versions.slot, null);
                }
                if (position + 1 < w.size()) {
                    edge(reader, w.get(position + 1), Dependency.Kind.RW, versions.slot, null);
                }
                return;
            }
            int changedBefore = versions.lastMatchChangeAtOrBefore(position);
            if (changedBefore >= 0) {
                edge(w.get(changedBefore), reader, Dependency.Kind.PREDICATE_WR, versions.slot, predicate);
            }
            int changedAfter = versions.firstMatchChangeAfter(position);
            if (changedAfter >= 0) {
                edge(reader, w.get(changedAfter), Dependency.Kind.PREDICATE_RW, versions.slot, predicate);
            }
        }
    }

    /** Adds {@code from -> to} unless it is a self-loop or the pair has an edge already (G2). */
    private void edge(TxnRecord from, TxnRecord to, Dependency.Kind kind, Slot slot, String predicate) {
        if (from == to) {
            return;
        }
        int f = nodeOf.get(from.id());
        Map<Integer, Dependency> edges = out.get(f);
        if (edges == null) {
            edges = new LinkedHashMap<>();
            out.set(f, edges);
        }
        edges.computeIfAbsent(
                nodeOf.get(to.id()), k -> new Dependency(from, to, kind, slot.map(), slot.key(), predicate));
    }

    // ---- one key's versions --------------------------------------------------------------------

    /** The committed versions of one key, in version order (G1). */
    private static final class Versions {
        final Slot slot;
        final List<TxnRecord> writers = new ArrayList<>();
        private final List<Boolean> aliveList = new ArrayList<>();
        private long[] commitTs;
        private boolean[] alive;
        /** The latest dead version at or before each index, or -1 (the initial version). */
        private int[] lastDead;
        /** The last version at or before each index that changed the matches, or -1. */
        private int[] lastChange;
        /** The first version after each index - 1 (index 0 is "after the initial") that changes them. */
        private int[] firstChangeAfter;

        private Map<TxnRecord, Integer> index;
        boolean initialSeenAlive;
        boolean initialSeenDead;

        Versions(Slot slot) {
            this.slot = slot;
        }

        int size() {
            return writers.size();
        }

        void add(TxnRecord writer, boolean isAlive) {
            writers.add(writer);
            aliveList.add(isAlive);
        }

        void sort() {
            int n = writers.size();
            Integer[] order = new Integer[n];
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
            Arrays.sort(order, Comparator.comparingLong(i -> writers.get(i).commitTimestamp()));
            List<TxnRecord> sorted = new ArrayList<>(n);
            commitTs = new long[n];
            alive = new boolean[n];
            lastDead = new int[n];
            index = new IdentityHashMap<>();
            for (int i = 0; i < n; i++) {
                TxnRecord w = writers.get(order[i]);
                sorted.add(w);
                commitTs[i] = w.commitTimestamp();
                alive[i] = aliveList.get(order[i]);
                if (i > 0 && commitTs[i] == commitTs[i - 1]) {
                    throw new IllegalArgumentException(sorted.get(i - 1) + " and " + w + " both wrote " + slot
                            + " with commit timestamp " + commitTs[i] + ": the version order is undefined");
                }
                lastDead[i] = alive[i] ? (i > 0 ? lastDead[i - 1] : -1) : i;
                index.put(w, i);
            }
            writers.clear();
            writers.addAll(sorted);
        }

        int indexOf(TxnRecord writer) {
            return index.get(writer);
        }

        /** G5: the latest dead version at or before {@code reader}'s snapshot, not its own; -1 if none. */
        int placeAbsent(TxnRecord reader) {
            int i = upperIndex(reader.snapshotTimestamp());
            int d = i >= 0 ? lastDead[i] : -1;
            while (d >= 0 && writers.get(d) == reader) {
                d = d > 0 ? lastDead[d - 1] : -1;
            }
            if (d < 0) {
                initialSeenDead = true; // G6
            }
            return d;
        }

        /** The last index with a commit timestamp at or below {@code ts}, or -1. */
        private int upperIndex(long ts) {
            int i = Arrays.binarySearch(commitTs, ts);
            return i >= 0 ? i : -i - 2;
        }

        /** After every read is placed (G6 needs them all): which versions change the matches. */
        void indexMatchChanges() {
            int n = writers.size();
            Boolean initialAlive = initialSeenAlive ? Boolean.TRUE : initialSeenDead ? Boolean.FALSE : null;
            lastChange = new int[n];
            firstChangeAfter = new int[n + 1];
            for (int i = 0; i < n; i++) {
                boolean changes = i == 0 ? initialAlive == null || initialAlive != alive[0] : alive[i - 1] != alive[i];
                lastChange[i] = changes ? i : (i > 0 ? lastChange[i - 1] : -1);
            }
            int next = -1;
            for (int i = n - 1; i >= -1; i--) {
                firstChangeAfter[i + 1] = next;
                if (i >= 0 && lastChange[i] == i) {
                    next = i;
                }
            }
        }

        int lastMatchChangeAtOrBefore(int position) {
            return position >= 0 ? lastChange[position] : -1;
        }

        int firstMatchChangeAfter(int position) {
            return firstChangeAfter[position + 1];
        }
    }

    // ---- cycle search (D1, D2) -----------------------------------------------------------------

    /** Some cycle as node indexes in edge order, or null if the graph is acyclic (D1). */
    private int[] anyCycle() {
        int n = committed.size();
        byte[] state = new byte[n]; // 0 unvisited, 1 on the path, 2 done
        int[] path = new int[n];
        List<Iterator<Integer>> next = new ArrayList<>(Collections.nCopies(n, null));
        for (int start = 0; start < n; start++) {
            if (state[start] != 0) {
                continue;
            }
            int depth = 0;
            path[0] = start;
            next.set(0, successors(start).iterator());
            state[start] = 1;
            while (depth >= 0) {
                int node = path[depth];
                if (next.get(depth).hasNext()) {
                    int child = next.get(depth).next();
                    if (state[child] == 1) {
                        int from = depth;
                        while (path[from] != child) {
                            from--;
                        }
                        return Arrays.copyOfRange(path, from, depth + 1);
                    }
                    if (state[child] == 0) {
                        state[child] = 1;
                        path[++depth] = child;
                        next.set(depth, successors(child).iterator());
                    }
                } else {
                    state[node] = 2;
                    next.set(depth, null);
                    depth--;
                }
            }
        }
        return null;
    }

    /** The shortest cycle through {@code start} (breadth-first), or null if none (D2). */
    private int[] shortestCycleThrough(int start) {
        int n = committed.size();
        int[] parent = new int[n];
        Arrays.fill(parent, -2);
        int[] queue = new int[n];
        int head = 0;
        int tail = 0;
        queue[tail++] = start;
        parent[start] = -1;
        while (head < tail) {
            int node = queue[head++];
            for (int child : successors(node)) {
                if (child == start) {
                    int length = 1;
                    for (int x = node; x != start; x = parent[x]) {
                        length++;
                    }
                    int[] cycle = new int[length];
                    int i = length - 1;
                    for (int x = node; x != start; x = parent[x]) {
                        cycle[i--] = x;
                    }
                    cycle[0] = start;
                    return cycle;
                }
                if (parent[child] == -2) {
                    parent[child] = node;
                    queue[tail++] = child;
                }
            }
        }
        return null;
    }

    private Collection<Integer> successors(int node) {
        Map<Integer, Dependency> edges = out.get(node);
        return edges == null ? List.of() : edges.keySet();
    }
}
