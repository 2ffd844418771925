// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Change;
import dev.varve.CommitEvent;
import dev.varve.Database;
import dev.varve.Snapshot;
import dev.varve.Transaction;
import dev.varve.TransactionException;
import dev.varve.wal.WalTestSupport.Gate;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The change feed against the log's durability ({@code ChangeFeed} F2): under {@code FULL} an
 * event is delivered only once its commit is forced, so no crash or power loss takes back a
 * commit a watcher was told about; a failed force yields no event and fails the subscriber; under
 * {@code RELAXED} an event waits for the record to be written to the file, not for a force. The
 * force and write are held or failed through {@link FaultyIo}'s hook; the power loss is its disk
 * model, which keeps only forced bytes.
 */
class FeedDurabilityTest {

    /** How long a negative check ("no event arrives") watches: the feed delivers within microseconds. */
    private static final Duration QUIET = Duration.ofMillis(300);

    private static final Duration WAIT = Duration.ofSeconds(10);

    /** A power loss that keeps nothing unforced. */
    private static final Random KEEP_ONLY_FORCED = new Random() {
        private static final long serialVersionUID = 1L;

        @Override
        public boolean nextBoolean() {
            return false;
        }
    };

    @TempDir
    Path dir;

    /** Collects what a feed delivers; requests everything. */
    static final class Collector implements Flow.Subscriber<CommitEvent<String, Long>> {
        final List<CommitEvent<String, Long>> events = new CopyOnWriteArrayList<>();
        final AtomicReference<Throwable> error = new AtomicReference<>();

        @Override
        public void onSubscribe(Flow.Subscription s) {
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(CommitEvent<String, Long> item) {
            events.add(item);
        }

        @Override
        public void onError(Throwable t) {
            error.set(t);
        }

        @Override
        public void onComplete() {}

        boolean delivered(long ts) {
            return events.stream().anyMatch(e -> e.commitTimestamp() == ts);
        }

        List<Long> timestamps() {
            List<Long> out = new ArrayList<>();
            for (CommitEvent<String, Long> e : events) {
                out.add(e.commitTimestamp());
            }
            return out;
        }
    }

    private Wal.Builder<String, Long> wal(Wal.Sync sync, FaultyIo io) {
        return WalTestSupport.builder(dir, sync, io);
    }

    /** Opens with history retained, so a watch may start from before the newest commit. */
    private static Database<String, Long> open(Wal.Builder<String, Long> wal) {
        return Database.<String, Long>builder()
                .durability(wal.build())
                .retainHistory(Duration.ofHours(1))
                .open();
    }

    private static Collector watch(Database<String, Long> db, long after) {
        Collector c = new Collector();
        db.watch(null, null, after).subscribe(c);
        return c;
    }

    private static long visible(Database<String, Long> db) {
        return db.gauges().visibleTimestamp();
    }

    private static Long readInSnapshot(Database<String, Long> db, String key) {
        try (Snapshot<String, Long> s = db.snapshot()) {
            return s.get(key);
        }
    }

    /**
     * Checks that {@code c} holds {@code n} events and no error, and still does after {@link
     * #QUIET}: the negative half of "not before": the feed, when it may deliver, does so within
     * microseconds.
     */
    private static void assertNoEventBeyond(Collector c, int n) {
        await().during(QUIET).atMost(QUIET.multipliedBy(3)).until(() -> c.events.size() == n && c.error.get() == null);
    }

    /** Commits {@code key = value} and waits (at most 10 s) until it is acknowledged; returns its timestamp. */
    private static long acknowledged(Database<String, Long> db, String key, long value) throws Exception {
        try {
            return commitAsync(db, key, value).get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("the commit of " + key + " was not acknowledged within 10 s", e);
        }
    }

    private static CompletableFuture<Long> commitAsync(Database<String, Long> db, String key, long value) {
        Transaction<String, Long> tx = db.begin();
        tx.put(key, value);
        return tx.commitAsync();
    }

    /** Closes a database whose log was crashed or failed: close reports that, which is expected here. */
    private static void closeAfterFailure(Database<String, Long> db) {
        try {
            db.close();
        } catch (RuntimeException expected) {
            // the log's final force of a dead process, or its earlier failure
        }
    }

    // ---- FULL: an event waits for the force --------------------------------------------------

    /**
     * FULL, force held: the commit is visible to new snapshots unless visibility is deferred
     * ({@link Wal.Builder#visibleOnlyWhenDurable}), but either way no watcher hears of it until
     * the force returns; then it does.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void fullDeliversNoEventWhileTheForceIsHeldAndTheEventOnceItReturns(boolean visibleOnlyWhenDurable)
            throws Exception {
        FaultyIo io = FaultyIo.counting();
        try (Database<String, Long> db = open(wal(Wal.Sync.FULL, io).visibleOnlyWhenDurable(visibleOnlyWhenDurable))) {
            Collector c = watch(db, visible(db));
            long a = acknowledged(db, "a", 1L); // forced: the segment exists and the feed is running
            await().atMost(WAIT).until(() -> c.delivered(a));

            Gate gate = new Gate(FaultyIo.Op.FORCE, ".seg");
            io.pauseAt(gate);
            CompletableFuture<Long> b;
            try {
                b = commitAsync(db, "b", 2L);
                gate.awaitEntered(); // b is written; its force is held
                assertFalse(b.isDone(), "commit b acknowledged while its force is held");
                assertEquals(
                        visibleOnlyWhenDurable ? null : (Long) 2L,
                        readInSnapshot(db, "b"),
                        "a new snapshot while b's force is held (visibleOnlyWhenDurable=" + visibleOnlyWhenDurable
                                + ")");
                assertNoEventBeyond(c, 1);
            } finally {
                gate.release.countDown();
            }
            long bTs = b.get(10, TimeUnit.SECONDS);
            assertEquals(a + 1, bTs);
            await().atMost(WAIT).until(() -> c.delivered(bTs));
            assertEquals(List.of(a, bTs), c.timestamps());
            assertEquals(List.of(new Change<>("b", 2L)), c.events.get(1).changes());
            assertNull(c.error.get());
        }
    }

    /**
     * FULL, force held, and nobody watching when the commit was made: a watch started then from
     * before it replays history (ChangeFeed F5), and must not replay the commit the log has not
     * forced (it is visible, not durable: ChangeFeed F12): its event comes once the force returns, after
     * the event of the commit before it.
     */
    @Test
    void aWatchStartedWhileTheForceIsHeldReplaysNoUnforcedCommit() throws Exception {
        FaultyIo io = FaultyIo.counting();
        try (Database<String, Long> db = open(wal(Wal.Sync.FULL, io))) {
            long a = acknowledged(db, "a", 1L);
            Gate gate = new Gate(FaultyIo.Op.FORCE, ".seg");
            io.pauseAt(gate);
            CompletableFuture<Long> b;
            Collector fromBefore;
            try {
                b = commitAsync(db, "b", 2L);
                gate.awaitEntered();
                assertEquals(2L, readInSnapshot(db, "b"), "precondition: b is visible while its force is held");
                fromBefore = watch(db, a - 1); // replays from before a: a may come now (it is forced), b not
                await().during(QUIET)
                        .atMost(QUIET.multipliedBy(3))
                        .until(() -> !fromBefore.delivered(a + 1) && fromBefore.error.get() == null);
            } finally {
                gate.release.countDown();
            }
            long bTs = b.get(10, TimeUnit.SECONDS);
            await().atMost(WAIT).until(() -> fromBefore.delivered(bTs));
            assertEquals(List.of(a, bTs), fromBefore.timestamps());
        }
    }

    // ---- FULL: a power loss takes back no delivered commit -----------------------------------

    /**
     * Writers commit under FULL while a watcher listens; the process dies at a random force or
     * write (sometimes after slowing the device down), then the power fails (unforced bytes are
     * lost, some kept at random). Every event the watcher was given must be in the recovered
     * database: its unique keys with their values, and each hot key at the last value the
     * watcher saw for it or at one it never saw (a later commit's).
     */
    @Test
    void everyEventDeliveredUnderFullSurvivesAPowerLoss() throws Exception {
        long seed = System.nanoTime();
        System.out.println("FeedDurabilityTest power loss seed=" + seed);
        Random rnd = new Random(seed);
        int rounds = 8;
        int delivered = 0;
        for (int round = 0; round < rounds; round++) {
            delivered += powerLossRound(
                    dir.resolve("r" + round), new Random(rnd.nextLong()), "seed=" + seed + " round=" + round);
        }
        System.out.println("FeedDurabilityTest power loss: " + rounds + " rounds, " + delivered + " events checked");
        assertTrue(delivered > 0, "no round delivered any event: the test checked nothing (seed=" + seed + ")");
    }

    /** One round; returns the number of events delivered before the crash. */
    private static int powerLossRound(Path roundDir, Random rnd, String label) throws Exception {
        FaultyIo.Disk disk = new FaultyIo.Disk();
        FaultyIo io = FaultyIo.counting(disk);
        Database<String, Long> db = Database.<String, Long>builder()
                .durability(WalTestSupport.builder(roundDir, Wal.Sync.FULL, io)
                        .segmentSize(4096)
                        .build())
                .open();
        Collector c = watch(db, visible(db));
        boolean atForce = rnd.nextBoolean();
        int crashAt = 5 + rnd.nextInt(60);
        boolean slowDevice = rnd.nextBoolean();
        AtomicInteger seen = new AtomicInteger();
        io.pauseAt((op, file) -> {
            if (!file.getFileName().toString().endsWith(".seg")) {
                return;
            }
            if (op == (atForce ? FaultyIo.Op.FORCE : FaultyIo.Op.WRITE) && seen.incrementAndGet() == crashAt) {
                io.crash(); // kill -9: this operation and every later one fails
            }
            if (slowDevice && op == FaultyIo.Op.FORCE) {
                java.util.concurrent.locks.LockSupport.parkNanos(200_000); // a slow disk, not synchronisation
            }
        });
        int threads = 3;
        List<Thread> writers = new ArrayList<>();
        AtomicReference<Throwable> unexpected = new AtomicReference<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            Thread w = new Thread(
                    () -> {
                        try {
                            for (long n = 0; n < 400; n++) {
                                try (Transaction<String, Long> tx = db.begin()) {
                                    tx.put("u" + id + "-" + n, n);
                                    tx.put("hot" + (n % 3), id * 1_000_000L + n);
                                    tx.commit();
                                }
                            }
                        } catch (TransactionException | IllegalStateException logFailed) {
                            // the crash: the log failed and the database refuses writes
                        } catch (Throwable e) {
                            unexpected.compareAndSet(null, e);
                        }
                    },
                    "feed-power-loss-writer-" + t);
            w.start();
            writers.add(w);
        }
        for (Thread w : writers) {
            w.join(TimeUnit.SECONDS.toMillis(60));
        }
        assertNull(unexpected.get(), label);
        io.crash(); // at the crash point, or now if the writers finished first
        closeAfterFailure(db);
        // Every event delivered, even after the crash, is of a commit forced before it.
        List<CommitEvent<String, Long>> events = new ArrayList<>(c.events);
        String damage = disk.powerLoss(rnd);
        String trace = label + " crash at " + (atForce ? "force" : "write") + " #" + crashAt
                + (slowDevice ? " (slow device)" : "") + ", " + events.size() + " events delivered, power loss:"
                + damage;
        System.out.println(trace);
        try (Database<String, Long> recovered = Database.<String, Long>builder()
                .durability(WalTestSupport.builder(roundDir, Wal.Sync.FULL, FaultyIo.counting(disk))
                        .build())
                .open()) {
            checkRecoveredHoldsEveryEvent(recovered, events, trace);
        }
        return events.size();
    }

    private static void checkRecoveredHoldsEveryEvent(
            Database<String, Long> recovered, List<CommitEvent<String, Long>> events, String trace) {
        if (events.isEmpty()) {
            return;
        }
        long lastDelivered = events.get(events.size() - 1).commitTimestamp();
        assertTrue(
                visible(recovered) >= lastDelivered,
                trace + ": recovered through " + visible(recovered) + ", but commit " + lastDelivered
                        + " was delivered");
        Map<String, Long> lastSeen = new HashMap<>(); // hot key -> the last value delivered for it
        Set<Long> seenHotValues = new HashSet<>();
        try (Snapshot<String, Long> s = recovered.snapshot()) {
            for (CommitEvent<String, Long> e : events) {
                for (Change<String, Long> ch : e.changes()) {
                    if (ch.key().startsWith("hot")) {
                        lastSeen.put(ch.key(), ch.value());
                        seenHotValues.add(ch.value());
                    } else {
                        assertEquals(
                                ch.value(),
                                s.get(ch.key()),
                                trace + ": " + ch.key() + " of delivered commit " + e.commitTimestamp());
                    }
                }
            }
            for (Map.Entry<String, Long> hot : lastSeen.entrySet()) {
                Long now = s.get(hot.getKey());
                assertTrue(
                        now != null && (now.equals(hot.getValue()) || !seenHotValues.contains(now)),
                        trace + ": " + hot.getKey() + " recovered as " + now + ", but the watcher was last given "
                                + hot.getValue());
            }
        }
    }

    // ---- FULL: a failed force -----------------------------------------------------------------

    /**
     * The force of commit b fails (EIO): b's outcome is unknown, so no watcher is told of it;
     * the subscriber is failed with a TransactionException naming the commit and the log
     * failure (ChangeFeed.logFailed), after the events of the commits before b. A watch started
     * afterwards, from before b, is not given b either.
     */
    @Test
    void aFailedForceDeliversNoEventAndFailsTheSubscriberNamingTheCommit() throws Exception {
        FaultyIo io = FaultyIo.counting();
        Database<String, Long> db = open(wal(Wal.Sync.FULL, io));
        try {
            Collector c = watch(db, visible(db));
            long a = acknowledged(db, "a", 1L);
            await().atMost(WAIT).until(() -> c.delivered(a));
            AtomicBoolean failForces = new AtomicBoolean(true);
            io.pauseAt((op, file) -> {
                if (op == FaultyIo.Op.FORCE && file.getFileName().toString().endsWith(".seg") && failForces.get()) {
                    throw new IOException("injected: Input/output error (force of " + file.getFileName() + ")");
                }
            });
            CompletableFuture<Long> b = commitAsync(db, "b", 2L);
            ExecutionException failed = assertThrows(ExecutionException.class, () -> b.get(10, TimeUnit.SECONDS));
            assertInstanceOf(TransactionException.class, failed.getCause());
            long bTs = a + 1;
            assertEquals(bTs, visible(db), "precondition: b is visible in memory (its outcome is unknown)");

            await().atMost(WAIT).until(() -> c.error.get() != null || c.events.size() > 1);
            assertEquals(List.of(a), c.timestamps(), "the watcher was given b, whose force failed");
            await().atMost(WAIT).until(() -> c.error.get() != null);
            TransactionException e = assertInstanceOf(TransactionException.class, c.error.get());
            assertEquals(
                    "the commit log failed before commit " + bTs + " was durable; the change feed stops",
                    e.getMessage());
            assertTrue(causes(e).contains("injected: Input/output error"), causes(e));
            assertEquals(List.of(a), c.timestamps(), "after the error");
            assertThrows(IllegalStateException.class, () -> db.put("c", 3L), "the database refuses writes");

            Collector late = watch(db, a - 1);
            await().atMost(WAIT).until(() -> late.error.get() != null || late.events.size() > 1);
            assertFalse(late.delivered(bTs), "a later watch was given b, whose force failed: " + late.timestamps());
            assertInstanceOf(TransactionException.class, late.error.get());
        } finally {
            closeAfterFailure(db);
        }
    }

    private static String causes(Throwable t) {
        StringBuilder b = new StringBuilder();
        for (Throwable x = t; x != null; x = x.getCause()) {
            b.append(x).append(" <- ");
        }
        return b.toString();
    }

    // ---- RELAXED: an event waits for the write, not for a force -------------------------------

    /**
     * RELAXED, no force due (an hour's interval): while the write of b's record is held, no
     * event; once it is written, b's event arrives without any force of the segment — and a
     * power loss then takes b back although the watcher was told of it, as the watch javadoc
     * warns for RELAXED.
     */
    @Test
    void relaxedDeliversOnceTheRecordIsWrittenWithoutWaitingForAForce() throws Exception {
        FaultyIo io = FaultyIo.counting();
        Database<String, Long> db = open(wal(Wal.Sync.RELAXED, io)
                .flushInterval(Duration.ofHours(1))
                .flushRecords(1_000_000)
                .flushBytes(1L << 40));
        long bTs;
        try {
            Collector c = watch(db, visible(db));
            long a = acknowledged(db, "a", 1L); // rolls the segment (forced), then writes a unforced
            await().atMost(WAIT).until(() -> c.delivered(a));

            Gate gate = new Gate(FaultyIo.Op.WRITE, ".seg");
            io.pauseAt(gate);
            CompletableFuture<Long> b;
            int forcesBefore;
            try {
                b = commitAsync(db, "b", 2L);
                gate.awaitEntered(); // b's record is queued, its write held
                assertNoEventBeyond(c, 1);
                forcesBefore = io.segmentForces.get();
            } finally {
                gate.release.countDown();
            }
            bTs = b.get(10, TimeUnit.SECONDS);
            await().atMost(WAIT).until(() -> c.delivered(bTs));
            assertEquals(forcesBefore, io.segmentForces.get(), "b's event waited for a force");
        } finally {
            io.crash(); // kill -9 before close() forces anything
            closeAfterFailure(db);
        }
        io.disk.powerLoss(KEEP_ONLY_FORCED);
        try (Database<String, Long> recovered = open(wal(Wal.Sync.RELAXED, FaultyIo.counting(io.disk)))) {
            assertNull(recovered.get("b"), "b was never forced, yet it survived the power loss");
            assertTrue(visible(recovered) < bTs, "recovered through " + visible(recovered));
        }
    }
}
