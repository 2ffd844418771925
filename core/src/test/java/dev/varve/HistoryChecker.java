// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Adya's direct serialization graph over a recorded history, and a cycle search. Transactions
 * write values that name the writer ({@code "<txnId>"}), so every read says which version it
 * saw. Version order per key is the writers' commit order. Edges: ww (consecutive writers), wr
 * (writer → reader), rw (reader of a version → the writer of the next version), and predicate
 * rw (a scan of a range → a writer that inserted a key into the range after the scan's snapshot).
 * Deletes are not used, so a key absent at a snapshot has no version yet.
 */
final class HistoryChecker {
    static final long INITIAL = 0; // the writer id of preloaded versions

    /** One committed transaction of the history. */
    static final class Txn {
        final long id;
        long snapshotTs;
        long commitTs;
        final Map<Integer, Long> reads = new HashMap<>(); // key -> writer id, -1 if absent
        final List<int[]> scans = new ArrayList<>(); // [low, high) ranges scanned
        final List<Integer> writes = new ArrayList<>();
        final Map<Integer, Long> writtenValues = new HashMap<>(); // optional, for invariant replay

        Txn(long id) {
            this.id = id;
        }

        @Override
        public String toString() {
            return "T" + id + "(s=" + snapshotTs + ", c=" + commitTs + ", reads=" + reads + ", scans="
                    + scans.stream().map(r -> "[" + r[0] + "," + r[1] + ")").toList() + ", writes=" + writes + ")";
        }
    }

    private final Map<Long, Txn> byId = new HashMap<>();
    private final Map<Long, List<Long>> edges = new HashMap<>();
    private final Map<String, String> edgeKinds = new HashMap<>();

    HistoryChecker(List<Txn> committed) {
        for (Txn t : committed) {
            byId.put(t.id, t);
        }
        // Version order: key -> commitTs -> writer, over read-write transactions.
        Map<Integer, TreeMap<Long, Txn>> versions = new HashMap<>();
        for (Txn t : committed) {
            for (int key : t.writes) {
                versions.computeIfAbsent(key, k -> new TreeMap<>()).put(t.commitTs, t);
            }
        }
        for (TreeMap<Long, Txn> order : versions.values()) {
            Txn previous = null;
            for (Txn w : order.values()) {
                if (previous != null) {
                    addEdge(previous, w, "ww");
                }
                previous = w;
            }
        }
        for (Txn t : committed) {
            for (Map.Entry<Integer, Long> read : t.reads.entrySet()) {
                TreeMap<Long, Txn> order = versions.getOrDefault(read.getKey(), new TreeMap<>());
                long writer = read.getValue();
                long afterTs;
                if (writer > INITIAL) {
                    Txn w = byId.get(writer);
                    if (w == null) {
                        throw new AssertionError(t + " read a version by T" + writer + ", which did not commit (G1a)");
                    }
                    addEdge(w, t, "wr");
                    afterTs = w.commitTs;
                } else {
                    afterTs = Long.MIN_VALUE; // the initial version, or no version yet
                }
                Map.Entry<Long, Txn> next = order.higherEntry(afterTs);
                if (next != null && next.getValue() != t) {
                    addEdge(t, next.getValue(), "rw(key " + read.getKey() + ")");
                }
            }
            for (int[] range : t.scans) {
                for (int key = range[0]; key < range[1]; key++) {
                    TreeMap<Long, Txn> order = versions.get(key);
                    if (order == null || t.reads.containsKey(key)) {
                        continue; // item reads already gave the edges of keys it saw
                    }
                    Map.Entry<Long, Txn> insert = order.firstEntry(); // key absent in the snapshot
                    if (insert.getValue() != t && insert.getKey() > t.snapshotTs) {
                        addEdge(t, insert.getValue(), "rw(predicate, key " + key + ")");
                    }
                }
            }
        }
    }

    private void addEdge(Txn from, Txn to, String kind) {
        if (from == to) {
            return;
        }
        edges.computeIfAbsent(from.id, k -> new ArrayList<>()).add(to.id);
        edgeKinds.putIfAbsent(from.id + "->" + to.id, kind);
    }

    /** A cycle as a readable string, or null if the graph is acyclic. */
    String findCycle() {
        Map<Long, Integer> state = new HashMap<>(); // 1 = on stack, 2 = done
        for (Long start : byId.keySet()) {
            if (state.containsKey(start)) {
                continue;
            }
            // Iterative DFS keeping the path, to survive long histories.
            List<Long> path = new ArrayList<>();
            List<Integer> nextChild = new ArrayList<>();
            path.add(start);
            nextChild.add(0);
            state.put(start, 1);
            while (!path.isEmpty()) {
                int top = path.size() - 1;
                long node = path.get(top);
                List<Long> out = edges.getOrDefault(node, List.of());
                int i = nextChild.get(top);
                if (i < out.size()) {
                    nextChild.set(top, i + 1);
                    long child = out.get(i);
                    Integer s = state.get(child);
                    if (s == null) {
                        state.put(child, 1);
                        path.add(child);
                        nextChild.add(0);
                    } else if (s == 1) {
                        return describe(path.subList(path.indexOf(child), path.size()), child);
                    }
                } else {
                    state.put(node, 2);
                    path.remove(top);
                    nextChild.remove(top);
                }
            }
        }
        return null;
    }

    private String describe(List<Long> cycle, long back) {
        StringBuilder sb = new StringBuilder("cycle:");
        for (int i = 0; i < cycle.size(); i++) {
            long from = cycle.get(i);
            long to = i + 1 < cycle.size() ? cycle.get(i + 1) : back;
            sb.append("\n  ")
                    .append(byId.get(from))
                    .append(" --")
                    .append(edgeKinds.get(from + "->" + to))
                    .append("-->");
        }
        return sb.toString();
    }
}
