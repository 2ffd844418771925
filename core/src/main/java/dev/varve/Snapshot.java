// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import java.util.NavigableMap;

/**
 * A read-only, consistent view of a {@link Database} at one snapshot timestamp: it never changes
 * while held, never blocks writers and never aborts. Returned by {@link Database#snapshot()} and
 * {@link Database#snapshot(Isolation)}: a snapshot-isolation view, or with {@link
 * Isolation#SERIALIZABLE} one at a safe snapshot, which can show no serialization anomaly.
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

    /**
     * A read-only view of the named map {@code map} at this snapshot's timestamp, the one every
     * map of the snapshot is read at (writes throw {@link UnsupportedOperationException}).
     *
     * @param map a handle from {@link Database#openMap(String)} of this snapshot's database
     * @param <K2> the map's key type
     * @param <V2> the map's value type
     * @return the view (it keeps this snapshot reachable: the snapshot stays pinned while it is)
     * @throws NullPointerException if {@code map} is null
     * @throws IllegalArgumentException if {@code map} belongs to another database
     * @throws IllegalStateException if the snapshot is closed, or the map was dropped (also
     *     thrown by the view's later uses once it is dropped)
     */
    <K2, V2> NavigableMap<K2, V2> map(NamedMap<K2, V2> map);

    /** Releases the snapshot's pin on old versions. Idempotent. */
    @Override
    void close();
}
