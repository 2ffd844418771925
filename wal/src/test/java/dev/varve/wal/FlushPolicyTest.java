// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class FlushPolicyTest {

    private final FlushPolicy relaxed = new FlushPolicy(100_000_000L, 4096, 100);

    @Test
    void idlesWhenNothingIsUnforced() {
        assertEquals(FlushPolicy.IDLE, relaxed.decide(5_000_000_000L, 0, 0));
    }

    @Test
    void waitsForTheRestOfTheIntervalWhenBelowEveryBound() {
        assertEquals(70_000_000L, relaxed.decide(30_000_000L, 100, 3));
    }

    @Test
    void forcesWhenTheOldestRecordIsOldEnough() {
        assertEquals(FlushPolicy.FORCE_NOW, relaxed.decide(100_000_000L, 1, 1));
        assertEquals(FlushPolicy.FORCE_NOW, relaxed.decide(250_000_000L, 1, 1));
    }

    @Test
    void forcesOnBytesOrRecordsBeforeTheInterval() {
        assertEquals(FlushPolicy.FORCE_NOW, relaxed.decide(0, 4096, 1));
        assertEquals(FlushPolicy.FORCE_NOW, relaxed.decide(0, 10, 100));
        assertEquals(99_999_999L, relaxed.decide(1, 4095, 99));
    }

    @Test
    void zeroIntervalForcesEveryGroupAtOnce() {
        FlushPolicy full = new FlushPolicy(0, Long.MAX_VALUE, Integer.MAX_VALUE);
        assertEquals(FlushPolicy.FORCE_NOW, full.decide(0, 1, 1));
        assertEquals(FlushPolicy.IDLE, full.decide(0, 0, 0));
    }

    @Test
    void rejectsNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new FlushPolicy(-1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new FlushPolicy(0, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new FlushPolicy(0, 1, 0));
    }
}
