// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static dev.varve.wal.WalTestSupport.builder;
import static dev.varve.wal.WalTestSupport.commit;
import static dev.varve.wal.WalTestSupport.open;
import static dev.varve.wal.WalTestSupport.walThreads;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.wal.WalTestSupport.Gate;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The log's life cycle when a second failure follows the first. */
class AdversaryLifecycleTest {

    @TempDir
    Path dir;

    /** A power loss that keeps nothing unforced. */
    private static final Random KEEP_ONLY_FORCED = new Random() {
        private static final long serialVersionUID = 1L;

        @Override
        public double nextDouble() {
            return 0;
        }

        @Override
        public boolean nextBoolean() {
            return false;
        }
    };

    /**
     * RELAXED commits acknowledged (written, not forced); three foreground checkpoints fail
     * (ENOSPC in checkpoint.tmp), which fails the log; the writer then forces what it wrote, and
     * that force fails too (EIO). Nothing ever forced the acknowledged commits, and close()
     * ({@code CommitLog.close}: "flushes and forces every record appended so far ... throws
     * UncheckedIOException if the final flush failed") must say so.
     */
    @Test
    void closeReportsThatAcknowledgedRelaxedCommitsWereNeverForcedWhenTheForceAfterAFailureFails() throws Exception {
        FaultyIo io = FaultyIo.counting();
        FakeStore<String, Long> live = new FakeStore<>();
        WalLog<String, Long> log = open(
                builder(dir, Wal.Sync.RELAXED, io)
                        .flushInterval(Duration.ofHours(1))
                        .flushRecords(1_000_000)
                        .flushBytes(1L << 40),
                live);
        for (long ts = 1; ts <= 5; ts++) {
            Rec<String, Long> r = commit(ts, 7);
            live.apply(r);
            log.append(r).get(10, TimeUnit.SECONDS); // RELAXED: acknowledged once written
        }
        AtomicBoolean segmentForceFails = new AtomicBoolean();
        io.pauseAt((op, file) -> {
            String name = file.getFileName().toString();
            if (op == FaultyIo.Op.WRITE && name.equals(Checkpoints.TEMP_NAME)) {
                throw new IOException("injected: No space left on device (" + name + ")");
            }
            if (op == FaultyIo.Op.FORCE && name.endsWith(".seg") && segmentForceFails.get()) {
                throw new IOException("injected: Input/output error (force of " + name + ")");
            }
        });
        segmentForceFails.set(true);
        for (int i = 0; i < Checkpointer.MAX_FAILED_CHECKPOINTS; i++) {
            assertThrows(UncheckedIOException.class, log::checkpoint);
        }
        await().atMost(Duration.ofSeconds(10))
                .until(() -> walThreads(dir).stream().noneMatch(n -> n.startsWith("varve-wal-writer")));

        UncheckedIOException reported = null;
        try {
            log.close();
        } catch (UncheckedIOException e) {
            reported = e;
        }
        io.powerLoss(KEEP_ONLY_FORCED);
        FakeStore<String, Long> recovered = new FakeStore<>();
        open(builder(dir, Wal.Sync.RELAXED, FileIo.REAL), recovered).close();
        assertEquals(0, recovered.lastTs(), "precondition: the acknowledged commits 1..5 were never forced");
        assertTrue(
                reported != null,
                "close() returned normally, yet commits 1..5 were acknowledged and their"
                        + " only force failed (lost at the power loss)");
        assertTrue(reported.getMessage().contains("Input/output error"), reported.getMessage());
    }
    /**
     * Two threads close the same log (a shutdown hook and the main thread, say). The first is
     * inside the final force of an acknowledged RELAXED commit (held by a Gate); the second must
     * not return before that force either ({@code CommitLog.close}: "flushes and forces every
     * record appended so far ... Idempotent"), or its caller believes the commit durable and the
     * directory free while neither is true.
     */
    @Test
    void aSecondConcurrentCloseDoesNotReturnBeforeTheFirstHasForcedEverything() throws Exception {
        FaultyIo io = FaultyIo.counting();
        WalLog<String, Long> log = open(
                builder(dir, Wal.Sync.RELAXED, io)
                        .flushInterval(Duration.ofHours(1))
                        .flushRecords(1_000_000)
                        .flushBytes(1L << 40)
                        .closeTimeout(Duration.ofHours(1)),
                new FakeStore<>());
        log.append(commit(1, 7)).get(10, TimeUnit.SECONDS); // written, segment rolled; not forced
        Gate gate = new Gate(FaultyIo.Op.FORCE, ".seg");
        io.pauseAt(gate);
        Thread first = new Thread(log::close, "first-close");
        first.start();
        gate.awaitEntered(); // the writer's final force, run for the first close()
        CountDownLatch secondReturned = new CountDownLatch(1);
        Thread second = new Thread(
                () -> {
                    log.close();
                    secondReturned.countDown();
                },
                "second-close");
        second.start();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> secondReturned.getCount() == 0
                        || second.getState() == Thread.State.WAITING
                        || second.getState() == Thread.State.TIMED_WAITING
                        || second.getState() == Thread.State.BLOCKED);
        boolean returnedEarly = secondReturned.getCount() == 0;
        String reopenedWhileHeld = null;
        if (returnedEarly) {
            try {
                open(builder(dir, Wal.Sync.RELAXED, FileIo.REAL), new FakeStore<>())
                        .close();
            } catch (IllegalStateException e) {
                reopenedWhileHeld = e.getMessage();
            }
        }
        gate.release.countDown();
        first.join(10_000);
        second.join(10_000);
        assertFalse(
                returnedEarly,
                "the second close() returned while the first was still forcing commit 1;" + " a reopen right after it: "
                        + reopenedWhileHeld);
    }
}
