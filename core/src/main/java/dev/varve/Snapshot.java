package dev.varve;

import java.util.NavigableMap;

/**
 * A read-only, consistent view of a {@link Database} at one snapshot timestamp: it never changes
 * while held, never blocks writers and never aborts. Returned by {@link Database#snapshot()}.
 *
 * <p>Writes ({@code put}, {@code remove}, {@code clear}, {@code pollFirstEntry}, iterator {@code
 * remove}, ...) throw {@link UnsupportedOperationException}. Iterators, sub-maps and descending
 * views read the same snapshot. Thread-safe for reading from any number of threads once
 * published safely. A snapshot pins the versions it can read (vacuum keeps them) until {@link
 * #close()}; an unreachable snapshot is released by the garbage collector eventually, but close
 * it to release it now. After {@code close()}, reads throw {@link IllegalStateException}.
 *
 * @param <K> key type
 * @param <V> value type
 */
public interface Snapshot<K, V> extends NavigableMap<K, V>, AutoCloseable {

    /**
     * The snapshot timestamp: this view holds exactly the commits with a commit timestamp at or
     * below it.
     *
     * @return the snapshot timestamp
     */
    long snapshotTimestamp();

    /** Releases the snapshot's pin on old versions. Idempotent. */
    @Override
    void close();
}
