// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ZipfianTest {

    @Test
    void zipfianFavoursTheFirstItemsAndStaysInRange() {
        Zipfian z = Zipfian.over(new SplittableRandom(1), 1000);
        int[] hits = new int[1000];
        for (int i = 0; i < 100_000; i++) {
            long v = z.next();
            assertTrue(v >= 0 && v < 1000, "out of range: " + v);
            hits[(int) v]++;
        }
        assertTrue(hits[0] > hits[1] && hits[1] > hits[10] && hits[10] > hits[500], hits[0] + " " + hits[1]);
    }

    @Test
    void scrambledAndLatestStayInRange() {
        Zipfian s = Zipfian.scrambled(new SplittableRandom(2));
        Zipfian l = Zipfian.over(new SplittableRandom(3), 10);
        int newest = 0;
        for (int i = 0; i < 10_000; i++) {
            long v = s.nextScrambled(777);
            assertTrue(v >= 0 && v < 777, "out of range: " + v);
            long count = 10 + i / 100;
            long latest = l.nextLatest(count);
            assertTrue(latest >= 0 && latest < count, "out of range: " + latest);
            if (latest == count - 1) {
                newest++;
            }
        }
        assertTrue(newest > 1000, "the newest key should be the most popular: " + newest);
    }
}
