// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static dev.varve.wal.WalTestSupport.builder;
import static dev.varve.wal.WalTestSupport.commit;
import static dev.varve.wal.WalTestSupport.files;
import static dev.varve.wal.WalTestSupport.open;
import static dev.varve.wal.WalTestSupport.walThreads;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * Attacks on the issue-12 changes that the code withstood, kept as guards: descriptor and thread
 * leaks over many open/close cycles (including refused and failed opens), racing opens of one
 * directory under two names, and a torn-tail frame announcing a body of almost 2 GiB.
 */
class AdversaryGuardsTest {

    @TempDir
    Path tmp;

    /** Descriptors this process holds on files under {@code dir} (Linux: /proc/self/fd). */
    private static List<String> openFdsUnder(Path dir) throws IOException {
        Path real = dir.toRealPath();
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : s.toList()) {
                try {
                    Path target = Files.readSymbolicLink(fd);
                    if (target.startsWith(real)) {
                        out.add(fd.getFileName() + "->" + target);
                    }
                } catch (IOException gone) {
                    // closed meanwhile (the listing's own descriptor)
                }
            }
        }
        return out;
    }

    @Test
    @EnabledOnOs(OS.LINUX)
    void noDescriptorOrThreadOutlivesOpenCloseCyclesRefusedOpensAndFailedRecoveries() throws Exception {
        Path dir = tmp.resolve("db");
        Path link = Files.createSymbolicLink(tmp.resolve("link"), Files.createDirectories(dir));
        long ts = 0;
        for (int round = 0; round < 25; round++) {
            FakeStore<String, Long> store = new FakeStore<>();
            WalLog<String, Long> log =
                    open(builder(dir, Wal.Sync.FULL, FileIo.REAL).segmentSize(4096), store);
            for (int i = 0; i < 3; i++) {
                Rec<String, Long> r = commit(++ts, 5);
                store.apply(r);
                log.append(r).get(10, TimeUnit.SECONDS);
            }
            assertTrue(
                    openFdsUnder(dir).stream().anyMatch(f -> f.endsWith(DirectoryLock.LOCK_FILE)),
                    "the probe sees the open log's LOCK descriptor: " + openFdsUnder(dir));
            if (round % 3 == 0) {
                log.checkpoint();
            }
            if (round % 5 == 0) {
                IllegalStateException e = assertThrows(
                        IllegalStateException.class,
                        () -> open(builder(link, Wal.Sync.FULL, FileIo.REAL), new FakeStore<>()));
                assertEquals("log directory " + dir.toRealPath() + " is already open in this process", e.getMessage());
            }
            log.close();
            await().atMost(Duration.ofSeconds(10)).until(() -> walThreads(dir).isEmpty());
            assertEquals(List.of(), openFdsUnder(dir), "descriptors left open after round " + round);
        }
        // failed recoveries: damage in a segment followed by a newer one
        Path bad = tmp.resolve("bad");
        RecoveryTest.writeLog(bad, 60, 1024);
        List<Path> segs = files(bad, ".seg");
        assertTrue(segs.size() > 2, "precondition: several segments, got " + segs);
        RecoveryTest.flip(segs.get(0), RecordFormat.SEGMENT_HEADER_BYTES + RecordFormat.WRITES_OFFSET + 2, 0x10);
        for (int i = 0; i < 10; i++) {
            assertThrows(
                    CorruptLogException.class, () -> open(builder(bad, Wal.Sync.FULL, FileIo.REAL), new FakeStore<>()));
            assertEquals(List.of(), openFdsUnder(bad), "descriptors left open by failed recovery " + i);
        }
        assertEquals(List.of(), walThreads(bad));
    }

    @Test
    void racingOpensOfOneDirectoryUnderTwoNamesAdmitExactlyOne() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("db"));
        Path link = Files.createSymbolicLink(tmp.resolve("link"), dir);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 30; round++) {
                CyclicBarrier start = new CyclicBarrier(2);
                List<Future<WalLog<String, Long>>> opens = new ArrayList<>();
                for (Path name : List.of(dir, link)) {
                    opens.add(pool.submit(() -> {
                        start.await(10, TimeUnit.SECONDS);
                        try {
                            return open(builder(name, Wal.Sync.FULL, FileIo.REAL), new FakeStore<>());
                        } catch (IllegalStateException refused) {
                            assertTrue(
                                    refused.getMessage()
                                            .startsWith("log directory " + dir.toRealPath()
                                                    + " is already open in this process"),
                                    refused.getMessage());
                            return null;
                        }
                    }));
                }
                List<WalLog<String, Long>> won = new ArrayList<>();
                for (Future<WalLog<String, Long>> f : opens) {
                    WalLog<String, Long> l = f.get(30, TimeUnit.SECONDS);
                    if (l != null) {
                        won.add(l);
                    }
                }
                for (WalLog<String, Long> l : won) {
                    l.close();
                }
                assertEquals(1, won.size(), "round " + round + ": opens admitted");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aTornTailFrameAnnouncingANearly2GiBBodyIsCutWithoutReadingOrAllocatingIt() throws Exception {
        Path dir = tmp.resolve("db");
        List<Rec<String, Long>> commits = RecoveryTest.writeLog(dir, 10, 1 << 20);
        Path seg = files(dir, ".seg").get(0);
        long end = Files.size(seg);
        byte[] frame = new byte[RecordFormat.FRAME_BYTES + 1 + 4000];
        ByteBuffer b = ByteBuffer.wrap(frame);
        b.putInt(RecordFormat.LENGTH_OFFSET, RecordFormat.MAX_BODY_BYTES).putInt(RecordFormat.CRC_OFFSET, 0x12345678);
        b.putInt(RecordFormat.FRAME_CRC_OFFSET, RecordFormat.crc(frame, 0, RecordFormat.FRAME_CRC_OFFSET));
        b.put(RecordFormat.TYPE_OFFSET, RecordFormat.TYPE_COMMIT);
        Files.write(seg, frame, StandardOpenOption.APPEND); // the intact frame of a huge record whose body never landed
        assertEquals(-1, RecordFormat.validRecordAt(frame, 0, frame.length));
        StreamingRecoveryTest.ReadCountingIo io = new StreamingRecoveryTest.ReadCountingIo();
        FakeStore<String, Long> s = new FakeStore<>();
        open(builder(dir, Wal.Sync.FULL, io), s).close();
        assertEquals(10, RecoveryTest.assertPrefix(commits, s));
        assertEquals(end, Files.size(seg), "the torn frame is cut");
        assertTrue(io.largestRead.get() <= Recovery.READ_WINDOW_BYTES, "largest read " + io.largestRead.get());
    }

    @Test
    @EnabledOnOs(OS.LINUX)
    void aStuckForceThatFailsAfterCloseGaveUpAcknowledgesNothingAndReleasesEverything() throws Exception {
        Path dir = tmp.resolve("db");
        FaultyIo io = FaultyIo.counting();
        WalLog<String, Long> log =
                open(builder(dir, Wal.Sync.FULL, io).closeTimeout(Duration.ofMillis(50)), new FakeStore<>());
        log.append(commit(1, 5)).get(10, TimeUnit.SECONDS);
        java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean armed = new java.util.concurrent.atomic.AtomicBoolean(true);
        io.pauseAt((op, file) -> {
            if (op == FaultyIo.Op.FORCE && file.getFileName().toString().endsWith(".seg") && armed.getAndSet(false)) {
                entered.countDown();
                while (true) {
                    try {
                        release.await();
                        break;
                    } catch (InterruptedException inKernel) {
                        // uninterruptible, like a task in D state
                    }
                }
                throw new IOException("injected: Input/output error after a stall");
            }
        });
        java.util.concurrent.CompletableFuture<Void> f = log.append(commit(2, 5));
        assertTrue(entered.await(10, TimeUnit.SECONDS), "the force of commit 2 was not reached");
        java.io.UncheckedIOException e = assertThrows(java.io.UncheckedIOException.class, log::close);
        assertTrue(e.getMessage().contains("did not stop within 50 ms"), e.getMessage());
        assertTrue(e.getMessage().contains("the directory stays locked until it stops"), e.getMessage());
        assertThrows(
                IllegalStateException.class,
                () -> open(builder(dir, Wal.Sync.FULL, FileIo.REAL), new FakeStore<>()),
                "a second open got in while the force was stuck");
        release.countDown();
        java.util.concurrent.ExecutionException late = assertThrows(
                java.util.concurrent.ExecutionException.class,
                () -> f.get(10, TimeUnit.SECONDS),
                "commit 2 was acknowledged though its force failed");
        assertTrue(
                late.getCause().getMessage().contains("did not stop within 50 ms"),
                late.getCause().getMessage());
        assertTrue(
                late.getCause().getCause().getSuppressed().length > 0
                        && late.getCause()
                                .getCause()
                                .getSuppressed()[0]
                                .getMessage()
                                .contains("Input/output error"),
                "the late force failure is recorded with the first failure");
        await().atMost(Duration.ofSeconds(10)).until(() -> walThreads(dir).isEmpty());
        await().atMost(Duration.ofSeconds(10)).until(() -> openFdsUnder(dir).isEmpty());
        FakeStore<String, Long> s = new FakeStore<>();
        open(builder(dir, Wal.Sync.FULL, FileIo.REAL), s).close();
        assertTrue(
                s.replayedCommits().equals(List.of(1L)) || s.replayedCommits().equals(List.of(1L, 2L)),
                "recovered " + s.replayedCommits());
    }
}
