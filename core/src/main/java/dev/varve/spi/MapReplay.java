// SPDX-License-Identifier: Apache-2.0
package dev.varve.spi;

/**
 * Receives a named map's recovered state when the map is opened ({@link CommitLog#openMap}): the
 * latest committed value of each key, with the commit timestamp that wrote it.
 *
 * @param <K> the map's key type
 * @param <V> the map's value type
 */
@FunctionalInterface
public interface MapReplay<K, V> {
    /**
     * One recovered key.
     *
     * @param commitTimestamp the commit timestamp of the key's latest write (at most the
     *     database's recovered timestamp)
     * @param key the key, never null
     * @param value its latest value, never null (removed keys are not replayed)
     */
    void replay(long commitTimestamp, K key, V value);
}
