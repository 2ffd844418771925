// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import java.util.Arrays;
import java.util.Comparator;

/** Sorting and de-duplicating arrays of keys in the store's order (read sets, vacuum's keys). */
final class SortedKeys {
    private SortedKeys() {}

    /**
     * Sorts {@code keys[0, n)} by {@code comparator} and moves one of each group of equal keys to
     * the front, in ascending order; the slots after them keep stale references.
     *
     * @return the number of distinct keys, now in {@code keys[0, return)}
     */
    @SuppressWarnings("unchecked")
    static <K> int sortDistinct(Object[] keys, int n, Comparator<? super K> comparator) {
        Arrays.sort(keys, 0, n, (a, b) -> comparator.compare((K) a, (K) b));
        int distinct = 0;
        for (int i = 0; i < n; i++) {
            if (distinct == 0 || comparator.compare((K) keys[distinct - 1], (K) keys[i]) != 0) {
                keys[distinct++] = keys[i];
            }
        }
        return distinct;
    }
}
