// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Change;
import dev.varve.CommitEvent;
import dev.varve.Database;
import dev.varve.FellBehindException;
import dev.varve.Internals;
import dev.varve.WatchRange;
import dev.varve.testing.FeedCollector;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The change feed under forced schedules: the dispatcher or a replay held at a hook while the test acts. */
class ChangeFeedScheduleTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    private final Set<Thread> threadsBefore = feedThreads();
    private final List<Database<?, ?>> opened = new ArrayList<>();

    @AfterEach
    void tearDown() {
        opened.forEach(Database::close);
    }

    /**
     * A hook installed before the feed's threads start, that holds nobody until armed; then the
     * first thread to reach its point is held (once) until the test releases it.
     */
    private static final class Armable implements TestHook {
        private final Point point;
        private volatile PauseHook pause;

        Armable(Point point) {
            this.point = point;
        }

        PauseHook arm() {
            PauseHook p = new PauseHook(point);
            pause = p;
            return p;
        }

        @Override
        public void at(Point p) {
            PauseHook h = pause;
            if (h != null) {
                h.at(p);
            }
        }
    }

    private Database<Long, Long> open(Armable hook) {
        Database<Long, Long> db = Database.<Long, Long>builder()
                .retainHistory(Duration.ofHours(1))
                .open();
        opened.add(db);
        if (hook != null) {
            Internals.store(db).hook(hook); // before the first watch starts the dispatcher
        }
        return db;
    }

    private static long put(Database<Long, Long> db, long key, long value) {
        db.put(key, value);
        return db.gauges().visibleTimestamp();
    }

    /** Commits keys 0 to 9, one commit each; returns the visible timestamp before them. */
    private static long tenCommits(Database<Long, Long> db) {
        long start = db.gauges().visibleTimestamp();
        for (long k = 0; k < 10; k++) {
            put(db, k, k);
        }
        return start;
    }

    private static Store<Long, Long> store(Database<Long, Long> db) {
        return Internals.store(db);
    }

    /** The live threads of change feeds (dispatchers and default delivery threads). */
    private static Set<Thread> feedThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive()
                        && (t.getName().startsWith("varve-change-feed-")
                                || t.getName().startsWith("varve-watch-")))
                .collect(Collectors.toSet());
    }

    /** The feed threads started since this test began that are still alive. */
    private Set<Thread> newFeedThreads() {
        Set<Thread> now = new HashSet<>(feedThreads());
        now.removeAll(threadsBefore);
        return now;
    }

    /** Awaitility, polling often: the conditions here hold within milliseconds. */
    private static ConditionFactory waitAtMost() {
        return await().atMost(WAIT).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(2));
    }

    private static void awaitSubscribed(FeedCollector<?, ?> c) {
        waitAtMost().until(() -> c.subscription != null);
    }

    @Test
    void aCommitPublishedBetweenTheDispatchersSlotReadAndItsVisibilityCheckIsRoutedNotTakenForALap() throws Exception {
        Armable hook = new Armable(TestHook.Point.DISPATCHER_READ_NEXT);
        Database<Long, Long> db = open(hook);
        long start = db.gauges().visibleTimestamp();
        FeedCollector<Long, Long> c = FeedCollector.unbounded();
        db.watch(null, null, start).subscribe(c);
        long c1 = put(db, 1L, 1L);
        waitAtMost().until(() -> c.lastTs() == c1);

        PauseHook held = hook.arm();
        held.awaitReached(); // the dispatcher read the empty slot of c1 + 1
        long c2 = put(db, 2L, 2L); // recorded and published while it stands there
        held.release();

        waitAtMost().until(() -> c.lastTs() == c2 || c.error.get() != null);
        assertNull(c.error.get(), "a commit recorded after the slot read was taken for a lap");
        assertEquals(List.of(c1, c2), c.timestamps());
    }

    @ParameterizedTest(name = "the new subscriber watches from before the held commit: {0}")
    @ValueSource(booleans = {true, false})
    void aSubscriberArrivingAfterTheFeedDeactivatedWhileTheDispatcherIsHeldMidRouteSeesEachCommitOnce(
            boolean fromBeforeTheHeldCommit) throws Exception {
        Armable hook = new Armable(TestHook.Point.DISPATCHER_BEFORE_ROUTE);
        Database<Long, Long> db = open(hook);
        Store<Long, Long> store = store(db);
        long start = db.gauges().visibleTimestamp();
        FeedCollector<Long, Long> first = FeedCollector.unbounded();
        db.watch(null, null, start).subscribe(first);
        awaitSubscribed(first);

        PauseHook held = hook.arm();
        long c1 = put(db, 1L, 1L);
        held.awaitReached(); // the dispatcher holds c1's entry, about to route it
        first.subscription.cancel(); // the last subscription: the feed deactivates
        assertEquals(0, store.changeFeed().subscriptions());
        assertNull(store.feed, "the feed still records commits with nobody watching");
        long c2 = put(db, 2L, 2L); // while nobody watches: not in the ring

        long after = fromBeforeTheHeldCommit ? start : c2;
        FeedCollector<Long, Long> second = FeedCollector.unbounded();
        db.watch(null, null, after).subscribe(second); // reactivates the feed
        held.release(); // the dispatcher goes on routing the c1 it held
        long c3 = put(db, 3L, 3L);

        waitAtMost().until(() -> second.lastTs() == c3 || second.error.get() != null);
        assertNull(second.error.get());
        List<Long> expected = fromBeforeTheHeldCommit ? List.of(c1, c2, c3) : List.of(c3);
        assertEquals(expected, second.timestamps(), "each commit after " + after + " once, in order");
        assertEquals(
                List.of(new Change<>(3L, 3L)),
                second.events.get(expected.size() - 1).changes());
        assertTrue(first.events.isEmpty(), "the cancelled subscriber was given " + first.events);
    }

    @Test
    void aRingLapWhileTheDispatcherIsHeldFailsEverySubscriptionWithItsLastTimestampAndAResumeSeesEachCommitOnce()
            throws Exception {
        Armable hook = new Armable(TestHook.Point.DISPATCHER_BEFORE_ROUTE);
        Database<Long, Long> db = open(hook);
        long start = db.gauges().visibleTimestamp();
        FeedCollector<Long, Long> whole = FeedCollector.unbounded();
        db.watch(null, null, start).subscribe(whole);
        FeedCollector<Long, Long> narrow = FeedCollector.unbounded(); // keys [0, 10): a few commits
        db.watch(0L, 10L, start).subscribe(narrow);
        long c0 = put(db, 1L, 0L);
        waitAtMost().until(() -> whole.lastTs() == c0 && narrow.lastTs() == c0);

        PauseHook held = hook.arm();
        long c1 = put(db, 1L, 1L);
        held.awaitReached(); // the dispatcher holds c1
        List<Long> narrowCommits = new ArrayList<>(List.of(c0, c1));
        for (int i = 0; i <= ChangeFeed.RING_SIZE; i++) { // c1 + 1 .. c1 + RING_SIZE + 1: c1 + 1 is overwritten
            if (i % 5000 == 0) {
                narrowCommits.add(put(db, 2L, i));
            } else {
                put(db, 100L + i % 1000, i);
            }
        }
        long last = db.gauges().visibleTimestamp();
        assertEquals(c1 + ChangeFeed.RING_SIZE + 1, last, "committers went on while the dispatcher was held");
        held.release();

        waitAtMost().until(() -> whole.error.get() != null && narrow.error.get() != null);
        for (FeedCollector<Long, Long> c : List.of(whole, narrow)) {
            FellBehindException e = assertInstanceOf(FellBehindException.class, c.error.get());
            // c1 was routed before the lap was seen; the error may overtake it in the buffer.
            assertEquals(c.lastTs(), e.lastDeliveredTimestamp(), "the timestamp onNext was last given");
            assertTrue(
                    c.timestamps().equals(List.of(c0)) || c.timestamps().equals(List.of(c0, c1)), c.events::toString);
            assertEquals(
                    "the change feed's subscriber fell behind (more than " + ChangeFeed.RING_SIZE
                            + " commits arrived while the feed routed commit " + (c1 + 1)
                            + "); the last commit timestamp it was given is " + e.lastDeliveredTimestamp()
                            + ": watch again after it to resume",
                    e.getMessage());
        }
        assertEquals(0, store(db).changeFeed().subscriptions());

        long wholeFrom = ((FellBehindException) whole.error.get()).lastDeliveredTimestamp();
        FeedCollector<Object, Object> wholeResumed = FeedCollector.unbounded();
        db.watch(List.of(WatchRange.ofDefaultMap(null, null)), wholeFrom, null, 1 << 18)
                .subscribe(wholeResumed);
        long narrowFrom = ((FellBehindException) narrow.error.get()).lastDeliveredTimestamp();
        FeedCollector<Object, Object> narrowResumed = FeedCollector.unbounded();
        db.watch(List.of(WatchRange.ofDefaultMap(0L, 10L)), narrowFrom, null, 64)
                .subscribe(narrowResumed);
        long end = put(db, 3L, 3L); // one live commit after the replay

        waitAtMost()
                .until(() -> (wholeResumed.lastTs() == end || wholeResumed.error.get() != null)
                        && (narrowResumed.lastTs() == end || narrowResumed.error.get() != null));
        assertNull(wholeResumed.error.get());
        assertNull(narrowResumed.error.get());
        assertEquals(
                LongStream.rangeClosed(wholeFrom + 1, end).boxed().toList(),
                wholeResumed.timestamps(),
                "every commit after " + wholeFrom + " once, in order");
        List<Long> narrowExpected = new ArrayList<>();
        for (long ts : narrowCommits) {
            if (ts > narrowFrom) {
                narrowExpected.add(ts);
            }
        }
        narrowExpected.add(end);
        assertEquals(narrowExpected, narrowResumed.timestamps());
    }

    @Test
    void cancelInsideOnNextStopsDeliveryAndDeactivatesTheFeed() throws Exception {
        Database<Long, Long> db = open(null);
        Store<Long, Long> store = store(db);
        long start = db.gauges().visibleTimestamp();
        List<Long> commits = new ArrayList<>();
        for (long k = 1; k <= 5; k++) {
            commits.add(put(db, k, k));
        }
        // One delivery thread: the replay offers all five before the subscriber is given the
        // first, so the two after the cancel are in its buffer when it cancels.
        ExecutorService delivery = Executors.newSingleThreadExecutor();
        try {
            List<CommitEvent<Object, Object>> got = new CopyOnWriteArrayList<>();
            AtomicBoolean cancelled = new AtomicBoolean();
            AtomicReference<String> afterCancel = new AtomicReference<>();
            db.watch(List.of(WatchRange.ofDefaultMap(null, null)), start, delivery, 16)
                    .subscribe(new Flow.Subscriber<>() {
                        private Flow.Subscription subscription;

                        @Override
                        public void onSubscribe(Flow.Subscription s) {
                            subscription = s;
                            s.request(Long.MAX_VALUE);
                        }

                        @Override
                        public void onNext(CommitEvent<Object, Object> item) {
                            if (cancelled.get()) {
                                afterCancel.compareAndSet(null, "onNext " + item);
                            }
                            got.add(item);
                            if (got.size() == 3) {
                                subscription.cancel();
                                cancelled.set(true);
                            }
                        }

                        @Override
                        public void onError(Throwable t) {
                            afterCancel.compareAndSet(null, "onError " + t);
                        }

                        @Override
                        public void onComplete() {
                            afterCancel.compareAndSet(null, "onComplete");
                        }
                    });
            waitAtMost().until(cancelled::get);
            // No commit after the cancel: the subscription must go now, not at the next commit.
            waitAtMost().until(() -> store.changeFeed().subscriptions() == 0 && store.feed == null);
            delivery.submit(() -> {}).get(20, TimeUnit.SECONDS); // whatever the buffer held had its turn
            assertEquals(
                    commits.subList(0, 3),
                    got.stream().map(CommitEvent::commitTimestamp).toList());

            FeedCollector<Long, Long> witness = FeedCollector.unbounded();
            db.watch(null, null, start).subscribe(witness);
            long c6 = put(db, 6L, 6L);
            waitAtMost().until(() -> witness.lastTs() == c6);
            delivery.submit(() -> {}).get(20, TimeUnit.SECONDS);
            assertEquals(3, got.size(), got::toString);
            assertEquals(0, db.gauges().openSnapshots(), "the replay's pin is released");
            assertNull(afterCancel.get(), "a signal after cancel");
        } finally {
            delivery.shutdownNow();
        }
    }

    /** A subscriber that follows Flow rule 2.5: it cancels any subscription offered after its first. */
    private static final class OneSubscriptionOnly implements Flow.Subscriber<CommitEvent<Long, Long>> {
        final List<CommitEvent<Long, Long>> events = new CopyOnWriteArrayList<>();
        private Flow.Subscription active;
        volatile int cancelledSecond;

        @Override
        public synchronized void onSubscribe(Flow.Subscription s) {
            if (active != null) {
                s.cancel();
                cancelledSecond++;
                return;
            }
            active = s;
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(CommitEvent<Long, Long> item) {
            events.add(item);
        }

        @Override
        public void onError(Throwable t) {
            throw new AssertionError(t);
        }

        @Override
        public void onComplete() {}
    }

    @Test
    void aSubscriberThatCancelsInOnSubscribeBeforeItIsRegisteredIsNeverRegistered() {
        Database<Long, Long> db = open(null);
        Store<Long, Long> store = store(db);
        long start = db.gauges().visibleTimestamp();
        List<CommitEvent<Object, Object>> given = new CopyOnWriteArrayList<>();
        Flow.Subscriber<CommitEvent<Object, Object>> cancels = new Flow.Subscriber<>() {
            @Override
            public void onSubscribe(Flow.Subscription s) {
                s.cancel(); // on a direct executor: inside subscribe, before the registration
            }

            @Override
            public void onNext(CommitEvent<Object, Object> item) {
                given.add(item);
            }

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onComplete() {}
        };
        db.watch(List.of(WatchRange.ofDefaultMap(null, null)), start, Runnable::run, 16)
                .subscribe(cancels);
        assertEquals(0, store.changeFeed().subscriptions());
        assertNull(store.feed, "a feed with nobody watching records no commit (F1)");
        put(db, 1L, 1L);
        assertTrue(given.isEmpty());
        assertEquals(0, db.gauges().openSnapshots());
    }

    /**
     * Flow rule 1.10 asks callers to subscribe a subscriber once; the feed does not track them:
     * each subscribe is a stream of its own (a cold publisher), so a subscriber subscribed twice
     * is given both, and one that follows rule 2.5 cancels the second and sees each commit once.
     */
    @Test
    void theSameSubscriberSubscribedTwiceGetsTwoIndependentStreams() {
        Database<Long, Long> db = open(null);
        Store<Long, Long> store = store(db);
        long start = db.gauges().visibleTimestamp();
        Flow.Publisher<CommitEvent<Long, Long>> feed = db.watch(null, null, start);

        OneSubscriptionOnly polite = new OneSubscriptionOnly();
        feed.subscribe(polite);
        feed.subscribe(polite);
        FeedCollector<Long, Long> twice = FeedCollector.unbounded();
        feed.subscribe(twice);
        feed.subscribe(twice);
        waitAtMost()
                .until(() -> polite.cancelledSecond == 1 && store.changeFeed().subscriptions() == 3);

        List<Long> commits = new ArrayList<>();
        for (long k = 0; k < 20; k++) {
            commits.add(put(db, k, k));
        }
        long last = commits.get(commits.size() - 1);
        waitAtMost().until(() -> polite.events.size() == 20 && twice.events.size() == 40);
        assertEquals(
                commits,
                polite.events.stream().map(CommitEvent::commitTimestamp).toList());
        Map<Long, Long> perCommit = twice.events.stream()
                .collect(Collectors.groupingBy(CommitEvent::commitTimestamp, TreeMap::new, Collectors.counting()));
        assertEquals(commits, List.copyOf(perCommit.keySet()));
        assertTrue(perCommit.values().stream().allMatch(n -> n == 2), perCommit::toString);
        assertNull(twice.error.get());
        assertEquals(last, polite.events.get(19).commitTimestamp());
    }

    @Test
    void aSubscriberWhoseOnNextThrowsIsDroppedAndTheOthersKeepReceiving() {
        Database<Long, Long> db = open(null);
        Store<Long, Long> store = store(db);
        long start = db.gauges().visibleTimestamp();
        RuntimeException thrown = new IllegalStateException("a subscriber's own failure");
        List<Long> thrownAt = new CopyOnWriteArrayList<>();
        AtomicReference<Throwable> thrownError = new AtomicReference<>();
        Flow.Subscriber<CommitEvent<Long, Long>> thrower = new Flow.Subscriber<>() {
            @Override
            public void onSubscribe(Flow.Subscription s) {
                s.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(CommitEvent<Long, Long> item) {
                thrownAt.add(item.commitTimestamp());
                if (thrownAt.size() == 2) {
                    throw thrown;
                }
            }

            @Override
            public void onError(Throwable t) {
                thrownError.set(t);
            }

            @Override
            public void onComplete() {}
        };
        FeedCollector<Long, Long> other = FeedCollector.unbounded();
        db.watch(null, null, start).subscribe(thrower);
        db.watch(null, null, start).subscribe(other);
        long c1 = put(db, 1L, 1L);
        long c2 = put(db, 2L, 2L);
        waitAtMost().until(() -> other.lastTs() == c2 && thrownError.get() != null);
        assertSame(thrown, thrownError.get(), "SubmissionPublisher hands onNext's failure to onError");
        // Dropped at once, not at the next commit routed to it.
        waitAtMost().until(() -> store.changeFeed().subscriptions() == 1);

        long c3 = put(db, 3L, 3L);
        waitAtMost().until(() -> other.lastTs() == c3);
        assertEquals(List.of(c1, c2, c3), other.timestamps());
        assertEquals(List.of(c1, c2), thrownAt);
        assertNull(other.error.get());

        other.subscription.cancel();
        waitAtMost().until(() -> store.changeFeed().subscriptions() == 0 && store.feed == null);
        assertEquals(0, db.gauges().openSnapshots());
    }

    @Test
    void aComparatorThatThrowsWhileTheDispatcherFiltersFailsThatSubscriptionAndTheFeedGoesOn() {
        Database<Long, Long> db = open(null);
        Store<Long, Long> store = store(db);
        long bound = 999_999L; // never a key: only the watch's filter compares with it
        AtomicBoolean armed = new AtomicBoolean();
        RuntimeException bug = new IllegalStateException("the comparator's own bug");
        dev.varve.NamedMap<Long, Long> named = db.openMap("named", (Long a, Long b) -> {
            if (armed.get() && (a == bound || b == bound)) {
                throw bug;
            }
            return Long.compare(a, b);
        });
        long start = db.gauges().visibleTimestamp();
        FeedCollector<Object, Object> ranged = FeedCollector.unbounded();
        FeedCollector<Object, Object> all = FeedCollector.unbounded();
        db.watch(List.of(WatchRange.of(named, 0L, bound)), start, null, 16).subscribe(ranged);
        db.watchAll(start).subscribe(all);
        awaitSubscribed(ranged);
        awaitSubscribed(all);
        armed.set(true);
        db.transact(tx -> tx.map(named).put(5L, 5L));
        long c1 = db.gauges().visibleTimestamp();
        waitAtMost().until(() -> ranged.error.get() != null && all.lastTs() == c1);
        assertSame(bug, ranged.error.get(), "the subscriber is told what failed");
        assertTrue(ranged.events.isEmpty());
        waitAtMost().until(() -> store.changeFeed().subscriptions() == 1);

        long c2 = put(db, 1L, 1L); // the dispatcher lived through it
        waitAtMost().until(() -> all.lastTs() == c2);
        assertEquals(List.of(c1, c2), all.timestamps());
        assertNull(all.error.get());
    }

    @Test
    void aFailureInsideTheDispatcherFailsEverySubscriptionAndTheFeedServesTheirResumes() {
        Error oom = new OutOfMemoryError("the dispatcher's allocation");
        AtomicBoolean armed = new AtomicBoolean();
        Database<Long, Long> db = Database.<Long, Long>builder()
                .retainHistory(Duration.ofHours(1))
                .open();
        opened.add(db);
        store(db).hook(p -> {
            if (p == TestHook.Point.DISPATCHER_BEFORE_ROUTE && armed.compareAndSet(true, false)) {
                throw oom;
            }
        });
        long start = db.gauges().visibleTimestamp();
        FeedCollector<Long, Long> a = FeedCollector.unbounded();
        FeedCollector<Object, Object> b = FeedCollector.unbounded();
        db.watch(null, null, start).subscribe(a);
        db.watchAll(start).subscribe(b);
        awaitSubscribed(a);
        awaitSubscribed(b);
        armed.set(true);
        long c1 = put(db, 1L, 1L);
        waitAtMost().until(() -> a.error.get() != null && b.error.get() != null);
        for (Throwable e : List.of(a.error.get(), b.error.get())) {
            assertInstanceOf(dev.varve.TransactionException.class, e);
            assertSame(oom, e.getCause());
        }
        assertTrue(a.events.isEmpty() && b.events.isEmpty());
        waitAtMost().until(() -> store(db).changeFeed().subscriptions() == 0);

        long c2 = put(db, 2L, 2L);
        FeedCollector<Long, Long> resumed = FeedCollector.unbounded();
        db.watch(null, null, start).subscribe(resumed); // the dispatcher lived: replay, then live
        long c3 = put(db, 3L, 3L);
        waitAtMost().until(() -> resumed.lastTs() == c3);
        assertEquals(List.of(c1, c2, c3), resumed.timestamps());
        assertNull(resumed.error.get());
    }

    @Test
    void liveCommitsBeyondTheBufferDuringALongReplayAreHeldAndDeliveredNotFailed() throws Exception {
        Armable hook = new Armable(TestHook.Point.REPLAY_BEFORE_HANDOVER);
        Database<Long, Long> db = open(hook);
        long start = tenCommits(db);
        PauseHook held = hook.arm();
        FeedCollector<Object, Object> c = new FeedCollector<>(1, true); // one at a time
        db.watch(List.of(WatchRange.ofDefaultMap(null, null)), start, null, 4).subscribe(c);
        held.awaitReached(); // a replay as slow as a scan of a large map
        long last = 0;
        for (long k = 0; k < 200; k++) { // fifty times the buffer arrive live meanwhile
            last = put(db, 1000 + k, k);
        }
        long end = last;
        // Every one of them held back (routed while replaying), none left for after the handover,
        // when a live commit meets a buffer the replay may have filled (F6: that is falling behind).
        waitAtMost().until(() -> store(db).changeFeed().dispatched() >= end);
        held.release();
        waitAtMost().until(() -> c.lastTs() == end || c.error.get() != null);
        assertNull(c.error.get());
        assertEquals(LongStream.rangeClosed(start + 1, end).boxed().toList(), c.timestamps());
    }

    @Test
    void closeWhileAReplayIsHeldCompletesTheSubscriberAndLeavesNoFeedThread() throws Exception {
        Armable hook = new Armable(TestHook.Point.REPLAY_BEFORE_HANDOVER);
        Database<Long, Long> db = open(hook);
        long start = tenCommits(db);
        PauseHook held = hook.arm();
        FeedCollector<Long, Long> c = FeedCollector.unbounded();
        db.watch(null, null, start).subscribe(c); // replays the ten commits on a varve-watch thread
        held.awaitReached(); // collected, nothing handed over yet
        put(db, 10L, 10L); // live, held back until the replay hands over

        CompletableFuture<Void> closing = CompletableFuture.runAsync(db::close);
        // Close completes the subscriber after what its buffer holds, which is nothing: the
        // replay has handed nothing over, and never will (its subscription is done).
        waitAtMost().until(c.completed::get);
        held.release();
        closing.get(20, TimeUnit.SECONDS);

        assertNull(c.error.get(), "completed, not failed");
        assertTrue(c.events.isEmpty(), c.events::toString);
        waitAtMost().until(() -> newFeedThreads().isEmpty());
    }

    @Test
    void subscribingAndCancellingManyTimesLeavesNoFeedThreadAfterClose() {
        Database<Long, Long> db = open(null);
        Store<Long, Long> store = store(db);
        long first = put(db, 0L, 0L);
        for (int i = 1; i <= 200; i++) {
            long after = i % 3 == 0 ? first : db.gauges().visibleTimestamp(); // every third replays
            FeedCollector<Long, Long> c = FeedCollector.unbounded();
            db.watch(null, null, after).subscribe(c);
            long ts = put(db, i, i);
            waitAtMost().until(() -> c.lastTs() == ts || c.error.get() != null);
            assertNull(c.error.get(), "round " + i);
            c.subscription.cancel();
            assertNull(store.feed, "cancelled the only subscription, yet the feed is active");
            long dispatchers = newFeedThreads().stream()
                    .filter(t -> t.getName().startsWith("varve-change-feed-"))
                    .count();
            assertEquals(1, dispatchers, "one dispatcher per database, reused");
        }
        assertTrue(newFeedThreads().size() <= 8, () -> "delivery threads are reused: " + newFeedThreads());
        db.close();
        waitAtMost().until(() -> newFeedThreads().isEmpty());
    }

    @Test
    void aPublisherSubscribedAfterCloseFailsTheSubscriberAndStartsNoThread() {
        Database<Long, Long> neverWatched = open(null); // has no delivery threads yet
        Flow.Publisher<CommitEvent<Long, Long>> unused = neverWatched.watch(null, null, 0);
        neverWatched.close();

        Database<Long, Long> watched = open(null); // its delivery threads are shut down at close
        Flow.Publisher<CommitEvent<Long, Long>> used = watched.watch(null, null, 0);
        FeedCollector<Long, Long> before = FeedCollector.unbounded();
        used.subscribe(before);
        long c1 = put(watched, 1L, 1L);
        waitAtMost().until(() -> before.lastTs() == c1);
        watched.close();
        waitAtMost().until(before.completed::get);

        for (Flow.Publisher<CommitEvent<Long, Long>> feed : List.of(unused, used)) {
            FeedCollector<Long, Long> late = FeedCollector.unbounded();
            feed.subscribe(late); // Flow rule 1.9: returns normally, signals onSubscribe, then onError
            waitAtMost().until(() -> late.error.get() != null);
            IllegalStateException e = assertInstanceOf(IllegalStateException.class, late.error.get());
            assertEquals("the database is closed", e.getMessage());
            assertTrue(late.events.isEmpty());
            assertTrue(late.subscription != null, "onSubscribe before onError");
        }
        waitAtMost().until(() -> newFeedThreads().isEmpty());
    }

    /** A subscriber on a direct executor that takes one event, then resumes inside onError. */
    private static final class ResumesInline implements Flow.Subscriber<CommitEvent<Object, Object>> {
        static final Executor DIRECT = Runnable::run;
        final Database<Long, Long> db;
        final FeedCollector<Object, Object> resumed = FeedCollector.unbounded();
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        ResumesInline(Database<Long, Long> db) {
            this.db = db;
        }

        void watchFrom(long after) {
            db.watch(List.of(WatchRange.ofDefaultMap(null, null)), after, DIRECT, 1)
                    .subscribe(this);
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            s.request(1); // then nothing: the second event fills its buffer of 1, the third fails it
        }

        @Override
        public void onNext(CommitEvent<Object, Object> item) {}

        @Override
        public void onError(Throwable t) {
            failure.set(t);
            long from = ((FellBehindException) t).lastDeliveredTimestamp();
            db.watch(List.of(WatchRange.ofDefaultMap(null, null)), from, DIRECT, 64)
                    .subscribe(resumed);
        }

        @Override
        public void onComplete() {}
    }

    /**
     * With a direct executor the dispatcher's own thread delivers, so a subscriber that resumes
     * inside onError subscribes while the dispatcher is in the middle of routing the commit that
     * overflowed its buffer (holding the feed's lock, re-entrantly).
     */
    @Test
    void aResumeInsideOnErrorOnTheDispatchersThreadMissesNoCommit() {
        Database<Long, Long> db = open(null);
        long start = db.gauges().visibleTimestamp();
        FeedCollector<Long, Long> bystander = FeedCollector.unbounded(); // keeps the feed active
        db.watch(null, null, start).subscribe(bystander);
        ResumesInline s = new ResumesInline(db);
        s.watchFrom(start);
        long c1 = put(db, 1L, 1L);
        long c2 = put(db, 2L, 2L);
        long c3 = put(db, 3L, 3L); // fails s inside routing c3
        long c4 = put(db, 4L, 4L);
        waitAtMost().until(() -> bystander.lastTs() == c4);
        waitAtMost().until(() -> s.resumed.lastTs() == c4 || s.resumed.error.get() != null);
        FellBehindException e = assertInstanceOf(FellBehindException.class, s.failure.get());
        assertEquals(c1, e.lastDeliveredTimestamp());
        assertNull(s.resumed.error.get());
        assertEquals(List.of(c2, c3, c4), s.resumed.timestamps(), "each commit after " + c1 + " once");
    }

    /**
     * As above with nobody else watching, and commits queued behind the dispatcher (held at a
     * hook): the failed subscription deactivates the feed and its resume reactivates it, inside
     * the routing of the commit that failed it.
     */
    @Test
    void aResumeInsideOnErrorThatReactivatesTheFeedMidRouteSeesEachCommitOnce() throws Exception {
        Armable hook = new Armable(TestHook.Point.DISPATCHER_BEFORE_ROUTE);
        Database<Long, Long> db = open(hook);
        long start = db.gauges().visibleTimestamp();
        ResumesInline s = new ResumesInline(db);
        s.watchFrom(start);
        PauseHook held = hook.arm();
        long c1 = put(db, 1L, 1L);
        held.awaitReached();
        List<Long> commits = new ArrayList<>(List.of(c1));
        for (long k = 2; k <= 5; k++) { // c3 fails s; c4 and c5 are committed when it resumes
            commits.add(put(db, k, k));
        }
        held.release();
        long c6 = put(db, 6L, 6L);
        commits.add(c6);
        waitAtMost().until(() -> s.resumed.lastTs() == c6 || s.resumed.error.get() != null);
        assertEquals(c1, ((FellBehindException) s.failure.get()).lastDeliveredTimestamp());
        assertNull(s.resumed.error.get());
        assertEquals(commits.subList(1, commits.size()), s.resumed.timestamps());
    }
}
