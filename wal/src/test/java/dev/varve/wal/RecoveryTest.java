// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static dev.varve.wal.WalTestSupport.builder;
import static dev.varve.wal.WalTestSupport.commit;
import static dev.varve.wal.WalTestSupport.files;
import static dev.varve.wal.WalTestSupport.open;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.varve.Codec;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecoveryTest {

    @TempDir
    Path dir;

    /** Writes {@code n} commits under FULL, each acknowledged; returns them. */
    static List<Rec<String, Long>> writeLog(Path dir, int n, long segmentSize) throws Exception {
        List<Rec<String, Long>> commits = new ArrayList<>();
        try (WalLog<String, Long> log =
                open(builder(dir, Wal.Sync.FULL, FileIo.REAL).segmentSize(segmentSize), new FakeStore<>())) {
            for (long ts = 1; ts <= n; ts++) {
                Rec<String, Long> r = commit(ts, 13);
                commits.add(r);
                log.append(r).get(10, TimeUnit.SECONDS);
            }
        }
        return commits;
    }

    /** Asserts the store replayed exactly the writes of commits 1..j for some j; returns j. */
    static int assertPrefix(List<Rec<String, Long>> commits, FakeStore<String, Long> store) {
        List<FakeStore.Replayed> expected = new ArrayList<>();
        int j = 0;
        int idx = 0;
        for (Rec<String, Long> r : commits) {
            if (idx == store.replayed.size()) {
                break;
            }
            for (int i = 0; i < r.size(); i++) {
                expected.add(new FakeStore.Replayed(r.ts, r.key(i), r.value(i)));
            }
            idx = Math.min(expected.size(), store.replayed.size());
            assertEquals(
                    expected.subList(0, idx),
                    store.replayed.subList(0, idx),
                    "replayed writes differ from the commits");
            if (idx == expected.size()) {
                j++;
            } else {
                fail("commit " + r.ts + " replayed partially: "
                        + store.replayed.subList(expected.size() - r.size(), idx));
            }
        }
        assertEquals(expected.size(), store.replayed.size(), "replayed more than was committed");
        return j;
    }

    private static Path onlySegment(Path dir) throws IOException {
        List<Path> segs = files(dir, ".seg");
        assertEquals(1, segs.size());
        return segs.get(0);
    }

    @Test
    void tornTailIsCutOffAndTheLogContinues() throws Exception {
        List<Rec<String, Long>> commits = writeLog(dir, 20, 1 << 20);
        Path seg = onlySegment(dir);
        long goodSize = Files.size(seg);
        byte[] next = RecordFormat.encode(commit(21, 13), Codec.STRING, Codec.LONG);
        Files.write(seg, java.util.Arrays.copyOf(next, next.length - 3), StandardOpenOption.APPEND); // torn write
        FakeStore<String, Long> s = new FakeStore<>();
        try (WalLog<String, Long> log = open(builder(dir, Wal.Sync.FULL, FileIo.REAL), s)) {
            assertEquals(20, assertPrefix(commits, s));
            assertEquals(goodSize, Files.size(seg), "the torn tail is truncated");
            log.append(commit(21, 13)).get(10, TimeUnit.SECONDS);
        }
        commits.add(commit(21, 13));
        FakeStore<String, Long> again = new FakeStore<>();
        open(builder(dir, Wal.Sync.FULL, FileIo.REAL), again).close();
        assertEquals(21, assertPrefix(commits, again));
    }

    @Test
    void creatingTheLogDirectoryForcesItIntoItsParent() throws Exception {
        Path log = dir.resolve("a").resolve("b");
        FaultyIo io = FaultyIo.counting(new FaultyIo.Disk());
        open(builder(log, Wal.Sync.FULL, io), new FakeStore<>()).close();
        List<Path> forced = io.disk.forcedDirectories;
        assertTrue(forced.contains(dir.toAbsolutePath()), "the entry of a/ in " + dir + " was not forced: " + forced);
        assertTrue(
                forced.contains(dir.resolve("a").toAbsolutePath()), "the entry of b/ in a/ was not forced: " + forced);
        // an existing directory is not forced into its parent again
        FaultyIo again = FaultyIo.counting(new FaultyIo.Disk());
        open(builder(log, Wal.Sync.FULL, again), new FakeStore<>()).close();
        assertEquals(List.of(log.toAbsolutePath()), again.disk.forcedDirectories);
    }

    @Test
    void scanningATornLargeRecordChecksumsAtMostItsSize() throws Exception {
        int torn = 256 << 10;
        TornTailScan.writeTornLog(dir, torn, false);
        Path seg = onlySegment(dir);
        long before = Files.size(seg);
        Recovery<String, Long> r = TornTailScan.recover(dir);
        assertEquals(before - torn, Files.size(seg), "the torn record is cut");
        assertTrue(
                r.scanCrcBytes() <= torn,
                "the scan after a torn " + torn + "-byte record checksummed " + r.scanCrcBytes()
                        + " body bytes (quadratic: tries every offset that looks like a frame)");
    }

    @Test
    void olderFormatVersionsAreRefusedWithAClearMessage() throws Exception {
        writeLog(dir, 3, 1 << 20);
        Path seg = onlySegment(dir);
        for (int version = 1; version <= 2; version++) {
            byte[] b = Files.readAllBytes(seg);
            ByteBuffer hdr = ByteBuffer.wrap(b);
            hdr.putInt(RecordFormat.HDR_VERSION, version);
            hdr.putInt(
                    RecordFormat.HDR_CRC, RecordFormat.crc(b, 0, RecordFormat.HDR_CRC)); // a well-formed older header
            Files.write(seg, b);
            CorruptLogException e = assertThrows(
                    CorruptLogException.class, () -> open(builder(dir, Wal.Sync.FULL, FileIo.REAL), new FakeStore<>()));
            assertEquals(
                    "corrupt write-ahead log: segment has format version " + version + ", written by an older release;"
                            + " this release reads format versions 3 to 4 only (no conversion: recover the directory with the"
                            + " release that wrote it) in " + seg + " at offset " + RecordFormat.HDR_VERSION,
                    e.getMessage());
        }
    }

    @Test
    void segmentsACheckpointCoversAreNotReadAgain() throws Exception {
        // a crash between a checkpoint's rename and the deletion of the segments it covers leaves
        // them behind; recovery must not read them (here: one is damaged, which reading would report)
        Path saved = dir.resolve("saved");
        Path log = dir.resolve("log");
        FakeStore<String, Long> live = new FakeStore<>();
        try (WalLog<String, Long> l =
                open(builder(log, Wal.Sync.FULL, FileIo.REAL).segmentSize(1024), live)) {
            for (long ts = 1; ts <= 120; ts++) {
                Rec<String, Long> r = commit(ts, 13);
                live.apply(r);
                l.append(r).get(10, TimeUnit.SECONDS);
            }
            copy(log, saved);
            l.checkpoint();
            for (long ts = 121; ts <= 130; ts++) {
                Rec<String, Long> r = commit(ts, 13);
                live.apply(r);
                l.append(r).get(10, TimeUnit.SECONDS);
            }
        }
        List<Path> restored = new ArrayList<>();
        for (Path p : files(saved, ".seg")) {
            Path back = log.resolve(p.getFileName());
            if (!Files.exists(back)) {
                Files.copy(p, back);
                restored.add(back);
            }
        }
        assertTrue(restored.size() > 2, "the checkpoint deleted " + restored.size() + " segments");
        Path covered = restored.get(1);
        flip(covered, recordOffset(covered, 0) + RecordFormat.WRITES_OFFSET + 5, 0x01);
        FakeStore<String, Long> s = new FakeStore<>();
        open(builder(log, Wal.Sync.FULL, FileIo.REAL), s).close();
        assertEquals(live.map, s.map);
        assertEquals(130, s.lastTs());
        Recovery<String, Long> r = new Recovery<>(FileIo.REAL, log, new FakeStore<>(), Codec.STRING, Codec.LONG);
        assertEquals(130, r.run().lastTs());
        // the restored ones, and also the segment open at the checkpoint if it got no later commit
        assertTrue(
                r.coveredSkipped() >= restored.size() && r.coveredSkipped() <= restored.size() + 1,
                r.coveredSkipped() + " covered segments skipped, " + restored.size() + " restored");
    }

    @Test
    void zeroFilledTailIsTornNotCorrupt() throws Exception {
        List<Rec<String, Long>> commits = writeLog(dir, 10, 1 << 20);
        Files.write(onlySegment(dir), new byte[4096], StandardOpenOption.APPEND);
        FakeStore<String, Long> s = new FakeStore<>();
        open(builder(dir, Wal.Sync.FULL, FileIo.REAL), s).close();
        assertEquals(10, assertPrefix(commits, s));
    }

    @Test
    void badChecksumOnTheFinalMarkerIsATornTailThatLosesNothing() throws Exception {
        // (a bad checksum on the last commit record is corruption: ForcedMarkerTest)
        List<Rec<String, Long>> commits = writeLog(dir, 10, 1 << 20);
        Path seg = onlySegment(dir);
        long size = Files.size(seg);
        flip(seg, size - 2, 0x10); // inside the marker close() wrote after the last group's force
        FakeStore<String, Long> s = new FakeStore<>();
        open(builder(dir, Wal.Sync.FULL, FileIo.REAL), s).close();
        assertEquals(10, assertPrefix(commits, s));
        assertEquals(size, Files.size(seg), "the damaged marker is cut and recovery writes its own");
    }

    @Test
    void damagedRecordFollowedByIntactOnesIsCorruptionNamingFileAndOffset() throws Exception {
        writeLog(dir, 10, 1 << 20);
        Path seg = onlySegment(dir);
        long third = ForcedMarkerTest.commitOffsets(seg).get(2);
        flip(seg, third + RecordFormat.WRITES_OFFSET + 5, 0x01); // inside commit 3's key
        FakeStore<String, Long> s = new FakeStore<>();
        CorruptLogException e =
                assertThrows(CorruptLogException.class, () -> open(builder(dir, Wal.Sync.FULL, FileIo.REAL), s));
        assertEquals(seg, e.file());
        assertEquals(third, e.offset());
        long marker = ForcedMarkerTest.commitOffsets(seg).get(3) - RecordFormat.MARKER_RECORD_BYTES;
        assertEquals(
                "corrupt write-ahead log: damaged record (short, bad length or bad CRC32C) below offset "
                        + marker + ", which the marker at offset " + marker + " says was forced in " + seg
                        + " at offset "
                        + third,
                e.getMessage());
        assertEquals(Files.size(seg), Files.size(seg), "the directory is left as it was");
        // and the directory can still be opened after the failed open released its lock... to fail the same way
        assertThrows(
                CorruptLogException.class, () -> open(builder(dir, Wal.Sync.FULL, FileIo.REAL), new FakeStore<>()));
    }

    @Test
    void damagedLengthFieldInTheMiddleIsCorruption() throws Exception {
        writeLog(dir, 10, 1 << 20);
        Path seg = onlySegment(dir);
        long fifth = ForcedMarkerTest.commitOffsets(seg).get(4);
        flip(seg, fifth + 1, 0x40); // length becomes huge
        CorruptLogException e = assertThrows(
                CorruptLogException.class, () -> open(builder(dir, Wal.Sync.FULL, FileIo.REAL), new FakeStore<>()));
        assertEquals(fifth, e.offset());
    }

    @Test
    void damageInAnOlderSegmentIsCorruptionEvenAtItsEnd() throws Exception {
        writeLog(dir, 200, 1024);
        List<Path> segs = files(dir, ".seg");
        assertTrue(segs.size() > 2);
        Path first = segs.get(0);
        try (RandomAccessFile f = new RandomAccessFile(first.toFile(), "rw")) {
            f.setLength(f.length() - 1);
        }
        CorruptLogException e = assertThrows(
                CorruptLogException.class, () -> open(builder(dir, Wal.Sync.FULL, FileIo.REAL), new FakeStore<>()));
        assertEquals(first, e.file());
        assertTrue(e.getMessage().contains("in a segment followed by newer segments"), e.getMessage());
    }

    @Test
    void missingSegmentIsCorruption() throws Exception {
        writeLog(dir, 200, 1024);
        List<Path> segs = files(dir, ".seg");
        Files.delete(segs.get(1));
        CorruptLogException e = assertThrows(
                CorruptLogException.class, () -> open(builder(dir, Wal.Sync.FULL, FileIo.REAL), new FakeStore<>()));
        assertEquals(segs.get(2), e.file());
        assertTrue(e.getMessage().contains("a segment is missing"), e.getMessage());
    }

    @Test
    void emptyNewestSegmentLeftByACrashIsRemoved() throws Exception {
        List<Rec<String, Long>> commits = writeLog(dir, 5, 1 << 20);
        Path empty = dir.resolve(RecordFormat.segmentName(6));
        Files.write(empty, new byte[5]); // created, header torn
        FakeStore<String, Long> s = new FakeStore<>();
        try (WalLog<String, Long> log = open(builder(dir, Wal.Sync.FULL, FileIo.REAL), s)) {
            assertFalse(Files.exists(empty));
            log.append(commit(6, 13)).get(10, TimeUnit.SECONDS);
        }
        assertEquals(5, assertPrefix(commits, s));
    }

    @Test
    void damagedCheckpointIsCorruption() throws Exception {
        FakeStore<String, Long> live = new FakeStore<>();
        try (WalLog<String, Long> log =
                open(builder(dir, Wal.Sync.FULL, FileIo.REAL).segmentSize(1024), live)) {
            for (long ts = 1; ts <= 100; ts++) {
                Rec<String, Long> r = commit(ts, 13);
                live.apply(r);
                log.append(r).get(10, TimeUnit.SECONDS);
            }
            log.checkpoint();
        }
        Path ckp = files(dir, ".ckp").get(0);
        flip(ckp, 20, 0x04);
        CorruptLogException e = assertThrows(
                CorruptLogException.class, () -> open(builder(dir, Wal.Sync.FULL, FileIo.REAL), new FakeStore<>()));
        assertEquals(ckp, e.file());
        assertEquals(
                "corrupt write-ahead log: checkpoint fails its CRC32C in " + ckp + " at offset "
                        + (Files.size(ckp) - 4),
                e.getMessage());
    }

    @Test
    void checkpointAheadOfTheLogEndStillChainsWithTheNextSegment() throws Exception {
        // commits 6..10 were visible (so in the checkpoint) but never reached the log: the crash
        // came while they were queued. The next session's segment follows the checkpoint.
        FakeStore<String, Long> live = new FakeStore<>();
        try (WalLog<String, Long> log = open(builder(dir, Wal.Sync.FULL, FileIo.REAL), live)) {
            for (long ts = 1; ts <= 10; ts++) {
                Rec<String, Long> r = commit(ts, 13);
                live.apply(r);
                if (ts <= 5) {
                    log.append(r).get(10, TimeUnit.SECONDS);
                }
            }
            log.checkpoint();
            assertEquals(10, log.checkpointTimestamp());
        }
        FakeStore<String, Long> second = new FakeStore<>();
        try (WalLog<String, Long> log = open(builder(dir, Wal.Sync.FULL, FileIo.REAL), second)) {
            assertEquals(live.map, second.map);
            Rec<String, Long> r = commit(11, 13);
            live.apply(r);
            log.append(r).get(10, TimeUnit.SECONDS);
        }
        assertEquals(2, files(dir, ".seg").size());
        FakeStore<String, Long> third = new FakeStore<>();
        open(builder(dir, Wal.Sync.FULL, FileIo.REAL), third).close();
        assertEquals(live.map, third.map);
        assertEquals(11, third.lastTs());
    }

    @Test
    void leftoverTempCheckpointIsIgnored() throws Exception {
        List<Rec<String, Long>> commits = writeLog(dir, 10, 1 << 20);
        Files.write(dir.resolve(Checkpoints.TEMP_NAME), new byte[] {1, 2, 3});
        FakeStore<String, Long> s = new FakeStore<>();
        open(builder(dir, Wal.Sync.FULL, FileIo.REAL), s).close();
        assertEquals(10, assertPrefix(commits, s));
        assertFalse(Files.exists(dir.resolve(Checkpoints.TEMP_NAME)));
    }

    @Test
    void aDeclaredCodecOfAnotherFormatOnReopenIsRefusedAsAMismatchNotAsDamage() throws Exception {
        writeLog(dir, 3, 1 << 20);
        Wal.Builder<String, Integer> b =
                Wal.builder(dir, Codec.STRING, Codec.INT).checkpointEvery(0);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> b.build().open(new FakeStore<>()));
        assertTrue(e.getMessage().contains("the default map in " + dir), e.getMessage());
        assertTrue(e.getMessage().contains("value codec 'varve.long/1'"), e.getMessage());
        assertTrue(e.getMessage().contains("value codec 'varve.int/1'"), e.getMessage());
        FakeStore<String, Long> s = new FakeStore<>();
        open(builder(dir, Wal.Sync.FULL, FileIo.REAL), s).close(); // the refusal changed nothing
        assertEquals(3, s.lastTs());
    }

    @Test
    void anUndeclaredCodecThatCannotDecodeTheLogIsReportedNotMisread() throws Exception {
        writeLog(dir, 3, 1 << 20);
        Codec<Integer> undeclared = Codec.of(Codec.INT::encode, bytes -> Codec.INT.decode(bytes, 0, bytes.length));
        Wal.Builder<String, Integer> b =
                Wal.builder(dir, Codec.STRING, undeclared).checkpointEvery(0);
        CorruptLogException e =
                assertThrows(CorruptLogException.class, () -> b.build().open(new FakeStore<>()));
        assertTrue(e.getMessage().contains("cannot decode a write of commit 1 with Codec.STRING/"), e.getMessage());
        assertTrue(e.getMessage().contains("Codec.INT expects 4 bytes, found 8"), e.getMessage());
    }

    @Test
    void randomBitFlipsAndTruncationsGiveAPrefixOrAnError() throws Exception {
        randomDamage(40, 3);
    }

    @Test
    @Tag("slow")
    void randomBitFlipsAndTruncationsLongSweep() throws Exception {
        randomDamage(1000, 8);
    }

    private void randomDamage(int rounds, int maxFlips) throws Exception {
        long seed = System.nanoTime();
        System.out.println("randomDamage seed=" + seed);
        Random rnd = new Random(seed);
        Path pristine = dir.resolve("pristine");
        List<Rec<String, Long>> commits = writeLog(pristine, 150, 2048);
        int prefixes = 0;
        int errors = 0;
        for (int round = 0; round < rounds; round++) {
            Path work = dir.resolve("r" + round);
            copy(pristine, work);
            List<Path> segs = files(work, ".seg");
            Path victim = segs.get(rnd.nextInt(segs.size()));
            String what;
            if (rnd.nextBoolean()) {
                long at = (long) (rnd.nextDouble() * Files.size(victim));
                try (RandomAccessFile f = new RandomAccessFile(victim.toFile(), "rw")) {
                    f.setLength(at);
                }
                what = "truncate " + victim.getFileName() + " to " + at;
            } else {
                StringBuilder sb = new StringBuilder("flip");
                int flips = 1 + rnd.nextInt(maxFlips);
                for (int i = 0; i < flips; i++) {
                    long at = (long) (rnd.nextDouble() * Files.size(victim));
                    int bit = 1 << rnd.nextInt(8);
                    flip(victim, at, bit);
                    sb.append(' ')
                            .append(victim.getFileName())
                            .append('@')
                            .append(at)
                            .append('^')
                            .append(bit);
                }
                what = sb.toString();
            }
            FakeStore<String, Long> s = new FakeStore<>();
            try {
                open(builder(work, Wal.Sync.FULL, FileIo.REAL), s).close();
                assertPrefix(commits, s);
                prefixes++;
            } catch (CorruptLogException e) {
                errors++;
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("seed=" + seed + " round=" + round + " damage: " + what, e);
            }
        }
        System.out.println("randomDamage: " + prefixes + " valid prefixes, " + errors + " corruption reports");
    }

    // ---- helpers ----

    static void copy(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> s = Files.list(from)) {
            for (Path p : s.sorted(Comparator.naturalOrder()).toList()) {
                if (!p.getFileName().toString().equals(DirectoryLock.LOCK_FILE)) {
                    Files.copy(p, to.resolve(p.getFileName()));
                }
            }
        }
    }

    static void flip(Path file, long at, int mask) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ mask);
        }
    }

    /** Offset of the i-th record (0-based) of a segment. */
    static long recordOffset(Path seg, int i) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(seg));
        int off = RecordFormat.SEGMENT_HEADER_BYTES;
        for (int k = 0; k < i; k++) {
            off += RecordFormat.FRAME_BYTES + b.getInt(off);
        }
        return off;
    }
}
