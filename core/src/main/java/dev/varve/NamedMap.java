// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import dev.varve.internal.mvcc.MapIndex;
import java.util.Comparator;
import java.util.function.UnaryOperator;

/**
 * A handle to one named map of a {@link Database}, from {@link Database#openMap(String)}: a map
 * with its own key type, value type and key order, in the same database as every other map, so
 * that one transaction spans them. Read and write it in a transaction through {@link
 * Transaction#map(NamedMap)}, in a snapshot through {@link Snapshot#map(NamedMap)}, or with the
 * autocommit methods here, which behave exactly as {@link Database}'s do on the default map
 * (each is a transaction of its own that never aborts).
 *
 * <p>Thread-safe: a handle may be shared by any number of threads. Two handles of the same map
 * (opened twice) are equal. Once the map is dropped ({@link Database#dropMap(String)}) every
 * method but {@link #name()} throws {@link IllegalStateException}; once the database is closed,
 * so does every read and write.
 *
 * <p>Keys and values are never {@code null} ({@link NullPointerException}).
 *
 * @param <K> the map's key type
 * @param <V> the map's value type
 */
public final class NamedMap<K, V> {
    private final Database<?, ?> db;
    private final MapOps<K, V> ops;
    private final MapIndex<K, V> map;

    NamedMap(Database<?, ?> db, MapOps<K, V> ops, MapIndex<K, V> map) {
        this.db = db;
        this.ops = ops;
        this.map = map;
    }

    /**
     * The map's name.
     *
     * @return the name given to {@link Database#openMap(String)}
     */
    public String name() {
        return map.name();
    }

    /**
     * The map's key order.
     *
     * @return the comparator it was opened with, or {@code null} for natural ordering
     */
    public Comparator<? super K> comparator() {
        return map.userComparator();
    }

    /**
     * Whether the map was dropped.
     *
     * @return true once {@link Database#dropMap(String)} dropped it
     */
    public boolean isDropped() {
        return map.isDropped();
    }

    /** The engine's map (for transactions and snapshots of the same database). */
    MapIndex<K, V> index() {
        return map;
    }

    /** The database this handle belongs to. */
    Database<?, ?> database() {
        return db;
    }

    /**
     * The latest committed value of {@code key} (see {@link Database#get}).
     *
     * @param key the key
     * @return the value, or {@code null} if absent
     * @throws NullPointerException if {@code key} is null
     * @throws ClassCastException if {@code key} cannot be compared with the map's keys
     * @throws IllegalStateException if the database is closed or the map was dropped
     */
    public V get(K key) {
        return ops.get(key);
    }

    /**
     * Whether {@code key} has a committed value now.
     *
     * @param key the key
     * @return true if {@link #get} would return a value
     * @throws NullPointerException if {@code key} is null
     * @throws ClassCastException if {@code key} cannot be compared with the map's keys
     * @throws IllegalStateException if the database is closed or the map was dropped
     */
    public boolean containsKey(K key) {
        return ops.containsKey(key);
    }

    /**
     * Sets {@code key} to {@code value} in a transaction of its own (see {@link Database#put}).
     *
     * @param key the key
     * @param value the value
     * @return the previous value, or {@code null} if absent
     * @throws NullPointerException if {@code key} or {@code value} is null
     * @throws ClassCastException if {@code key} cannot be compared with the map's keys
     * @throws TransactionException if the commit log failed
     * @throws IllegalStateException if the database is closed or read-only, or the map was dropped
     */
    public V put(K key, V value) {
        return ops.put(key, value);
    }

    /**
     * Removes {@code key} in a transaction of its own (see {@link Database#remove(Object)}).
     *
     * @param key the key
     * @return the removed value, or {@code null} if it was absent (then nothing is written)
     * @throws NullPointerException if {@code key} is null
     * @throws ClassCastException if {@code key} cannot be compared with the map's keys
     * @throws TransactionException if the commit log failed
     * @throws IllegalStateException if the database is closed or read-only, or the map was dropped
     */
    public V remove(K key) {
        return ops.remove(key);
    }

    /**
     * Sets {@code key} to {@code value} only if it is absent, atomically.
     *
     * @param key the key
     * @param value the value
     * @return the existing value (and nothing was written), or {@code null} if {@code value} was
     *     stored
     * @throws NullPointerException if {@code key} or {@code value} is null
     * @throws ClassCastException if {@code key} cannot be compared with the map's keys
     * @throws TransactionException if the commit log failed
     * @throws IllegalStateException if the database is closed or read-only, or the map was dropped
     */
    public V putIfAbsent(K key, V value) {
        return ops.putIfAbsent(key, value);
    }

    /**
     * Sets {@code key} to {@code value} only if it is present, atomically.
     *
     * @param key the key
     * @param value the new value
     * @return the previous value, or {@code null} if the key was absent (nothing was written)
     * @throws NullPointerException if {@code key} or {@code value} is null
     * @throws ClassCastException if {@code key} cannot be compared with the map's keys
     * @throws TransactionException if the commit log failed
     * @throws IllegalStateException if the database is closed or read-only, or the map was dropped
     */
    public V replace(K key, V value) {
        return ops.replace(key, value);
    }

    /**
     * Sets {@code key} to {@code newValue} only if its value equals {@code expected}, atomically
     * (compare-and-set).
     *
     * @param key the key
     * @param expected the value the key must have
     * @param newValue the new value
     * @return whether the value was replaced
     * @throws NullPointerException if any argument is null
     * @throws ClassCastException if {@code key} cannot be compared with the map's keys
     * @throws TransactionException if the commit log failed
     * @throws IllegalStateException if the database is closed or read-only, or the map was dropped
     */
    public boolean replace(K key, V expected, V newValue) {
        return ops.replace(key, expected, newValue);
    }

    /**
     * Removes {@code key} only if its value equals {@code expected}, atomically.
     *
     * @param key the key
     * @param expected the value the key must have
     * @return whether the key was removed
     * @throws NullPointerException if {@code key} or {@code expected} is null
     * @throws ClassCastException if {@code key} cannot be compared with the map's keys
     * @throws TransactionException if the commit log failed
     * @throws IllegalStateException if the database is closed or read-only, or the map was dropped
     */
    public boolean remove(K key, V expected) {
        return ops.remove(key, expected);
    }

    /**
     * Replaces the value of {@code key} with {@code update.apply(current)} atomically (see {@link
     * Database#compute}); {@code update} runs once, while the key is latched.
     *
     * @param key the key
     * @param update computes the new value from the current one ({@code null}: absent / remove)
     * @return the new value, or {@code null} if the key is now absent
     * @throws NullPointerException if {@code key} or {@code update} is null
     * @throws ClassCastException if {@code key} cannot be compared with the map's keys
     * @throws TransactionException if the commit log failed
     * @throws IllegalStateException if the database is closed or read-only, or the map was dropped
     */
    public V compute(K key, UnaryOperator<V> update) {
        return ops.compute(key, update);
    }

    /**
     * Two handles are equal if they are handles of the same map (of the same database).
     *
     * @param o another object
     * @return true for a handle of the same map
     */
    @Override
    public boolean equals(Object o) {
        return o instanceof NamedMap<?, ?> other && other.map == map;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(map);
    }

    @Override
    public String toString() {
        return "NamedMap[" + map.name() + (map.isDropped() ? ", dropped" : "") + "]";
    }
}
