// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import java.lang.reflect.Field;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJ_Result;

/**
 * Protocol 1, the snapshot pin vs. the vacuum horizon (SnapshotPins#pin against
 * SnapshotPins#refresh; the Dekker handshake P1-P2 in SnapshotPins' notes). Store delegates both
 * to its SnapshotPins ({@code pinSnapshot}, {@code refreshWatermark}), which it builds over a
 * volatile read of its visibleTs; here each state builds one over its own {@code volatile long
 * visibleTs}, the same access mode, so the test needs no package-private part of Store.
 *
 * <p>visibleTs starts at 1. Two actors race: a pinner takes a snapshot with {@code pin()}; a
 * committer publishes visibleTs = 2 (the volatile store that ends every commit) and then
 * refreshes the watermark with {@code refresh()} (raise the horizon to visibleTs, then scan the
 * pins), as committers do every few hundred commits and vacuum does each pass. Result: (the
 * pinner's snapshot, the watermark computed).
 *
 * <p>Vacuum may cut every version that only a snapshot below its watermark can read. So a pinner
 * that goes on reading at a snapshot below the watermark vacuum computed may find the version it
 * needs cut: that is the forbidden outcome. Two nested classes: the pin lands in a registry slot,
 * or (every slot taken) in the overflow map.
 *
 * <p>The overflow variant and the control reach the registry inside SnapshotPins (a private
 * field, no accessor) by reflection: to fill its slots, and to pin without the horizon check.
 */
public final class PinVsHorizonStress {
    private PinVsHorizonStress() {}

    /** The registry's slot count (SnapshotRegistry.SLOTS); the overflow variant fills them all. */
    static final int REGISTRY_SLOTS = 128;
    /** Timestamp of the filler pins: above every timestamp the actors use, so it never is the minimum. */
    static final long FILLER_TS = 1_000;

    /** SnapshotPins' private field {@code registry}, resolved once (states are built by the million). */
    private static final Field REGISTRY = registryField();

    private static Field registryField() {
        try {
            Field field = SnapshotPins.class.getDeclaredField("registry");
            field.setAccessible(true);
            return field;
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException(
                    "cannot reach SnapshotPins.registry (renamed?); the overflow" + " test and the control need it", e);
        }
    }

    /** The registry a SnapshotPins scans. */
    static SnapshotRegistry registryOf(SnapshotPins pins) {
        try {
            return (SnapshotRegistry) REGISTRY.get(pins);
        } catch (IllegalAccessException | ClassCastException e) {
            throw new IllegalStateException(
                    "SnapshotPins.registry of " + pins + " is not a readable" + " SnapshotRegistry", e);
        }
    }

    /** Pins one filler snapshot in every registry slot, so the next pin must take the overflow map. */
    static void fillSlots(SnapshotRegistry registry) {
        int slotPins = 0;
        for (int attempt = 0; slotPins < REGISTRY_SLOTS; attempt++) {
            if (attempt > 1_000_000) {
                throw new IllegalStateException("could not fill the registry's " + REGISTRY_SLOTS + " slots ("
                        + slotPins + " filled): did SnapshotRegistry.SLOTS change?");
            }
            Object token = registry.pin(FILLER_TS);
            if (token.getClass() == Object.class) { // an overflow token: the probed slots were taken
                registry.unpin(token);
            } else {
                slotPins++;
            }
        }
        Object probe = registry.pin(FILLER_TS);
        if (probe.getClass() != Object.class) {
            throw new IllegalStateException("a pin after filling " + REGISTRY_SLOTS
                    + " slots still found a free slot: did SnapshotRegistry.SLOTS change?");
        }
        registry.unpin(probe);
    }

    /** The pin lands in a registry slot (a CAS on an AtomicLongArray element). */
    @JCStressTest
    @Outcome(id = "1, 1", expect = Expect.ACCEPTABLE, desc = "pinned at 1 and vacuum saw the pin")
    @Outcome(
            id = "2, 2",
            expect = Expect.ACCEPTABLE,
            desc = "pinned at 2 (read it first, or re-pinned above the horizon)")
    @Outcome(
            id = "2, 1",
            expect = Expect.ACCEPTABLE,
            desc =
                    "pinned at 1, vacuum saw that pin, then the pinner saw the horizon and re-pinned at 2: a conservative watermark")
    @Outcome(
            id = "1, 2",
            expect = Expect.FORBIDDEN,
            desc = "LOST SNAPSHOT: the pinner reads at 1 while vacuum's watermark is 2, so vacuum may cut the"
                    + " version at or below 1 that the pinned snapshot needs")
    @State
    public static class Slot {
        volatile long visibleTs = 1;
        final SnapshotPins pins = new SnapshotPins(() -> visibleTs);

        @Actor
        public void pinner(JJ_Result r) {
            r.r1 = pins.pin().snapshotTs();
        }

        @Actor
        public void commitThenVacuum(JJ_Result r) {
            visibleTs = 2;
            r.r2 = pins.refresh();
        }
    }

    /** Every slot is taken: the pin goes to the overflow map (a ConcurrentHashMap put and a full fence). */
    @JCStressTest
    @Outcome(id = "1, 1", expect = Expect.ACCEPTABLE, desc = "pinned at 1 and vacuum saw the pin")
    @Outcome(
            id = "2, 2",
            expect = Expect.ACCEPTABLE,
            desc = "pinned at 2 (read it first, or re-pinned above the horizon)")
    @Outcome(
            id = "2, 1",
            expect = Expect.ACCEPTABLE,
            desc =
                    "pinned at 1, vacuum saw that pin, then the pinner saw the horizon and re-pinned at 2: a conservative watermark")
    @Outcome(
            id = "1, 2",
            expect = Expect.FORBIDDEN,
            desc = "LOST SNAPSHOT (overflow pin): the pinner reads at 1 while vacuum's watermark is 2, so"
                    + " vacuum may cut the version at or below 1 that the pinned snapshot needs")
    @State
    public static class Overflow {
        volatile long visibleTs = 1;
        final SnapshotPins pins = new SnapshotPins(() -> visibleTs);

        public Overflow() {
            fillSlots(registryOf(pins));
        }

        @Actor
        public void pinner(JJ_Result r) {
            r.r1 = pins.pin().snapshotTs();
        }

        @Actor
        public void commitThenVacuum(JJ_Result r) {
            visibleTs = 2;
            r.r2 = pins.refresh();
        }
    }

    /**
     * Control: the same race with a pinner that skips the horizon check (it pins what it read and
     * goes on). The outcome the two tests above forbid must show up here, which shows that the
     * race is reached and that the result would expose a broken handshake.
     */
    @JCStressTest
    @Outcome(id = "1, 1", expect = Expect.ACCEPTABLE, desc = "pinned at 1 and vacuum saw the pin")
    @Outcome(id = "2, 2", expect = Expect.ACCEPTABLE, desc = "pinned at 2")
    @Outcome(
            id = "1, 2",
            expect = Expect.ACCEPTABLE_INTERESTING,
            desc = "expected here: without the horizon check a pin published after vacuum's scan is missed")
    @State
    public static class ControlWithoutHorizonCheck {
        volatile long visibleTs = 1;
        final SnapshotPins pins = new SnapshotPins(() -> visibleTs);
        final SnapshotRegistry registry = registryOf(pins);

        @Actor
        public void pinner(JJ_Result r) {
            long ts = visibleTs;
            registry.pin(ts);
            r.r1 = ts;
        }

        @Actor
        public void commitThenVacuum(JJ_Result r) {
            visibleTs = 2;
            r.r2 = pins.refresh();
        }
    }
}
