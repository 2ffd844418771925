package dev.varve;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJ_Result;

/**
 * Protocol 1, the snapshot pin vs. the vacuum horizon (Store#pinSnapshot against
 * Store#refreshWatermark; the Dekker handshake in SnapshotRegistry's notes).
 *
 * <p>The store starts at visibleTs = 1. Two actors race: a pinner takes a snapshot with
 * {@code pinSnapshot()}; a committer publishes visibleTs = 2 (the volatile store that ends every
 * commit; {@code recoveredThrough} is the package-private entry point that performs exactly that
 * store) and then refreshes the watermark with {@code refreshWatermark()} (raise the horizon to
 * visibleTs, then scan the pins), as committers do every few hundred commits and vacuum does each
 * pass. Result: (the pinner's snapshot, the watermark computed).
 *
 * <p>Vacuum may cut every version that only a snapshot below its watermark can read. So a pinner
 * that goes on reading at a snapshot below the watermark vacuum computed may find the version it
 * needs cut: that is the forbidden outcome. Two nested classes: the pin lands in a registry slot,
 * or (every slot taken) in the overflow map.
 */
public final class PinVsHorizonStress {
    private PinVsHorizonStress() {}

    /** The registry's slot count (SnapshotRegistry.SLOTS); the overflow variant fills them all. */
    static final int REGISTRY_SLOTS = 128;
    /** Timestamp of the filler pins: above every timestamp the actors use, so it never is the minimum. */
    static final long FILLER_TS = 1_000;

    static Store<Long, Long> storeAtOne() {
        Store<Long, Long> store = new Store<>(null, 64);
        store.recoveredThrough(1); // visibleTs = lastCommitTs = 1
        return store;
    }

    /** Pins one filler snapshot in every registry slot, so the next pin must take the overflow map. */
    static void fillSlots(SnapshotRegistry registry) {
        int slotPins = 0;
        for (int attempt = 0; slotPins < REGISTRY_SLOTS; attempt++) {
            if (attempt > 1_000_000) {
                throw new IllegalStateException("could not fill the registry's " + REGISTRY_SLOTS
                        + " slots (" + slotPins + " filled): did SnapshotRegistry.SLOTS change?");
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
    @Outcome(id = "2, 2", expect = Expect.ACCEPTABLE, desc = "pinned at 2 (read it first, or re-pinned above the horizon)")
    @Outcome(id = "2, 1", expect = Expect.ACCEPTABLE, desc = "pinned at 1, vacuum saw that pin, then the pinner saw the horizon and re-pinned at 2: a conservative watermark")
    @Outcome(id = "1, 2", expect = Expect.FORBIDDEN,
            desc = "LOST SNAPSHOT: the pinner reads at 1 while vacuum's watermark is 2, so vacuum may cut the"
                    + " version at or below 1 that the pinned snapshot needs")
    @State
    public static class Slot {
        final Store<Long, Long> store = storeAtOne();

        @Actor
        public void pinner(JJ_Result r) {
            r.r1 = store.pinSnapshot().snapshotTs;
        }

        @Actor
        public void commitThenVacuum(JJ_Result r) {
            store.recoveredThrough(2);
            r.r2 = store.refreshWatermark();
        }
    }

    /** Every slot is taken: the pin goes to the overflow map (a ConcurrentHashMap put and a full fence). */
    @JCStressTest
    @Outcome(id = "1, 1", expect = Expect.ACCEPTABLE, desc = "pinned at 1 and vacuum saw the pin")
    @Outcome(id = "2, 2", expect = Expect.ACCEPTABLE, desc = "pinned at 2 (read it first, or re-pinned above the horizon)")
    @Outcome(id = "2, 1", expect = Expect.ACCEPTABLE, desc = "pinned at 1, vacuum saw that pin, then the pinner saw the horizon and re-pinned at 2: a conservative watermark")
    @Outcome(id = "1, 2", expect = Expect.FORBIDDEN,
            desc = "LOST SNAPSHOT (overflow pin): the pinner reads at 1 while vacuum's watermark is 2, so"
                    + " vacuum may cut the version at or below 1 that the pinned snapshot needs")
    @State
    public static class Overflow {
        final Store<Long, Long> store = storeAtOne();

        public Overflow() {
            fillSlots(store.snapshots);
        }

        @Actor
        public void pinner(JJ_Result r) {
            r.r1 = store.pinSnapshot().snapshotTs;
        }

        @Actor
        public void commitThenVacuum(JJ_Result r) {
            store.recoveredThrough(2);
            r.r2 = store.refreshWatermark();
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
    @Outcome(id = "1, 2", expect = Expect.ACCEPTABLE_INTERESTING,
            desc = "expected here: without the horizon check a pin published after vacuum's scan is missed")
    @State
    public static class ControlWithoutHorizonCheck {
        final Store<Long, Long> store = storeAtOne();

        @Actor
        public void pinner(JJ_Result r) {
            long ts = store.visibleTs();
            store.snapshots.pin(ts);
            r.r1 = ts;
        }

        @Actor
        public void commitThenVacuum(JJ_Result r) {
            store.recoveredThrough(2);
            r.r2 = store.refreshWatermark();
        }
    }
}
