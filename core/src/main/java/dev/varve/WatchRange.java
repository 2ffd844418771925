// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import dev.varve.internal.mvcc.ChangeFeed;
import java.util.Objects;

/**
 * A key range of one map, for a change feed over several ranges and maps ({@link
 * Database#watch(java.util.List, long, java.util.concurrent.Executor, int)}): keys from {@code
 * fromKey} (inclusive) to {@code toKey} (exclusive); a null end is unbounded. Immutable.
 */
public final class WatchRange {
    private final NamedMap<?, ?> map;
    private final Object fromKey;
    private final Object toKey;

    private WatchRange(NamedMap<?, ?> map, Object fromKey, Object toKey) {
        this.map = map;
        this.fromKey = fromKey;
        this.toKey = toKey;
    }

    /**
     * The keys in [{@code fromKey}, {@code toKey}) of {@code map}.
     *
     * @param map the map
     * @param fromKey the first key, or null for the map's first
     * @param toKey the key after the last, or null for no end
     * @param <K> the map's key type
     * @return the range
     * @throws NullPointerException if {@code map} is null
     */
    public static <K> WatchRange of(NamedMap<K, ?> map, K fromKey, K toKey) {
        return new WatchRange(Objects.requireNonNull(map, "map"), fromKey, toKey);
    }

    /**
     * Every key of {@code map}.
     *
     * @param map the map
     * @return the range
     * @throws NullPointerException if {@code map} is null
     */
    public static WatchRange all(NamedMap<?, ?> map) {
        return new WatchRange(Objects.requireNonNull(map, "map"), null, null);
    }

    /**
     * The keys in [{@code fromKey}, {@code toKey}) of the database's default map; both null
     * for all of it.
     *
     * @param fromKey the first key, or null for the map's first
     * @param toKey the key after the last, or null for no end
     * @return the range
     */
    public static WatchRange ofDefaultMap(Object fromKey, Object toKey) {
        return new WatchRange(null, fromKey, toKey);
    }

    /** The engine's range, checked against {@code db}. */
    ChangeFeed.Range range(Database<?, ?> db) {
        if (map == null) {
            return new ChangeFeed.Range(db.store().defaultMap(), fromKey, toKey);
        }
        if (map.database() != db) {
            throw new IllegalArgumentException("map '" + map.name() + "' belongs to another database");
        }
        return new ChangeFeed.Range(map.index(), fromKey, toKey);
    }

    @Override
    public String toString() {
        return (map == null ? "default map" : "map '" + map.name() + "'") + " [" + (fromKey == null ? "first" : fromKey)
                + ", " + (toKey == null ? "end" : toKey) + ")";
    }
}
