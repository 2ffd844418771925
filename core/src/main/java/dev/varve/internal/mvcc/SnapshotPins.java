// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Snapshot pins and the vacuum horizon: the registry of pinned snapshot timestamps, the horizon
 * below which vacuum may have cut versions, and the prunable watermark committers prune against.
 * The pin handshake between readers and vacuum lives here, whole.
 *
 * <p>Thread-safe and lock-free.
 */
public final class SnapshotPins {
    private static final VarHandle VACUUM_HORIZON;
    private static final VarHandle PRUNABLE_WATERMARK;
    private static final VarHandle REFRESHES_IN_FLIGHT;
    private static final VarHandle PIVOT_HORIZON;

    static {
        try {
            var lookup = MethodHandles.lookup();
            VACUUM_HORIZON = lookup.findVarHandle(SnapshotPins.class, "vacuumHorizon", long.class);
            PRUNABLE_WATERMARK = lookup.findVarHandle(SnapshotPins.class, "prunableWatermark", long.class);
            REFRESHES_IN_FLIGHT = lookup.findVarHandle(SnapshotPins.class, "refreshesInFlight", int.class);
            PIVOT_HORIZON = lookup.findVarHandle(SnapshotPins.class, "pivotHorizon", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final SnapshotRegistry registry = new SnapshotRegistry();

    /** A pin's phases (P6). */
    private static final int OPEN = 0;

    private static final int COMMITTING = 1;
    private static final int EXPIRED = 2;
    private static final VarHandle PHASE;

    static {
        try {
            PHASE = MethodHandles.lookup().findVarHandle(Pin.class, "phase", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
    /** The store's visible timestamp (a volatile read). */
    private final LongSupplier visible;
    /** Vacuum may have cut versions only a snapshot below this could read (P1). */
    private volatile long vacuumHorizon;
    /** A possible pivot pins no snapshot below this unless a scan for pivots saw its pin (P9). */
    private volatile long pivotHorizon;
    /**
     * A watermark computed by the last refresh: every pinned snapshot is at or above it, so a
     * committer may cut the versions of a chain it touches that are older than the newest
     * version at or below it (P3).
     */
    private volatile long prunableWatermark = Long.MAX_VALUE; // recovery keeps only the newest version
    /** The last watermark a refresh computed, and since when (System.nanoTime) it has stood. */
    private volatile long lastWatermark = -1;

    private volatile long lastWatermarkSinceNanos = System.nanoTime();
    /** Refreshes between their first step and the raise of prunableWatermark (P7). */
    @SuppressWarnings("unused") // accessed through REFRESHES_IN_FLIGHT
    private volatile int refreshesInFlight;
    /** The commit clock of history retention, or null when history is not retained (P8). */
    private CommitTimes history;
    /** The forced-schedule hook; set by Store#hook before the threads it pauses start. */
    TestHook hook = TestHook.NONE;

    /**
     * Pins for a store.
     *
     * @param visible reads the store's visible timestamp
     */
    public SnapshotPins(LongSupplier visible) {
        this.visible = visible;
    }

    /*
     * Implementation notes.
     *
     * The pin handshake (Dekker): a pinner publishes its snapshot in the registry, then reads
     * vacuumHorizon; a refresh raises vacuumHorizon, then scans the registry. Both sides use
     * sequentially consistent accesses (see SnapshotRegistry), so at least one sees the other.
     *  P1. vacuumHorizon only rises (raise: a CAS max), and a refresh raises it to visibleTs
     *      before it scans the pins; so a pin that the scan missed reads a horizon at or above the
     *      watermark computed, and
     *  P2. a pin that reads vacuumHorizon > its timestamp has lost that race: it re-pins at a
     *      fresh visibleTs (at or above the horizon) and checks again. So a pinned snapshot is
     *      never below a watermark any refresh returned after the pin returned.
     *  P3. prunableWatermark only rises once the store is open (raise), and is at most the oldest
     *      pin the refresh saw: by P1-P2, every pinned snapshot is at or above it, so a version
     *      older than the newest one at or below it is invisible to every pinned snapshot.
     *  P4. An unpinned reader (an autocommit get) reads at visibleTs without a pin; vacuum may
     *      cut below it. It can only miss a version if its timestamp is below vacuumHorizon
     *      (cutMayHide), and then re-reads at a fresh timestamp.
     *  P5. A watched pin (a transaction's) is released by reap only when its owner is
     *      unreachable (then no thread can use or release it: the owner's finishing paths keep it
     *      reachable until their release is done) or when it is expired (then the owner releases
     *      with run(), an atomic exchange, never releaseExclusive, and refuses to go on).
     *  P6. An expiry and a commit exclude each other: reap moves a pin OPEN -> EXPIRED, and an
     *      owner that begins to commit moves it OPEN -> COMMITTING, both by CAS, and only reap's
     *      winner releases the pin. So a commit (read-only or not) runs with its snapshot pinned
     *      from its first step to its publication, and an expired transaction commits nothing.
     *  P7. A pin at a past timestamp t (pinAt: a snapshot as of t, a change feed's replay) is
     *      safe iff no watermark above t was ever used to cut, nor will be while it is pinned.
     *      Every cut uses a watermark some refresh computed, and each refresh raises
     *      prunableWatermark to it before it returns (and before committers read it). pinAt
     *      publishes its pin, then waits for a moment with no refresh in flight, then reads
     *      prunableWatermark: a refresh that began before that moment has raised it by then; one
     *      that begins after scans after the pin was published, so sees it (Dekker, as in P1).
     *      So prunableWatermark <= t at that read proves the pin safe; otherwise it is withdrawn
     *      and the read refused. Fast path (readableAt): if, after the pin is published,
     *      vacuumHorizon <= t and prunableWatermark <= t, no wait is needed: a refresh that
     *      missed the pin raised vacuumHorizon before its scan (P1), so its watermark is at most
     *      its horizon, at most t; earlier refreshes raised prunableWatermark to theirs. Within a
     *      retention window the horizon trails (P8), so a past read there never waits, and a
     *      stream of overlapping refreshes cannot starve it. An open snapshot at t keeps every watermark at or below t, which
     *      is what makes list-then-watch work without history retention.
     *  P8. With history retention, a refresh's horizon is min(visibleTs, the commit clock's
     *      horizon), both monotonic, so P1's raise stays monotonic and every watermark is at or
     *      below the newest commit at the window's oldest instant: a snapshot taken within the
     *      window stays readable (CommitTimes C3).
     *  P9. A possible pivot (a SERIALIZABLE transaction that may write: SnapshotRegistry R3)
     *      publishes its pin, then reads pivotHorizon as well as vacuumHorizon, and re-pins
     *      (P2) if either is above its timestamp; noPossiblePivotOlderThan(s) raises
     *      pivotHorizon to visibleTs >= s, then scans the pins for possible pivots. The same
     *      Dekker handshake as P1-P2: a possible pivot whose pin the scan missed reads at a
     *      snapshot >= s. It has its own horizon so that the scan, which read-only commits run,
     *      never moves vacuumHorizon (which history retention keeps trailing: P8).
     * NOTE: lastWatermark and lastWatermarkSinceNanos are written as a pair without a lock; a
     * reader may pair one refresh's watermark with another's time. Harmless: they only feed the
     * oldest-snapshot age in statistics, documented as a lower bound.
     */

    /**
     * Raises a monotonic timestamp field to at least {@code value} with a CAS loop, so that
     * concurrent refreshers (vacuum passes, committers) can never move it backwards: a horizon
     * that went back could let a pin slip past a vacuum that missed it (P1).
     */
    private void raise(VarHandle field, long value) {
        long current = (long) field.getVolatile(this);
        while (value > current && !field.compareAndSet(this, current, value)) {
            current = (long) field.getVolatile(this);
        }
    }

    /**
     * Pins a fresh snapshot at the visible timestamp (P2).
     *
     * @return the pin
     */
    public Pin pin() {
        return new Pin(this);
    }

    /**
     * Whether a read at {@code ts} that found nothing may have been hidden by a cut tail (P4).
     *
     * @param ts the read's timestamp
     * @return true if the read must be repeated at a fresh timestamp
     */
    public boolean cutMayHide(long ts) {
        return vacuumHorizon > ts;
    }

    /**
     * The oldest snapshot any open transaction or view can read at, without the handshake (for
     * statistics).
     *
     * @return the oldest pinned timestamp, or the visible timestamp if none is older
     */
    public long watermark() {
        return registry.oldestPinned(visible.getAsLong());
    }

    /**
     * Computes a new watermark with the pin handshake (raise the horizon, then scan the pins: P1)
     * and publishes it for cooperative pruning (P3).
     *
     * @return the watermark: no pinned snapshot is below it
     */
    public long refresh() {
        REFRESHES_IN_FLIGHT.getAndAdd(this, 1); // before the horizon is read (P7)
        long watermark;
        try {
            long horizon = visible.getAsLong();
            CommitTimes h = history;
            if (h != null) {
                horizon = Math.min(horizon, h.horizon(horizon)); // P8
            }
            raise(VACUUM_HORIZON, horizon); // published before scanning pins (P1)
            hook.at(TestHook.Point.REFRESH_BEFORE_SCAN);
            watermark = registry.oldestPinned(horizon);
            hook.at(TestHook.Point.REFRESH_BEFORE_RAISE);
            raise(PRUNABLE_WATERMARK, watermark);
        } finally {
            REFRESHES_IN_FLIGHT.getAndAdd(this, -1); // after the raise (P7)
        }
        if (watermark != lastWatermark) {
            lastWatermark = watermark; // NOTE: the pair is racy; see the notes
            lastWatermarkSinceNanos = System.nanoTime();
        }
        return watermark;
    }

    /**
     * Retains history for {@code windowMillis} (P8); called once, when the store opens, before
     * any other thread sees it.
     *
     * @param windowMillis the window in ms
     * @param visibleTs the visible timestamp at open
     * @return the commit clock committers must feed
     */
    CommitTimes retainHistory(long windowMillis, long visibleTs) {
        history = new CommitTimes(windowMillis, visibleTs);
        return history;
    }

    /**
     * The commit clock of history retention.
     *
     * @return the clock, or null if history is not retained
     */
    CommitTimes history() {
        return history;
    }

    /**
     * The oldest timestamp a pin published before this call may read at (P7): waits for a moment
     * with no refresh in flight, then reads the prunable watermark.
     *
     * @return the oldest readable timestamp
     */
    public long oldestReadable() {
        if ((int) REFRESHES_IN_FLIGHT.getVolatile(this) != 0) {
            hook.at(TestHook.Point.PIN_AT_AWAITING_REFRESHES);
        }
        for (int spins = 0; (int) REFRESHES_IN_FLIGHT.getVolatile(this) != 0; spins++) {
            if (spins < 100) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
        return prunableWatermark;
    }

    /**
     * The oldest timestamp a pin at {@code ts}, published before this call, may read at (P7):
     * {@code ts} itself at once when neither the horizon nor the prunable watermark is above it
     * (then no refresh, finished or in flight, can cut above it), else {@link #oldestReadable()}.
     *
     * @param ts the pin's timestamp
     * @return at most ts if the pin is safe, else the oldest readable timestamp
     */
    long readableAt(long ts) {
        if (vacuumHorizon <= ts && prunableWatermark <= ts) {
            return ts;
        }
        return oldestReadable();
    }

    /**
     * Pins a snapshot at the past timestamp {@code ts} if it is still readable (P7).
     *
     * @param ts the commit timestamp to read at, at most the visible timestamp
     * @return the pin
     * @throws dev.varve.SnapshotTooOldException if vacuum may have reclaimed versions it reads
     */
    public Pin pinAt(long ts) {
        return new Pin(this, ts);
    }

    /**
     * The watermark the last refresh published (P3).
     *
     * @return the prunable watermark
     */
    public long prunableWatermark() {
        return prunableWatermark;
    }

    /**
     * Sets the prunable watermark when the store opens, before any other thread can see it and
     * before any snapshot exists; lowers it from the recovery setting (everything older is garbage).
     *
     * @param ts the visible timestamp after recovery
     */
    public void openAt(long ts) {
        prunableWatermark = ts;
    }

    /**
     * Whether no possible pivot (SnapshotRegistry R3) has a snapshot older than {@code
     * snapshotTs} pinned, nor can pin one later (P9): at once if the published watermark says
     * no pin at all is older, else by raising the pivot horizon and scanning.
     *
     * @param snapshotTs a snapshot timestamp, at most the visible timestamp
     * @return true if every possible pivot's snapshot is, and will be, at or above it
     */
    public boolean noPossiblePivotOlderThan(long snapshotTs) {
        if (prunableWatermark >= snapshotTs) {
            return true; // no pin at all is older (P3), nor can be (P1-P2)
        }
        raise(PIVOT_HORIZON, visible.getAsLong()); // before the scan (P9)
        return registry.oldestPinnedByPossiblePivot(snapshotTs) >= snapshotTs;
    }

    /**
     * How long the oldest open snapshot has held the watermark back, as far as the last refresh
     * saw: 0 when no snapshot is older than the visible timestamp.
     *
     * @param oldestSnapshot the current watermark
     * @param visibleTs the visible timestamp read with it
     * @return the age in nanoseconds
     */
    public long oldestSnapshotAgeNanos(long oldestSnapshot, long visibleTs) {
        if (oldestSnapshot >= visibleTs || oldestSnapshot != lastWatermark) {
            return 0;
        }
        return System.nanoTime() - lastWatermarkSinceNanos;
    }

    /**
     * How many snapshots are pinned right now (a racy count, for statistics).
     *
     * @return the number of pins
     */
    public int pinnedCount() {
        return registry.pinnedCount();
    }

    /** The age bound reapAndRefresh applies (ns, 0 for none), and who hears of what it released. */
    private long maxAgeNanos;

    private Consumer<Pin> onLeak = pin -> {};
    private Consumer<Pin> onExpired = pin -> {};

    /**
     * Configures {@link #reapAndRefresh}; called once, before the store is shared.
     *
     * @param maxAgeNanos the age bound in ns, or 0 for none
     * @param onLeak told of each leaked pin released
     * @param onExpired told of each expired pin released
     */
    public void reaping(long maxAgeNanos, Consumer<Pin> onLeak, Consumer<Pin> onExpired) {
        this.maxAgeNanos = maxAgeNanos;
        this.onLeak = onLeak;
        this.onExpired = onExpired;
    }

    /**
     * {@link #reap} as configured by {@link #reaping}, then {@link #refresh}: what a periodic
     * refresh and a vacuum pass run, so a leaked or expired pin stops holding the watermark
     * back at the next one.
     *
     * @return the watermark
     */
    public long reapAndRefresh() {
        reap(maxAgeNanos, onLeak, onExpired);
        return refresh();
    }

    /**
     * Releases the pins of transactions that can no longer release their own (P5): those whose
     * owner became unreachable unclosed (a leak), and, when {@code maxAgeNanos > 0}, those open
     * longer than that (each marked {@link Pin#isExpired() expired} before its release, so its
     * owner refuses its next operation and any read that raced the release). Then vacuum and
     * committers can move past their snapshots. Call it before {@link #refresh()}.
     *
     * @param maxAgeNanos the age bound in ns, or 0 for none
     * @param onLeak told of each leaked pin released
     * @param onExpired told of each expired pin released
     */
    void reap(long maxAgeNanos, Consumer<Pin> onLeak, Consumer<Pin> onExpired) {
        long now = maxAgeNanos > 0 ? System.nanoTime() : 0;
        registry.forEachWatched(pin -> {
            if (pin.refersTo(null)) { // the owner is unreachable: nothing can use or release it
                if (pin.releaseIfPinned()) {
                    onLeak.accept(pin);
                }
            } else if (maxAgeNanos > 0
                    && pin.beginNanos != 0
                    && now - pin.beginNanos > maxAgeNanos
                    && PHASE.compareAndSet(pin, OPEN, EXPIRED)) { // never a committing one (P6)
                if (pin.releaseIfPinned()) { // after EXPIRED is published: see Pin#isExpired
                    onExpired.accept(pin);
                }
            }
        });
    }

    /**
     * The read-only commits counted on the pins' slots (SnapshotRegistry R2).
     *
     * @return the count
     */
    public long readOnlyCommits() {
        return registry.slotCounts(SnapshotRegistry.READ_ONLY_COMMITS);
    }

    /**
     * The reads counted on the pins' slots (SnapshotRegistry R2).
     *
     * @return the count
     */
    public long reads() {
        return registry.slotCounts(SnapshotRegistry.READS);
    }

    /**
     * Hands every watched pin still pinned (an open transaction's) to {@code action}; weakly
     * consistent.
     *
     * @param action called once per pin
     */
    public void forEachOpen(Consumer<Pin> action) {
        registry.forEachWatched(pin -> {
            if (pin.isPinned()) {
                action.accept(pin);
            }
        });
    }

    /**
     * One pinned snapshot: its timestamp, and the release of its registry slot, which runs once
     * (an explicit finish, or the garbage collector's cleaner for a snapshot view nobody closed).
     * It holds the registry, never its owner, so a cleaner action that is a Pin keeps nothing of
     * the owner reachable. A transaction's {@link TxState} is its pin (one object fewer per
     * transaction); a subclass must not reference the pin's owner either.
     *
     * <p>A transaction's pin is also a weak reference to its transaction, and is watched (P5):
     * when the transaction becomes unreachable unclosed, {@link #reap} releases the pin.
     */
    public static class Pin extends WeakReference<Object> implements Runnable {
        private static final VarHandle TOKEN;

        static {
            try {
                TOKEN = MethodHandles.lookup().findVarHandle(Pin.class, "token", Object.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        /** OPEN, then COMMITTING (its owner began to commit) or EXPIRED (reap released it): P6. */
        @SuppressWarnings("unused") // accessed through PHASE
        private volatile int phase;

        private final SnapshotRegistry registry;
        private final long snapshotTs;
        /** The registry's token while pinned, null once withdrawn; cleared by getAndSet only. */
        private volatile Object token;
        /** When it was pinned (System.nanoTime), or 0 when ages are not tracked. */
        private final long beginNanos;
        /** Where it was pinned, when leaks are tracked; else null. */
        private final Throwable begunAt;

        /**
         * Pins a fresh snapshot of {@code pins} at the visible timestamp (P2), unwatched.
         *
         * @param pins the pins to register with
         */
        protected Pin(SnapshotPins pins) {
            this(pins, null, false, false, false);
        }

        /**
         * Pins a fresh snapshot of {@code pins} at the visible timestamp (P2), watched for
         * {@code owner} if it is not null (P5).
         *
         * @param pins the pins to register with
         * @param owner the transaction this pins for, weakly referenced; null for none
         * @param trackAge whether to record when it was pinned (for an age bound and listings)
         * @param trackSite whether to record where (a stack trace, for leak reports)
         * @param possiblePivot whether the owner is a SERIALIZABLE transaction that may write
         *     (SnapshotRegistry R3, P9)
         */
        protected Pin(SnapshotPins pins, Object owner, boolean trackAge, boolean trackSite, boolean possiblePivot) {
            super(owner);
            // Allocated before the slot is taken: an OutOfMemoryError here leaves no pinned slot
            // that nothing watches.
            this.begunAt = trackSite ? new Throwable("the transaction was begun here") : null;
            SnapshotRegistry r = pins.registry;
            long ts = pins.visible.getAsLong();
            pins.hook.at(TestHook.Point.PIN_BEFORE_PUBLISH);
            Object t = r.pin(ts, possiblePivot);
            // Lost the race with a vacuum (P2) or a scan for pivots (P9) that missed our pin.
            while (pins.vacuumHorizon > ts || (possiblePivot && pins.pivotHorizon > ts)) {
                ts = pins.visible.getAsLong();
                r.repin(t, ts);
            }
            this.registry = r;
            this.snapshotTs = ts;
            this.beginNanos = trackAge ? Math.max(1, System.nanoTime()) : 0;
            // NOTE: a plain store: the pin is handed to another thread (a cleaner, a concurrent
            // close) only through a synchronized or volatile publication, which orders it.
            TOKEN.set(this, t);
            if (owner != null) {
                r.watch(t, this); // a release store: publishes the fields above to reap
            }
        }

        /**
         * Pins the past timestamp {@code ts} of {@code pins} (P7), unwatched.
         *
         * @param pins the pins to register with
         * @param ts the commit timestamp, at most the visible timestamp
         * @throws dev.varve.SnapshotTooOldException if vacuum may have reclaimed what it reads
         */
        protected Pin(SnapshotPins pins, long ts) {
            super(null);
            this.begunAt = null;
            SnapshotRegistry r = pins.registry;
            Object t = r.pin(ts, false); // a read-only view: never a pivot
            long oldest = pins.readableAt(ts); // after the pin is published (P7)
            if (oldest > ts) {
                r.unpin(t);
                throw new dev.varve.SnapshotTooOldException(ts, oldest);
            }
            this.registry = r;
            this.snapshotTs = ts;
            this.beginNanos = 0;
            TOKEN.set(this, t);
        }

        /**
         * When the pin was taken, if ages are tracked.
         *
         * @return System.nanoTime at the pin, or 0 if not tracked
         */
        public final long beginNanos() {
            return beginNanos;
        }

        /**
         * Where the pin was taken, if leaks are tracked.
         *
         * @return a throwable whose stack trace is the begin site, or null
         */
        public final Throwable begunAt() {
            return begunAt;
        }

        /**
         * Whether {@link #reap} released this pin because it outlived the age bound. An owner
         * checks it at each operation, and after each read of a version chain: a read that saw
         * a chain vacuum cut after the release sees this true afterwards (the flag is set before
         * the release, which comes before any watermark that excludes the pin).
         *
         * @return true once expired
         */
        public final boolean isExpired() {
            return phase == EXPIRED;
        }

        /**
         * Called by the owner as its commit begins, when an age bound is set: from now on {@link
         * #reap} leaves the pin alone, so the snapshot stays pinned until the commit is published
         * (CommitProtocol's argument R1 needs a committing pivot pinned), and a commit can never
         * run on a released snapshot (P6).
         *
         * @return false if the pin had expired first: the commit must not run
         */
        public final boolean beginCommit() {
            return PHASE.compareAndSet(this, OPEN, COMMITTING) || (int) PHASE.getVolatile(this) == COMMITTING;
        }

        /**
         * Adds to a count on this pin's slot (SnapshotRegistry R2). The caller holds the pin and
         * no one else can release it meanwhile (its owner, committing or finishing: P5, P6).
         *
         * @param which SnapshotRegistry.READ_ONLY_COMMITS or READS
         * @param n the amount
         * @return false if the pin was already released (count elsewhere then)
         */
        public final boolean countOnSlot(int which, long n) {
            Object t = TOKEN.get(this);
            if (t == null) {
                return false;
            }
            registry.countOnSlot(t, which, n);
            return true;
        }

        /**
         * Whether the pin still holds its slot.
         *
         * @return true until released
         */
        public final boolean isPinned() {
            return token != null;
        }

        /** Releases the pin if it still holds its slot; true if this call released it. */
        private boolean releaseIfPinned() {
            Object t = TOKEN.getAndSet(this, null);
            if (t != null) {
                registry.unpin(t);
                return true;
            }
            return false;
        }

        /**
         * The pinned snapshot timestamp.
         *
         * @return the timestamp
         */
        public final long snapshotTs() {
            return snapshotTs;
        }

        /**
         * Withdraws the pin when its owner knows this is the only release that can run: no
         * cleaner holds it, and the owner's own state machine lets one thread finish it (a
         * transaction's state CAS). Saves {@link #run()}'s atomic exchange.
         */
        public final void releaseExclusive() {
            Object t = TOKEN.get(this);
            if (t != null) {
                TOKEN.set(this, null);
                registry.unpin(t);
            }
        }

        /** Withdraws the pin; only the first call does anything. Safe from any thread. */
        @Override
        public final void run() {
            releaseIfPinned();
        }
    }
}
