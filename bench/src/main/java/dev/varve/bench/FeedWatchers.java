// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench;

import dev.varve.CommitEvent;
import dev.varve.Database;
import dev.varve.FellBehindException;
import dev.varve.Snapshot;
import dev.varve.SnapshotTooOldException;
import dev.varve.WatchRange;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The {@code --watchers} subscribers: each watches the workload's whole database ({@link
 * Workload#watchedRanges()}) on a delivery thread of its own, requesting without bound, and
 * counts the events and changes it is given. A subscriber that falls behind ({@link
 * FellBehindException}) watches again after the last commit it was given; if those commits are
 * no longer retained ({@link SnapshotTooOldException}), it starts again from the newest commit
 * and the gap is counted. Any other failure fails the run ({@link #failure()}).
 *
 * <p>Used by the runner's monitor thread: {@link #start}, {@link #stats}, {@link #close}; the
 * counters are written by the delivery threads and read by the monitor, each watcher's together
 * under its lock: the runner reads them at the stop while the watchers are still given events, and
 * two separate atomics read there counted the changes of events whose own count was read before
 * them (16 changes too many over 136,748 events in one bank run).
 */
public final class FeedWatchers implements AutoCloseable {
    /** Events each subscriber's buffer holds (the database's default). */
    static final int BUFFER = 1024;

    private final Database<?, ?> db;
    private final List<WatchRange> ranges;
    private final Watcher[] watchers;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final AtomicReference<String> lastFellBehind = new AtomicReference<>();
    private volatile boolean stopped;
    /**
     * For tests: run by {@link #stats} once it has begun reading the first watcher's counts and
     * before it reads the next watcher's; null (nothing) otherwise.
     */
    volatile Runnable midStatsProbe;

    /**
     * What the subscribers were given in the measured run.
     *
     * @param watchers the number of subscribers
     * @param events events delivered, over every subscriber
     * @param changes changes in those events (keys written)
     * @param fellBehind times a subscriber was failed as fallen behind
     * @param gaps of those, times it could not resume (history not retained) and started again
     *     from the newest commit
     * @param seconds the interval the counts cover
     * @param lastFellBehind the message of the last {@link FellBehindException} (it says why:
     *     a full buffer, the ring lapped, live events overflowing a replay), or null if none
     */
    public record Stats(
            int watchers,
            long events,
            long changes,
            long fellBehind,
            long gaps,
            double seconds,
            String lastFellBehind) {
        /** Events delivered per second, over every subscriber. */
        public double eventsPerSecond() {
            return seconds > 0 ? events / seconds : 0;
        }

        /** Changes delivered per second, over every subscriber. */
        public double changesPerSecond() {
            return seconds > 0 ? changes / seconds : 0;
        }
    }

    FeedWatchers(Database<?, ?> db, List<WatchRange> ranges, int count) {
        this.db = db;
        this.ranges = List.copyOf(ranges);
        this.watchers = new Watcher[count];
        for (int i = 0; i < count; i++) {
            watchers[i] = new Watcher(i);
        }
    }

    /** Subscribes every watcher from the newest commit. */
    void start() {
        for (Watcher w : watchers) {
            w.fromNewest();
        }
    }

    /**
     * The counts now.
     *
     * @param seconds the interval they cover, for the rates
     * @return the counts
     */
    Stats stats(double seconds) {
        long events = 0;
        long changes = 0;
        long fellBehind = 0;
        long gaps = 0;
        Runnable probe = midStatsProbe;
        for (Watcher w : watchers) {
            long[] c = w.counts();
            if (probe != null) {
                probe.run();
                probe = null;
            }
            events += c[0];
            changes += c[1];
            fellBehind += c[2];
            gaps += c[3];
        }
        return new Stats(watchers.length, events, changes, fellBehind, gaps, seconds, lastFellBehind.get());
    }

    /** The first failure of a subscriber other than falling behind, or null. */
    Throwable failure() {
        return failure.get();
    }

    /** Cancels every subscription and stops the delivery threads (waits up to 10 s each). */
    @Override
    public void close() {
        stopped = true;
        for (Watcher w : watchers) {
            Flow.Subscription s = w.subscription.get();
            if (s != null) {
                s.cancel();
            }
            w.executor.shutdown();
        }
        for (Watcher w : watchers) {
            try {
                if (!w.executor.awaitTermination(10, TimeUnit.SECONDS)) {
                    w.executor.shutdownNow();
                }
            } catch (InterruptedException e) {
                w.executor.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
    }

    /** One subscriber: its delivery thread, its counters, its current subscription. */
    private final class Watcher {
        final ExecutorService executor;
        /** Events and changes given, times fallen behind, gaps; guarded by this (read together). */
        private long events;

        private long changes;
        private long fellBehind;
        private long gaps;
        final AtomicReference<Flow.Subscription> subscription = new AtomicReference<>();

        Watcher(int index) {
            executor = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "varve-bench-watcher-" + index);
                t.setDaemon(true);
                return t;
            });
        }

        /** Events, changes, times fallen behind and gaps, as of one instant. */
        synchronized long[] counts() {
            return new long[] {events, changes, fellBehind, gaps};
        }

        synchronized void given(int changeCount) {
            events++;
            changes += changeCount;
        }

        synchronized void fellBehind() {
            fellBehind++;
        }

        synchronized void gap() {
            gaps++;
        }

        /** Watches from the newest commit, holding a snapshot so its timestamp stays readable. */
        void fromNewest() {
            try (Snapshot<?, ?> s = db.snapshot()) {
                subscribe(s.snapshotTimestamp(), false);
            }
        }

        /** Watches after {@code ts}; from the newest commit, counting a gap, if that is too old. */
        void resume(long ts) {
            try {
                subscribe(ts, true);
            } catch (SnapshotTooOldException e) {
                gap();
                fromNewest();
            }
        }

        private void subscribe(long after, boolean resuming) {
            if (stopped) {
                return;
            }
            db.watch(ranges, after, executor, BUFFER).subscribe(new Stream(resuming));
        }

        /** What the current subscription ended with (on the delivery thread). */
        void ended(boolean resuming, Throwable t) {
            if (stopped) {
                return; // the run is over: the database may be closing
            }
            if (t instanceof FellBehindException behind) {
                fellBehind();
                lastFellBehind.set(behind.getMessage());
                resume(behind.lastDeliveredTimestamp());
            } else if (t instanceof SnapshotTooOldException && resuming) {
                gap(); // reclaimed between watch and subscribe
                fromNewest();
            } else {
                failure.compareAndSet(null, t);
            }
        }

        /** One subscription of this watcher (a Flow subscriber is subscribed at most once). */
        private final class Stream implements Flow.Subscriber<CommitEvent<Object, Object>> {
            private final boolean resuming;

            Stream(boolean resuming) {
                this.resuming = resuming;
            }

            @Override
            public void onSubscribe(Flow.Subscription s) {
                subscription.set(s);
                if (stopped) {
                    s.cancel(); // NOTE: close() may have missed it; cancelling here covers that
                    return;
                }
                s.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(CommitEvent<Object, Object> event) {
                given(event.changes().size());
            }

            @Override
            public void onError(Throwable t) {
                try {
                    ended(resuming, t);
                } catch (RuntimeException e) { // watching again failed (say, the database closed)
                    if (!stopped) {
                        failure.compareAndSet(null, e);
                    }
                }
            }

            @Override
            public void onComplete() {
                // the database closed
            }
        }
    }
}
