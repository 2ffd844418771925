// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Codec;
import dev.varve.wal.Checkpoints.StoreUnavailableException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpointer on its own, over a test Owner: failures in a row (K4), checkpoint.tmp, the directory's users (K3). */
class CheckpointerTest {

    private static final String ENOSPC = "injected: No space left on device (" + Checkpoints.TEMP_NAME + ")";

    @TempDir
    Path dir;

    /** An Owner that records what the checkpointer asks of the log. */
    static final class TestOwner implements Checkpointer.Owner {
        volatile boolean closing;
        final AtomicInteger users = new AtomicInteger();
        final AtomicInteger entered = new AtomicInteger();
        final List<Throwable> failures = new CopyOnWriteArrayList<>();

        @Override
        public boolean closing() {
            return closing;
        }

        @Override
        public boolean enterBackground() {
            if (closing || !failures.isEmpty()) {
                return false;
            }
            users.incrementAndGet();
            entered.incrementAndGet();
            return true;
        }

        @Override
        public void enterForeground() {
            if (!failures.isEmpty()) {
                throw new IllegalStateException("test log failed: " + failures.get(0));
            }
            users.incrementAndGet();
            entered.incrementAndGet();
        }

        @Override
        public void release() {
            users.decrementAndGet();
        }

        @Override
        public void fail(Throwable cause) {
            failures.add(cause);
        }
    }

    private final FaultyIo io = FaultyIo.counting();
    private final FakeStore<String, Long> store = new FakeStore<>();
    private final TestOwner owner = new TestOwner();
    private final AtomicBoolean tmpWritesFail = new AtomicBoolean();
    private final AtomicInteger tmpWrites = new AtomicInteger();

    private Checkpointer<String, Long> checkpointer(long checkpointEvery) {
        io.pauseAt((op, file) -> {
            if (op == FaultyIo.Op.WRITE && file.getFileName().toString().equals(Checkpoints.TEMP_NAME)) {
                tmpWrites.incrementAndGet();
                if (tmpWritesFail.get()) {
                    throw new IOException(ENOSPC);
                }
            }
        });
        return new Checkpointer<>(
                io,
                dir,
                store,
                Codec.STRING,
                Codec.LONG,
                checkpointEvery,
                new Recovery.Result(0, null, List.of(), 0, 0),
                owner);
    }

    private void commit(long ts) {
        store.apply(Rec.of(ts, "k" + ts, ts));
    }

    private void assertForegroundFails(Checkpointer<String, Long> c) {
        UncheckedIOException e = assertThrows(UncheckedIOException.class, c::checkpoint);
        assertEquals("checkpoint in " + dir + " failed: java.io.IOException: " + ENOSPC, e.getMessage());
        assertFalse(Files.exists(dir.resolve(Checkpoints.TEMP_NAME)), "checkpoint.tmp left after: " + e.getMessage());
    }

    @Test
    void theThirdFailedCheckpointInARowFailsTheLogAndEachDeletesCheckpointTmp() {
        Checkpointer<String, Long> c = checkpointer(0);
        commit(1);
        tmpWritesFail.set(true);
        for (int i = 1; i < Checkpointer.MAX_FAILED_CHECKPOINTS; i++) {
            assertForegroundFails(c);
            assertEquals(List.of(), owner.failures, "the log failed after " + i + " failed checkpoints");
        }
        assertForegroundFails(c);
        assertEquals(1, owner.failures.size(), "failures reported: " + owner.failures);
        assertEquals(
                Checkpointer.MAX_FAILED_CHECKPOINTS + " checkpoints in a row failed, so the log can no longer"
                        + " be kept bounded; the last: java.io.IOException: " + ENOSPC,
                owner.failures.get(0).getMessage());
        assertEquals(Checkpointer.MAX_FAILED_CHECKPOINTS, owner.entered.get());
        assertEquals(0, owner.users.get(), "every checkpoint drops its use of the directory (K3)");
        assertEquals(0, c.checkpointTimestamp());
    }

    @Test
    void aSuccessfulCheckpointStartsTheCountOfFailuresInARowAgain() {
        Checkpointer<String, Long> c = checkpointer(0);
        commit(1);
        tmpWritesFail.set(true);
        for (int i = 1; i < Checkpointer.MAX_FAILED_CHECKPOINTS; i++) {
            assertForegroundFails(c);
        }
        tmpWritesFail.set(false);
        c.checkpoint();
        assertEquals(1, c.checkpointTimestamp());
        assertTrue(Files.exists(dir.resolve(Checkpoints.name(1))));
        commit(2); // a newer snapshot, or the next checkpoint writes nothing
        tmpWritesFail.set(true);
        for (int i = 1; i < Checkpointer.MAX_FAILED_CHECKPOINTS; i++) {
            assertForegroundFails(c);
        }
        assertEquals(List.of(), owner.failures, "failures before the success were counted after it");
        assertForegroundFails(c);
        assertEquals(1, owner.failures.size(), "failures reported: " + owner.failures);
        assertEquals(1, c.checkpointTimestamp());
        assertEquals(0, owner.users.get());
    }

    @Test
    void aStoreThatRefusesTheSnapshotNeitherCountsNorResetsFailures() {
        Checkpointer<String, Long> c = checkpointer(0);
        commit(1);
        tmpWritesFail.set(true);
        assertForegroundFails(c);
        store.closed = true;
        for (int i = 0; i < Checkpointer.MAX_FAILED_CHECKPOINTS; i++) {
            StoreUnavailableException e = assertThrows(StoreUnavailableException.class, c::checkpoint);
            assertEquals("the store refused a snapshot for the checkpoint: database is closed", e.getMessage());
        }
        assertEquals(List.of(), owner.failures, "a refused snapshot counted as a failed checkpoint");
        store.closed = false;
        for (int i = 2; i < Checkpointer.MAX_FAILED_CHECKPOINTS; i++) {
            assertForegroundFails(c);
        }
        assertEquals(List.of(), owner.failures);
        assertForegroundFails(c);
        assertEquals(1, owner.failures.size(), "a refused snapshot reset the count: " + owner.failures);
        assertEquals(0, owner.users.get());
    }

    @Test
    void backgroundFailuresAreKeptCountedAndTheThirdInARowFailsTheLog() {
        Checkpointer<String, Long> c = checkpointer(100);
        c.start();
        try {
            commit(1);
            tmpWritesFail.set(true);
            c.logged(99);
            assertEquals(0, tmpWrites.get(), "a checkpoint before checkpointEvery bytes");
            for (int i = 1; i <= Checkpointer.MAX_FAILED_CHECKPOINTS; i++) {
                int attempt = i;
                c.logged(1); // this test thread stands in for the writer, the only caller of logged
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> tmpWrites.get() >= attempt
                                && owner.users.get() == 0
                                && c.lastFailure() != null
                                && (attempt < Checkpointer.MAX_FAILED_CHECKPOINTS || !owner.failures.isEmpty()));
                assertEquals(
                        "background checkpoint of " + dir + " failed: java.io.IOException: " + ENOSPC,
                        c.lastFailure().getMessage());
                assertEquals(
                        attempt < Checkpointer.MAX_FAILED_CHECKPOINTS ? 0 : 1,
                        owner.failures.size(),
                        "after " + attempt + " failed background checkpoints: " + owner.failures);
                assertFalse(Files.exists(dir.resolve(Checkpoints.TEMP_NAME)));
                c.logged(99);
            }
            assertEquals(
                    Checkpointer.MAX_FAILED_CHECKPOINTS + " checkpoints in a row failed, so the log can no"
                            + " longer be kept bounded; the last: java.io.IOException: " + ENOSPC,
                    owner.failures.get(0).getMessage());
        } finally {
            owner.closing = true;
            c.wake();
            assertTrue(c.awaitStopped(System.nanoTime() + TimeUnit.SECONDS.toNanos(10)));
        }
        assertEquals(List.of(), WalTestSupport.walThreads(dir), "the background thread outlived awaitStopped");
    }

    @Test
    void aBackgroundSuccessClearsTheKeptFailureAndDeletesTheCoveredSealedSegments() throws IOException {
        Checkpointer<String, Long> c = checkpointer(100);
        Path sealed = Files.createFile(dir.resolve(RecordFormat.segmentName(1)));
        c.sealed(new Recovery.Segment(1, sealed, 1));
        c.start();
        try {
            commit(1);
            tmpWritesFail.set(true);
            c.logged(100);
            await().atMost(Duration.ofSeconds(10)).until(() -> c.lastFailure() != null && owner.users.get() == 0);
            tmpWritesFail.set(false);
            c.logged(100);
            await().atMost(Duration.ofSeconds(10)).until(() -> c.lastFailure() == null && owner.users.get() == 0);
            assertEquals(1, c.checkpointTimestamp());
            assertFalse(Files.exists(sealed), "a sealed segment the checkpoint covers is kept (K5)");
            assertEquals(java.util.Set.of(), c.sealedSegments());
            assertEquals(List.of(), owner.failures);
        } finally {
            owner.closing = true;
            c.wake();
            assertTrue(c.awaitStopped(System.nanoTime() + TimeUnit.SECONDS.toNanos(10)));
        }
    }
}
