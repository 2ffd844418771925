// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The full-versus-incremental decision of vacuum, rule by rule, without a store. */
class VacuumPolicyTest {
    private static final VacuumPolicy P = VacuumPolicy.DEFAULT;

    @Test
    void lostMarkedKeysForceAFullPass() {
        assertTrue(P.fullPass(true, 5, 0, 0, 0, 1_000_000));
    }

    @Test
    void theFirstAndEveryPeriodicPassIsFull() {
        assertTrue(P.fullPass(false, 0, 0, 0, 0, 0), "the first pass");
        assertTrue(P.fullPass(false, 64, 3, 1_000_000, 1_000_000, 10), "pass 64");
        assertTrue(P.fullPass(false, 128, 3, 1_000_000, 1_000_000, 10), "pass 128");
        assertFalse(P.fullPass(false, 65, 3, 1_000_000, 1_000_000, 10), "pass 65 under load");
    }

    @Test
    void aQuietIndexWithASettleDebtGetsAFullPass() {
        long live = 1_000_000;
        // quiet: fewer than live / 64 = 15625 written since the last pass; debt >= live / 4
        assertTrue(P.fullPass(false, 9, 8, 15_624, 250_000, live));
        assertFalse(P.fullPass(false, 9, 8, 15_625, 250_000, live), "not quiet");
        assertFalse(P.fullPass(false, 9, 8, 15_624, 249_999, live), "debt too small");
        assertFalse(P.fullPass(false, 9, 7, 15_624, 250_000, live), "too soon after the last full pass");
    }

    @Test
    void theFloorLetsAFirstBurstIntoAnUncountedIndexSettle() {
        // No full pass has counted the live keys yet (0): both thresholds are the floor, 4096.
        assertTrue(P.fullPass(false, 9, 8, 4_095, 4_096, 0));
        assertFalse(P.fullPass(false, 9, 8, 4_096, 4_096, 0), "not quiet by the floor");
        assertFalse(P.fullPass(false, 9, 8, 0, 4_095, 0), "debt below the floor");
    }

    @Test
    void aSteadyWriteLoadStaysIncremental() {
        for (long pass = 1; pass < 64; pass++) {
            assertFalse(P.fullPass(false, pass, (int) pass, 100_000, 100_000 * pass, 1_000_000), "pass " + pass);
        }
    }

    @Test
    void argumentsOutOfRangeAreRefusedByName() {
        assertEquals(
                "fullPassEvery must be at least 1: 0",
                assertThrows(IllegalArgumentException.class, () -> new VacuumPolicy(0, 8, 1))
                        .getMessage());
        assertEquals(
                "minPassesBetweenFull must be at least 0: -1",
                assertThrows(IllegalArgumentException.class, () -> new VacuumPolicy(64, -1, 1))
                        .getMessage());
        assertEquals(
                "minSettleDebt must be at least 0: -2",
                assertThrows(IllegalArgumentException.class, () -> new VacuumPolicy(64, 8, -2))
                        .getMessage());
    }
}
