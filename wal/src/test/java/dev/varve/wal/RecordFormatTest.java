// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.varve.Codec;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RecordFormatTest {

    private static List<String> decode(byte[] buf, int off, int total) {
        List<String> out = new ArrayList<>();
        RecordFormat.walk(
                buf,
                off,
                total,
                (ts, ko, kl, vo, vl) -> out.add(ts + ":" + Codec.STRING.decode(buf, ko, kl) + "="
                        + (vl == RecordFormat.TOMBSTONE ? "<tombstone>" : Codec.LONG.decode(buf, vo, vl))));
        return out;
    }

    @Test
    void encodesAndDecodesWritesAndTombstones() {
        Rec<String, Long> r =
                new Rec<String, Long>(42).with("alice", 100L).with("bob", null).with("", -5L);
        byte[] b = RecordFormat.encode(r, Codec.STRING, Codec.LONG);
        assertEquals(b.length, RecordFormat.validRecordAt(b, 0, b.length));
        assertEquals(b.length - RecordFormat.FRAME_BYTES, ByteBuffer.wrap(b).getInt(RecordFormat.LENGTH_OFFSET));
        assertEquals(RecordFormat.TYPE_COMMIT, b[RecordFormat.TYPE_OFFSET]);
        assertEquals(42L, ByteBuffer.wrap(b).getLong(RecordFormat.TS_OFFSET));
        assertEquals(List.of("42:alice=100", "42:bob=<tombstone>", "42:=-5"), decode(b, 0, b.length));
    }

    @Test
    void layoutMatchesTheDiagram() {
        byte[] b = RecordFormat.encode(Rec.of(7, "k", 1L), Codec.STRING, Codec.LONG);
        // 12 frame + 1 type + 8 ts + 4 count + (4 + 1 key) + (4 + 8 value)
        assertEquals(42, b.length);
        ByteBuffer bb = ByteBuffer.wrap(b);
        assertEquals(b.length - 12, bb.getInt(0));
        assertEquals(RecordFormat.crc(b, 12, b.length - 12), bb.getInt(4), "body CRC32C");
        assertEquals(RecordFormat.crc(b, 0, 8), bb.getInt(8), "frame CRC32C over length and body CRC32C");
        assertEquals(RecordFormat.TYPE_COMMIT, b[12]);
        assertEquals(7L, bb.getLong(13));
        assertEquals(1, bb.getInt(RecordFormat.COUNT_OFFSET));
        assertEquals(1, bb.getInt(RecordFormat.WRITES_OFFSET));
        assertEquals('k', b[RecordFormat.WRITES_OFFSET + 4]);
        assertEquals(8, bb.getInt(RecordFormat.WRITES_OFFSET + 5));
    }

    @Test
    void everySingleBitFlipIsDetected() {
        byte[] b =
                RecordFormat.encode(new Rec<String, Long>(9).with("x", 3L).with("yy", null), Codec.STRING, Codec.LONG);
        for (int i = 0; i < b.length * 8; i++) {
            byte[] c = b.clone();
            c[i / 8] ^= (byte) (1 << (i % 8));
            assertEquals(-1, RecordFormat.validRecordAt(c, 0, c.length), "flip of bit " + i + " went unnoticed");
        }
    }

    @Test
    void shortBufferIsNotARecord() {
        byte[] b = RecordFormat.encode(Rec.of(9, "x", 3L), Codec.STRING, Codec.LONG);
        for (int end = 0; end < b.length; end++) {
            assertEquals(-1, RecordFormat.validRecordAt(b, 0, end));
        }
    }

    @Test
    void segmentNamesSortByTimestamp() {
        assertEquals("log-00000000000000000042.seg", RecordFormat.segmentName(42));
        assertEquals(42, RecordFormat.parseSegmentName("log-00000000000000000042.seg"));
        assertEquals(-1, RecordFormat.parseSegmentName("log-42.seg"));
        assertEquals(Long.MAX_VALUE, RecordFormat.parseSegmentName(RecordFormat.segmentName(Long.MAX_VALUE)));
        assertEquals(17, Checkpoints.parseName(Checkpoints.name(17)));
    }

    @Test
    void emptyCommitIsRefused() {
        assertThrows(
                IllegalArgumentException.class,
                () -> RecordFormat.encode(new Rec<String, Long>(1), Codec.STRING, Codec.LONG));
    }
}
