// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static dev.varve.wal.WalTestSupport.builder;
import static dev.varve.wal.WalTestSupport.commit;
import static dev.varve.wal.WalTestSupport.files;
import static dev.varve.wal.WalTestSupport.open;
import static dev.varve.wal.WalTestSupport.walThreads;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Codec;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class WalLogTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Wal.Sync.class)
    void reopenReplaysEveryCommitInOrder(Wal.Sync sync) throws Exception {
        FakeStore<String, Long> live = new FakeStore<>();
        List<CompletableFuture<Void>> fs = new ArrayList<>();
        try (WalLog<String, Long> log = open(builder(dir, sync, FileIo.REAL), new FakeStore<>())) {
            for (long ts = 1; ts <= 500; ts++) {
                Rec<String, Long> r = commit(ts, 50);
                live.apply(r);
                fs.add(log.append(r));
            }
            CompletableFuture.allOf(fs.toArray(new CompletableFuture<?>[0])).get(10, TimeUnit.SECONDS);
        }
        FakeStore<String, Long> recovered = new FakeStore<>();
        try (WalLog<String, Long> log = open(builder(dir, sync, FileIo.REAL), recovered)) {
            assertEquals(LongStream.rangeClosed(1, 500).boxed().toList(), recovered.replayedCommits());
            assertEquals(live.map, recovered.map);
            // the clock continues: a timestamp at or below the last logged one is refused
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> log.append(Rec.of(500, "x", 1L)));
            assertEquals(
                    "commit timestamp 500 is not above the last one logged, 500: the log must receive"
                            + " commits in increasing timestamp order",
                    e.getMessage());
            log.append(Rec.of(501, "x", 1L)).get(10, TimeUnit.SECONDS);
        }
        FakeStore<String, Long> again = new FakeStore<>();
        open(builder(dir, sync, FileIo.REAL), again).close();
        assertEquals(501, again.replayedCommits().size());
        assertEquals(1L, again.map.get("x"));
    }

    @Test
    void fullGroupsConcurrentCommitsIntoFewForces() throws Exception {
        FaultyIo io = FaultyIo.counting();
        int threads = 32;
        int perThread = 40;
        AtomicLong clock = new AtomicLong();
        Object criticalSection = new Object();
        try (WalLog<String, Long> log = open(builder(dir, Wal.Sync.FULL, io), new FakeStore<>())) {
            int forcesBefore = io.segmentForces.get();
            List<Thread> ts = new ArrayList<>();
            List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
            for (int t = 0; t < threads; t++) {
                Thread th = new Thread(() -> {
                    try {
                        for (int i = 0; i < perThread; i++) {
                            CompletableFuture<Void> f;
                            synchronized (criticalSection) { // the core's commit critical section
                                f = log.append(commit(clock.incrementAndGet(), 1000));
                            }
                            f.get(30, TimeUnit.SECONDS); // commit() waits for durability
                        }
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                });
                ts.add(th);
                th.start();
            }
            for (Thread th : ts) {
                th.join(60_000);
            }
            assertTrue(errors.isEmpty(), () -> errors.toString());
            int records = threads * perThread;
            int forces = io.segmentForces.get() - forcesBefore;
            System.out.printf(
                    "FULL group commit: %d records, %d forces (%.1f records per force)%n",
                    records, forces, (double) records / forces);
            assertTrue(
                    forces * 4 < records,
                    "expected at least 4 records per force, got " + records + " records in " + forces + " forces");
        }
    }

    @Test
    void fullCompletesFuturesOnlyAfterForce() throws Exception {
        // the double fails the first segment force after the header's: nothing may have completed normally
        FaultyIo io = FaultyIo.failing(FaultyIo.Op.FORCE, 2, FaultyIo.Mode.FAIL);
        WalLog<String, Long> log = open(builder(dir, Wal.Sync.FULL, io), new FakeStore<>());
        CompletableFuture<Void> f = log.append(Rec.of(1, "a", 1L));
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
        assertInstanceOf(UncheckedIOException.class, e.getCause());
        assertTrue(
                e.getCause().getMessage().contains("injected failure of force #2"),
                e.getCause().getMessage());
        log.close(); // failed before close: close releases and does not throw again
    }

    @Test
    void ioFailureFailsPendingAndRefusesLaterAppends() throws Exception {
        // writes: #1 the segment header, #2 the first group, #3 the forced marker the idle writer
        // writes before it parks, #4 the second group (fails)
        FaultyIo io = FaultyIo.failing(FaultyIo.Op.WRITE, 4, FaultyIo.Mode.FAIL);
        WalLog<String, Long> log = open(builder(dir, Wal.Sync.FULL, io), new FakeStore<>());
        log.append(Rec.of(1, "a", 1L)).get(10, TimeUnit.SECONDS);
        org.awaitility.Awaitility.await()
                .atMost(java.time.Duration.ofSeconds(10))
                .until(() -> io.writes.get() == 3);
        CompletableFuture<Void> f = log.append(Rec.of(2, "b", 2L));
        CompletionException ce = assertThrows(CompletionException.class, f::join);
        assertInstanceOf(UncheckedIOException.class, ce.getCause());
        assertEquals(
                "write-ahead log " + dir + " failed; the commit's outcome is unknown (its record may be on disk"
                        + " and reappear after reopening): java.io.IOException: injected FAIL of write #4 to "
                        + RecordFormat.segmentName(1),
                ce.getCause().getMessage());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> log.append(Rec.of(3, "z", 1L)));
        assertEquals(
                "write-ahead log " + dir + " failed and refuses writes until the database is reopened: "
                        + "java.io.IOException: injected FAIL of write #4 to " + RecordFormat.segmentName(1),
                e.getMessage());
        assertInstanceOf(java.io.IOException.class, e.getCause());
        assertThrows(IllegalStateException.class, log::checkpoint);
        log.close();
        assertTrue(walThreads().isEmpty(), walThreads().toString());
        FakeStore<String, Long> recovered = new FakeStore<>();
        open(builder(dir, Wal.Sync.FULL, FileIo.REAL), recovered).close();
        assertEquals(List.of(1L), recovered.replayedCommits());
    }

    @Test
    void everyPendingFutureFailsWhenAGroupFails() throws Exception {
        FaultyIo io = FaultyIo.failing(FaultyIo.Op.FORCE, 3, FaultyIo.Mode.FAIL);
        WalLog<String, Long> log = open(builder(dir, Wal.Sync.FULL, io), new FakeStore<>());
        List<CompletableFuture<Void>> fs = new ArrayList<>();
        for (long ts = 1; ts <= 5000; ts++) {
            try {
                CompletableFuture<Void> f = log.append(commit(ts, 10));
                fs.add(f);
                if (ts % 100 == 0) { // let a group finish now and then, so the third force comes
                    await().atMost(Duration.ofSeconds(10)).until(f::isDone);
                }
            } catch (IllegalStateException refused) {
                break;
            }
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> fs.stream().allMatch(CompletableFuture::isDone));
        // once one future failed, every later one failed too (the log is a prefix)
        int firstFailed = -1;
        for (int i = 0; i < fs.size(); i++) {
            if (fs.get(i).isCompletedExceptionally()) {
                firstFailed = firstFailed < 0 ? i : firstFailed;
            } else {
                assertTrue(firstFailed < 0, "future " + i + " completed normally after " + firstFailed + " failed");
            }
        }
        assertTrue(firstFailed >= 0);
        log.close();
    }

    @Test
    void relaxedCompletesAfterWriteAndForcesWithinTheInterval() throws Exception {
        FaultyIo io = FaultyIo.counting();
        Wal.Builder<String, Long> b = builder(dir, Wal.Sync.RELAXED, io).flushInterval(Duration.ofMillis(50));
        try (WalLog<String, Long> log = open(b, new FakeStore<>())) {
            log.append(Rec.of(1, "a", 1L)).get(10, TimeUnit.SECONDS);
            int forcesAtAck = io.segmentForces.get(); // the header force only, most likely
            await().atMost(Duration.ofSeconds(10)).until(() -> io.segmentForces.get() > forcesAtAck);
        }
    }

    @Test
    void relaxedForcesOnRecordCountBound() throws Exception {
        FaultyIo io = FaultyIo.counting();
        Wal.Builder<String, Long> b = builder(dir, Wal.Sync.RELAXED, io)
                .flushInterval(Duration.ofHours(1))
                .flushRecords(10);
        try (WalLog<String, Long> log = open(b, new FakeStore<>())) {
            log.append(Rec.of(1, "a", 1L)).get(10, TimeUnit.SECONDS);
            int base = io.segmentForces.get();
            CompletableFuture<Void> last = null;
            for (long ts = 2; ts <= 40; ts++) {
                last = log.append(Rec.of(ts, "a", ts));
            }
            last.get(10, TimeUnit.SECONDS);
            await().atMost(Duration.ofSeconds(10)).until(() -> io.segmentForces.get() > base);
        }
    }

    @Test
    void writerParksWhenIdle() throws Exception {
        try (WalLog<String, Long> log = open(builder(dir, Wal.Sync.FULL, FileIo.REAL), new FakeStore<>())) {
            log.append(Rec.of(1, "a", 1L)).get(10, TimeUnit.SECONDS);
            Thread writer = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().equals("varve-wal-writer[" + dir + "]"))
                    .findFirst()
                    .orElseThrow();
            await().atMost(Duration.ofSeconds(10)).until(() -> writer.getState() == Thread.State.WAITING);
            // and a new append wakes it promptly
            log.append(Rec.of(2, "a", 2L)).get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void closeFlushesStopsThreadsAndIsIdempotent() throws Exception {
        WalLog<String, Long> log = open(
                builder(dir, Wal.Sync.RELAXED, FileIo.REAL)
                        .flushInterval(Duration.ofHours(1))
                        .checkpointEvery(1 << 20),
                new FakeStore<>());
        List<CompletableFuture<Void>> fs = new ArrayList<>();
        for (long ts = 1; ts <= 100; ts++) {
            fs.add(log.append(commit(ts, 10)));
        }
        // the writer and the checkpointer (the completer starts with the first hand-off, so maybe not yet)
        assertEquals(
                List.of("varve-wal-checkpoint[" + dir + "]", "varve-wal-writer[" + dir + "]"),
                walThreads().stream()
                        .filter(n -> n.endsWith("[" + dir + "]") && !n.startsWith("varve-wal-completer"))
                        .sorted()
                        .toList());
        log.close();
        assertTrue(fs.stream().allMatch(f -> f.isDone() && !f.isCompletedExceptionally()));
        assertTrue(
                walThreads().stream().noneMatch(n -> n.endsWith("[" + dir + "]")),
                walThreads().toString());
        log.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> log.append(Rec.of(101, "a", 1L)));
        assertEquals("write-ahead log " + dir + " is closed", e.getMessage());
        assertThrows(IllegalStateException.class, log::checkpoint);
        FakeStore<String, Long> recovered = new FakeStore<>();
        open(builder(dir, Wal.Sync.RELAXED, FileIo.REAL), recovered).close();
        assertEquals(100, recovered.replayedCommits().size());
    }

    @Test
    void secondOpenOfTheSameDirectoryFailsClearly() throws Exception {
        try (WalLog<String, Long> log = open(builder(dir, Wal.Sync.FULL, FileIo.REAL), new FakeStore<>())) {
            IllegalStateException e = assertThrows(
                    IllegalStateException.class,
                    () -> open(builder(dir.resolve("."), Wal.Sync.RELAXED, FileIo.REAL), new FakeStore<>()));
            assertEquals("log directory " + dir.toRealPath() + " is already open in this process", e.getMessage());
            log.append(Rec.of(1, "a", 1L)).get(10, TimeUnit.SECONDS); // the first is unharmed
        }
        open(builder(dir, Wal.Sync.FULL, FileIo.REAL), new FakeStore<>()).close(); // released
    }

    @Test
    void openFromAnotherProcessIsRefusedWhileOpen() throws Exception {
        try (WalLog<String, Long> log = open(builder(dir, Wal.Sync.FULL, FileIo.REAL), new FakeStore<>())) {
            log.append(Rec.of(1, "a", 1L)).get(10, TimeUnit.SECONDS);
            assertEquals(
                    "REFUSED log directory " + dir.toRealPath() + " is locked by another process (lock on "
                            + dir.toRealPath().resolve(DirectoryLock.LOCK_FILE) + " is held)",
                    probe());
        }
        assertEquals("OPENED", probe());
    }

    private String probe() throws Exception {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(
                        javaBin,
                        "-cp",
                        System.getProperty("java.class.path"),
                        LockProbeChild.class.getName(),
                        dir.toString())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return out;
    }

    @Test
    void checkpointThenReopenDeletesCoveredSegments() throws Exception {
        FakeStore<String, Long> live = new FakeStore<>();
        Wal.Builder<String, Long> b = builder(dir, Wal.Sync.FULL, FileIo.REAL).segmentSize(1024);
        try (WalLog<String, Long> log = open(b, live)) {
            for (long ts = 1; ts <= 300; ts++) {
                Rec<String, Long> r = commit(ts, 20);
                live.apply(r);
                log.append(r).get(10, TimeUnit.SECONDS);
            }
            int before = files(dir, ".seg").size();
            assertTrue(before > 5, "segments: " + before);
            log.checkpoint();
            assertEquals(300, log.checkpointTimestamp());
            List<Path> after = files(dir, ".seg");
            assertEquals(1, after.size(), after.toString()); // only the open segment remains
            assertEquals(List.of(dir.resolve(Checkpoints.name(300))), files(dir, ".ckp"));
            for (long ts = 301; ts <= 350; ts++) {
                Rec<String, Long> r = commit(ts, 20);
                live.apply(r);
                log.append(r).get(10, TimeUnit.SECONDS);
            }
            log.checkpoint();
            assertEquals(List.of(dir.resolve(Checkpoints.name(350))), files(dir, ".ckp"));
            for (long ts = 351; ts <= 360; ts++) {
                Rec<String, Long> r = commit(ts, 20);
                live.apply(r);
                log.append(r).get(10, TimeUnit.SECONDS);
            }
        }
        FakeStore<String, Long> recovered = new FakeStore<>();
        open(b, recovered).close();
        assertEquals(live.map, recovered.map);
        // checkpoint entries replay at the snapshot timestamp, then the log after it
        assertEquals(350, recovered.replayed.get(0).ts());
        assertEquals(
                LongStream.rangeClosed(351, 360).boxed().toList(),
                recovered
                        .replayedCommits()
                        .subList(1, recovered.replayedCommits().size()));
    }

    @Test
    void backgroundCheckpointRunsOnLogGrowth() throws Exception {
        FakeStore<String, Long> live = new FakeStore<>();
        Wal.Builder<String, Long> b =
                builder(dir, Wal.Sync.RELAXED, FileIo.REAL).segmentSize(2048).checkpointEvery(8192);
        try (WalLog<String, Long> log = open(b, live)) {
            CompletableFuture<Void> f = null;
            for (long ts = 1; ts <= 2000; ts++) {
                Rec<String, Long> r = commit(ts, 30);
                live.apply(r);
                f = log.append(r);
            }
            f.get(10, TimeUnit.SECONDS);
            // triggers come every 8192 record bytes while the writer works through the 2000
            // commits, all applied to the store before the first is written: later checkpoints cover
            // at least half of them
            await().atMost(Duration.ofSeconds(10)).until(() -> log.checkpointTimestamp() >= 1000);
        }
        // the uncovered half, with a forced marker per group, fills at most 1000 * 61 / 2048 = 30 segments
        assertTrue(
                files(dir, ".seg").size() < 2000 * 40 / 2048,
                files(dir, ".seg").size() + " segments: covered segments were deleted");
        FakeStore<String, Long> recovered = new FakeStore<>();
        open(b, recovered).close();
        assertEquals(live.map, recovered.map);
    }

    @Test
    void emptyStoreCheckpointIsSkippedAndTheLogKept() throws Exception {
        try (WalLog<String, Long> log = open(builder(dir, Wal.Sync.FULL, FileIo.REAL), new FakeStore<>())) {
            log.checkpoint();
            assertEquals(0, log.checkpointTimestamp());
            assertTrue(files(dir, ".ckp").isEmpty());
        }
    }

    @Test
    void codecFailureRefusesTheCommitWithoutFailingTheLog() throws Exception {
        try (WalLog<String, Long> log = open(builder(dir, Wal.Sync.FULL, FileIo.REAL), new FakeStore<>())) {
            IllegalStateException e =
                    assertThrows(IllegalStateException.class, () -> log.append(Rec.of(1, "bad \uD800", 1L)));
            assertTrue(e.getMessage().startsWith("cannot log commit 1: Codec.STRING cannot encode"), e.getMessage());
            log.append(Rec.of(1, "good", 1L)).get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void describeNamesModeAndDirectory() {
        assertEquals(
                "full(" + dir + ")", Wal.full(dir, Codec.STRING, Codec.LONG).describe());
        assertEquals(
                "relaxed(" + dir + ")",
                Wal.relaxed(dir, Codec.STRING, Codec.LONG).describe());
    }

    @Test
    void builderRejectsBadValuesNamingOptionAndValue() {
        Wal.Builder<String, Long> b = Wal.builder(dir, Codec.STRING, Codec.LONG);
        assertEquals(
                "flushInterval must be between 0 and 1 hour, was PT-0.001S",
                assertThrows(IllegalArgumentException.class, () -> b.flushInterval(Duration.ofMillis(-1)))
                        .getMessage());
        assertEquals(
                "flushBytes must be at least 1, was 0",
                assertThrows(IllegalArgumentException.class, () -> b.flushBytes(0))
                        .getMessage());
        assertEquals(
                "flushRecords must be at least 1, was -3",
                assertThrows(IllegalArgumentException.class, () -> b.flushRecords(-3))
                        .getMessage());
        assertEquals(
                "maxBatchBytes must be between 4096 and 268435456, was 100",
                assertThrows(IllegalArgumentException.class, () -> b.maxBatchBytes(100))
                        .getMessage());
        assertEquals(
                "segmentSize must be between 1024 and 1073741824, was 10",
                assertThrows(IllegalArgumentException.class, () -> b.segmentSize(10))
                        .getMessage());
        assertEquals(
                "checkpointEvery must be 0 (off) or more, was -1",
                assertThrows(IllegalArgumentException.class, () -> b.checkpointEvery(-1))
                        .getMessage());
        assertThrows(NullPointerException.class, () -> Wal.full(null, Codec.STRING, Codec.LONG));
        assertThrows(NullPointerException.class, () -> b.sync(null));
    }

    @Test
    void openCreatesTheDirectory() throws Exception {
        Path nested = dir.resolve("a/b");
        open(builder(nested, Wal.Sync.FULL, FileIo.REAL), new FakeStore<>()).close();
        assertTrue(Files.isDirectory(nested));
        assertFalse(walThreads().stream().anyMatch(n -> n.contains(nested.toString())));
        assertNull(null);
    }
}
