// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import java.util.List;

/**
 * One committed transaction as a change feed delivers it ({@link Database#watch(Object, Object,
 * long)}): its commit timestamp and all of its writes within the watched ranges, map by map (in
 * the order the maps were created, the default map first) and, within a map, in key order.
 * Immutable. A feed delivers events in rising commit-timestamp order, each commit at most once
 * and never a part of one.
 *
 * @param <K> key type
 * @param <V> value type
 * @param commitTimestamp the transaction's commit timestamp
 * @param changes its writes within the watched ranges, never empty
 */
public record CommitEvent<K, V>(long commitTimestamp, List<Change<K, V>> changes) {
    /**
     * An event; {@code changes} is copied.
     *
     * @param commitTimestamp the transaction's commit timestamp
     * @param changes its writes within the watched ranges
     * @throws NullPointerException if {@code changes} is or holds null
     */
    public CommitEvent {
        changes = List.copyOf(changes);
    }
}
