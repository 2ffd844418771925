package dev.varve.spi;

/**
 * The writes of one committed transaction, in key order, and its commit timestamp: what a {@link
 * CommitLog} persists and what recovery replays.
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
     * The key of the {@code i}-th write, in the database's key order.
     *
     * @param i index, {@code 0 <= i < size()}
     * @return the key, never {@code null}
     * @throws IndexOutOfBoundsException if {@code i} is out of range
     */
    K key(int i);

    /**
     * The value of the {@code i}-th write, or {@code null} for a tombstone (the key was removed).
     *
     * @param i index, {@code 0 <= i < size()}
     * @return the value, or {@code null} for a removal
     * @throws IndexOutOfBoundsException if {@code i} is out of range
     */
    V value(int i);
}
