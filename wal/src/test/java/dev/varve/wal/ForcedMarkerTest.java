// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static dev.varve.wal.RecoveryTest.assertPrefix;
import static dev.varve.wal.RecoveryTest.flip;
import static dev.varve.wal.RecoveryTest.writeLog;
import static dev.varve.wal.WalTestSupport.builder;
import static dev.varve.wal.WalTestSupport.commit;
import static dev.varve.wal.WalTestSupport.files;
import static dev.varve.wal.WalTestSupport.open;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Codec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damage to bytes the log forced is corruption, reported; only the unforced part can be a torn
 * tail (issue 12, "a single bit flip in the last, acknowledged record").
 */
class ForcedMarkerTest {

    @TempDir
    Path dir;

    private static Path onlySegment(Path dir) throws IOException {
        List<Path> segs = files(dir, ".seg");
        assertEquals(1, segs.size());
        return segs.get(0);
    }

    /** Offsets of the commit records of a segment (skipping any other record type), in order. */
    static List<Long> commitOffsets(Path seg) throws IOException {
        byte[] b = Files.readAllBytes(seg);
        ByteBuffer bb = ByteBuffer.wrap(b);
        List<Long> out = new ArrayList<>();
        int off = RecordFormat.SEGMENT_HEADER_BYTES;
        while (off + RecordFormat.FRAME_BYTES < b.length) {
            if (b[off + RecordFormat.TYPE_OFFSET] == RecordFormat.TYPE_COMMIT) {
                out.add((long) off);
            }
            off += RecordFormat.FRAME_BYTES + bb.getInt(off);
        }
        return out;
    }

    private static FakeStore<String, Long> reopen(Path dir) {
        FakeStore<String, Long> s = new FakeStore<>();
        open(builder(dir, Wal.Sync.FULL, FileIo.REAL), s).close();
        return s;
    }

    @Test
    void bitFlipInTheLastAcknowledgedRecordOfAClosedLogIsReported() throws Exception {
        writeLog(dir, 10, 1 << 20);
        Path seg = onlySegment(dir);
        long last = commitOffsets(seg).get(9);
        flip(seg, last + RecordFormat.WRITES_OFFSET + 5, 0x01); // inside commit 10's key
        CorruptLogException e = assertThrows(CorruptLogException.class, () -> reopen(dir));
        assertEquals(seg, e.file());
        assertEquals(last, e.offset());
        long marker = Files.size(seg) - RecordFormat.MARKER_RECORD_BYTES;
        assertEquals(
                "corrupt write-ahead log: damaged record (short, bad length or bad CRC32C) below offset "
                        + marker + ", which the marker at offset " + marker + " says was forced"
                        + " in " + seg + " at offset " + last,
                e.getMessage());
    }

    @Test
    void bitFlipInTheLastAcknowledgedRecordIsReportedAfterAProcessCrash() throws Exception {
        FaultyIo.Disk disk = new FaultyIo.Disk();
        FaultyIo io = FaultyIo.counting(disk);
        WalLog<String, Long> log = open(builder(dir, Wal.Sync.FULL, io), new FakeStore<>());
        for (long ts = 1; ts <= 10; ts++) {
            log.append(commit(ts, 13)).get(10, TimeUnit.SECONDS);
        }
        Path seg = onlySegment(dir);
        long last = commitOffsets(seg).get(9);
        long end = last
                + RecordFormat.FRAME_BYTES
                + ByteBuffer.wrap(Files.readAllBytes(seg)).getInt((int) last);
        // the writer goes idle after the last force: what it writes then (no force) is all that follows
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> Files.size(seg) > end);
        io.crash(); // kill -9: the page cache keeps what was written
        try {
            log.close();
        } catch (RuntimeException deadProcess) {
            // the final force of a dead process
        }
        flip(seg, last + RecordFormat.WRITES_OFFSET + 5, 0x01);
        CorruptLogException e = assertThrows(
                CorruptLogException.class,
                () -> open(builder(dir, Wal.Sync.FULL, FaultyIo.counting(disk)), new FakeStore<>()));
        assertEquals(last, e.offset());
    }

    @Test
    void bitFlipInAnAcknowledgedRecordFollowedByALaterForcedGroupIsReported() throws Exception {
        writeLog(dir, 10, 1 << 20);
        Path seg = onlySegment(dir);
        long ninth = commitOffsets(seg).get(8);
        flip(seg, ninth + RecordFormat.WRITES_OFFSET + 5, 0x01);
        CorruptLogException e = assertThrows(CorruptLogException.class, () -> reopen(dir));
        assertEquals(seg, e.file());
        assertEquals(ninth, e.offset());
        assertTrue(e.getMessage().contains("says was forced"), e.getMessage());
    }

    @Test
    void aTornUnforcedTailIsStillCutSilently() throws Exception {
        List<Rec<String, Long>> commits = writeLog(dir, 10, 1 << 20);
        Path seg = onlySegment(dir);
        byte[] next = RecordFormat.encode(commit(11, 13), Codec.STRING, Codec.LONG);
        // the write of commit 11 torn by a crash: only its first half reached the file
        Files.write(seg, Arrays.copyOf(next, next.length / 2), StandardOpenOption.APPEND);
        long before = Files.size(seg);
        assertEquals(10, assertPrefix(commits, reopen(dir)));
        assertEquals(before - next.length / 2, Files.size(seg), "the torn half-record is cut");
    }

    @Test
    void damageInTheUnforcedTailIsCutEvenIfUnforcedRecordsFollowIt() throws Exception {
        List<Rec<String, Long>> commits = writeLog(dir, 10, 1 << 20);
        Path seg = onlySegment(dir);
        long end = Files.size(seg);
        // two unforced records written after the last force; a power loss kept the second one's
        // pages and not all of the first one's (write-back order is not file order)
        byte[] a = RecordFormat.encode(commit(11, 13), Codec.STRING, Codec.LONG);
        byte[] b = RecordFormat.encode(commit(12, 13), Codec.STRING, Codec.LONG);
        Arrays.fill(a, a.length / 2, a.length, (byte) 0);
        Files.write(seg, a, StandardOpenOption.APPEND);
        Files.write(seg, b, StandardOpenOption.APPEND);
        assertEquals(10, assertPrefix(commits, reopen(dir)));
        assertEquals(end, Files.size(seg), "cut at the damage (the close() marker already vouches for the rest)");
    }
}
