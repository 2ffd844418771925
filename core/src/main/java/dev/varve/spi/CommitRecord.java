// SPDX-License-Identifier: Apache-2.0
package dev.varve.spi;

/**
 * The writes of one committed transaction, and its commit timestamp: what a {@link CommitLog}
 * persists and what recovery replays. A commit may write several maps of its database (named
 * maps): its writes are ordered by map id, then by key in that map's order.
 *
 * <p>Immutable and safe to read from any thread once handed to {@link CommitLog#append}.
 *
 * @param <K> key type
 * @param <V> value type
 */
public interface CommitRecord<K, V> {

    /**
     * The commit timestamp: the position of this commit in the total commit order (starts at 1,
     * strictly increasing, no gaps among read-write commits of one database lifetime are
     * promised).
     *
     * @return the commit timestamp
     */
    long commitTimestamp();

    /**
     * How many keys this commit wrote.
     *
     * @return the number of writes, at least 1
     */
    int size();

    /**
     * The key of the {@code i}-th write. For a write to the default map ({@code map(i) == 0}) a
     * {@code K}; for a write to a named map, a key of that map's key type, which the log encodes
     * with that map's key codec (the type parameter is the default map's).
     *
     * @param i index, {@code 0 <= i < size()}
     * @return the key, never {@code null}
     * @throws IndexOutOfBoundsException if {@code i} is out of range
     */
    K key(int i);

    /**
     * The value of the {@code i}-th write, or {@code null} for a tombstone (the key was removed);
     * of the default map's value type or of its named map's, as for {@link #key}.
     *
     * @param i index, {@code 0 <= i < size()}
     * @return the value, or {@code null} for a removal
     * @throws IndexOutOfBoundsException if {@code i} is out of range
     */
    V value(int i);

    /**
     * The map the {@code i}-th write belongs to: 0 for the database's default map, the named
     * map's id otherwise (ids are given in the order maps are first opened and never reused).
     *
     * @param i index, {@code 0 <= i < size()}
     * @return the map id, at least 0
     * @throws IndexOutOfBoundsException if {@code i} is out of range (implementations that
     *     hold only default-map writes may not check)
     */
    default int map(int i) {
        return 0;
    }
}
