// SPDX-License-Identifier: Apache-2.0
package dev.varve.testkit;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The verdict of {@link History#check()}: whether the committed transactions are serializable
 * (Adya's PL-3: no cycle in the direct serialization graph and no aborted or intermediate read),
 * and if not, why — one cycle, as short as the search could find, printed as the transactions
 * and the keys and kinds of its edges:
 *
 * <pre>
 * not serializable: a cycle of 2 transactions (G2-item: a cycle of item anti-dependencies)
 *   T1 -rw(key 1)-&gt; T2 -rw(key 0)-&gt; T1
 *   T1 (snapshot 2, commit 3): read key 0 initial, read key 1 initial, write key 0
 *   T2 (snapshot 2, commit 4): read key 0 initial, read key 1 initial, write key 1
 * </pre>
 *
 * <p>Immutable and thread-safe.
 */
public final class CheckResult {
    private final int committed;
    private final List<Dependency> cycle;
    private final List<Anomaly> anomalies;

    CheckResult(int committed, List<Dependency> cycle, List<Anomaly> anomalies) {
        this.committed = committed;
        this.cycle = List.copyOf(cycle);
        this.anomalies = List.copyOf(anomalies);
    }

    /**
     * Whether the history is serializable: no cycle and no anomaly.
     *
     * @return true if some serial order of the committed transactions explains every read
     */
    public boolean serializable() {
        return cycle.isEmpty() && anomalies.isEmpty();
    }

    /**
     * A cycle of the direct serialization graph: each edge's {@link Dependency#to()} is the next
     * edge's {@link Dependency#from()}, and the last edge returns to the first's.
     *
     * @return the cycle's edges, or an empty list if the graph is acyclic
     */
    public List<Dependency> cycle() {
        return cycle;
    }

    /**
     * The aborted (G1a) and intermediate (G1b) reads of committed transactions.
     *
     * @return the anomalies, in the order of the readers' ids; empty if none
     */
    public List<Anomaly> anomalies() {
        return anomalies;
    }

    /**
     * How many committed transactions the history held.
     *
     * @return the number of committed transactions checked
     */
    public int committedTransactions() {
        return committed;
    }

    /**
     * The cycle on one line, e.g. {@code "T3 -rw(key 7)-> T5 -rw(key 9)-> T3"}.
     *
     * @return the cycle, or an empty string if there is none
     */
    public String cycleText() {
        if (cycle.isEmpty()) {
            return "";
        }
        StringBuilder sb = new StringBuilder("T").append(cycle.get(0).from().id());
        for (Dependency d : cycle) {
            sb.append(" -").append(d.label()).append("-> T").append(d.to().id());
        }
        return sb.toString();
    }

    /**
     * Adya's name for the cycle's phenomenon: {@code "G0"} (write dependencies only), {@code
     * "G1c"} (write and read dependencies), {@code "G-single"} (exactly one anti-dependency),
     * {@code "G2-item"} (item anti-dependencies) or {@code "G2"} (a predicate anti-dependency).
     *
     * @return the name, or null if there is no cycle
     */
    public String cyclePhenomenon() {
        if (cycle.isEmpty()) {
            return null;
        }
        int anti = 0;
        boolean predicateAnti = false;
        boolean reads = false;
        for (Dependency d : cycle) {
            if (d.kind().isAnti()) {
                anti++;
                predicateAnti |= d.kind() == Dependency.Kind.PREDICATE_RW;
            } else if (d.kind() != Dependency.Kind.WW) {
                reads = true;
            }
        }
        if (anti == 0) {
            return reads ? "G1c" : "G0";
        }
        if (anti == 1) {
            return "G-single";
        }
        return predicateAnti ? "G2" : "G2-item";
    }

    /**
     * Throws unless the history is serializable; for tests: {@code
     * recorder.check().assertSerializable()}.
     *
     * @return this result, if serializable
     * @throws AssertionError with {@link #toString()} as its message, if not serializable
     */
    public CheckResult assertSerializable() {
        if (!serializable()) {
            throw new AssertionError(toString());
        }
        return this;
    }

    /**
     * The verdict as printed: a line saying whether the history is serializable, then the cycle
     * and each of its transactions with its operations, then each anomaly.
     *
     * @return the verdict in words
     */
    @Override
    public String toString() {
        if (serializable()) {
            return "serializable: " + committed
                    + (committed == 1 ? " committed transaction" : " committed transactions")
                    + ", no cycle in the direct serialization graph";
        }
        StringBuilder sb = new StringBuilder("not serializable:");
        if (!cycle.isEmpty()) {
            sb.append(" a cycle of ")
                    .append(cycle.size())
                    .append(cycle.size() == 1 ? " transaction (" : " transactions (")
                    .append(cyclePhenomenon())
                    .append(": ")
                    .append(phenomenonText(cyclePhenomenon()))
                    .append(")\n  ")
                    .append(cycleText());
            Set<TxnRecord> members = new LinkedHashSet<>();
            for (Dependency d : cycle) {
                members.add(d.from());
            }
            for (TxnRecord t : members) {
                sb.append("\n  ").append(t.describe());
            }
        }
        List<String> lines = new ArrayList<>();
        for (Anomaly a : anomalies) {
            lines.add(a.toString());
        }
        if (!lines.isEmpty()) {
            sb.append(cycle.isEmpty() ? " " : "\n  and ")
                    .append(lines.size())
                    .append(lines.size() == 1 ? " anomaly" : " anomalies");
            for (String line : lines) {
                sb.append("\n  ").append(line);
            }
        }
        return sb.toString();
    }

    private static String phenomenonText(String name) {
        switch (name) {
            case "G0":
                return "a cycle of write dependencies";
            case "G1c":
                return "a cycle of write and read dependencies";
            case "G-single":
                return "a cycle with one anti-dependency";
            case "G2-item":
                return "a cycle of item anti-dependencies";
            default:
                return "a cycle with a predicate anti-dependency, a phantom";
        }
    }
}
