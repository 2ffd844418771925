// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static dev.varve.wal.WalTestSupport.builder;
import static dev.varve.wal.WalTestSupport.commit;
import static dev.varve.wal.WalTestSupport.files;
import static dev.varve.wal.WalTestSupport.open;
import static dev.varve.wal.WalTestSupport.probe;
import static dev.varve.wal.WalTestSupport.walThreads;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Codec;
import dev.varve.wal.WalTestSupport.Gate;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The log's life cycle under stuck and failing I/O: close() with a writer stuck in the kernel,
 * close() from a commit continuation, and failed checkpoints (I/O or codec), foreground and
 * background. Schedules are forced with {@link Gate} and {@link FaultyIo#pauseAt}.
 */
class WalLifecycleTest {

    @TempDir
    Path dir;

    /** A power loss that keeps nothing unforced. */
    private static final Random KEEP_ONLY_FORCED = new Random() {
        private static final long serialVersionUID = 1L;

        @Override
        public double nextDouble() {
            return 0;
        }
    };

    /** Opens and closes {@code dir} with the real file system once the lock is free; returns what it replayed. */
    private FakeStore<String, Long> reopenWhenFree() {
        FakeStore<String, Long>[] out = newStoreBox();
        await().atMost(Duration.ofSeconds(10))
                .ignoreException(IllegalStateException.class)
                .until(() -> {
                    FakeStore<String, Long> s = new FakeStore<>();
                    open(builder(dir, Wal.Sync.FULL, FileIo.REAL), s).close();
                    out[0] = s;
                    return true;
                });
        return out[0];
    }

    @SuppressWarnings("unchecked")
    private static FakeStore<String, Long>[] newStoreBox() {
        return (FakeStore<String, Long>[]) new FakeStore<?, ?>[1];
    }

    // ---- close() with a stuck writer (issue 12, bug 2) ----

    @Test
    void closeGivingUpOnAStuckWriterKeepsTheDirectoryLockedAndAcknowledgesNothingMore() throws Exception {
        FaultyIo io = FaultyIo.counting();
        WalLog<String, Long> log =
                open(builder(dir, Wal.Sync.FULL, io).closeTimeout(Duration.ofMillis(50)), new FakeStore<>());
        Gate gate = new Gate(FaultyIo.Op.FORCE, ".seg");
        io.pauseAt(gate);
        CompletableFuture<Void> f = log.append(Rec.of(1, "a", 1L)); // first write of a new segment: roll, header force
        gate.awaitEntered();

        UncheckedIOException e = assertThrows(UncheckedIOException.class, log::close);
        // the writer is still inside its force: nobody else may own the directory yet
        IllegalStateException again = assertThrows(
                IllegalStateException.class,
                () -> open(builder(dir, Wal.Sync.FULL, FileIo.REAL), new FakeStore<>()),
                "a second open got in while the writer was stuck");
        assertEquals("log directory " + dir.toRealPath() + " is already open in this process", again.getMessage());
        assertTrue(
                probe(dir).startsWith("REFUSED log directory " + dir.toRealPath() + " is locked by another process"),
                "another process got in while the writer was stuck");
        assertEquals(
                "write-ahead log " + dir + " failed while closing: java.io.IOException: log writer of " + dir
                        + " did not stop within 50 ms; it is still running 50 ms after an interrupt, and the directory stays"
                        + " locked until it stops",
                e.getMessage());

        gate.release.countDown(); // the stuck force returns, successfully, after close() threw
        ExecutionException late = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
        assertTrue(
                late.getCause().getMessage().contains("did not stop within 50 ms"),
                late.getCause().getMessage());
        await().atMost(Duration.ofSeconds(10)).until(() -> walThreads(dir).isEmpty());
        // the writer's exit released the directory; the record was written and forced: the reported
        // failure was an unknown outcome, and recovery keeps it
        assertEquals(List.of(1L), reopenWhenFree().replayedCommits());
    }

    // ---- close() from a commit continuation (issue 12, bug 7) ----

    @Test
    void closeFromACommitContinuationDoesNotWaitForItself() throws Exception {
        FaultyIo io = FaultyIo.counting();
        WalLog<String, Long> log =
                open(builder(dir, Wal.Sync.FULL, io).closeTimeout(Duration.ofHours(1)), new FakeStore<>());
        Gate gate = new Gate(FaultyIo.Op.FORCE, ".seg");
        io.pauseAt(gate);
        CompletableFuture<Void> first = log.append(Rec.of(1, "a", 1L));
        gate.awaitEntered(); // so the continuation below is chained before the future completes
        List<CompletableFuture<Void>> second = new ArrayList<>();
        CompletableFuture<String> closedOn = first.thenApply(v -> {
            second.add(log.append(Rec.of(2, "b", 2L))); // queued just before close: close flushes it
            log.close();
            return Thread.currentThread().getName();
        });
        gate.release.countDown();
        assertEquals("varve-wal-completer[" + dir + "]", closedOn.get(10, TimeUnit.SECONDS));
        second.get(0).get(10, TimeUnit.SECONDS); // flushed, forced and acknowledged by close
        await().atMost(Duration.ofSeconds(10)).until(() -> walThreads(dir).isEmpty());
        assertEquals(List.of(1L, 2L), reopenWhenFree().replayedCommits());
    }

    // ---- failed checkpoints (issue 12, bugs 4 and 6) ----

    /**
     * Fails writes of checkpoint.tmp as a full disk does while {@link #full} is set, counting the
     * attempts; the first failure waits for {@link #proceed} when {@link #hold} is set, so the test
     * decides when it lands.
     */
    private static final class FullDiskForCheckpoints implements FaultyIo.Pause {
        final AtomicInteger attempts = new AtomicInteger();
        final AtomicBoolean full = new AtomicBoolean(true);
        final java.util.concurrent.CountDownLatch proceed = new java.util.concurrent.CountDownLatch(1);
        private final boolean hold;

        FullDiskForCheckpoints(boolean hold) {
            this.hold = hold;
        }

        @Override
        public void at(FaultyIo.Op op, Path file) throws IOException {
            if (!full.get()
                    || op != FaultyIo.Op.WRITE
                    || !file.getFileName().toString().equals(Checkpoints.TEMP_NAME)) {
                return;
            }
            if (attempts.incrementAndGet() == 1 && hold) {
                try {
                    proceed.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            throw new IOException("injected: No space left on device (" + file.getFileName() + ")");
        }
    }

    /** Commits until a background checkpoint is held in {@code disk}'s first failure; returns the last ts. */
    private static long commitUntilACheckpointIsHeld(
            WalLog<String, Long> log, FakeStore<String, Long> live, FullDiskForCheckpoints disk) throws Exception {
        long ts = 0;
        // One commit at a time: each is ~40 bytes, a checkpoint is due every ~50, and bytes
        // committed past the trigger while the checkpoint starts could request a second one.
        while (disk.attempts.get() == 0) {
            commitAll(log, live, ts + 1, ts + 1);
            ts += 1;
            assertTrue(ts < 10_000, "no background checkpoint was attempted");
        }
        return ts;
    }

    /** RELAXED that never forces on its own (only at a roll or on close), background checkpoints every 2 KiB. */
    private Wal.Builder<String, Long> relaxedNeverForcing(FaultyIo io) {
        return builder(dir, Wal.Sync.RELAXED, io)
                .flushInterval(Duration.ofHours(1))
                .flushRecords(1_000_000)
                .flushBytes(1L << 40)
                .checkpointEvery(2048);
    }

    /** Appends commits {@code from..to} to {@code log} and {@code live}, waiting for each acknowledgement. */
    private static void commitAll(WalLog<String, Long> log, FakeStore<String, Long> live, long from, long to)
            throws Exception {
        for (long ts = from; ts <= to; ts++) {
            Rec<String, Long> r = commit(ts, 10);
            live.apply(r);
            log.append(r).get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aFailedBackgroundCheckpointLeavesTheLogWritableIsRetriedAndCloseReportsIt() throws Exception {
        FaultyIo io = FaultyIo.counting();
        FullDiskForCheckpoints disk = new FullDiskForCheckpoints(true);
        AtomicInteger attempts = disk.attempts;
        AtomicBoolean full = disk.full;
        io.pauseAt(disk);
        FakeStore<String, Long> live = new FakeStore<>();
        WalLog<String, Long> log = open(relaxedNeverForcing(io), live);
        long ts = commitUntilACheckpointIsHeld(log, live, disk);
        disk.proceed.countDown();
        // Settled: every attempt that reached the full disk has failed and been reported. (Under
        // load a second trigger can queue behind the held attempt; each failure counts once.)
        await().atMost(Duration.ofSeconds(10))
                .until(() -> log.checkpointFailure() != null && live.failures.size() == disk.attempts.get());
        assertEquals(
                "background checkpoint of " + dir + " failed: java.io.IOException: injected: No space left on"
                        + " device (checkpoint.tmp)",
                log.checkpointFailure().getMessage());
        assertEquals(disk.attempts.get(), live.failures.size(), "each failure reported to the failure listener once");
        for (Object[] failure : live.failures) {
            assertEquals(dev.varve.Database.FailureKind.CHECKPOINT, failure[0]);
        }
        assertEquals(log.checkpointFailure(), live.failures.get(live.failures.size() - 1)[1]);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> !Files.exists(dir.resolve(Checkpoints.TEMP_NAME))); // a failed attempt deletes it
        commitAll(log, live, ts + 1, ts + 10); // still writable
        ts += 10;

        full.set(false); // space came back: the next trigger retries, succeeds and clears the failure
        long before = ts;
        while (log.checkpointTimestamp() == 0) {
            commitAll(log, live, ts + 1, ts + 10);
            ts += 10;
            assertTrue(ts < before + 10_000, "the background checkpoint was never retried");
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> log.checkpointFailure() == null);

        full.set(true); // and fails again: close() flushes, then reports it
        int failedSoFar = attempts.get();
        while (attempts.get() == failedSoFar) {
            commitAll(log, live, ts + 1, ts + 10);
            ts += 10;
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> log.checkpointFailure() != null);
        UncheckedIOException e = assertThrows(UncheckedIOException.class, log::close);
        assertEquals(
                "write-ahead log " + dir + " was closed, every record forced, but its last background"
                        + " checkpoint had failed: background checkpoint of " + dir
                        + " failed: java.io.IOException: injected:"
                        + " No space left on device (checkpoint.tmp)",
                e.getMessage());
        FakeStore<String, Long> recovered = reopenWhenFree();
        assertEquals(live.map, recovered.map);
        assertEquals(ts, recovered.lastTs());
    }

    @Test
    void relaxedCommitsAcknowledgedBeforeAFailedBackgroundCheckpointAreForcedByClose() throws Exception {
        FaultyIo io = FaultyIo.counting();
        FullDiskForCheckpoints disk = new FullDiskForCheckpoints(true);
        io.pauseAt(disk);
        FakeStore<String, Long> live = new FakeStore<>();
        WalLog<String, Long> log = open(relaxedNeverForcing(io), live);
        long ts = commitUntilACheckpointIsHeld(log, live, disk);
        disk.proceed.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> log.checkpointFailure() != null);
        try {
            log.close();
        } catch (UncheckedIOException reported) {
            // the checkpoint failure, reported after the flush (the test above checks the message)
        }
        io.powerLoss(KEEP_ONLY_FORCED);
        FakeStore<String, Long> recovered = reopenWhenFree();
        assertEquals(
                ts,
                recovered.lastTs(),
                "acknowledged RELAXED commits " + (recovered.lastTs() + 1) + ".." + ts + " were never forced");
        assertEquals(live.map, recovered.map);
    }

    @Test
    void threeFailedCheckpointsInARowFailTheLogAfterForcingWhatWasWritten() throws Exception {
        FaultyIo io = FaultyIo.counting();
        FullDiskForCheckpoints disk = new FullDiskForCheckpoints(false);
        AtomicInteger attempts = disk.attempts;
        io.pauseAt(disk);
        FakeStore<String, Long> live = new FakeStore<>();
        WalLog<String, Long> log = open(relaxedNeverForcing(io), live);
        commitAll(log, live, 1, 10); // ~400 bytes: no background checkpoint yet
        assertEquals(0, attempts.get());
        // a foreground failure counts as one of the three
        UncheckedIOException fg = assertThrows(UncheckedIOException.class, log::checkpoint);
        assertEquals(
                "checkpoint in " + dir + " failed: java.io.IOException: injected: No space left on device"
                        + " (checkpoint.tmp)",
                fg.getMessage());
        long ts = 10;
        long acked = 10;
        while (true) {
            Rec<String, Long> r = commit(ts + 1, 10);
            try {
                CompletableFuture<Void> f = log.append(r);
                ts++;
                live.apply(r);
                f.get(10, TimeUnit.SECONDS);
                acked = ts;
            } catch (IllegalStateException refused) {
                assertEquals(
                        "write-ahead log " + dir + " failed and refuses writes until the database is reopened:"
                                + " java.io.IOException: 3 checkpoints in a row failed, so the log can no longer be kept"
                                + " bounded; the last: java.io.IOException: injected: No space left on device"
                                + " (checkpoint.tmp)",
                        refused.getMessage());
                break;
            } catch (ExecutionException failedWhileLogFailing) {
                // appended as the log failed: unknown outcome
            }
            assertTrue(ts < 10_000, "the log kept growing after " + attempts.get() + " failed checkpoints");
        }
        assertEquals(3, attempts.get());
        log.close(); // the failure was reported to every committer already
        io.powerLoss(KEEP_ONLY_FORCED);
        FakeStore<String, Long> recovered = reopenWhenFree();
        assertTrue(
                recovered.lastTs() >= acked,
                "acknowledged commits " + (recovered.lastTs() + 1) + ".." + acked
                        + " were lost: the writer exited without forcing them");
    }

    @Test
    void aFailedForegroundCheckpointDeletesItsTempFileAndLeavesTheLogWritable() throws Exception {
        FaultyIo io = FaultyIo.counting();
        FakeStore<String, Long> live = new FakeStore<>();
        // fails the force, after checkpoint.tmp got its bytes
        AtomicBoolean on = new AtomicBoolean(true);
        io.pauseAt((op, file) -> {
            if (on.get()
                    && op == FaultyIo.Op.FORCE
                    && file.getFileName().toString().equals(Checkpoints.TEMP_NAME)) {
                throw new IOException("injected: No space left on device");
            }
        });
        try (WalLog<String, Long> log = open(builder(dir, Wal.Sync.FULL, io), live)) {
            commitAll(log, live, 1, 20);
            UncheckedIOException e = assertThrows(UncheckedIOException.class, log::checkpoint);
            assertEquals(
                    "checkpoint in " + dir + " failed: java.io.IOException: injected: No space left on device",
                    e.getMessage());
            assertFalse(Files.exists(dir.resolve(Checkpoints.TEMP_NAME)), "checkpoint.tmp was left behind");
            assertNull(log.checkpointFailure(), "a foreground failure is the caller's, not a background one");
            commitAll(log, live, 21, 30);
            on.set(false);
            log.checkpoint(); // retried by the caller
            assertEquals(30, log.checkpointTimestamp());
        }
        assertEquals(live.map, reopenWhenFree().map);
    }

    /** Encodes Longs, but throws IllegalStateException for -13 (a codec with its own state checks). */
    private static final Codec<Long> BREAKS_ON_13 = Codec.of(
            v -> {
                if (v == -13L) {
                    throw new IllegalStateException("codec not initialised for -13");
                }
                return ByteBuffer.allocate(8).putLong(v).array();
            },
            b -> ByteBuffer.wrap(b).getLong());

    @Test
    void aCodecIllegalStateExceptionInABackgroundCheckpointIsAFailureNotAClosedStore() throws Exception {
        FakeStore<String, Long> live = new FakeStore<>();
        live.map.put("a-poison", -13L); // in the store, never logged: only a checkpoint encodes it (entry 0)
        FaultyIo io = FaultyIo.counting();
        WalLog<String, Long> log = WalTestSupport.open(
                Wal.builder(dir, Codec.STRING, BREAKS_ON_13)
                        .sync(Wal.Sync.RELAXED)
                        .fileIo(io)
                        .checkpointEvery(2048),
                live);
        long ts = 0;
        int failures = 0;
        while (true) {
            Rec<String, Long> r = commit(ts + 1, 10);
            try {
                CompletableFuture<Void> f = log.append(r);
                ts++;
                live.apply(r);
                f.get(10, TimeUnit.SECONDS);
            } catch (IllegalStateException refused) {
                assertEquals(
                        "write-ahead log " + dir + " failed and refuses writes until the database is reopened:"
                                + " java.io.IOException: 3 checkpoints in a row failed, so the log can no longer be kept"
                                + " bounded; the last: java.io.IOException: checkpoint entry 0: its value cannot be encoded with "
                                + BREAKS_ON_13 + ": java.lang.IllegalStateException: codec not initialised for -13",
                        refused.getMessage());
                break;
            } catch (ExecutionException failedWhileLogFailing) {
                // appended as the log failed: unknown outcome
            }
            if (log.checkpointFailure() != null && failures == 0) {
                failures = 1;
                assertTrue(
                        log.checkpointFailure().getMessage().contains("codec not initialised for -13"),
                        log.checkpointFailure().getMessage());
            }
            // the log is bounded: it fails after three checkpoints (~2 KiB of log each), not thousands of commits
            assertTrue(
                    ts < 20_000,
                    "the log grew to " + ts + " commits without a checkpoint or an error:"
                            + " the checkpointer stopped silently");
        }
        assertEquals(1, failures, "the first failure was never reported");
        assertEquals(0, log.checkpointTimestamp());
        log.close();
        assertTrue(walThreads(dir).isEmpty(), walThreads(dir).toString());
    }

    @Test
    void aBackgroundCheckpointFindingTheStoreClosedIsNotAFailure() throws Exception {
        FakeStore<String, Long> live = new FakeStore<>();
        AtomicInteger tempWrites = new AtomicInteger();
        FaultyIo io = FaultyIo.counting();
        WalLog<String, Long> log = open(builder(dir, Wal.Sync.RELAXED, io).checkpointEvery(2048), live);
        commitAll(log, live, 1, 10);
        live.closed = true; // what Database.close() does before it closes the log
        io.pauseAt((op, file) -> {
            if (file.getFileName().toString().equals(Checkpoints.TEMP_NAME)) {
                tempWrites.incrementAndGet();
            }
        });
        long ts = 10;
        long segmentsBefore = files(dir, ".seg").size();
        try {
            while (log.checkpointFailure() == null && ts < 200) { // several triggers
                commitAll(log, live, ts + 1, ts + 10);
                ts += 10;
            }
            assertNull(log.checkpointFailure());
        } finally {
            log.close(); // no failure to report; it also waits for the checkpointer to stop
        }
        assertEquals(0, tempWrites.get(), "nothing is written for a refused snapshot");
        // Only once the checkpointer stopped: a refused checkpoint creates checkpoint.tmp, then
        // deletes it, so a look while one runs can see it (CI run of 409a023 did).
        assertFalse(Files.exists(dir.resolve(Checkpoints.TEMP_NAME)), "checkpoint.tmp was left behind");
        assertTrue(segmentsBefore >= 1);
        assertEquals(
                LongStream.rangeClosed(1, ts).boxed().toList(), reopenWhenFree().replayedCommits());
    }
}
