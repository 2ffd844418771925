// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The snapshot timestamps of every open transaction and snapshot view, from which vacuum computes
 * the watermark (the oldest snapshot any of them can still read at).
 *
 * <p>Thread-safe and lock-free: {@link #pin} and {@link #unpin} are a CAS and a release store on
 * one padded slot; {@link #oldestPinned} scans the slots.
 */
public final class SnapshotRegistry {
    private static final int SLOTS = 128;
    /** Longs between two used slots: 64-byte spacing so neighbouring pins do not share a line. */
    private static final int STRIDE = 8;

    private static final long FREE = 0L;

    /**
     * Slot i*STRIDE holds a pinned snapshot encoded as 2 * (snapshotTs + 1) + 1 if its owner is
     * a possible pivot (R3), 2 * (snapshotTs + 1) otherwise; or FREE.
     */
    private final AtomicLongArray slots = new AtomicLongArray(SLOTS * STRIDE);
    /** Pins that found every probed slot taken: token -> the pin, encoded as a slot is. */
    private final ConcurrentHashMap<Object, Long> overflow = new ConcurrentHashMap<>();
    /**
     * The pin of each slot whose owner asked to be watched (a transaction's, R1), at slot *
     * WATCH_STRIDE: padded as the slots are, so two threads' pins never share a line.
     */
    private final AtomicReferenceArray<SnapshotPins.Pin> watched = new AtomicReferenceArray<>(SLOTS * WATCH_STRIDE);
    /** The watched pins of overflow tokens. */
    private final ConcurrentHashMap<Object, SnapshotPins.Pin> watchedOverflow = new ConcurrentHashMap<>();

    /** References between two used watched entries (64 bytes with compressed references). */
    private static final int WATCH_STRIDE = 16;

    /**
     * An empty registry.
     */
    public SnapshotRegistry() {}

    /*
     * Implementation notes.
     *
     * A pin is published with a volatile CAS and withdrawn with a release store. The pin/vacuum
     * handshake that keeps a just-taken snapshot from being reclaimed is in SnapshotPins (P1, P2):
     * the pinner publishes its slot, then reads the vacuum horizon; vacuum raises the horizon,
     * then scans the slots. Both sides use sequentially consistent accesses (volatile CAS and
     * getVolatile), so at least one of them sees the other (Dekker), and a pin that vacuum
     * missed sees a horizon above its timestamp and retries at a newer one.
     *
     * R1. A watched pin is in watched[slot] (or watchedOverflow) from just after its owner
     *     published it until just before its slot is freed, so a scan (forEachWatched) sees only
     *     pins that hold their slot or are being released; releasing through the pin's own token
     *     (Pin#run) is what makes a second release by the scanner harmless.
     *
     * R2. A slot's padding holds counters (at slot*STRIDE + 1, + 2) that only the slot's current
     *     owner writes, without an atomic read-modify-write: ownership passes by the CAS that
     *     takes a free slot and the release store that frees it, which order each owner's
     *     writes after the previous owner's. So a count costs a plain load and store on a line
     *     the pin already owns, instead of a LongAdder's CAS.
     *
     * R3. A pin says whether its owner is a possible pivot: a SERIALIZABLE transaction that may
     *     write, so may commit with rw-antidependencies both in and out (Ports & Grittner, VLDB
     *     2012, §4.2: only those make another's snapshot unsafe). The flag is in the slot's
     *     value, set by the CAS that publishes the pin and kept by repin, so a scan never pairs
     *     one owner's timestamp with another's flag.
     *
     * Probing starts at a random slot and looks at PROBES slots, so pins from many threads rarely
     * collide and a full table costs a bounded walk before the overflow map takes over.
     */
    private static final int PROBES = 8;

    private static long encode(long snapshotTs, boolean possiblePivot) {
        return ((snapshotTs + 1) << 1) | (possiblePivot ? 1 : 0);
    }

    private static long timestampOf(long encoded) {
        return (encoded >>> 1) - 1;
    }

    /**
     * Pins {@code snapshotTs}.
     *
     * @param snapshotTs the snapshot timestamp to pin
     * @param possiblePivot whether the owner is a possible pivot (R3)
     * @return the token to pass to {@link #unpin}: a slot index, or an overflow token
     */
    public Object pin(long snapshotTs, boolean possiblePivot) {
        long encoded = encode(snapshotTs, possiblePivot);
        int start = ThreadLocalRandom.current().nextInt(SLOTS);
        for (int i = 0; i < PROBES; i++) {
            int slot = (start + i) & (SLOTS - 1);
            int index = slot * STRIDE;
            if (slots.get(index) == FREE && slots.compareAndSet(index, FREE, encoded)) {
                return SLOT_TOKENS[slot];
            }
        }
        Object token = new Object();
        overflow.put(token, encoded);
        // The map's bin stores are release stores, not volatile ones: order this publication
        // before the caller's read of the vacuum horizon (the Dekker handshake in the notes).
        java.lang.invoke.VarHandle.fullFence();
        return token;
    }

    /**
     * Moves an existing pin to a newer snapshot timestamp (after a lost race with vacuum).
     *
     * @param token the pin's token
     * @param snapshotTs the new snapshot timestamp
     */
    public void repin(Object token, long snapshotTs) {
        if (token instanceof SlotToken) {
            int index = ((SlotToken) token).slot * STRIDE;
            slots.set(index, encode(snapshotTs, (slots.get(index) & 1) != 0)); // R3: the flag stays
        } else {
            overflow.put(token, encode(snapshotTs, (overflow.get(token) & 1) != 0));
            java.lang.invoke.VarHandle.fullFence(); // as in pin
        }
    }

    /**
     * Withdraws a pin; the snapshot may be reclaimed by the next vacuum.
     *
     * @param token the pin's token
     */
    public void unpin(Object token) {
        if (token instanceof SlotToken) {
            int slot = ((SlotToken) token).slot;
            if (watched.getPlain(slot * WATCH_STRIDE) != null) {
                watched.setRelease(slot * WATCH_STRIDE, null); // R1: before the slot is free
            }
            slots.setRelease(slot * STRIDE, FREE);
        } else {
            watchedOverflow.remove(token);
            overflow.remove(token);
        }
    }

    /** Where a slot keeps each count (R2): offsets into its padding. */
    public static final int READ_ONLY_COMMITS = 1;

    /** See {@link #READ_ONLY_COMMITS}. */
    public static final int READS = 2;

    /** Counts of pins that were in the overflow map, by offset (R2). */
    private final java.util.concurrent.atomic.LongAdder[] overflowCounts = {
        null, new java.util.concurrent.atomic.LongAdder(), new java.util.concurrent.atomic.LongAdder()
    };

    /**
     * Adds {@code n} to count {@code which} on the slot of {@code token} (R2): a plain increment
     * in the slot's own padding, published by the release that frees the slot.
     *
     * @param token a pin's token, held by the caller's pin until it is released
     * @param which {@link #READ_ONLY_COMMITS} or {@link #READS}
     * @param n the amount
     */
    public void countOnSlot(Object token, int which, long n) {
        if (token instanceof SlotToken) {
            int index = ((SlotToken) token).slot * STRIDE + which;
            slots.lazySet(index, slots.get(index) + n);
        } else {
            overflowCounts[which].add(n);
        }
    }

    /**
     * Count {@code which} summed over every slot (R2).
     *
     * @param which {@link #READ_ONLY_COMMITS} or {@link #READS}
     * @return the count; each slot's share as of its last release or later
     */
    public long slotCounts(int which) {
        long n = overflowCounts[which].sum();
        for (int slot = 0; slot < SLOTS; slot++) {
            n += slots.get(slot * STRIDE + which);
        }
        return n;
    }

    /**
     * Watches the pin of {@code token} (R1): {@link #forEachWatched} hands it out until it is
     * unpinned.
     *
     * @param token the pin's token
     * @param pin the pin
     */
    public void watch(Object token, SnapshotPins.Pin pin) {
        if (token instanceof SlotToken) {
            watched.setRelease(((SlotToken) token).slot * WATCH_STRIDE, pin);
        } else {
            watchedOverflow.put(token, pin);
        }
    }

    /**
     * Hands every watched pin to {@code action} (R1); weakly consistent with concurrent pins.
     *
     * @param action called once per watched pin
     */
    public void forEachWatched(java.util.function.Consumer<SnapshotPins.Pin> action) {
        for (int slot = 0; slot < SLOTS; slot++) {
            SnapshotPins.Pin pin = watched.getAcquire(slot * WATCH_STRIDE);
            if (pin != null) {
                action.accept(pin);
            }
        }
        watchedOverflow.values().forEach(action);
    }

    /**
     * The oldest pinned snapshot timestamp, or {@code ceiling} if nothing older is pinned.
     *
     * @param ceiling the value to return when no pin is older (the current visible timestamp)
     * @return the oldest pinned timestamp, at most {@code ceiling}
     */
    public long oldestPinned(long ceiling) {
        return oldestPinned(ceiling, 0);
    }

    /**
     * The oldest snapshot timestamp pinned by a possible pivot (R3), or {@code ceiling} if no
     * possible pivot has an older one pinned.
     *
     * @param ceiling the value to return when no such pin is older
     * @return the oldest such pinned timestamp, at most ceiling
     */
    public long oldestPinnedByPossiblePivot(long ceiling) {
        return oldestPinned(ceiling, 1);
    }

    /** The oldest pin whose flag bit is at least {@code flag}: 0 for every pin, 1 for pivots'. */
    private long oldestPinned(long ceiling, long flag) {
        long oldest = ceiling;
        for (int slot = 0; slot < SLOTS; slot++) {
            long encoded = slots.get(slot * STRIDE);
            if (encoded != FREE && (encoded & 1) >= flag && timestampOf(encoded) < oldest) {
                oldest = timestampOf(encoded);
            }
        }
        // The iteration's loads are acquire loads: keep them after the caller's horizon store.
        java.lang.invoke.VarHandle.fullFence();
        for (long encoded : overflow.values()) {
            if ((encoded & 1) >= flag && timestampOf(encoded) < oldest) {
                oldest = timestampOf(encoded);
            }
        }
        return oldest;
    }

    /**
     * How many snapshots are pinned right now (a racy count, for statistics).
     *
     * @return the number of pins
     */
    public int pinnedCount() {
        int count = 0;
        for (int slot = 0; slot < SLOTS; slot++) {
            if (slots.get(slot * STRIDE) != FREE) {
                count++;
            }
        }
        return count + overflow.size();
    }

    private static final SlotToken[] SLOT_TOKENS = new SlotToken[SLOTS];

    static {
        for (int i = 0; i < SLOTS; i++) {
            SLOT_TOKENS[i] = new SlotToken(i);
        }
    }

    private static final class SlotToken {
        final int slot;

        SlotToken(int slot) {
            this.slot = slot;
        }
    }
}
