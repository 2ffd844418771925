// SPDX-License-Identifier: Apache-2.0
package dev.varve;

/**
 * One write of a committed transaction, as a change feed delivers it ({@link
 * Database#watch(Object, Object, long)}): the key, its new value, or {@code null} if the commit
 * removed it, and the map it belongs to. Immutable.
 *
 * @param <K> key type
 * @param <V> value type
 * @param key the key written
 * @param value the new value, or null if the key was removed
 * @param map the map's name, or {@code ""} for the database's default map
 */
public record Change<K, V>(K key, V value, String map) {
    /**
     * A change of the default map.
     *
     * @param key the key written
     * @param value the new value, or null if the key was removed
     */
    public Change(K key, V value) {
        this(key, value, "");
    }

    /**
     * A change, checked.
     *
     * @param key the key written
     * @param value the new value, or null if the key was removed
     * @param map the map's name, or "" for the default map
     * @throws NullPointerException if {@code key} or {@code map} is null
     */
    public Change {
        java.util.Objects.requireNonNull(key, "key");
        java.util.Objects.requireNonNull(map, "map");
    }

    /**
     * Whether the commit removed the key.
     *
     * @return true if {@link #value()} is null
     */
    public boolean isRemoval() {
        return value == null;
    }
}
