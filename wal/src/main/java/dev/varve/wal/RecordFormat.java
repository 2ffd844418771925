package dev.varve.wal;

import dev.varve.spi.CommitRecord;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * The on-disk layout of log segments and their records. All integers are big-endian.
 *
 * <h2>Segment file {@code log-<firstCommitTs, 20 digits>.seg}</h2>
 * <pre>
 *   0               4               8                              16                             24              28
 *   +---------------+---------------+------------------------------+------------------------------+---------------+
 *   | magic "VRVL"  | format version| first commit ts (int64)      | previous commit ts (int64)   | CRC32C of 0-24|
 *   +---------------+---------------+------------------------------+------------------------------+---------------+
 *   | record | record | ... (from offset 28)
 * </pre>
 * <i>previous commit ts</i> is the timestamp of the last record logged before this segment (or
 * covered by the checkpoint it follows), so recovery can tell a missing segment from a gap in
 * timestamps. A segment is created, its header written and forced, and the directory forced,
 * before any record goes in.
 *
 * <h2>Record (format version 2)</h2>
 * <pre>
 *   0               4               8               12  13                             21              25
 *   +---------------+---------------+---------------+---+------------------------------+---------------+----------
 *   | length        | body CRC32C   | frame CRC32C  |typ| commit timestamp (int64)     | write count   | writes ...
 *   +---------------+---------------+---------------+---+------------------------------+---------------+----------
 *   length = bytes after the frame (type .. end of writes); the body CRC32C covers exactly those.
 *   frame CRC32C = CRC32C of bytes 0-8 (length and body CRC32C).
 *
 *   each write:
 *   +---------------+-------------------+---------------+-------------------+
 *   | key length    | key bytes         | value length  | value bytes       |
 *   +---------------+-------------------+---------------+-------------------+
 *   value length = -1 (no value bytes) marks a tombstone (the key was removed).
 * </pre>
 *
 * <h2>Recovery rule</h2>
 * Records are read in order. A record that is short (the file ends inside it), has an implausible
 * length, or fails a CRC ends the valid log <em>only if nothing intact follows it</em> in the
 * newest segment: that is a torn tail, left by a crash during a write, and it is truncated. If an
 * intact record can be found anywhere after it, or the damage is in an older segment, the log is
 * corrupt and recovery stops with a {@link CorruptLogException} naming the file and offset:
 * committed data is never skipped silently.
 *
 * <p>Looking for an intact record after damage tries every later offset. The frame CRC32C makes
 * that linear in the size of the tail: a body (up to the whole tail) is checksummed only where
 * 8 bytes checksum to the 4 after them, which bytes not written as a frame do with probability
 * 2<sup>-32</sup> per offset (a payload deliberately holding encoded frames can still cost one
 * body checksum per such frame). Version 1 (no frame CRC, quadratic scan) is refused on open.
 */
final class RecordFormat {

    static final int SEGMENT_MAGIC = 0x5652564C; // "VRVL"
    static final int FORMAT_VERSION = 2;
    static final int SEGMENT_HEADER_BYTES = 28;
    static final int HDR_MAGIC = 0;
    static final int HDR_VERSION = 4;
    static final int HDR_FIRST_TS = 8;
    static final int HDR_PREV_TS = 16;
    static final int HDR_CRC = 24;

    static final int LENGTH_OFFSET = 0;
    static final int CRC_OFFSET = 4;
    static final int FRAME_CRC_OFFSET = 8;
    /** Bytes before the CRC-covered body: length, body CRC, frame CRC. */
    static final int FRAME_BYTES = 12;
    static final int TYPE_OFFSET = 12;
    static final int TS_OFFSET = 13;
    static final int COUNT_OFFSET = 21;
    static final int WRITES_OFFSET = 25;
    /** Smallest body: type, timestamp, count, one write of empty key and tombstone. */
    static final int MIN_BODY_BYTES = 1 + 8 + 4 + 4 + 4;
    /** Largest body accepted on read: anything longer is damage, not a record. */
    static final int MAX_BODY_BYTES = Integer.MAX_VALUE - 64;

    static final byte TYPE_COMMIT = 1;
    static final int TOMBSTONE = -1;

    private static final ThreadLocal<CRC32C> CRC = ThreadLocal.withInitial(CRC32C::new);

    private RecordFormat() {}

    static String segmentName(long firstTs) {
        return String.format("log-%020d.seg", firstTs);
    }

    /** The first commit timestamp of a segment file name, or -1 if it is not one. */
    static long parseSegmentName(String name) {
        if (name.length() != 28 || !name.startsWith("log-") || !name.endsWith(".seg")) {
            return -1;
        }
        try {
            return Long.parseLong(name.substring(4, 24));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    static int crc(byte[] b, int off, int len) {
        CRC32C c = CRC.get();
        c.reset();
        c.update(b, off, len);
        return (int) c.getValue();
    }

    static ByteBuffer segmentHeader(long firstTs, long prevTs) {
        ByteBuffer b = ByteBuffer.allocate(SEGMENT_HEADER_BYTES).order(ByteOrder.BIG_ENDIAN);
        b.putInt(HDR_MAGIC, SEGMENT_MAGIC).putInt(HDR_VERSION, FORMAT_VERSION)
                .putLong(HDR_FIRST_TS, firstTs).putLong(HDR_PREV_TS, prevTs);
        b.putInt(HDR_CRC, crc(b.array(), 0, HDR_CRC));
        return b;
    }

    /**
     * Encodes one commit into a framed record: length, body CRC32C, frame CRC32C, then the body.
     *
     * @throws IllegalArgumentException if a codec refuses a key or value, or the record is too big
     */
    static <K, V> byte[] encode(CommitRecord<K, V> record, Codec<K> keyCodec, Codec<V> valueCodec) {
        int n = record.size();
        if (n < 1) {
            throw new IllegalArgumentException("commit " + record.commitTimestamp() + " has no writes");
        }
        byte[][] keys = new byte[n][];
        byte[][] values = new byte[n][];
        long total = WRITES_OFFSET;
        for (int i = 0; i < n; i++) {
            K k = record.key(i);
            if (k == null) {
                throw new NullPointerException("key " + i + " of commit " + record.commitTimestamp() + " is null");
            }
            keys[i] = keyCodec.encode(k);
            V v = record.value(i);
            values[i] = v == null ? null : valueCodec.encode(v);
            total += 8L + keys[i].length + (values[i] == null ? 0 : values[i].length);
        }
        if (total - FRAME_BYTES > MAX_BODY_BYTES) {
            throw new IllegalArgumentException("commit " + record.commitTimestamp() + " encodes to "
                    + total + " bytes, above the record limit of " + MAX_BODY_BYTES);
        }
        byte[] out = new byte[(int) total];
        ByteBuffer b = ByteBuffer.wrap(out);
        b.putInt(LENGTH_OFFSET, out.length - FRAME_BYTES);
        b.put(TYPE_OFFSET, TYPE_COMMIT).putLong(TS_OFFSET, record.commitTimestamp()).putInt(COUNT_OFFSET, n);
        b.position(WRITES_OFFSET);
        for (int i = 0; i < n; i++) {
            b.putInt(keys[i].length).put(keys[i]);
            if (values[i] == null) {
                b.putInt(TOMBSTONE);
            } else {
                b.putInt(values[i].length).put(values[i]);
            }
        }
        b.putInt(CRC_OFFSET, crc(out, FRAME_BYTES, out.length - FRAME_BYTES));
        b.putInt(FRAME_CRC_OFFSET, crc(out, 0, FRAME_CRC_OFFSET));
        return out;
    }

    /**
     * Whether a whole, checksum-valid record starts at {@code off} of {@code buf[0, end)}.
     *
     * @return the record's total size (frame and body), or -1 if there is none
     */
    static int validRecordAt(byte[] buf, int off, int end) {
        int len = plausibleBodyLength(buf, off, end);
        return len >= 0 && bodyCrcMatches(buf, off, len) ? len + FRAME_BYTES : -1;
    }

    /**
     * The checks of {@link #validRecordAt} that cost a constant (no body checksum): whether the
     * frame at {@code off} is intact and could start a record of {@code buf[0, end)}.
     *
     * @return the body length it announces, or -1 if it cannot be a record
     */
    static int plausibleBodyLength(byte[] buf, int off, int end) {
        if (end - off < FRAME_BYTES + MIN_BODY_BYTES) {
            return -1;
        }
        int len = getInt(buf, off + LENGTH_OFFSET);
        if (len < MIN_BODY_BYTES || len > end - off - FRAME_BYTES) {
            return -1;
        }
        if (buf[off + TYPE_OFFSET] != TYPE_COMMIT) {
            return -1;
        }
        if (getInt(buf, off + FRAME_CRC_OFFSET) != crc(buf, off, FRAME_CRC_OFFSET)) {
            return -1;
        }
        return len;
    }

    /** Whether the body of {@code len} bytes of the frame at {@code off} passes its CRC32C. */
    static boolean bodyCrcMatches(byte[] buf, int off, int len) {
        return getInt(buf, off + CRC_OFFSET) == crc(buf, off + FRAME_BYTES, len);
    }

    private static int getInt(byte[] b, int at) {
        return (b[at] & 0xFF) << 24 | (b[at + 1] & 0xFF) << 16 | (b[at + 2] & 0xFF) << 8 | (b[at + 3] & 0xFF);
    }

    /** Receives the decoded writes of one record. */
    interface WriteSink {
        void write(long commitTs, int keyOff, int keyLen, int valueOff, int valueLen);
    }

    /**
     * Walks the writes of a checksum-valid record at {@code off} (size {@code total}); checks its
     * structure.
     *
     * @return the commit timestamp
     * @throws IllegalArgumentException describing the structural problem
     */
    static long walk(byte[] buf, int off, int total, WriteSink sink) {
        ByteBuffer b = ByteBuffer.wrap(buf);
        int end = off + total;
        long ts = b.getLong(off + TS_OFFSET);
        int count = b.getInt(off + COUNT_OFFSET);
        if (count < 1) {
            throw new IllegalArgumentException("write count " + count);
        }
        int p = off + WRITES_OFFSET;
        for (int i = 0; i < count; i++) {
            if (end - p < 8) {
                throw new IllegalArgumentException("write " + i + " of " + count + " runs past the record");
            }
            int kl = b.getInt(p);
            if (kl < 0 || kl > end - p - 8) {
                throw new IllegalArgumentException("key length " + kl + " of write " + i);
            }
            int ko = p + 4;
            p = ko + kl;
            int vl = b.getInt(p);
            if (vl < TOMBSTONE || vl > end - p - 4) {
                throw new IllegalArgumentException("value length " + vl + " of write " + i);
            }
            int vo = p + 4;
            p = vo + Math.max(vl, 0);
            sink.write(ts, ko, kl, vo, vl);
        }
        if (p != end) {
            throw new IllegalArgumentException((end - p) + " bytes left after " + count + " writes");
        }
        return ts;
    }
}
