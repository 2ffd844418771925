// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.internal.index.KeyRange;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * ReadSet.freeze now de-duplicates with SortedKeys before dropping the keys inside intervals.
 * Its invariant I1 (keys distinct and ascending in the comparator's order, none inside an
 * interval) and I3 (exact: keys and intervals hold exactly what was read) must hold for a
 * comparator under which distinct objects are equal: here integers compared by {@code k / 3}, so
 * every key has up to two others equal to it, read in any order and on interval boundaries.
 */
class AdversaryReadSetFreezeTest {
    private static final Comparator<Integer> COARSE = Comparator.comparingInt(k -> Math.floorDiv(k, 3));

    private static boolean inside(List<KeyRange<Integer>> ranges, int key) {
        for (KeyRange<Integer> r : ranges) {
            if (r.contains(COARSE, key)) {
                return true;
            }
        }
        return false;
    }

    @Test
    void frozenKeysAreDistinctAscendingOutsideEveryIntervalAndExactUnderACoarseComparator() {
        long seed = Long.getLong("varve.seed", System.nanoTime());
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int round = 0; round < 2000; round++) {
            int domain = 3 + rnd.nextInt(round % 2 == 0 ? 12 : 90);
            ReadSet<Integer> rs = new ReadSet<>(COARSE);
            List<Integer> keys = new ArrayList<>();
            List<KeyRange<Integer>> ranges = new ArrayList<>();
            for (int i = rnd.nextInt(30); i > 0; i--) {
                int k = rnd.nextInt(domain);
                keys.add(k);
                rs.addKey(k);
            }
            for (int i = rnd.nextInt(5); i > 0; i--) {
                int a = rnd.nextInt(domain);
                KeyRange<Integer> r = new KeyRange<>(
                        a,
                        rnd.nextBoolean(),
                        false,
                        a + rnd.nextInt(Math.max(1, domain / 4)),
                        rnd.nextBoolean(),
                        rnd.nextInt(10) == 0);
                ranges.add(r);
                rs.addRange(r);
            }
            rs.freeze();
            String where = "seed " + seed + " round " + round + " keys " + keys + " ranges " + ranges + " frozen keys "
                    + frozenKeys(rs) + " intervals " + rs.ranges();
            for (int i = 0; i < rs.keyCount(); i++) {
                if (i > 0) {
                    assertTrue(COARSE.compare(rs.key(i - 1), rs.key(i)) < 0, where + ": I1 order/distinct at " + i);
                }
                assertFalse(inside(rs.ranges(), rs.key(i)), where + ": I1 key " + rs.key(i) + " inside an interval");
            }
            for (int k = -3; k <= domain + 3; k++) {
                int key = k;
                boolean read = keys.stream().anyMatch(x -> COARSE.compare(x, key) == 0) || inside(ranges, key);
                boolean listed = inside(rs.ranges(), key);
                for (int i = 0; i < rs.keyCount() && !listed; i++) {
                    listed = COARSE.compare(rs.key(i), key) == 0;
                }
                assertEquals(read, listed, where + ": I3 at key " + key);
                assertEquals(read, rs.covers(key), where + ": covers(" + key + ")");
            }
        }
    }

    private static List<Integer> frozenKeys(ReadSet<Integer> rs) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < rs.keyCount(); i++) {
            out.add(rs.key(i));
        }
        return out;
    }
}
