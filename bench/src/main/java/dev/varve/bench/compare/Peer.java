// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench.compare;

/**
 * One store under comparison, reduced to the operations the comparison workloads need, on
 * {@code long} keys and values. Implementations state their isolation honestly in {@link
 * #isolation()}.
 */
public interface Peer extends AutoCloseable {

    /** Short name for the table, e.g. {@code "RocksDB-OCC"}. */
    String name();

    /** What the multi-key operations guarantee, in one phrase. */
    String isolation();

    /** Inserts keys {@code base .. base + count - 1}, each with {@code value}, in batches. */
    void load(long base, long count, long value);

    /**
     * Inserts {@code base + offsets[i]} for every {@code i}, in that order (the caller shuffles),
     * each with {@code value}, in one transaction; a peer without transactions just puts them.
     */
    void insertAll(long base, long[] offsets, long value);

    /** The value of {@code key} (autocommit read), or -1 if absent. */
    long get(long key);

    /** Sets {@code key} (autocommit blind write). */
    void put(long key, long value);

    /**
     * Moves {@code amount} from {@code from} to {@code to} in one transaction, if {@code from}
     * holds enough.
     *
     * @return false if the transaction aborted on a conflict (the caller retries)
     */
    boolean transfer(long from, long to, long amount);

    /** Reads {@code n} consecutive entries from {@code from} on in one consistent read; their sum. */
    long scan(long from, int n);

    /** The sum of the values of keys {@code base .. base + count - 1}, read consistently. */
    long sum(long base, long count);

    @Override
    void close();
}
