// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.testing.FeedCollector;
import java.time.Duration;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The change feed: {@link Database#watch}, in commit order, exactly once, with replay and backpressure. */
class ChangeFeedTest {

    @Test
    void deliversEachCommitInTheRangeOnceInOrderAndNothingForCommitsOutside() {
        try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
            long start = db.gauges().visibleTimestamp();
            FeedCollector<Long, Long> c = FeedCollector.unbounded();
            db.watch(10L, 20L, start).subscribe(c);
            db.put(5L, 1L); // outside
            try (Transaction<Long, Long> tx = db.begin()) {
                tx.put(11L, 1L);
                tx.put(12L, 2L);
                tx.put(25L, 3L); // outside: not in the event
                tx.commit();
            }
            db.remove(11L);
            db.put(20L, 1L); // the end is exclusive
            long last = db.put(19L, 9L) == null ? db.gauges().visibleTimestamp() : -1;
            await().atMost(Duration.ofSeconds(10)).until(() -> c.lastTs() == last);
            assertEquals(3, c.events.size(), c.events.toString());
            assertEquals(
                    List.of(new Change<>(11L, 1L), new Change<>(12L, 2L)),
                    c.events.get(0).changes());
            assertEquals(
                    List.of(new Change<Long, Long>(11L, null)), c.events.get(1).changes());
            assertEquals(List.of(new Change<>(19L, 9L)), c.events.get(2).changes());
        }
    }

    @Test
    void listThenWatchSeesEveryLaterCommitOnceAcrossMaps() {
        try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
            NamedMap<Long, Long> other = db.openMap("other");
            for (long i = 0; i < 50; i++) {
                db.put(i, i);
            }
            Snapshot<Long, Long> listed = db.snapshot();
            TreeMap<Object, Object> state = new TreeMap<>();
            listed.forEach((k, v) -> state.put("main/" + k, v));
            for (long i = 0; i < 300; i++) { // after the list, before the watch: replayed
                try (Transaction<Long, Long> tx = db.begin()) {
                    tx.put(i % 70, i);
                    tx.map(other).put(i % 7, -i);
                    if (i % 5 == 0) {
                        tx.remove((i + 3) % 70);
                    }
                    tx.commit();
                }
            }
            db.vacuum();
            FeedCollector<Object, Object> c = FeedCollector.unbounded();
            db.watchAll(listed.snapshotTimestamp()).subscribe(c);
            listed.close(); // the replay holds its own pin from here
            for (long i = 0; i < 100; i++) { // live
                db.put(i, -i);
            }
            long last = db.gauges().visibleTimestamp();
            await().atMost(Duration.ofSeconds(10)).until(() -> c.lastTs() == last);
            long previous = listed.snapshotTimestamp();
            for (CommitEvent<Object, Object> e : c.events) {
                assertTrue(e.commitTimestamp() > previous, "order");
                previous = e.commitTimestamp();
                for (Change<Object, Object> ch : e.changes()) {
                    String key = (ch.map().isEmpty() ? "main/" : ch.map() + "/") + ch.key();
                    if (ch.value() == null) {
                        state.remove(key);
                    } else {
                        state.put(key, ch.value());
                    }
                }
            }
            TreeMap<Object, Object> expected = new TreeMap<>();
            try (Snapshot<Long, Long> now = db.snapshot()) {
                now.forEach((k, v) -> expected.put("main/" + k, v));
                now.map(other).forEach((k, v) -> expected.put("other/" + k, v));
            }
            assertEquals(expected, state);
            assertEquals(400, c.events.size());
        }
    }

    @Test
    void aWatchFromReclaimedHistoryFailsAtOnce() {
        try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
            db.put(1L, 1L);
            long old = db.gauges().visibleTimestamp();
            for (long i = 0; i < 300; i++) {
                db.put(1L, i);
            }
            db.vacuum();
            SnapshotTooOldException e = assertThrows(SnapshotTooOldException.class, () -> db.watch(0L, 9L, old));
            assertTrue(e.oldestAvailableTimestamp() > old);
            assertThrows(
                    IllegalArgumentException.class,
                    () -> db.watch(0L, 9L, db.gauges().visibleTimestamp() + 1));
        }
    }

    @Test
    void aSubscriberThatFallsBehindIsFailedWithItsLastTimestampAndCanResume() {
        try (Database<Long, Long> db = Database.<Long, Long>builder()
                .retainHistory(Duration.ofHours(1))
                .open()) {
            long start = db.gauges().visibleTimestamp();
            FeedCollector<Object, Object> slow = new FeedCollector<>(3, false); // takes 3, then stops asking
            db.watch(List.of(WatchRange.ofDefaultMap(null, null)), start, null, 4)
                    .subscribe(slow);
            for (long i = 0; i < 50; i++) {
                db.put(i, i);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> slow.error.get() != null);
            FellBehindException e = assertInstanceOf(FellBehindException.class, slow.error.get());
            // The error may overtake buffered events (SubmissionPublisher drops them): it names
            // what onNext was actually given.
            assertEquals(slow.events.isEmpty() ? start : slow.lastTs(), e.lastDeliveredTimestamp());
            assertTrue(slow.events.size() <= 3, slow.events.toString());
            FeedCollector<Object, Object> resumed = FeedCollector.unbounded();
            db.watchAll(e.lastDeliveredTimestamp()).subscribe(resumed);
            long last = db.gauges().visibleTimestamp();
            await().atMost(Duration.ofSeconds(10)).until(() -> resumed.lastTs() == last);
            assertEquals(last - e.lastDeliveredTimestamp(), resumed.events.size());
            assertEquals(e.lastDeliveredTimestamp() + 1, resumed.events.get(0).commitTimestamp());
        }
    }

    @Test
    void aResumeWhoseBacklogIsLargerThanItsBufferCatchesUpAtTheSubscribersPace() throws Exception {
        java.util.concurrent.ExecutorService one = java.util.concurrent.Executors.newSingleThreadExecutor();
        try (Database<Long, Long> db = Database.<Long, Long>builder()
                .retainHistory(Duration.ofHours(1))
                .open()) {
            long start = db.gauges().visibleTimestamp();
            for (long i = 0; i < 300; i++) {
                db.put(i % 7, i);
            }
            long last = db.gauges().visibleTimestamp();
            // Asks for one event at a time, on one delivery thread, with a buffer of 4: the
            // replay of 300 commits must wait for it, not overflow it.
            FeedCollector<Object, Object> paced = new FeedCollector<>(1, true);
            java.util.concurrent.CountDownLatch gate = new java.util.concurrent.CountDownLatch(1);
            one.execute(
                    () -> { // holds the delivery thread: the replay stops at a full buffer
                        try {
                            gate.await();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    });
            db.watch(List.of(WatchRange.ofDefaultMap(null, null)), start, one, 4)
                    .subscribe(paced);
            long live = 0;
            for (long i = 0; i < 3; i++) {
                db.put(100 + i, i); // live commits while the replay runs
                live = db.gauges().visibleTimestamp();
            }
            long end = live;
            // Held back for the replay's handover (routed while it replays), then let it go.
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> Internals.store(db).changeFeed().dispatched() >= end);
            gate.countDown();
            await().atMost(Duration.ofSeconds(20)).until(() -> paced.lastTs() == end || paced.error.get() != null);
            assertEquals(null, paced.error.get());
            assertEquals(
                    java.util.stream.LongStream.rangeClosed(start + 1, end)
                            .boxed()
                            .toList(),
                    paced.timestamps());
            assertTrue(last < end);
        } finally {
            one.shutdownNow();
        }
    }

    @Test
    void closeCompletesSubscribersAndStopsTheFeedThreads() {
        Database<Long, Long> db = Database.<Long, Long>builder().open();
        FeedCollector<Long, Long> c = FeedCollector.unbounded();
        db.watch(null, null, db.gauges().visibleTimestamp()).subscribe(c);
        db.put(1L, 1L);
        await().atMost(Duration.ofSeconds(10)).until(() -> c.events.size() == 1);
        db.close();
        await().atMost(Duration.ofSeconds(10)).until(c.completed::get);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> Thread.getAllStackTraces().keySet().stream()
                        .noneMatch(t -> t.isAlive()
                                && (t.getName().startsWith("varve-change-feed")
                                        || t.getName().startsWith("varve-watch"))));
        assertThrows(IllegalStateException.class, () -> db.watch(null, null, 0));
    }

    @Test
    void concurrentWritersAcrossTwoMapsAndSeveralSubscribersAgreeWithSnapshotAt() throws Exception {
        try (Database<Long, Long> db = Database.<Long, Long>builder()
                .retainHistory(Duration.ofHours(1))
                .open()) {
            NamedMap<Long, Long> other = db.openMap("other");
            long start = db.gauges().visibleTimestamp();
            FeedCollector<Object, Object> all = FeedCollector.unbounded();
            int buffer = 1 << 14; // more than the commits: this test is about order and content
            db.watch(List.of(WatchRange.ofDefaultMap(null, null), WatchRange.all(other)), start, null, buffer)
                    .subscribe(all);
            FeedCollector<Object, Object> range = new FeedCollector<>(1, true); // one at a time
            db.watch(List.of(WatchRange.of(other, 10L, 30L)), start, null, buffer)
                    .subscribe(range);
            Thread[] writers = new Thread[2];
            for (int w = 0; w < writers.length; w++) {
                long seed = w;
                writers[w] = new Thread(() -> {
                    java.util.Random rnd = new java.util.Random(seed);
                    for (int i = 0; i < 2000; i++) {
                        db.run(tx -> {
                            tx.put((long) rnd.nextInt(100), (long) rnd.nextInt());
                            tx.map(other).put((long) rnd.nextInt(40), (long) rnd.nextInt());
                            if (rnd.nextInt(8) == 0) {
                                tx.map(other).remove((long) rnd.nextInt(40));
                            }
                        });
                    }
                });
                writers[w].start();
            }
            for (Thread t : writers) {
                t.join();
            }
            long last = db.gauges().visibleTimestamp();
            await().atMost(Duration.ofSeconds(30)).until(() -> all.error.get() != null || all.lastTs() == last);
            assertEquals(null, all.error.get());
            TreeMap<Object, Object> fromFeed = new TreeMap<>();
            long previous = start;
            for (CommitEvent<Object, Object> e : all.events) {
                assertTrue(e.commitTimestamp() > previous);
                previous = e.commitTimestamp();
                for (Change<Object, Object> ch : e.changes()) {
                    String key = ch.map() + "/" + ch.key();
                    if (ch.value() == null) {
                        fromFeed.remove(key);
                    } else {
                        fromFeed.put(key, ch.value());
                    }
                }
            }
            TreeMap<Object, Object> expected = new TreeMap<>();
            try (Snapshot<Long, Long> at = db.snapshotAt(last)) {
                at.forEach((k, v) -> expected.put("/" + k, v));
                at.map(other).forEach((k, v) -> expected.put("other/" + k, v));
            }
            assertEquals(expected, fromFeed);
            assertEquals(null, all.error.get());
            // The one-at-a-time subscriber saw exactly the commits that wrote other's [10, 30).
            await().atMost(Duration.ofSeconds(30)).until(() -> range.error.get() != null || rangeDone(range, all));
            assertEquals(null, range.error.get());
            TreeMap<Object, Object> expectedRange = new TreeMap<>();
            try (Snapshot<Long, Long> at = db.snapshotAt(last)) {
                expectedRange.putAll(at.map(other).subMap(10L, 30L));
            }
            assertEquals(expectedRange, range.applyTo(new TreeMap<>(), start));
        }
    }

    private static boolean rangeDone(FeedCollector<Object, Object> range, FeedCollector<Object, Object> all) {
        long lastInRange = -1;
        for (CommitEvent<Object, Object> e : all.events) {
            for (Change<Object, Object> ch : e.changes()) {
                if (ch.map().equals("other") && (Long) ch.key() >= 10 && (Long) ch.key() < 30) {
                    lastInRange = e.commitTimestamp();
                }
            }
        }
        return range.lastTs() == lastInRange;
    }
}
