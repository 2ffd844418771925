// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench.tpcc;

/**
 * One TPC-C table (or secondary index) as seen by one transaction or snapshot: rows of type
 * {@code R} under the table's own {@code long} keys ({@link TpccKeys}), typed so that no read is
 * cast by the workload. Obtained from {@link TpccTables}; {@link NamedMapStore} backs it with the
 * table's own named map, {@link PrefixedStore} with a range of one shared map.
 *
 * <p>Ranges are closed ({@code from} and {@code to} both included) and are read exactly as a
 * {@code subMap(from, true, to, true)} of the transaction's map view would be: in a SERIALIZABLE
 * transaction every range traversed is tracked, and a point read of an absent key is tracked too.
 * Writes are buffered in the transaction; through a snapshot they throw {@link
 * UnsupportedOperationException}. Used by one thread at a time, like its transaction; valid only
 * while the transaction or snapshot is open.
 *
 * @param <R> the table's row type
 */
interface TpccTable<R> {
    /** What {@link #firstKey} and {@link #lastKey} return for an empty range: no key is negative. */
    long NONE = -1;

    /**
     * The row of {@code key}.
     *
     * @param key a key of this table
     * @return the row, or null if absent (such as an unused item number)
     */
    R get(long key);

    /**
     * Sets the row of {@code key} at commit. Whether this also reads the previous row (and so adds
     * {@code key} to a SERIALIZABLE read set) depends on the layout: the single map writes blind,
     * a named map's view reads first.
     *
     * @param key a key of this table
     * @param row the row (not null)
     * @throws UnsupportedOperationException through a snapshot
     */
    void put(long key, R row);

    /**
     * Removes the row of {@code key} at commit (blind or reading first, as for {@link #put}).
     *
     * @param key a key of this table
     * @throws UnsupportedOperationException through a snapshot
     */
    void remove(long key);

    /**
     * The smallest key in {@code [from, to]}.
     *
     * @param from the lowest key of the range
     * @param to the highest key of the range (not below {@code from})
     * @return the key, or {@link #NONE} if the range is empty
     */
    long firstKey(long from, long to);

    /**
     * The largest key in {@code [from, to]}.
     *
     * @param from the lowest key of the range
     * @param to the highest key of the range (not below {@code from})
     * @return the key, or {@link #NONE} if the range is empty
     */
    long lastKey(long from, long to);

    /**
     * The rows in {@code [from, to]} in key order, read lazily as the iteration goes.
     *
     * @param from the lowest key of the range
     * @param to the highest key of the range (not below {@code from})
     * @return the rows (iterate once, while the transaction is open)
     */
    Iterable<R> values(long from, long to);

    /**
     * Hands every (key, row) in {@code [from, to]} to {@code visitor}, in key order.
     *
     * @param from the lowest key of the range
     * @param to the highest key of the range (not below {@code from})
     * @param visitor called once per row
     */
    void forEach(long from, long to, RowVisitor<? super R> visitor);

    /**
     * The number of rows in {@code [from, to]} (traverses the range).
     *
     * @param from the lowest key of the range
     * @param to the highest key of the range (not below {@code from})
     * @return the count
     */
    long count(long from, long to);

    /**
     * Receives the rows of a range scan.
     *
     * @param <R> the row type
     */
    @FunctionalInterface
    interface RowVisitor<R> {
        /**
         * One row of the range.
         *
         * @param key the row's key (of its table, untagged)
         * @param row the row
         */
        void visit(long key, R row);
    }
}
