// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import dev.varve.SnapshotTooOldException;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJ_Result;

/**
 * Protocol 7, a pin at a past timestamp vs. a watermark refresh (SnapshotPins#pinAt against
 * SnapshotPins#refresh; P7 in SnapshotPins' notes): the pin is published, then the pinner waits
 * for a moment with no refresh in flight and reads the prunable watermark.
 *
 * <p>The store opened at timestamp 1 (every version at or above 1 is still there) and has since
 * committed 2 (visibleTs = 2), with no snapshot open. Two actors race: a reader asks for a snapshot
 * as of 1 ({@code pinAt(1)}: r1 = 1 if it was granted, 0 if refused as too old); vacuum refreshes
 * the watermark (r2: the watermark it may cut with, 1 if it saw the pin, 2 if not).
 *
 * <p>Forbidden: a granted pin at 1 next to a watermark of 2, for vacuum would cut the version at 1
 * that the snapshot reads. The control skips the wait for refreshes in flight, and must show it.
 */
public final class PinAtVsRefreshStress {
    private PinAtVsRefreshStress() {}

    /** A store that opened at 1 and committed 2 since. */
    static SnapshotPins openedAtOneThenCommittedTwo(long[] visibleTs) {
        SnapshotPins pins = new SnapshotPins(() -> visibleTs[0]);
        pins.openAt(1);
        visibleTs[0] = 2;
        return pins;
    }

    /** pinAt as the engine runs it. */
    @JCStressTest
    @Outcome(id = "1, 1", expect = Expect.ACCEPTABLE, desc = "granted, and vacuum saw the pin")
    @Outcome(id = "0, 2", expect = Expect.ACCEPTABLE, desc = "refused: vacuum's watermark passed 1 first")
    @Outcome(
            id = "0, 1",
            expect = Expect.ACCEPTABLE_INTERESTING,
            desc = "refused although vacuum saw the pin: conservative (a watermark of 2 was raised first)")
    @Outcome(
            id = "1, 2",
            expect = Expect.FORBIDDEN,
            desc = "LOST HISTORY: a snapshot as of 1 was granted while vacuum's watermark is 2, so vacuum"
                    + " may cut the version at 1 it reads")
    @State
    public static class Granted {
        final long[] visibleTs = {1};
        final SnapshotPins pins = openedAtOneThenCommittedTwo(visibleTs);

        @Actor
        public void reader(JJ_Result r) {
            try {
                r.r1 = pins.pinAt(1).snapshotTs();
            } catch (SnapshotTooOldException e) {
                r.r1 = 0;
            }
        }

        @Actor
        public void vacuum(JJ_Result r) {
            r.r2 = pins.refresh();
        }
    }

    /**
     * Control: the pinner publishes its pin and reads the prunable watermark without waiting for
     * refreshes in flight. The outcome forbidden above must show up here, which shows the race is
     * reached and the result would expose a missing wait.
     */
    @JCStressTest
    @Outcome(id = "1, 1", expect = Expect.ACCEPTABLE, desc = "granted, and vacuum saw the pin")
    @Outcome(id = "0, 2", expect = Expect.ACCEPTABLE, desc = "refused")
    @Outcome(id = "0, 1", expect = Expect.ACCEPTABLE, desc = "refused, conservative")
    @Outcome(
            id = "1, 2",
            expect = Expect.ACCEPTABLE_INTERESTING,
            desc = "expected here: without the wait, a refresh that scanned before the pin raises its"
                    + " watermark after the pinner read the old one")
    @State
    public static class ControlWithoutWait {
        final long[] visibleTs = {1};
        final SnapshotPins pins = openedAtOneThenCommittedTwo(visibleTs);
        final SnapshotRegistry registry = PinVsHorizonStress.registryOf(pins);

        @Actor
        public void reader(JJ_Result r) {
            Object token = registry.pin(1);
            if (pins.prunableWatermark() > 1) {
                registry.unpin(token);
                r.r1 = 0;
            } else {
                r.r1 = 1;
            }
        }

        @Actor
        public void vacuum(JJ_Result r) {
            r.r2 = pins.refresh();
        }
    }
}
