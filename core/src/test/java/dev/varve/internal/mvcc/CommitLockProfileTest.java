// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The arithmetic of {@link CommitLockProfile}; the default test JVM runs with it off. */
class CommitLockProfileTest {

    @Test
    void offUnlessTheSystemPropertyAsksForIt() {
        assertEquals(Boolean.getBoolean("varve.profileCommitLock"), CommitLockProfile.ENABLED);
    }

    @Test
    void countsEachHoldAndReportsTheMeanAndTheSaturatingRate() {
        CommitLockProfile p = new CommitLockProfile();
        assertEquals("commit lock: never held by a commit", p.report());
        for (int i = 0; i < 3; i++) {
            p.locked();
            long until = System.nanoTime() + 200_000; // a hold of at least 0.2 ms, spun (not slept)
            while (System.nanoTime() - until < 0) {
                Thread.onSpinWait();
            }
            p.unlocking();
        }
        assertEquals(3, p.holds());
        assertTrue(p.heldNanos() >= 600_000, p.report());
        String report = p.report();
        assertTrue(report.startsWith("commit lock: 3 holds by commits, mean "), report);
        double rate = Double.parseDouble(report.replaceAll(".*saturates at (\\d+) commits/s", "$1"));
        assertEquals(1e9 * 3 / p.heldNanos(), rate, 1.0);
        assertFalse(rate > 5000, report); // holds of 0.2 ms or more cannot go faster than 5,000/s
    }
}
