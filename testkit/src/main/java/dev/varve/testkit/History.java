// SPDX-License-Identifier: Apache-2.0
package dev.varve.testkit;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A history of transactions, and the check whether its committed ones are serializable: Adya's
 * direct serialization graph (DSG) over their reads, writes and scans, searched for a cycle
 * (Adya, Liskov, O'Neil, "Generalized Isolation Level Definitions", ICDE 2000; Adya, "Weak
 * Consistency: A Generalized Theory and Optimistic Implementations for Distributed Transactions",
 * PhD thesis, MIT, 1999). A history is serializable (PL-3) if the DSG has no cycle and no committed
 * transaction read an aborted or intermediate write.
 *
 * <p>Get one from {@link HistoryRecorder#history()}, or build one: {@code new
 * History().add(TxnRecord.committed(1, 0, 1).read("x", TxnRecord.INITIAL).write("y").build())}.
 *
 * <p>The graph has an edge per direct dependency between two committed transactions (see {@link
 * Dependency.Kind}): ww between consecutive writers of a key, in commit-timestamp order; wr from
 * a writer to each reader of its version; rw from a reader to the writer of the key's next
 * version; and for predicate reads (scans, and reads that found a key absent), predicate wr and rw
 * edges from and to the writers whose insertions and removals changed what the predicate matched.
 *
 * <p><b>Thread-safety.</b> Thread-safe: transactions may be added from any number of threads, and
 * {@link #check()} checks those added before it began.
 */
public final class History {
    private final Map<Long, TxnRecord> byId = new LinkedHashMap<>(); // guarded by this

    /** An empty history. */
    public History() {}

    /**
     * Adds a transaction.
     *
     * @param txn the transaction
     * @return this history
     * @throws NullPointerException if {@code txn} is null
     * @throws IllegalArgumentException if the history holds a transaction with the same id
     */
    public synchronized History add(TxnRecord txn) {
        Objects.requireNonNull(txn, "txn");
        TxnRecord previous = byId.putIfAbsent(txn.id(), txn);
        if (previous != null) {
            throw new IllegalArgumentException(
                    "the history already holds a transaction T" + txn.id() + ": " + previous + "; ids must be unique");
        }
        return this;
    }

    /**
     * The transactions, committed and aborted.
     *
     * @return a copy, in the order they were added
     */
    public synchronized List<TxnRecord> transactions() {
        return new ArrayList<>(byId.values());
    }

    /**
     * Checks whether the committed transactions are serializable. Takes time and memory linear in
     * the size of the history, plus for each scan the number of written keys in its range.
     *
     * @return the verdict, with a cycle if there is one
     * @throws IllegalArgumentException if the history is malformed: a read names a writer that is
     *     not in the history or did not write that key, or a value written by a transaction that
     *     removed it; or two writers of one key have the same commit timestamp; or a scan's keys
     *     cannot be compared by its order (the message names the transactions and the key)
     */
    public CheckResult check() {
        return new SerializationGraph(transactions()).result();
    }

    @Override
    public synchronized String toString() {
        return "History[" + byId.size() + " transactions]";
    }
}
