// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Database;
import dev.varve.Internals;
import dev.varve.Snapshot;
import dev.varve.SnapshotTooOldException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A pin at a past timestamp ({@code db.snapshotAt}) against a watermark refresh in flight
 * (SnapshotPins P7), each bad interleaving forced with a hook at a named point: the refresh held
 * after it scanned the pins (so it missed the new pin) or before it scanned them (so it sees it).
 * In both, what the snapshot reads must be what was committed at its timestamp, or the read must
 * be refused; never a snapshot whose versions vacuum then cuts.
 */
class PinAtVsRefreshTest {
    private final Database<Integer, Integer> db =
            Database.<Integer, Integer>builder().open();

    @AfterEach
    void tearDown() {
        db.close();
    }

    /** A hook that holds the first thread at {@code hold} and counts arrivals at {@code watch}. */
    private static final class HoldAndWatch implements TestHook {
        final PauseHook hold;
        final Point watch;
        final CountDownLatch watched = new CountDownLatch(1);

        HoldAndWatch(Point hold, Point watch) {
            this.hold = new PauseHook(hold);
            this.watch = watch;
        }

        @Override
        public void at(Point p) {
            if (p == watch) {
                watched.countDown();
            }
            hold.at(p);
        }

        void awaitWatched() throws InterruptedException {
            assertTrue(watched.await(30, TimeUnit.SECONDS), "nobody reached " + watch);
        }
    }

    /**
     * Writes k = 1 at ts a, keeps a snapshot at a open while k = 2 commits at b (so no refresh
     * may cut a's version yet), then closes it: a is readable until a refresh runs.
     *
     * @return a
     */
    private long overwrittenWhileASnapshotHeldIt() {
        db.put(1, 1);
        long a;
        try (Snapshot<Integer, Integer> s = db.snapshot()) {
            a = s.snapshotTimestamp();
            db.put(1, 2);
            assertEquals(1, s.get(1));
        }
        try (Snapshot<Integer, Integer> readable = db.snapshotAt(a)) { // before any refresh past a
            assertEquals(1, readable.get(1));
        }
        return a;
    }

    @Test
    void aPinPublishedAfterAnInFlightRefreshScannedWaitsForItsWatermarkAndIsRefused() throws Exception {
        long a = overwrittenWhileASnapshotHeldIt();
        long b = db.gauges().visibleTimestamp();
        HoldAndWatch hook =
                new HoldAndWatch(TestHook.Point.REFRESH_BEFORE_RAISE, TestHook.Point.PIN_AT_AWAITING_REFRESHES);
        Internals.store(db).hook(hook);
        CompletableFuture<?> vacuum = CompletableFuture.runAsync(db::vacuum);
        hook.hold.awaitReached(); // the refresh scanned no pin: its watermark is b, not raised yet

        CompletableFuture<Snapshot<Integer, Integer>> past = CompletableFuture.supplyAsync(() -> db.snapshotAt(a));
        hook.awaitWatched(); // the pin is published and waits for the refresh
        assertFalse(past.isDone(), "snapshotAt returned while a refresh that missed its pin was in flight");
        hook.hold.release();
        vacuum.get(30, TimeUnit.SECONDS);

        ExecutionException e = assertThrows(ExecutionException.class, () -> past.get(30, TimeUnit.SECONDS));
        SnapshotTooOldException tooOld = assertInstanceOf(SnapshotTooOldException.class, e.getCause());
        assertEquals(a, tooOld.requestedTimestamp());
        assertEquals(b, tooOld.oldestAvailableTimestamp());
        assertEquals(2, db.get(1));
    }

    @Test
    void aPinPublishedBeforeAnInFlightRefreshScansHoldsItsWatermarkAndReadsItsVersions() throws Exception {
        long a = overwrittenWhileASnapshotHeldIt();
        HoldAndWatch hook =
                new HoldAndWatch(TestHook.Point.REFRESH_BEFORE_SCAN, TestHook.Point.PIN_AT_AWAITING_REFRESHES);
        Internals.store(db).hook(hook);
        CompletableFuture<?> vacuum = CompletableFuture.runAsync(db::vacuum);
        hook.hold.awaitReached(); // the horizon is raised past a, the pins not scanned yet

        CompletableFuture<Snapshot<Integer, Integer>> past = CompletableFuture.supplyAsync(() -> db.snapshotAt(a));
        hook.awaitWatched();
        assertFalse(past.isDone(), "snapshotAt returned while a refresh was between its horizon and its scan");
        hook.hold.release(); // the scan now sees the pin at a: the watermark stays at a
        vacuum.get(30, TimeUnit.SECONDS);

        try (Snapshot<Integer, Integer> s = past.get(30, TimeUnit.SECONDS)) {
            assertEquals(a, s.snapshotTimestamp());
            db.vacuum(); // a full pass with the pin open: a's version must survive it
            assertEquals(1, s.get(1));
            assertEquals(1, s.size());
        }
        db.vacuum();
        assertThrows(SnapshotTooOldException.class, () -> db.snapshotAt(a));
    }

    @Test
    void withinARetentionWindowAPastPinNeverWaitsForARefresh() throws Exception {
        try (Database<Integer, Integer> retaining = Database.<Integer, Integer>builder()
                .retainHistory(Duration.ofHours(1))
                .open()) {
            retaining.put(1, 1);
            long a = retaining.gauges().visibleTimestamp();
            retaining.put(1, 2);
            HoldAndWatch hook =
                    new HoldAndWatch(TestHook.Point.REFRESH_BEFORE_RAISE, TestHook.Point.PIN_AT_AWAITING_REFRESHES);
            Internals.store(retaining).hook(hook);
            CompletableFuture<?> vacuum = CompletableFuture.runAsync(retaining::vacuum);
            hook.hold.awaitReached();
            try (Snapshot<Integer, Integer> s = retaining.snapshotAt(a)) { // on this thread: must not wait
                assertEquals(1, s.get(1));
            } finally {
                hook.hold.release();
            }
            vacuum.get(30, TimeUnit.SECONDS);
            assertEquals(1, hook.watched.getCount(), "the pin waited for a refresh inside the window");
            try (Snapshot<Integer, Integer> s = retaining.snapshotAt(a)) {
                assertEquals(1, s.get(1));
                assertNull(s.get(2));
            }
        }
    }
}
