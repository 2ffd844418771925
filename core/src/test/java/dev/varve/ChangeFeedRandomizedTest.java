// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.varve.testing.TestThreads;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Queue;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The change feed against a seeded model: writers on three maps, subscribers of every kind, each given exactly its ranges' history. */
class ChangeFeedRandomizedTest {
    private static final int WRITERS = 3;
    private static final int TXS_PER_WRITER = 5000;
    private static final int KEYS = 64;
    /** The maps in creation order (the order of a commit's changes): the default map first. */
    private static final List<String> MAPS = List.of("", "a", "b");

    /** Fixed seeds, and a new one each run (printed with every failure). */
    static Stream<Long> seeds() {
        return Stream.of(11L, 23L, 37L, 41L, System.nanoTime());
    }

    /** One write of a commit: value null for a removal. */
    record Write(String map, long key, Long value) {}

    /** A commit as its writer made it. */
    record Commit(long ts, List<Write> writes) {}

    /** A key range [from, to) of one map; a null end is unbounded. */
    record Range(String map, Long from, Long to) {
        boolean covers(String m, long key) {
            return map.equals(m) && (from == null || key >= from) && (to == null || key < to);
        }
    }

    /** What one subscriber watches: some ranges, or (none given) every map. */
    record Watched(List<Range> ranges) {
        boolean covers(String map, long key) {
            return ranges.isEmpty() || ranges.stream().anyMatch(r -> r.covers(map, key));
        }
    }

    /** How a subscriber subscribes: which Database.watch form, from where, with what buffer. */
    interface Watch {
        Flow.Publisher<CommitEvent<Object, Object>> after(long afterTs, int buffer);
    }

    /** A single-thread executor that a writer blocks now and then (the slow subscriber's). */
    static final class GatedExecutor implements Executor {
        final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "test-slow-subscriber");
            t.setDaemon(true);
            return t;
        });
        private final Semaphore permits = new Semaphore(0);

        @Override
        public void execute(Runnable task) {
            thread.execute(task);
        }

        /** Blocks the thread once it reaches this task, until {@link #open}. */
        void close() {
            thread.execute(permits::acquireUninterruptibly);
        }

        void open(int n) {
            permits.release(n);
        }
    }

    /**
     * One subscriber's whole history: it subscribes, and on each FellBehindException subscribes
     * again after the timestamp the exception gives; its events are concatenated across attempts.
     */
    static final class Follower {
        final String name;
        final Watched watched;
        final long start;
        final Map<String, TreeMap<Long, Long>> startState;
        final Watch watch;
        final boolean oneAtATime;
        final int baseBuffer;
        /** The first attempt stops requesting after this many events (0: never). */
        final int pauseAfter;

        final List<CommitEvent<Object, Object>> events = Collections.synchronizedList(new ArrayList<>());
        final List<String> problems = new CopyOnWriteArrayList<>();
        final List<Long> resumedFrom = new CopyOnWriteArrayList<>();
        volatile long lastTs;
        volatile Throwable unexpected;
        volatile Attempt current;
        private int buffer;

        Follower(
                String name,
                Watched watched,
                long start,
                Map<String, TreeMap<Long, Long>> startState,
                Watch watch,
                boolean oneAtATime,
                int buffer,
                int pauseAfter) {
            this.name = name;
            this.watched = watched;
            this.start = start;
            this.startState = startState;
            this.watch = watch;
            this.oneAtATime = oneAtATime;
            this.baseBuffer = buffer;
            this.buffer = buffer;
            this.pauseAfter = pauseAfter;
            this.lastTs = start;
        }

        void subscribe(long after) {
            Attempt a = new Attempt(after, current == null);
            current = a;
            watch.after(after, buffer).subscribe(a);
        }

        /** Lets a paused first attempt go on (when the writers are done). */
        void unpause() {
            Attempt a = current;
            if (a != null) {
                a.unpause();
            }
        }

        /** One subscription of the follower. */
        final class Attempt implements Flow.Subscriber<CommitEvent<Object, Object>> {
            final long after;
            final boolean first;
            private Flow.Subscription subscription;
            private int received;
            private boolean paused;

            Attempt(long after, boolean first) {
                this.after = after;
                this.first = first;
            }

            @Override
            public synchronized void onSubscribe(Flow.Subscription s) {
                subscription = s;
                s.request(oneAtATime ? 1 : Long.MAX_VALUE);
            }

            @Override
            public void onNext(CommitEvent<Object, Object> e) {
                if (e.commitTimestamp() <= lastTs) {
                    problems.add(
                            "event " + e.commitTimestamp() + " after " + lastTs + " (attempt after " + after + ")");
                }
                events.add(e);
                lastTs = e.commitTimestamp();
                synchronized (this) {
                    received++;
                    if (first && received == pauseAfter) {
                        paused = true; // requests nothing more: the feed must fail it once its buffer is full
                    } else if (oneAtATime) {
                        subscription.request(1);
                    }
                }
            }

            synchronized void unpause() {
                if (paused) {
                    paused = false;
                    subscription.request(1);
                }
            }

            @Override
            public void onError(Throwable t) {
                if (!(t instanceof FellBehindException)) {
                    unexpected = t;
                    return;
                }
                long from = ((FellBehindException) t).lastDeliveredTimestamp();
                if (from != lastTs) {
                    problems.add("FellBehindException gives " + from + ", the last event given was " + lastTs);
                }
                resumedFrom.add(from);
                // The replay goes through the same buffer: a backlog larger than it may fail the
                // resume before it delivers anything (always, on a one-thread executor), so a
                // client grows its buffer when a resume made no progress.
                buffer = received == 0 ? Math.min(buffer * 2, 1 << 14) : baseBuffer;
                try {
                    subscribe(from);
                } catch (RuntimeException e) {
                    unexpected = e;
                }
            }

            @Override
            public void onComplete() {}
        }
    }

    private Database<Long, Long> db;
    private final Map<String, NamedMap<Long, Long>> maps = new LinkedHashMap<>();
    private final Queue<Follower> followers = new ConcurrentLinkedQueue<>();
    private final Queue<Commit> commits = new ConcurrentLinkedQueue<>();

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Flow.Publisher<CommitEvent<Object, Object>> untyped(Flow.Publisher<?> p) {
        return (Flow.Publisher) p;
    }

    private WatchRange watchRange(Range r) {
        return r.map.isEmpty() ? WatchRange.ofDefaultMap(r.from, r.to) : WatchRange.of(maps.get(r.map), r.from, r.to);
    }

    private Watch rangesWatch(Watched w, Executor executor) {
        List<WatchRange> ranges = w.ranges.stream().map(this::watchRange).toList();
        return (after, buffer) -> db.watch(ranges, after, executor, buffer);
    }

    /** The contents of {@code s} within {@code w}, map by map. */
    private Map<String, TreeMap<Long, Long>> restrict(Snapshot<Long, Long> s, Watched w) {
        Map<String, TreeMap<Long, Long>> out = new TreeMap<>();
        for (String m : MAPS) {
            NavigableMap<Long, Long> view = m.isEmpty() ? s : s.map(maps.get(m));
            TreeMap<Long, Long> part = new TreeMap<>();
            view.forEach((k, v) -> {
                if (w.covers(m, k)) {
                    part.put(k, v);
                }
            });
            out.put(m, part);
        }
        return out;
    }

    private Map<String, TreeMap<Long, Long>> restrictAt(long ts, Watched w) {
        try (Snapshot<Long, Long> s = db.snapshotAt(ts)) {
            return restrict(s, w);
        }
    }

    /** A random watch: every map, one whole map, or a few ranges across maps. */
    private Watched randomWatched(Random rnd) {
        switch (rnd.nextInt(3)) {
            case 0:
                return new Watched(List.of());
            case 1:
                return new Watched(List.of(new Range("a", null, null)));
            default:
                List<Range> ranges = new ArrayList<>();
                for (int i = 0, n = 1 + rnd.nextInt(3); i < n; i++) {
                    long from = rnd.nextInt(KEYS);
                    ranges.add(new Range(MAPS.get(rnd.nextInt(MAPS.size())), from, from + 1 + rnd.nextInt(KEYS / 2)));
                }
                return new Watched(ranges);
        }
    }

    /** List, then watch from the list's snapshot: the follower starts from what it listed. */
    private void listThenWatch(Random rnd, int n) {
        Watched w = randomWatched(rnd);
        try (Snapshot<Long, Long> listed = db.snapshot()) {
            Watch watch;
            if (w.ranges.isEmpty()) {
                watch = (after, buffer) -> db.watchAll(after);
            } else if (w.ranges.size() == 1 && w.ranges.get(0).from == null) {
                watch = (after, buffer) -> untyped(db.watch(maps.get("a"), after));
            } else {
                watch = rangesWatch(w, null);
            }
            Follower f = new Follower(
                    "list-then-watch-" + n + " " + w,
                    w,
                    listed.snapshotTimestamp(),
                    restrict(listed, w),
                    watch,
                    rnd.nextBoolean(),
                    16 << rnd.nextInt(7),
                    0);
            followers.add(f);
            f.subscribe(f.start);
        } // closed once subscribe returned: the replay holds its own pin
    }

    private void write(Random rnd, int writer, int i, GatedExecutor slow, Set<Integer> listAt) {
        if (writer == 0 && i % 120 == 10) {
            slow.close();
        } else if (writer == 0 && i % 120 == 70) {
            slow.open(1);
        }
        if (writer == 1 && listAt.contains(i)) {
            listThenWatch(rnd, i);
        }
        if (rnd.nextInt(10) == 0) { // read-only: may take a timestamp (recorded), never an event
            try (Transaction<Long, Long> tx = db.begin(Isolation.SERIALIZABLE)) {
                tx.get((long) rnd.nextInt(KEYS));
                tx.map(maps.get("b")).get((long) rnd.nextInt(KEYS));
                tx.commit();
            } catch (SerializationFailureException e) {
                // a read-only transaction may be refused; it wrote nothing either way
            }
            return;
        }
        while (true) {
            try (Transaction<Long, Long> tx = db.begin(Isolation.SNAPSHOT)) {
                Map<List<Object>, Write> writes = new LinkedHashMap<>();
                for (int j = 0, n = 1 + rnd.nextInt(4); j < n; j++) {
                    String m = MAPS.get(rnd.nextInt(MAPS.size()));
                    long key = rnd.nextInt(KEYS);
                    Long value = rnd.nextInt(5) == 0 ? null : (long) rnd.nextInt(1_000_000);
                    if (m.isEmpty()) {
                        if (value == null) {
                            tx.remove(key);
                        } else {
                            tx.put(key, value);
                        }
                    } else if (value == null) {
                        tx.remove(maps.get(m), key); // a blind tombstone, also of an absent key
                    } else if (rnd.nextBoolean()) {
                        tx.put(maps.get(m), key, value);
                    } else {
                        tx.map(maps.get(m)).put(key, value);
                    }
                    writes.put(List.of(m, key), new Write(m, key, value)); // the last write of a key counts
                }
                tx.commit();
                commits.add(new Commit(tx.commitTimestamp(), List.copyOf(writes.values())));
                return;
            } catch (SerializationFailureException e) {
                // first committer wins: try another transaction
            }
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void everySubscriberSeesExactlyItsRangesHistoryAcrossItsResumes(long seed) throws Exception {
        db = Database.<Long, Long>builder().retainHistory(Duration.ofHours(1)).open();
        GatedExecutor slow = new GatedExecutor();
        try {
            run(seed, slow);
        } catch (Exception | AssertionError e) {
            if (String.valueOf(e.getMessage()).startsWith("seed ")) {
                throw e;
            }
            throw new AssertionError("seed " + seed + ": " + e, e);
        } finally {
            slow.open(1 << 20);
            db.close();
            slow.thread.shutdownNow();
        }
    }

    private void run(long seed, GatedExecutor slow) throws Exception {
        String at = "seed " + seed + ": ";
        Random rnd = new Random(seed);
        for (String m : MAPS) {
            if (!m.isEmpty()) {
                maps.put(m, db.openMap(m));
            }
        }
        for (int i = 0; i < 100; i++) { // a start state that is not empty
            write(rnd, 2, -1, slow, Set.of());
        }
        long start = db.gauges().visibleTimestamp();
        commits.removeIf(c -> c.ts <= start);

        Watched everything =
                new Watched(List.of(new Range("", null, null), new Range("a", null, null), new Range("b", null, null)));
        Watched acrossMaps = new Watched(List.of(
                new Range("a", 10L, 30L),
                new Range("a", 25L, 40L), // overlaps the one before
                new Range("b", null, 20L),
                new Range("", 50L, null)));
        Watched tinyRanges = new Watched(
                List.of(new Range("", 0L, 32L), new Range("", 20L, 40L), new Range("b", 40L, null))); // replayed often
        Watched wholeB = new Watched(List.of(new Range("b", null, null)));
        Watched defaultPart = new Watched(List.of(new Range("", 16L, 48L)));
        int total = WRITERS * TXS_PER_WRITER;
        Follower fast = new Follower(
                "fast",
                everything,
                start,
                restrictAt(start, everything),
                rangesWatch(everything, null),
                false,
                2 * total,
                0);
        Follower slowOne = new Follower(
                "slow",
                acrossMaps,
                start,
                restrictAt(start, acrossMaps),
                rangesWatch(acrossMaps, slow),
                true,
                2 * total,
                0);
        Follower tiny = new Follower(
                "tiny buffer",
                tinyRanges,
                start,
                restrictAt(start, tinyRanges),
                rangesWatch(tinyRanges, null),
                true,
                4,
                10);
        Follower whole = new Follower(
                "whole map b",
                wholeB,
                start,
                restrictAt(start, wholeB),
                (after, buffer) -> untyped(db.watch(maps.get("b"), after)),
                false,
                1024, // this form of watch takes the default buffer
                0);
        Follower part = new Follower(
                "default map [16, 48)",
                defaultPart,
                start,
                restrictAt(start, defaultPart),
                (after, buffer) -> untyped(db.watch(16L, 48L, after)),
                false,
                1024, // this form of watch takes the default buffer
                0);
        for (Follower f : List.of(fast, slowOne, tiny, whole, part)) {
            followers.add(f);
            f.subscribe(start);
        }

        Set<Integer> listAt = new TreeSet<>();
        while (listAt.size() < 6) {
            listAt.add(rnd.nextInt(TXS_PER_WRITER));
        }
        List<Callable<Void>> writers = new ArrayList<>();
        for (int w = 0; w < WRITERS; w++) {
            int writer = w;
            Random own = new Random(seed * 1_000_003L + w);
            writers.add(() -> {
                for (int i = 0; i < TXS_PER_WRITER; i++) {
                    write(own, writer, i, slow, listAt);
                }
                return null;
            });
        }
        TestThreads.runAll("writer", writers, new AtomicBoolean());
        slow.open(1 << 20);
        followers.forEach(Follower::unpause);

        List<Commit> history = new ArrayList<>(commits);
        history.sort(Comparator.comparingLong(Commit::ts));
        long last = db.gauges().visibleTimestamp();
        Map<Follower, List<CommitEvent<Object, Object>>> expected = new LinkedHashMap<>();
        for (Follower f : followers) {
            expected.put(f, expectedEvents(history, f));
        }
        try {
            Awaitility.await()
                    .atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(5))
                    .until(() -> expected.entrySet().stream()
                            .allMatch(e -> e.getKey().unexpected != null
                                    || e.getKey().lastTs == lastTs(e.getValue(), e.getKey().start)));
        } catch (ConditionTimeoutException e) {
            StringBuilder sb = new StringBuilder(at + "not every subscriber reached its last commit:");
            expected.forEach((f, ev) -> sb.append("\n  ")
                    .append(f.name)
                    .append(": at ")
                    .append(f.lastTs)
                    .append(", expected ")
                    .append(lastTs(ev, f.start))
                    .append(", resumed ")
                    .append(f.resumedFrom.size()));
            fail(sb.toString());
        }

        for (Map.Entry<Follower, List<CommitEvent<Object, Object>>> e : expected.entrySet()) {
            check(at, e.getKey(), e.getValue(), last);
        }
        assertEquals(List.of(), fast.resumedFrom, at + "the fast subscriber's buffer holds every commit");
        assertEquals(List.of(), slowOne.resumedFrom, at + "the slow subscriber's buffer holds every commit");
        assertTrue(!tiny.resumedFrom.isEmpty(), at + "the tiny-buffer subscriber never fell behind");
        assertEquals(5 + listAt.size(), followers.size());
        assertTrue(history.size() > total * 8 / 10, at + "too few commits: " + history.size());
    }

    /** The first few elements of {@code list}, and how many there are. */
    private static List<Object> brief(List<?> list) {
        List<Object> out = new ArrayList<>(list.subList(0, Math.min(10, list.size())));
        if (list.size() > 10) {
            out.add("... " + list.size() + " in all");
        }
        return out;
    }

    private static long lastTs(List<CommitEvent<Object, Object>> events, long start) {
        return events.isEmpty() ? start : events.get(events.size() - 1).commitTimestamp();
    }

    /** The commits after f's start that wrote in its ranges, each with its writes there in change order. */
    private static List<CommitEvent<Object, Object>> expectedEvents(List<Commit> history, Follower f) {
        List<CommitEvent<Object, Object>> out = new ArrayList<>();
        Comparator<Write> changeOrder =
                Comparator.comparingInt((Write w) -> MAPS.indexOf(w.map)).thenComparingLong(Write::key);
        for (Commit c : history) {
            if (c.ts <= f.start) {
                continue;
            }
            List<Change<Object, Object>> changes = c.writes.stream()
                    .filter(w -> f.watched.covers(w.map, w.key))
                    .sorted(changeOrder)
                    .map(w -> new Change<Object, Object>(w.key, w.value, w.map))
                    .toList();
            if (!changes.isEmpty()) {
                out.add(new CommitEvent<>(c.ts, changes));
            }
        }
        return out;
    }

    private void check(String at, Follower f, List<CommitEvent<Object, Object>> expected, long last) {
        String who = at + f.name + " (from " + f.start + ", resumed after " + brief(f.resumedFrom) + "): ";
        if (f.unexpected != null) {
            throw new AssertionError(who + "failed", f.unexpected);
        }
        assertEquals(List.of(), brief(f.problems), who + "seen while delivering");
        List<CommitEvent<Object, Object>> got;
        synchronized (f.events) {
            got = new ArrayList<>(f.events);
        }
        List<Long> gotTs = got.stream().map(CommitEvent::commitTimestamp).toList();
        List<Long> expectedTs =
                expected.stream().map(CommitEvent::commitTimestamp).toList();
        if (!gotTs.equals(expectedTs)) {
            List<Long> missing = new ArrayList<>(expectedTs);
            missing.removeAll(gotTs);
            List<Long> extra = new ArrayList<>(gotTs);
            extra.removeAll(expectedTs);
            fail(who + "commit timestamps differ: missing " + brief(missing) + ", not expected " + brief(extra)
                    + " (both empty: repeated or out of order)");
        }
        for (int i = 0; i < got.size(); i++) {
            assertEquals(
                    expected.get(i), got.get(i), who + "event " + i + " is not its commit's writes in range, whole");
        }
        // Applied to its starting state, the events give the database's state at their last one.
        Map<String, TreeMap<Long, Long>> state = new TreeMap<>();
        f.startState.forEach((m, part) -> state.put(m, new TreeMap<>(part)));
        for (CommitEvent<Object, Object> e : got) {
            for (Change<Object, Object> c : e.changes()) {
                TreeMap<Long, Long> part = state.get(c.map());
                if (c.value() == null) {
                    part.remove((Long) c.key());
                } else {
                    part.put((Long) c.key(), (Long) c.value());
                }
            }
        }
        long end = lastTs(got, f.start);
        assertEquals(restrictAt(end, f.watched), state, who + "state at its last event " + end);
        assertEquals(restrictAt(last, f.watched), state, who + "state at the last commit " + last);
    }
}
