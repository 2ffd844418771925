// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import dev.varve.Change;
import dev.varve.CommitEvent;
import dev.varve.FellBehindException;
import dev.varve.internal.index.KeyRange;
import dev.varve.internal.index.VersionedIndex;
import dev.varve.spi.CommitRecord;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.SubmissionPublisher;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;

/**
 * The change feed of a {@link Store}: committed writes, in commit-timestamp order, delivered to
 * subscribers of watched key ranges outside the commit critical section, each through its own
 * bounded buffer (the JDK's {@link SubmissionPublisher}) on an executor.
 *
 * <p>Thread-safe. Committers only store a reference in a ring (lock-free, never blocking); one
 * dispatcher thread routes each commit to the subscriptions; a subscription that starts in the
 * past replays from the version chains first.
 */
public final class ChangeFeed {
    /** Commits the ring holds between a committer and the dispatcher (a power of two). */
    static final int RING_SIZE = 1 << 16;
    /** Events a subscriber's buffer holds by default. */
    public static final int DEFAULT_BUFFER = 1024;
    /** The longest the dispatcher parks without a wake-up (a safety net, not a schedule). */
    private static final long MAX_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    /** Live events held for a subscription during its replay, at most (unless its buffer is larger; F14). */
    static final int REPLAY_PENDING_LIMIT = RING_SIZE;
    /** How long a replay waits for room in a full buffer before it checks for cancel and close (ms). */
    private static final long REPLAY_WAIT_MILLIS = 50;

    private static final AtomicInteger THREADS = new AtomicInteger();

    private final Store<?, ?> store;
    /** ring[ts & (RING_SIZE - 1)]: the entry of commit ts until the dispatcher routed it (F2). */
    private final AtomicReferenceArray<Entry> ring = new AtomicReferenceArray<>(RING_SIZE);
    /** Guards subs, dispatched and activation; taken before commitLock, never after it (F5). */
    private final Object lock = new Object();
    /** The subscriptions; guarded by lock. */
    private final List<Sub> subs = new ArrayList<>();
    /** Every commit at or below it was routed to every registered subscription; guarded by lock. */
    private long dispatched;
    /**
     * Completes (normally) once every commit at or below dispatched is durable, or exceptionally
     * if the log failed first (F12); guarded by lock.
     */
    private CompletableFuture<Void> dispatchedDurable;

    private volatile boolean closed;
    /** Whether the dispatcher is parked or about to (F4); committers unpark it when set. */
    private volatile boolean parked;

    private Thread dispatcher;
    private ExecutorService defaultExecutor;

    /*
     * Implementation notes.
     *
     * F1. store.feed is this feed while a subscription is registered, else null; it is written
     *     under commitLock (and this.lock), so each commit either records its entry or happens
     *     before the activation that sets dispatched = lastCommitTs. Committers read it under
     *     commitLock; nobody watching costs one field read per commit.
     * F2. Every commit timestamp is taken under commitLock and, while the feed is active, its
     *     entry (the commit record, or an empty one for a recorded read-only transaction) is
     *     stored in the ring before the commit is published (visibleTs), in the same critical
     *     section. The dispatcher routes ts = dispatched + 1 once visibleTs >= ts and the
     *     commit's durability future completed normally: then it is as durable as the log's mode
     *     promises (FULL: written and forced; RELAXED: written to the file, not forced, so an
     *     OS crash may still take it back). So events come in timestamp order, each commit
     *     once, whole, never before it is visible and durable.
     * F3. A committer never waits for the dispatcher: it overwrites the slot. A slot that holds
     *     another timestamp than the one the dispatcher expects (or nothing) means the ring
     *     lapped it: every subscription is failed as fallen behind, with the last timestamp
     *     its subscriber was given, and can resume with a replay.
     * F4. Wake-up (Dekker): the dispatcher sets parked, then re-reads visibleTs and the future;
     *     a committer publishes visibleTs (or a future completes), then reads parked. Both are
     *     volatile, so one sees the other; the timed park is only a safety net.
     * F5. Registration holds lock: the subscription is routed every commit above dispatched, and
     *     replays (after, dispatched] from the version chains, under a pin at after that keeps
     *     every version above it (SnapshotPins P7). Its live events wait in pending until the
     *     replay is handed over, so its subscriber sees each commit once, in order.
     * F6. Delivery is the SubmissionPublisher's: offer never blocks; a full buffer drops, and
     *     the subscription is then failed (FellBehindException), so a slow subscriber never
     *     makes the database hold more than its buffer.
     * F7. The dispatcher reads visibleTs before the slot: an entry is stored before its commit is
     *     published (F2), so visibleTs >= next read first means the slot read after it holds
     *     commit next, or a later one that lapped it (F3). Read the other way round, a slot read
     *     before the commit was recorded, then visibleTs read after it was published, looked
     *     like a lap and failed every subscription: it happened whenever a commit came right
     *     as the dispatcher woke, e.g. just after a subscribe (ChangeFeedScheduleTest forces it
     *     at DISPATCHER_READ_NEXT).
     * F8. A subscriber whose onNext throws is given that exception as onError (the
     *     SubmissionPublisher's rule) and is removed then, as a cancel removes it. It used to
     *     stay registered until the next commit routed to it found it without a subscriber,
     *     so a feed whose last subscriber threw went on recording commits, with nobody
     *     watching, until then.
     * F9. A subscribe after close (through a publisher obtained before it) is refused on the
     *     caller's thread, before it makes or uses an executor: it used to start a new pool of
     *     delivery threads that outlived the database, or, if the pool existed, to throw
     *     RejectedExecutionException out of subscribe (Flow rule 1.9: it must return normally
     *     and signal onError). The check is repeated under lock, where close() sets closed, so
     *     no subscription is registered after close() took the list to complete. NOTE: a
     *     subscribe racing close() past the first check may still meet the delivery pool shut
     *     down (RejectedExecutionException from SubmissionPublisher); only that race.
     * F10. Routing runs user code on the dispatcher's thread, holding lock, when the executor
     *     runs tasks in the caller (a direct executor): onError of a subscription failed as
     *     fallen behind, and a resume subscribed inside it, enter lock re-entrantly in the
     *     middle of routing commit next. So dispatched = next is set before the routing loop:
     *     such a subscription replays through next, and is not in the loop's copy of subs.
     *     Set after the loop, it made that subscription start live after next - 1 without
     *     being routed next: commit next was lost to it. (Reactivation inside the loop, by a
     *     resume of the last subscription, likewise moves dispatched to lastCommitTs, which
     *     the old assignment after the loop then moved back.)
     * F11. User code the dispatcher calls may throw: a map's comparator, while filtering a
     *     commit for a subscription's ranges, fails that subscription alone, with the
     *     comparator's exception. Anything else it meets (an Error such as OutOfMemoryError, a
     *     bug) fails every subscription, with a TransactionException caused by it, and the
     *     dispatcher goes on, so no subscriber waits forever for a thread that died; each may
     *     resume from the last timestamp it was given.
     * F12. A replay (F5) holds to F2's rule too: visible is not durable (unless the log defers
     *     visibility), and the commits in (after, dispatched] may have been made while nobody
     *     watched, so no entry of theirs is in the ring. dispatchedDurable is the future of the
     *     newest logged commit at or below dispatched: at activation, store.lastLogged, read
     *     under commitLock with lastCommitTs; after a routed commit, its future (completed);
     *     after logFailed, the failed one. The logs complete their futures in append order,
     *     normally only if no failure came first (varve-wal's WalLog W1, W2; in memory, at
     *     once), so once it completed normally every commit through dispatched is durable. The replay waits for it and, if it failed,
     *     fails the subscription as logFailed does, giving nothing: a commit whose force
     *     failed has an unknown outcome and is never delivered.
     * F13. A replay delivers at its subscriber's pace: it runs on the feed's own delivery
     *     threads (varve-watch-N), never on the subscriber's executor, and waits while the
     *     subscriber's buffer is full (checking cancel and close every REPLAY_WAIT_MILLIS), then
     *     drains, batch by batch, the live events held back meanwhile, and only hands over to
     *     live routing when none is left, under lock. So a resume whose backlog is larger than
     *     its buffer catches up, on any executor (run on a one-thread executor, the replay used
     *     to fill the buffer while blocking the thread that would empty it, and failed as
     *     fallen behind at once). Live events held back during it stay bounded (F14): a
     *     subscriber slower than the commits still falls behind, with F6's error.
     *     The replay holds no pin while it waits (the versions are collected first).
     * F14. A replay scans every key of its ranges, so on a large map it lasts as long as
     *     thousands of commits; the live events held back meanwhile (pending) are bounded by
     *     REPLAY_PENDING_LIMIT (the ring's size: the most commits the feed holds undispatched
     *     anyway), or the buffer if larger, not by the buffer: bounded by the buffer, every
     *     watch from the past of a busy 100,000-key map failed as fallen behind before it
     *     delivered anything. Memory: at most that many events per replaying subscription.
     * F15. The subscriber's onSubscribe may run before the subscription is registered (on a
     *     direct executor, inside pub.subscribe; on another, at any time), and cancel or fail
     *     it there: cancelled() then finds nothing to remove and only sets done. Registration
     *     checks done under lock, so such a subscription is never registered; it used to be
     *     added after its cancel and kept the feed recording commits until the next commit
     *     routed to it found it gone.
     */

    ChangeFeed(Store<?, ?> store) {
        this.store = store;
    }

    /** A commit's entry in the ring: its record and its durability future. */
    record Entry(long commitTs, CommitRecord<?, ?> record, CompletableFuture<Void> durable) {}

    // ---- committers ----------------------------------------------------------------------

    /**
     * Stores the entry of a commit; caller holds commitLock, before it publishes the commit (F2).
     *
     * @param commitTs the commit timestamp
     * @param record its writes, or null for a commit with none (a recorded read-only transaction)
     * @param durable its durability future
     */
    void record(long commitTs, CommitRecord<?, ?> record, CompletableFuture<Void> durable) {
        ring.set(slot(commitTs), new Entry(commitTs, record, durable));
    }

    /** Unparks the dispatcher if it waits (F4); called after a commit is published or durable. */
    void wake() {
        if (parked) {
            LockSupport.unpark(dispatcher);
        }
    }

    private static int slot(long ts) {
        return (int) (ts & (RING_SIZE - 1));
    }

    // ---- subscriptions -------------------------------------------------------------------

    /**
     * What a subscription watches: key ranges of maps, or every map.
     *
     * @param ranges the ranges, each of one map (ignored if everyMap)
     * @param everyMap whether every map, present and future, is watched whole
     */
    public record Spec(List<Range> ranges, boolean everyMap) {
        /**
         * Checks and copies.
         *
         * @param ranges the ranges, each of one map (ignored if everyMap)
         * @param everyMap whether every map, present and future, is watched whole
         */
        public Spec {
            ranges = List.copyOf(ranges);
        }

        boolean covers(MapIndex<?, ?> map, Object key) {
            if (everyMap) {
                return true;
            }
            for (Range r : ranges) {
                if (r.map == map && r.contains(key)) {
                    return true;
                }
            }
            return false;
        }
    }

    /**
     * A key range [low, high) of one map; a null end is unbounded.
     *
     * @param map the map
     * @param low the first key, or null for the map's first
     * @param high the key after the last, or null for none
     */
    public record Range(MapIndex<?, ?> map, Object low, Object high) {
        /**
         * Checks.
         *
         * @param map the map
         * @param low the first key, or null for the map's first
         * @param high the key after the last, or null for none
         */
        public Range {
            Objects.requireNonNull(map, "map");
        }

        @SuppressWarnings("unchecked")
        boolean contains(Object key) {
            Comparator<Object> cmp = (Comparator<Object>) map.comparator();
            return (low == null || cmp.compare(key, low) >= 0) && (high == null || cmp.compare(key, high) < 0);
        }

        @SuppressWarnings({"unchecked", "rawtypes"})
        KeyRange<Object> bounds() {
            return new KeyRange(low, true, low == null, high, false, high == null);
        }
    }

    /**
     * A cold publisher: each subscriber gets its own stream of the commits after {@code
     * afterTs} in {@code spec}, and each subscribe another (subscribers are not tracked: one
     * subscribed twice is given two streams).
     *
     * @param spec what to watch
     * @param afterTs deliver commits with a timestamp above it
     * @param executor where to deliver, or null for the database's watch threads
     * @param buffer the events a subscriber's buffer holds
     * @param <E> the event type the caller presents
     * @return the publisher
     */
    public <E> Flow.Publisher<E> publisher(Spec spec, long afterTs, Executor executor, int buffer) {
        return subscriber -> subscribe(spec, afterTs, executor, buffer, subscriber);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private void subscribe(Spec spec, long afterTs, Executor executor, int buffer, Flow.Subscriber<?> subscriber) {
        Objects.requireNonNull(subscriber, "subscriber");
        if (closed || store.isClosed()) { // F9: before any executor is made or used
            refuseClosed(subscriber);
            return;
        }
        Executor exec = executor != null ? executor : defaultExecutor();
        SubmissionPublisher<CommitEvent<?, ?>> pub = new SubmissionPublisher<>(exec, buffer);
        Sub sub = new Sub(spec, pub, afterTs, buffer);
        pub.subscribe(sub.relay((Flow.Subscriber) subscriber));
        SnapshotPins.Pin pin = null;
        CompletableFuture<Void> throughDurable = null;
        try {
            synchronized (lock) {
                if (closed || store.isClosed()) { // F9: close() sets closed under lock
                    throw new IllegalStateException("the database is closed");
                }
                if (sub.done) { // cancelled or failed inside pub.subscribe, before this (F15)
                    return;
                }
                activate();
                long p = dispatched;
                if (afterTs < p) {
                    pin = store.pins.pinAt(afterTs); // SnapshotPins P7: keeps every version above it
                    sub.replaying = true;
                    sub.pending = new ArrayList<>();
                    throughDurable = dispatchedDurable; // F12
                }
                sub.liveAfter = Math.max(afterTs, p);
                subs.add(sub);
            }
        } catch (RuntimeException e) {
            pub.closeExceptionally(e);
            return;
        }
        if (pin != null) {
            SnapshotPins.Pin held = pin;
            long through = sub.liveAfter;
            CompletableFuture<Void> durable = throughDurable;
            try { // on the feed's own threads, not the subscriber's: the replay waits for it (F13)
                defaultExecutor().execute(() -> replay(sub, afterTs, through, durable, held));
            } catch (RuntimeException e) {
                held.run();
                fail(sub, e);
            }
        }
    }

    /** Fails a subscriber that came after close (F9) on the caller's thread: onSubscribe, then onError. */
    private static void refuseClosed(Flow.Subscriber<?> subscriber) {
        subscriber.onSubscribe(new Flow.Subscription() {
            @Override
            public void request(long n) {}

            @Override
            public void cancel() {}
        });
        subscriber.onError(new IllegalStateException("the database is closed"));
    }

    /** Makes this the store's feed if it is not (F1); caller holds lock. */
    private void activate() {
        if (store.feed == this) {
            return;
        }
        store.commitLock.lock();
        try {
            store.checkOpen();
            for (int i = 0; i < RING_SIZE; i++) {
                ring.setPlain(i, null); // published by the commitLock release (F1)
            }
            dispatched = store.lastCommitTs;
            dispatchedDurable = store.lastLogged; // F12: the newest commit may not be durable yet
            store.feed = this;
        } finally {
            store.commitLock.unlock();
        }
        if (dispatcher == null) {
            dispatcher = new Thread(this::dispatch, "varve-change-feed-" + THREADS.incrementAndGet());
            dispatcher.setDaemon(true);
            dispatcher.start();
        } else {
            LockSupport.unpark(dispatcher);
        }
    }

    /** Stops recording commits once nobody watches (F1); caller holds lock. */
    private void deactivateIfIdle() {
        if (!subs.isEmpty() || store.feed != this) {
            return;
        }
        store.commitLock.lock();
        try {
            store.feed = null;
        } finally {
            store.commitLock.unlock();
        }
    }

    private synchronized ExecutorService defaultExecutor() {
        if (defaultExecutor == null) {
            AtomicInteger n = new AtomicInteger();
            defaultExecutor = Executors.newCachedThreadPool(r -> {
                Thread t = new Thread(r, "varve-watch-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
        }
        return defaultExecutor;
    }

    /** Removes a subscription and fails its subscriber with {@code failure}. */
    private void fail(Sub sub, Throwable failure) {
        synchronized (lock) {
            if (sub.done) {
                return;
            }
            sub.done = true;
            subs.remove(sub);
            deactivateIfIdle();
        }
        sub.pub.closeExceptionally(failure);
    }

    /** Removes a subscription whose subscriber cancelled. */
    private void cancelled(Sub sub) {
        synchronized (lock) {
            if (!sub.done) {
                sub.done = true;
                subs.remove(sub);
                deactivateIfIdle();
            }
        }
    }

    // ---- the dispatcher ------------------------------------------------------------------

    private void dispatch() {
        CompletableFuture<Void> awaited = null; // the future a wake-up callback is registered on
        while (!closed) {
            try {
                Entry entry;
                long next;
                long visible = store.visibleTs; // before the slot (F7)
                synchronized (lock) {
                    next = dispatched + 1;
                    entry = store.feed == this ? ring.get(slot(next)) : null;
                }
                store.hook.at(TestHook.Point.DISPATCHER_READ_NEXT);
                if (store.feed != this || visible < next) {
                    park(next, null);
                    continue;
                }
                if (entry == null || entry.commitTs != next) {
                    lapped(next);
                    continue;
                }
                if (!entry.durable.isDone()) {
                    if (awaited != entry.durable) {
                        awaited = entry.durable;
                        awaited.whenComplete((ok, failure) -> wake()); // once per commit awaited
                    }
                    park(next, entry.durable);
                    continue;
                }
                if (entry.durable.isCompletedExceptionally()) {
                    logFailed(next, entry.durable);
                    continue;
                }
                store.hook.at(TestHook.Point.DISPATCHER_BEFORE_ROUTE);
                synchronized (lock) {
                    if (store.feed != this || dispatched + 1 != next) {
                        continue; // deactivated and reactivated meanwhile: start again from dispatched
                    }
                    dispatched = next; // before routing: a subscribe from inside it replays next (F10)
                    dispatchedDurable = entry.durable; // completed normally (F12)
                    for (Sub sub : new ArrayList<>(subs)) {
                        route(sub, entry);
                    }
                    ring.compareAndSet(slot(next), entry, null);
                }
            } catch (RuntimeException | Error e) { // a bug or OutOfMemoryError: nobody may hang (F11)
                failAll(e);
            }
        }
    }

    /** Fails every subscription with {@code e}, which the dispatcher met; they may resume (F11). */
    private void failAll(Throwable e) {
        List<Sub> failed;
        synchronized (lock) {
            failed = new ArrayList<>(subs);
        }
        for (Sub sub : failed) {
            fail(
                    sub,
                    new dev.varve.TransactionException(
                            "the change feed failed while routing; resume from the last timestamp given", e));
        }
    }

    /** Parks until woken or the safety net expires (F4). */
    private void park(long next, CompletableFuture<Void> durable) {
        parked = true;
        try {
            boolean ready = store.feed == this && store.visibleTs >= next && (durable == null || durable.isDone());
            if (!ready && !closed) {
                LockSupport.parkNanos(this, MAX_PARK_NANOS);
            }
        } finally {
            parked = false;
        }
    }

    /** The ring lapped commit {@code next} (F3): fails every subscription as fallen behind. */
    private void lapped(long next) {
        List<Sub> failed;
        synchronized (lock) {
            if (store.feed != this || dispatched + 1 != next) {
                return;
            }
            failed = new ArrayList<>(subs);
        }
        for (Sub sub : failed) {
            fail(
                    sub,
                    sub.fellBehind("more than " + RING_SIZE + " commits arrived while the feed routed commit " + next));
        }
    }

    /** The log failed before commit {@code next} was durable: its fate is unknown, so the feed stops. */
    private void logFailed(long next, CompletableFuture<Void> durable) {
        Throwable cause = durable.handle((ok, t) -> t).join();
        List<Sub> failed;
        synchronized (lock) {
            failed = new ArrayList<>(subs);
        }
        for (Sub sub : failed) {
            fail(sub, logFailedBefore(next, cause));
        }
        synchronized (lock) {
            if (dispatched + 1 == next) {
                dispatched = next; // nobody is left to route it to
                dispatchedDurable = durable; // a replay through it fails (F12)
            }
        }
    }

    /** What a subscriber gets when the log failed before commit {@code ts} was durable. */
    private static dev.varve.TransactionException logFailedBefore(long ts, Throwable cause) {
        return new dev.varve.TransactionException(
                "the commit log failed before commit " + ts + " was durable; the change feed stops", cause);
    }

    /** Routes one commit to one subscription; caller holds lock. */
    private void route(Sub sub, Entry entry) {
        if (sub.done || entry.commitTs <= sub.liveAfter || entry.record == null) {
            return;
        }
        if (!sub.pub.hasSubscribers()) { // gone unseen (cancel and onError remove it at once: F8)
            sub.done = true;
            subs.remove(sub);
            deactivateIfIdle();
            return;
        }
        CommitEvent<?, ?> event;
        try {
            event = sub.filter(entry.record, store); // calls the map's comparator
        } catch (RuntimeException e) { // the comparator's failure is this subscription's (F11)
            fail(sub, e);
            return;
        }
        if (event == null) {
            return;
        }
        if (sub.replaying) {
            sub.pending.add(event);
            if (sub.pending.size() > Math.max(sub.buffer, REPLAY_PENDING_LIMIT)) { // F14
                failLater(
                        sub,
                        "more than " + Math.max(sub.buffer, REPLAY_PENDING_LIMIT)
                                + " live events arrived during its replay");
            }
            return;
        }
        offer(sub, event);
    }

    /** Hands an event to the subscriber's buffer; fails the subscription if it is full (F6). */
    private void offer(Sub sub, CommitEvent<?, ?> event) {
        if (sub.pub.offer(event, (s, e) -> false) < 0) {
            failLater(sub, "its buffer of " + sub.buffer + " events was full");
        }
    }

    /** Fails a subscription from inside lock (fail takes lock again: re-entrant). */
    private void failLater(Sub sub, String reason) {
        fail(sub, sub.fellBehind(reason));
    }

    // ---- replay --------------------------------------------------------------------------

    /**
     * Replays the commits in (after, through] of a new subscription from the version chains (F5),
     * once they are visible and {@code durable} completed (F12), then hands it over to live
     * routing.
     */
    private void replay(Sub sub, long after, long through, CompletableFuture<Void> durable, SnapshotPins.Pin pin) {
        try {
            for (int attempt = 0; store.visibleTs < through || !durable.isDone(); attempt++) {
                if (closed || sub.done) {
                    return;
                }
                if (store.logFailure != null && store.visibleTs < through) {
                    throw logFailedBefore(through, store.logFailure);
                }
                if (attempt < 100) {
                    Thread.yield();
                } else {
                    LockSupport.parkNanos(100_000);
                }
            }
            if (durable.isCompletedExceptionally()) { // never an undurable commit (F12)
                throw logFailedBefore(through, durable.handle((ok, t) -> t).join());
            }
            TreeMap<Long, List<Change<Object, Object>>> byTs = new TreeMap<>();
            for (Range r : sub.replayRanges(store)) {
                collect(r, after, through, byTs);
            }
            pin.run(); // everything is collected: vacuum may move on
            store.hook.at(TestHook.Point.REPLAY_BEFORE_HANDOVER);
            for (Map.Entry<Long, List<Change<Object, Object>>> e : byTs.entrySet()) {
                if (!submit(sub, new CommitEvent<>(e.getKey(), e.getValue()))) {
                    return;
                }
            }
            while (true) { // then what arrived live meanwhile, until none is left (F13)
                List<CommitEvent<?, ?>> batch;
                synchronized (lock) {
                    if (sub.done) {
                        return;
                    }
                    if (sub.pending.isEmpty()) {
                        sub.pending = null;
                        sub.replaying = false;
                        return;
                    }
                    batch = sub.pending;
                    sub.pending = new ArrayList<>();
                }
                for (CommitEvent<?, ?> event : batch) {
                    if (!submit(sub, event)) {
                        return;
                    }
                }
            }
        } catch (RuntimeException | Error e) {
            fail(sub, e);
        } finally {
            pin.run();
        }
    }

    /**
     * Hands a replayed event to the subscriber's buffer, waiting while it is full (F13).
     *
     * @return false if the subscription ended or the feed closed meanwhile
     */
    private boolean submit(Sub sub, CommitEvent<?, ?> event) {
        while (!sub.done && !closed) {
            if (sub.pub.offer(event, REPLAY_WAIT_MILLIS, TimeUnit.MILLISECONDS, (s, e) -> false) >= 0) {
                return true;
            }
        }
        return false;
    }

    /** Adds the committed versions in (after, through] of one range to {@code byTs}, key by key. */
    @SuppressWarnings("unchecked")
    private static void collect(Range r, long after, long through, TreeMap<Long, List<Change<Object, Object>>> byTs) {
        String name = mapName(r.map);
        VersionedIndex<Object> index = (VersionedIndex<Object>) r.map.index();
        for (VersionedIndex.Cursor<Object> c = index.cursor(r.bounds(), false); c.next(); ) {
            Version<Object> v = VersionChain.chainOrNull(c.entry());
            for (; v != null && v.commitTs > after; v = v.getOlderAcquire()) {
                if (v.commitTs <= through) { // PENDING and ABORTED are above every bound
                    byTs.computeIfAbsent(v.commitTs, ts -> new ArrayList<>()).add(new Change<>(c.key(), v.value, name));
                }
            }
        }
    }

    static String mapName(MapIndex<?, ?> map) {
        return map.name() == null ? "" : map.name();
    }

    // ---- close ---------------------------------------------------------------------------

    /**
     * Stops the feed: the dispatcher exits, each subscriber is completed after the events in its
     * buffer (onComplete), and the default delivery threads end. Called by the store's close.
     */
    void close() {
        List<Sub> open;
        Thread d;
        synchronized (lock) {
            closed = true;
            open = new ArrayList<>(subs);
            subs.clear();
            for (Sub sub : open) {
                sub.done = true;
            }
            d = dispatcher;
        }
        if (d != null) {
            LockSupport.unpark(d);
            try {
                d.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (Sub sub : open) {
            sub.pub.close();
        }
        ExecutorService exec;
        synchronized (this) {
            exec = defaultExecutor;
        }
        if (exec != null) {
            exec.shutdown();
            try {
                if (!exec.awaitTermination(5, TimeUnit.SECONDS)) {
                    exec.shutdownNow();
                }
            } catch (InterruptedException e) {
                exec.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * The commit timestamp through which every commit was routed to every registered
     * subscription (for tests and statistics).
     *
     * @return the timestamp
     */
    public long dispatched() {
        synchronized (lock) {
            return dispatched;
        }
    }

    /**
     * The number of subscriptions registered now (for tests and statistics).
     *
     * @return the count
     */
    public int subscriptions() {
        synchronized (lock) {
            return subs.size();
        }
    }

    // ---- one subscription ----------------------------------------------------------------

    /** One subscriber's stream: its spec, its buffer, and what it was given. */
    private final class Sub {
        final Spec spec;
        final SubmissionPublisher<CommitEvent<?, ?>> pub;
        final int buffer;
        /** Live routing skips commits at or below it; guarded by lock. */
        long liveAfter;
        /** Whether the replay has not yet handed over; guarded by lock. */
        boolean replaying;
        /** Live events held back during the replay; guarded by lock. */
        List<CommitEvent<?, ?>> pending;
        /** Removed from the feed; guarded by lock. */
        boolean done;
        /** The commit timestamp of the last event handed to onNext (or the watch's start). */
        volatile long lastDelivered;

        Sub(Spec spec, SubmissionPublisher<CommitEvent<?, ?>> pub, long afterTs, int buffer) {
            this.spec = spec;
            this.pub = pub;
            this.buffer = buffer;
            this.lastDelivered = afterTs;
        }

        FellBehindException fellBehind(String reason) {
            return new FellBehindMarker(this, reason);
        }

        /** The ranges to replay, map by map in id order, each map's in key order (merged). */
        List<Range> replayRanges(Store<?, ?> store) {
            List<Range> out = new ArrayList<>();
            if (spec.everyMap) {
                for (MapIndex<?, ?> m : store.maps()) {
                    if (m != null) {
                        out.add(new Range(m, null, null));
                    }
                }
                return out;
            }
            List<Range> sorted = new ArrayList<>(spec.ranges);
            sorted.sort(Sub::byMapThenLow);
            for (Range r : sorted) {
                Range last = out.isEmpty() ? null : out.get(out.size() - 1);
                if (last != null && last.map == r.map && overlapsOrTouches(last, r)) {
                    out.set(out.size() - 1, new Range(r.map, last.low, maxHigh(last, r)));
                } else {
                    out.add(r);
                }
            }
            return out;
        }

        @SuppressWarnings("unchecked")
        private static int byMapThenLow(Range a, Range b) {
            if (a.map.id() != b.map.id()) {
                return Integer.compare(a.map.id(), b.map.id());
            }
            if (a.low == null || b.low == null) {
                return a.low == null ? (b.low == null ? 0 : -1) : 1;
            }
            return ((Comparator<Object>) a.map.comparator()).compare(a.low, b.low);
        }

        @SuppressWarnings("unchecked")
        private static boolean overlapsOrTouches(Range earlier, Range later) {
            return earlier.high == null
                    || later.low == null
                    || ((Comparator<Object>) earlier.map.comparator()).compare(later.low, earlier.high) <= 0;
        }

        @SuppressWarnings("unchecked")
        private static Object maxHigh(Range a, Range b) {
            if (a.high == null || b.high == null) {
                return null;
            }
            return ((Comparator<Object>) a.map.comparator()).compare(a.high, b.high) >= 0 ? a.high : b.high;
        }

        /** The event this subscription sees of a commit, or null if it wrote nothing it watches. */
        CommitEvent<?, ?> filter(CommitRecord<?, ?> record, Store<?, ?> store) {
            List<Change<Object, Object>> changes = null;
            MapIndex<?, ?>[] maps = store.maps();
            for (int i = 0; i < record.size(); i++) {
                int id = record.map(i);
                MapIndex<?, ?> map = id < maps.length ? maps[id] : null;
                Object key = record.key(i);
                if (map != null && spec.covers(map, key)) {
                    if (changes == null) {
                        changes = new ArrayList<>();
                    }
                    changes.add(new Change<>(key, record.value(i), mapName(map)));
                }
            }
            return changes == null ? null : new CommitEvent<>(record.commitTimestamp(), changes);
        }

        /** The subscriber between the SubmissionPublisher and the user's: tracks what was given. */
        Flow.Subscriber<CommitEvent<?, ?>> relay(Flow.Subscriber<CommitEvent<?, ?>> user) {
            return new Flow.Subscriber<>() {
                @Override
                public void onSubscribe(Flow.Subscription subscription) {
                    user.onSubscribe(new Flow.Subscription() {
                        @Override
                        public void request(long n) {
                            subscription.request(n);
                        }

                        @Override
                        public void cancel() {
                            subscription.cancel();
                            cancelled(Sub.this);
                        }
                    });
                }

                @Override
                public void onNext(CommitEvent<?, ?> item) {
                    lastDelivered = item.commitTimestamp();
                    user.onNext(item);
                }

                @Override
                public void onError(Throwable throwable) {
                    cancelled(Sub.this); // F8: onNext threw (else the feed removed it already)
                    if (throwable instanceof FellBehindMarker) { // say what it was given, as of now
                        throwable = new FellBehindException(lastDelivered, ((FellBehindMarker) throwable).reason);
                    }
                    user.onError(throwable);
                }

                @Override
                public void onComplete() {
                    user.onComplete();
                }
            };
        }
    }

    /** The failure the publisher carries until the relay turns it into the subscriber's own. */
    private static final class FellBehindMarker extends FellBehindException {
        private static final long serialVersionUID = 1L;
        final transient String reason;

        FellBehindMarker(ChangeFeed.Sub sub, String reason) {
            super(sub.lastDelivered, reason);
            this.reason = reason;
        }
    }
}
