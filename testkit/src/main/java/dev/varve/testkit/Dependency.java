// SPDX-License-Identifier: Apache-2.0
package dev.varve.testkit;

import java.util.Objects;

/**
 * An edge of the direct serialization graph: {@code to} must come after {@code from} in any
 * serial order equivalent to the history, because of what the two did to one key: the direct
 * write-, read- and anti-dependencies, predicate-based ones included, of Adya, Liskov and O'Neil,
 * "Generalized Isolation Level Definitions", ICDE 2000, and of Adya's thesis, "Weak Consistency:
 * A Generalized Theory and Optimistic Implementations for Distributed Transactions", MIT, 1999.
 *
 * <p>Printed as {@code "T3 -rw(key 7)-> T5"}; a key of a named map as {@code "key 7 in
 * orders"}.
 *
 * @param from the transaction that must come first
 * @param to the transaction that must come after it
 * @param kind why
 * @param map the name of the key's map ({@link TxnRecord#DEFAULT_MAP} for the default map)
 * @param key the key
 * @param predicate for a predicate dependency, the read it comes from, e.g. {@code "scan [0,
 *     10)"} or {@code "read absent"}; null for the other kinds
 */
public record Dependency(TxnRecord from, TxnRecord to, Kind kind, String map, Object key, String predicate) {
    /** The kinds of direct dependency. */
    public enum Kind {
        /** {@code to} wrote the version of the key after {@code from}'s (a write dependency). */
        WW("ww"),
        /** {@code to} read the version {@code from} wrote (a read dependency). */
        WR("wr"),
        /**
         * {@code to} wrote the version after the one {@code from} read: {@code from} did not see
         * it (an anti-dependency).
         */
        RW("rw"),
        /**
         * {@code to} read, through a predicate (a scan, or a read that found the key absent), a
         * state of the key that {@code from}'s write made, by inserting or removing it (a
         * predicate read dependency).
         */
        PREDICATE_WR("predicate wr"),
        /**
         * {@code to} inserted or removed a key that matched {@code from}'s predicate read (a scan
         * of a range holding it, or a read that found it absent) differently in {@code from}'s
         * snapshot: a phantom (a predicate anti-dependency).
         */
        PREDICATE_RW("predicate rw");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        /**
         * The kind as printed.
         *
         * @return {@code "ww"}, {@code "wr"}, {@code "rw"}, {@code "predicate wr"} or {@code
         *     "predicate rw"}
         */
        public String label() {
            return label;
        }

        /** Whether the kind is an anti-dependency (item or predicate). */
        boolean isAnti() {
            return this == RW || this == PREDICATE_RW;
        }
    }

    /**
     * Checks the components.
     *
     * @param from the transaction that must come first
     * @param to the transaction that must come after it
     * @param kind why
     * @param map the key's map
     * @param key the key
     * @param predicate the predicate read, or null
     * @throws NullPointerException if an argument but {@code predicate} is null
     */
    public Dependency {
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(map, "map");
        Objects.requireNonNull(key, "key");
    }

    /**
     * The edge's label, e.g. {@code "rw(key 7)"} or {@code "predicate rw(key 4, scan [0, 10))"}.
     *
     * @return the kind, the key and, for a predicate dependency, the predicate read
     */
    public String label() {
        String k = new TxnRecord.Slot(map, key).toString();
        return kind.label() + "(" + k + (predicate == null ? "" : ", " + predicate) + ")";
    }

    /**
     * The edge as printed, e.g. {@code "T3 -rw(key 7)-> T5"}.
     *
     * @return the two transactions' ids and the label
     */
    @Override
    public String toString() {
        return "T" + from.id() + " -" + label() + "-> T" + to.id();
    }
}
