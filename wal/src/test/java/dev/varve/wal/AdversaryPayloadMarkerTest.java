// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static dev.varve.wal.WalTestSupport.files;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Codec;
import dev.varve.spi.CommitLog;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A torn, never-acknowledged record is a torn tail whatever its value holds. After damage,
 * recovery searches the rest of the newest segment byte by byte for forced markers, including
 * the bytes of the damaged record itself: a value holding marker bytes (a stored copy of a log
 * segment, or any blob that happens to contain one) is taken for a marker of this segment.
 */
class AdversaryPayloadMarkerTest {

    @TempDir
    Path tmp;

    static final Codec<byte[]> BYTES = Codec.of(b -> b, b -> b);

    /**
     * One FULL lifetime over FaultyIo: commit 1 is acknowledged; once the writer has written its
     * idle marker (write #3), commit 2 (value {@code value}) is written by write #4, which a crash
     * tears in half. The page cache (the real files) keeps the torn half.
     *
     * @return the offset where commit 2's record starts
     */
    private static long crashTearingTheSecondCommit(Path dir, byte[] value) throws Exception {
        FaultyIo io = FaultyIo.failing(FaultyIo.Op.WRITE, 4, FaultyIo.Mode.TEAR);
        CommitLog<String, byte[]> log = Wal.builder(dir, Codec.STRING, BYTES)
                .sync(Wal.Sync.FULL)
                .fileIo(io)
                .checkpointEvery(0)
                .build()
                .open(new FakeStore<>());
        log.append(Rec.of(1, "a", new byte[] {1})).get(10, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(10)).until(() -> io.writes.get() == 3); // header, commit 1, idle marker
        Path seg = files(dir, ".seg").get(0);
        long second = Files.size(seg);
        CompletableFuture<Void> f = log.append(Rec.of(2, "b", value));
        assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS), "the torn write was acknowledged");
        try {
            log.close();
        } catch (RuntimeException deadProcess) {
            // the process crashed at the torn write
        }
        assertTrue(Files.size(seg) > second, "the torn half of commit 2 is in the page cache");
        return second;
    }

    /**
     * The first CRC-valid marker in {@code seg} after {@code from} that states a forced offset above
     * {@code from} (what recovery's search after damage at {@code from} looks for): {offset, forced
     * offset}, or null.
     */
    private static long[] markerAfterStatingMore(Path seg, long from) throws Exception {
        byte[] b = Files.readAllBytes(seg);
        for (int p = (int) from + 1; p + RecordFormat.MARKER_RECORD_BYTES <= b.length; p++) {
            // Marker-shaped with an intact frame: what a search that trusted such bytes would take
            // (whether its salted body CRC and own offset match is what recovery must check).
            int len = RecordFormat.intactFrameLength(b, p);
            if (len == RecordFormat.MARKER_BODY_BYTES && b[p + RecordFormat.TYPE_OFFSET] == RecordFormat.TYPE_FORCED) {
                long forced = ByteBuffer.wrap(b).getLong(p + RecordFormat.FORCED_OFFSET);
                if (forced > from) {
                    return new long[] {p, forced};
                }
            }
        }
        return null;
    }

    private static FakeStore<String, byte[]> reopen(Path dir) {
        FakeStore<String, byte[]> s = new FakeStore<>();
        Wal.builder(dir, Codec.STRING, BYTES)
                .sync(Wal.Sync.FULL)
                .checkpointEvery(0)
                .build()
                .open(s)
                .close();
        return s;
    }

    @Test
    void aTornRecordWhoseValueIsACopyOfALogSegmentIsCutAsATornTail() throws Exception {
        Path other = tmp.resolve("other");
        RecoveryTest.writeLog(other, 40, 1 << 20); // FULL: a marker after every forced commit
        byte[] blob = Files.readAllBytes(files(other, ".seg").get(0)); // a backup of another log, stored as a value
        Path dir = tmp.resolve("log");
        long second = crashTearingTheSecondCommit(dir, blob);
        Path seg = files(dir, ".seg").get(0);
        long[] m = markerAfterStatingMore(seg, second);
        assertTrue(
                m != null && m[1] > second,
                "precondition: the torn half holds a marker of the blob stating an offset" + " above " + second + ": "
                        + Arrays.toString(m));

        // commit 2 was never acknowledged and its write was torn by the crash: a torn tail
        FakeStore<String, byte[]> s = reopen(dir);
        assertEquals(List.of(1L), s.replayedCommits());
        assertEquals(second, Files.size(seg), "the torn commit 2 is cut");
    }

    @Test
    void aTornRecordWhoseValueHoldsMarkerBytesStatingALargeOffsetIsCutAsATornTail() throws Exception {
        byte[] value = new byte[8192];
        // The segment's own salt (its first commit ts is 1), at an offset it will not be written at.
        ByteBuffer.wrap(value, 100, RecordFormat.MARKER_RECORD_BYTES).put(RecordFormat.marker(1 << 21, 1 << 20, 1));
        Path dir = tmp.resolve("log");
        long second = crashTearingTheSecondCommit(dir, value);
        Path seg = files(dir, ".seg").get(0);
        long[] m = markerAfterStatingMore(seg, second);
        assertTrue(
                m != null && m[1] == 1 << 20,
                "precondition: the torn half holds the value's marker bytes: " + Arrays.toString(m));

        FakeStore<String, byte[]> s = reopen(dir);
        assertEquals(List.of(1L), s.replayedCommits());
        assertEquals(second, Files.size(seg), "the torn commit 2 is cut");
    }

    /**
     * The same torn records with their frame damaged too, so that recovery cannot trust their
     * length and searches byte by byte through their values: marker bytes of another segment
     * (another salt), and of this segment at an offset they were not written at, must not count.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"copy of another log", "own salt, wrong offset"})
    void markerBytesInsideADamagedRecordDoNotCountWhenTheSearchLooksInsideIt(String kind) throws Exception {
        byte[] value;
        if (kind.startsWith("copy")) {
            Path other = tmp.resolve("other");
            RecoveryTest.writeLog(other, 40, 1 << 20);
            value = Files.readAllBytes(files(other, ".seg").get(0));
        } else {
            value = new byte[8192];
            ByteBuffer.wrap(value, 100, RecordFormat.MARKER_RECORD_BYTES).put(RecordFormat.marker(1 << 21, 1 << 20, 1));
        }
        Path dir = tmp.resolve("log");
        long second = crashTearingTheSecondCommit(dir, value);
        Path seg = files(dir, ".seg").get(0);
        try (var ch = java.nio.channels.FileChannel.open(
                seg, java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, second + RecordFormat.FRAME_CRC_OFFSET);
            b.put(0, (byte) (b.get(0) ^ 0x40)).rewind();
            ch.write(b, second + RecordFormat.FRAME_CRC_OFFSET); // the frame of commit 2 is damaged now
        }
        assertTrue(markerAfterStatingMore(seg, second) != null, "precondition: marker-shaped bytes after the damage");

        FakeStore<String, byte[]> s = reopen(dir);
        assertEquals(List.of(1L), s.replayedCommits());
        assertEquals(second, Files.size(seg), "the torn commit 2 is cut");
    }
}
