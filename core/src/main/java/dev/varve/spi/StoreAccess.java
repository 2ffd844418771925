// SPDX-License-Identifier: Apache-2.0
package dev.varve.spi;

import java.util.function.BiConsumer;

/**
 * What a database lends its {@link CommitLog} while opening and running: a way to replay
 * recovered commits into the empty store, and a way to read a consistent image for a checkpoint.
 *
 * @param <K> key type
 * @param <V> value type
 */
public interface StoreAccess<K, V> {

    /**
     * Installs one recovered write during recovery. Only valid inside {@link
     * dev.varve.Durability#open}, from the opening thread, before the database is returned to
     * the user; commits must be replayed in increasing commit-timestamp order, and the writes of
     * one commit together.
     *
     * @param commitTimestamp the commit timestamp recorded in the log (or checkpoint)
     * @param key the key, not {@code null}
     * @param value the value, or {@code null} for a tombstone
     * @throws IllegalStateException if called after recovery ended, or with a commit timestamp
     *     lower than one already replayed
     * @throws NullPointerException if {@code key} is {@code null}
     */
    void replay(long commitTimestamp, K key, V value);

    /**
     * Tells the store, during recovery, that every commit up to {@code commitTimestamp} has been
     * recovered even if nothing was replayed at that timestamp (an empty checkpoint): the commit
     * clock continues above it. Same preconditions as {@link #replay}.
     *
     * @param commitTimestamp the timestamp recovery has covered
     * @throws IllegalStateException if called after recovery ended, or with a timestamp lower
     *     than one already replayed
     */
    void recoveredThrough(long commitTimestamp);

    /**
     * Reads every live key-value pair of one consistent snapshot, in key order, without blocking
     * readers or writers; the snapshot is pinned (vacuum keeps it) until the call returns.
     *
     * @param consumer receives each live pair; tombstones are skipped
     * @return the snapshot timestamp of the image: it holds every commit with a commit timestamp
     *     at or below it and none above
     * @throws IllegalStateException if the database is closed
     */
    long readSnapshot(BiConsumer<? super K, ? super V> consumer);

    /**
     * The comparator that orders keys in the store.
     *
     * @return the comparator; natural ordering is returned as a comparator too
     */
    java.util.Comparator<? super K> comparator();

    /**
     * Reads every live key-value pair of every map (the default map, id 0, first, then each
     * named map by ascending id) at one consistent snapshot, without blocking readers or writers.
     *
     * @param consumer receives each map's id, then its live pairs in that map's key order
     * @return the snapshot timestamp of the image (as {@link #readSnapshot(BiConsumer)})
     * @throws IllegalStateException if the database is closed
     */
    default long readSnapshot(MapSnapshotConsumer consumer) {
        consumer.beginMap(0);
        return readSnapshot((BiConsumer<K, V>) consumer::accept);
    }

    /** Receives a snapshot of every map ({@link #readSnapshot(MapSnapshotConsumer)}). */
    interface MapSnapshotConsumer {
        /**
         * The pairs that follow belong to map {@code mapId}.
         *
         * @param mapId 0 for the default map, a named map's id otherwise
         */
        void beginMap(int mapId);

        /**
         * One live pair of the current map.
         *
         * @param key the key (of the current map's key type)
         * @param value the value (of its value type)
         */
        void accept(Object key, Object value);
    }

    /**
     * Reports a failure in the log's background (a failed checkpoint, the log's own failure) to
     * the database's failure listener, if it has one. Thread-safe; returns at once (the listener
     * runs on its own thread). The default does nothing.
     *
     * @param kind what failed
     * @param failure why
     */
    default void backgroundFailure(dev.varve.Database.FailureKind kind, Throwable failure) {}
}
