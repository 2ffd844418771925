// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

/**
 * A key of a named map where keys of several maps are held together (the ring of recent writes,
 * vacuum's lists of keys to visit): the default map's keys are held bare, every other map's keys
 * in a MapKey (MapIndex M2). Immutable.
 *
 * @param map the key's map (never the default map)
 * @param key the key
 */
public record MapKey(MapIndex<?, ?> map, Object key) {
    @Override
    public String toString() {
        return map.name() + ":" + key;
    }
}
