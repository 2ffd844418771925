// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class SortedKeysTest {
    @Test
    void keepsOneOfEachEqualGroupInTheComparatorsOrder() {
        Object[] keys = {5L, 1L, 5L, 3L, 1L, 9L, 3L};
        int n = SortedKeys.sortDistinct(keys, keys.length, Comparator.<Long>reverseOrder());
        assertEquals(4, n);
        assertArrayEquals(new Object[] {9L, 5L, 3L, 1L}, Arrays.copyOf(keys, n));
    }

    @Test
    void touchesOnlyThePrefixItIsGiven() {
        Object[] keys = {2L, 2L, 1L, 0L};
        assertEquals(2, SortedKeys.sortDistinct(keys, 3, Comparator.<Long>naturalOrder()));
        assertArrayEquals(new Object[] {1L, 2L}, Arrays.copyOf(keys, 2));
        assertEquals(0L, keys[3]);
        assertEquals(0, SortedKeys.sortDistinct(new Object[0], 0, Comparator.<Long>naturalOrder()));
    }

    @Test
    void matchesATreeSetOnRandomInput() {
        Random random = new Random(42);
        for (int round = 0; round < 200; round++) {
            int size = random.nextInt(50);
            Object[] keys = new Object[size];
            TreeSet<Long> expected = new TreeSet<>();
            for (int i = 0; i < size; i++) {
                long k = random.nextInt(20);
                keys[i] = k;
                expected.add(k);
            }
            int n = SortedKeys.sortDistinct(keys, size, Comparator.<Long>naturalOrder());
            assertArrayEquals(expected.toArray(), Arrays.copyOf(keys, n), "round " + round);
        }
    }
}
