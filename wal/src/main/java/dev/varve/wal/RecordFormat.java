// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import dev.varve.Codec;
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
 * <h2>Records (format version 4; version 3, which has no type 3, is read too)</h2>
 * Every record starts with the same frame; the type byte after it says what follows.
 * <pre>
 *   commit record (type 1):
 *   0               4               8               12  13                             21              25
 *   +---------------+---------------+---------------+---+------------------------------+---------------+----------
 *   | length        | body CRC32C   | frame CRC32C  | 1 | commit timestamp (int64)     | write count   | writes ...
 *   +---------------+---------------+---------------+---+------------------------------+---------------+----------
 *   length = bytes after the frame (type .. end of writes); the body CRC32C covers exactly those.
 *   frame CRC32C = CRC32C of bytes 0-8 (length and body CRC32C).
 *
 *   each write:
 *   +---------------+-------------------+---------------+-------------------+
 *   | key length    | key bytes         | value length  | value bytes       |
 *   +---------------+-------------------+---------------+-------------------+
 *   value length = -1 (no value bytes) marks a tombstone (the key was removed).
 *
 *   commit record across maps (type 3): as type 1, but each write starts with its map id
 *   (int32; 0 = the default map, others as in the map catalog, MapCatalog), keys and values
 *   encoded with that map's codecs. A commit that writes only the default map is type 1.
 *
 *   forced marker (type 2), 29 bytes:
 *   0               4               8               12  13                             21                             29
 *   +---------------+---------------+---------------+---+------------------------------+------------------------------+
 *   | length = 17   | body CRC32C'  | frame CRC32C  | 2 | own offset P (int64)         | forced offset F (int64)      |
 *   +---------------+---------------+---------------+---+------------------------------+------------------------------+
 *   F = every byte of this segment below offset F had been forced when the marker was written
 *   (so F is at most P). P = the marker's own offset in its segment. body CRC32C' = CRC32C of the
 *   segment's first commit ts (int64, as in its header) followed by the body: a marker is
 *   intact only in the segment it was written for and only at offset P, so marker bytes inside
 *   a value (a copy of another log, a crafted blob) or copied elsewhere in the file never count.
 * </pre>
 * The writer puts a marker at the start of the first write after a force (the next group's
 * write, or, when the writer goes idle first, a write of its own), so a marker costs no force:
 * what it states was already true when it was written. {@code close()} and recovery write one
 * after their last force and force it.
 *
 * <h2>Recovery rule</h2>
 * Records are read in order. A record that is short (the file ends inside it), has an implausible
 * length, or fails a CRC is damage. Damage in a segment that has a successor is corruption (the
 * writer forces a segment before starting the next). In the newest segment, let F be the largest
 * forced offset stated by an intact marker after the damage (markers before it state less):
 * damage below F is corruption, since those bytes were forced; damage at or after F is in the
 * part never known to be forced, a torn tail left by a crash or a power loss, and the segment is
 * cut there, together with any intact records after it (written, never forced: RELAXED may lose
 * them, FULL never acknowledged them). Corruption stops recovery with a
 * {@link CorruptLogException} naming the file and offset: committed data is never skipped
 * silently. A forced record can still be cut if the damage also destroyed every marker after it:
 * a bit flip in the last forced group together with a power loss before its idle marker reached
 * the device.
 *
 * <p>Looking for intact records after damage starts after the damaged record when its frame is
 * intact (its length is then trustworthy: the search never looks inside its value), and at the next
 * byte otherwise; a record whose intact frame says it runs past the end of the file is a torn
 * tail at once (nothing was written after it). The search tries every later offset, and steps
 * over each intact record it finds. The frame CRC32C makes that linear in the size of the tail: a body (up to the
 * whole tail) is checksummed only where 8 bytes checksum to the 4 after them, which bytes not
 * written as a frame do with probability 2<sup>-32</sup> per offset (a payload deliberately holding
 * encoded frames can still cost one body checksum per such frame). Versions 1 (no frame CRC) and
 * 2 (no markers) are refused on open.
 */
final class RecordFormat {

    static final int SEGMENT_MAGIC = 0x5652564C; // "VRVL"
    static final int FORMAT_VERSION = 4;
    /** The oldest format version recovery reads (3: no records of type 3). */
    static final int OLDEST_READ_VERSION = 3;

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
    /** Smallest commit body: type, timestamp, count, one write of empty key and tombstone. */
    static final int MIN_BODY_BYTES = 1 + 8 + 4 + 4 + 4;
    /** A marker's own offset in its segment. */
    static final int MARKER_POSITION_OFFSET = 13;
    /** The forced offset of a marker. */
    static final int FORCED_OFFSET = 21;
    /** A marker's body: type, own offset and forced offset. */
    static final int MARKER_BODY_BYTES = 1 + 8 + 8;
    /** A marker's total size, also the smallest record. */
    static final int MARKER_RECORD_BYTES = FRAME_BYTES + MARKER_BODY_BYTES;
    /** Largest body accepted on read: anything longer is damage, not a record. */
    static final int MAX_BODY_BYTES = Integer.MAX_VALUE - 64;

    static final byte TYPE_COMMIT = 1;
    static final byte TYPE_FORCED = 2;
    static final byte TYPE_COMMIT_MAPS = 3;
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
        b.putInt(HDR_MAGIC, SEGMENT_MAGIC)
                .putInt(HDR_VERSION, FORMAT_VERSION)
                .putLong(HDR_FIRST_TS, firstTs)
                .putLong(HDR_PREV_TS, prevTs);
        b.putInt(HDR_CRC, crc(b.array(), 0, HDR_CRC));
        return b;
    }

    /**
     * Encodes one commit into a framed record: length, body CRC32C, frame CRC32C, then the body.
     *
     * @throws IllegalArgumentException if a codec refuses a key or value, or the record is too big
     */
    static <K, V> byte[] encode(CommitRecord<K, V> record, Codec<K> keyCodec, Codec<V> valueCodec) {
        return encode(record, MapCatalog.unsaved(keyCodec, valueCodec));
    }

    /** Whether a format version is one recovery reads. */
    static boolean readable(int version) {
        return version >= OLDEST_READ_VERSION && version <= FORMAT_VERSION;
    }

    /**
     * Encodes one commit into a framed record, each write with its map's codecs from {@code
     * maps}: type 1 if every write is to the default map, type 3 otherwise.
     *
     * @throws IllegalArgumentException if a codec refuses a key or value, or the record is too big
     * @throws IllegalStateException if a write's map is not open in {@code maps}
     */
    static byte[] encode(CommitRecord<?, ?> record, MapCatalog maps) {
        int n = record.size();
        if (n < 1) {
            throw new IllegalArgumentException("commit " + record.commitTimestamp() + " has no writes");
        }
        byte[][] keys = new byte[n][];
        byte[][] values = new byte[n][];
        int[] mapIds = null;
        long total = WRITES_OFFSET;
        for (int i = 0; i < n; i++) {
            Object k = record.key(i);
            if (k == null) {
                throw new NullPointerException("key " + i + " of commit " + record.commitTimestamp() + " is null");
            }
            int map = record.map(i);
            if (map != 0 && mapIds == null) {
                mapIds = new int[n];
            }
            if (mapIds != null) {
                mapIds[i] = map;
            }
            keys[i] = maps.keyCodec(map).encode(k);
            Object v = record.value(i);
            values[i] = v == null ? null : maps.valueCodec(map).encode(v);
            total += 8L + keys[i].length + (values[i] == null ? 0 : values[i].length);
        }
        if (mapIds != null) {
            total += 4L * n;
        }
        if (total - FRAME_BYTES > MAX_BODY_BYTES) {
            throw new IllegalArgumentException("commit " + record.commitTimestamp() + " encodes to " + total
                    + " bytes, above the record limit of " + MAX_BODY_BYTES);
        }
        byte[] out = new byte[(int) total];
        ByteBuffer b = ByteBuffer.wrap(out);
        b.putInt(LENGTH_OFFSET, out.length - FRAME_BYTES);
        b.put(TYPE_OFFSET, mapIds == null ? TYPE_COMMIT : TYPE_COMMIT_MAPS)
                .putLong(TS_OFFSET, record.commitTimestamp())
                .putInt(COUNT_OFFSET, n);
        b.position(WRITES_OFFSET);
        for (int i = 0; i < n; i++) {
            if (mapIds != null) {
                b.putInt(mapIds[i]);
            }
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
     * Puts a forced marker at {@code b}'s position: it will be written at offset {@code position}
     * of the segment whose first commit timestamp is {@code segmentFirstTs}, and states that
     * every byte below {@code forcedThrough} was forced (29 bytes).
     */
    static void putMarker(ByteBuffer b, long position, long forcedThrough, long segmentFirstTs) {
        byte[] m = new byte[MARKER_RECORD_BYTES];
        ByteBuffer w = ByteBuffer.wrap(m);
        w.putInt(LENGTH_OFFSET, MARKER_BODY_BYTES)
                .put(TYPE_OFFSET, TYPE_FORCED)
                .putLong(MARKER_POSITION_OFFSET, position)
                .putLong(FORCED_OFFSET, forcedThrough);
        w.putInt(CRC_OFFSET, markerCrc(m, 0, segmentFirstTs));
        w.putInt(FRAME_CRC_OFFSET, crc(m, 0, FRAME_CRC_OFFSET));
        b.put(m);
    }

    /** A forced marker (see {@link #putMarker}), ready to write. */
    static ByteBuffer marker(long position, long forcedThrough, long segmentFirstTs) {
        ByteBuffer b = ByteBuffer.allocate(MARKER_RECORD_BYTES);
        putMarker(b, position, forcedThrough, segmentFirstTs);
        return b.flip();
    }

    /** The body CRC32C' of the marker at {@code off}: salted with its segment's first commit ts. */
    static int markerCrc(byte[] buf, int off, long segmentFirstTs) {
        CRC32C c = CRC.get();
        c.reset();
        byte[] salt = new byte[8];
        ByteBuffer.wrap(salt).putLong(segmentFirstTs);
        c.update(salt, 0, 8);
        c.update(buf, off + FRAME_BYTES, MARKER_BODY_BYTES);
        return (int) c.getValue();
    }

    /**
     * Whether the marker-shaped record at {@code off} (frame intact) is a marker of the segment
     * whose first commit ts is {@code segmentFirstTs}, written at offset {@code position}.
     */
    static boolean markerMatches(byte[] buf, int off, long position, long segmentFirstTs) {
        return getInt(buf, off + CRC_OFFSET) == markerCrc(buf, off, segmentFirstTs)
                && ByteBuffer.wrap(buf).getLong(off + MARKER_POSITION_OFFSET) == position;
    }

    /**
     * The body length an intact frame at {@code off} announces, whether or not the body fits in
     * what was read (the frame, and the type byte after it, must be in {@code buf}), or -1 if the
     * frame is not intact or not shaped like a record.
     */
    static int intactFrameLength(byte[] buf, int off) {
        int len = getInt(buf, off + LENGTH_OFFSET);
        byte type = buf[off + TYPE_OFFSET];
        boolean shaped = isCommit(type)
                ? len >= minBodyBytes(type) && len <= MAX_BODY_BYTES
                : type == TYPE_FORCED && len == MARKER_BODY_BYTES;
        return shaped && getInt(buf, off + FRAME_CRC_OFFSET) == crc(buf, off, FRAME_CRC_OFFSET) ? len : -1;
    }

    /**
     * Whether a whole, checksum-valid commit record starts at {@code off} of {@code buf[0, end)}
     * (markers are checked with their segment's salt and offset instead: {@link #markerMatches}).
     *
     * @return the record's total size (frame and body), or -1 if there is none
     */
    static int validRecordAt(byte[] buf, int off, int end) {
        if (end - off < FRAME_BYTES + 1) {
            return -1;
        }
        int len = plausibleBodyLength(buf, off, end - off);
        return len >= 0 && bodyCrcMatches(buf, off, len) ? len + FRAME_BYTES : -1;
    }

    /**
     * The checks of {@link #validRecordAt} that cost a constant (no body checksum): whether the
     * frame at {@code off} (with the type byte after it, both in {@code buf}) is intact and could
     * start a record of at most {@code available} bytes.
     *
     * @return the body length it announces, or -1 if it cannot be a record
     */
    static int plausibleBodyLength(byte[] buf, int off, long available) {
        if (available < MARKER_RECORD_BYTES) {
            return -1;
        }
        int len = getInt(buf, off + LENGTH_OFFSET);
        byte type = buf[off + TYPE_OFFSET];
        boolean shaped = isCommit(type) ? len >= minBodyBytes(type) : type == TYPE_FORCED && len == MARKER_BODY_BYTES;
        if (!shaped || len > available - FRAME_BYTES) {
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

    /** Whether a record type is a commit (type 1 or 3). */
    static boolean isCommit(byte type) {
        return type == TYPE_COMMIT || type == TYPE_COMMIT_MAPS;
    }

    /** The smallest body of a commit record of {@code type}. */
    private static int minBodyBytes(byte type) {
        return type == TYPE_COMMIT_MAPS ? MIN_BODY_BYTES + 4 : MIN_BODY_BYTES;
    }

    private static int getInt(byte[] b, int at) {
        return (b[at] & 0xFF) << 24 | (b[at + 1] & 0xFF) << 16 | (b[at + 2] & 0xFF) << 8 | (b[at + 3] & 0xFF);
    }

    /** Receives the decoded writes of one record. */
    interface WriteSink {
        void write(long commitTs, int keyOff, int keyLen, int valueOff, int valueLen);
    }

    /** Receives the decoded writes of one record, with each write's map id. */
    interface MapWriteSink {
        void write(long commitTs, int mapId, int keyOff, int keyLen, int valueOff, int valueLen);
    }

    /**
     * Walks the writes of a checksum-valid record at {@code off} (size {@code total}); checks its
     * structure.
     *
     * @return the commit timestamp
     * @throws IllegalArgumentException describing the structural problem
     */
    static long walk(byte[] buf, int off, int total, WriteSink sink) {
        return walk(buf, off, total, (ts, map, ko, kl, vo, vl) -> sink.write(ts, ko, kl, vo, vl));
    }

    /**
     * Walks the writes of a checksum-valid commit record (type 1 or 3), with their map ids (0 for
     * every write of a type 1 record); checks its structure.
     *
     * @return the commit timestamp
     * @throws IllegalArgumentException describing the structural problem
     */
    static long walk(byte[] buf, int off, int total, MapWriteSink sink) {
        ByteBuffer b = ByteBuffer.wrap(buf);
        boolean withMaps = buf[off + TYPE_OFFSET] == TYPE_COMMIT_MAPS;
        int end = off + total;
        long ts = b.getLong(off + TS_OFFSET);
        int count = b.getInt(off + COUNT_OFFSET);
        if (count < 1) {
            throw new IllegalArgumentException("write count " + count);
        }
        int p = off + WRITES_OFFSET;
        for (int i = 0; i < count; i++) {
            int map = 0;
            if (withMaps) {
                if (end - p < 12) {
                    throw new IllegalArgumentException("write " + i + " of " + count + " runs past the record");
                }
                map = b.getInt(p);
                if (map < 0) {
                    throw new IllegalArgumentException("map id " + map + " of write " + i);
                }
                p += 4;
            }
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
            sink.write(ts, map, ko, kl, vo, vl);
        }
        if (p != end) {
            throw new IllegalArgumentException((end - p) + " bytes left after " + count + " writes");
        }
        return ts;
    }
}
