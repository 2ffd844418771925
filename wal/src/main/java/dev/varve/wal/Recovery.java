package dev.varve.wal;

import dev.varve.spi.StoreAccess;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Rebuilds a store from a log directory: the newest checkpoint, then every log record after it,
 * in commit order, through {@link StoreAccess#replay}. Cuts off a torn tail; reports anything else
 * as {@link CorruptLogException} (the rule is written beside the format, in {@link RecordFormat}).
 * Runs once, on the opening thread, while the directory lock is held.
 */
final class Recovery<K, V> {

    /** A segment recovered intact, with the last commit timestamp it holds. */
    record Segment(long firstTs, Path path, long lastTs) {}

    /** What recovery found. */
    record Result(long checkpointTs, Path checkpoint, List<Segment> segments, long lastTs, long records) {}

    private final FileIo io;
    private final Path dir;
    private final StoreAccess<K, V> store;
    private final Codec<K> keyCodec;
    private final Codec<V> valueCodec;
    /** See {@link #scanCrcBytes()}; confined to the thread running {@link #run()}. */
    private long scanCrcBytes;
    /** See {@link #coveredSkipped()}; confined like {@link #scanCrcBytes}. */
    private int coveredSkipped;

    /*
     * Implementation notes.
     *
     * (1) Everything run() returns is durable when it returns: the loaded checkpoint and the
     *     newest kept segment are forced, then the directory. Recovery reads through the OS page
     *     cache, which after a process crash (kill -9, OOM kill) still holds bytes that process
     *     wrote and never forced, and directory entries it never forced; the log built on top (a new segment,
     *     forced, and FULL commits acknowledged in it) must not outlive them at a power loss, or
     *     the next recovery finds a missing segment or a damaged record followed by newer
     *     segments. PostgreSQL syncs its data directory at start-up after a crash for the same
     *     reason. Only the newest kept segment can hold unforced bytes: a segment gets a successor
     *     only from WalLog.roll, which forces it first, or from the first roll after a recovery,
     *     which forced it here; a sealed segment is never written again, and recovery's own
     *     truncation forces. (Format version 1 logs, written before this rule, are refused.)
     * (2) Files are replayed oldest first and stop at the first damage: the result is a prefix of
     *     the commit order (the rule beside the format, in RecordFormat).
     * (3) A segment whose successor's intact header names a predecessor commit at or below the
     *     checkpoint holds only covered commits (a header's previous-commit field is the last
     *     commit logged before it, or one the checkpoint covers): it is kept, with that commit as
     *     its last, and not read. Such segments exist only between a checkpoint's rename and the
     *     deletion of what it covers; damage in them is not reported, as nothing in them is
     *     needed. The newest segment is always read.
     */

    Recovery(FileIo io, Path dir, StoreAccess<K, V> store, Codec<K> keyCodec, Codec<V> valueCodec) {
        this.io = io;
        this.dir = dir;
        this.store = store;
        this.keyCodec = keyCodec;
        this.valueCodec = valueCodec;
    }

    Result run() throws IOException {
        TreeMap<Long, Path> segments = new TreeMap<>();
        TreeMap<Long, Path> checkpoints = new TreeMap<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                long ts = RecordFormat.parseSegmentName(name);
                if (ts >= 0) {
                    segments.put(ts, p);
                    continue;
                }
                ts = Checkpoints.parseName(name);
                if (ts >= 0) {
                    checkpoints.put(ts, p);
                } else if (name.equals(Checkpoints.TEMP_NAME)) {
                    io.delete(p); // an unfinished checkpoint: never renamed, never relied on
                }
            }
        }
        long checkpointTs = 0;
        Path checkpoint = null;
        if (!checkpoints.isEmpty()) {
            Map.Entry<Long, Path> newest = checkpoints.lastEntry();
            checkpoint = newest.getValue();
            checkpointTs = Checkpoints.load(io, checkpoint, store, keyCodec, valueCodec);
            if (checkpointTs != newest.getKey()) {
                throw new CorruptLogException(checkpoint, 0, "checkpoint holds snapshot " + checkpointTs
                        + " but its name says " + newest.getKey(), null);
            }
            for (Path older : checkpoints.headMap(newest.getKey()).values()) {
                io.delete(older); // left by a crash between a newer checkpoint's rename and this cleanup
            }
        }

        List<Segment> kept = new ArrayList<>();
        long lastTs = checkpointTs;   // the newest commit known so far (checkpoint or log)
        long lastLogTs = -1;          // the newest commit read from the log; -1 before the first segment
        long records = 0;
        Map.Entry<Long, Path> e = segments.firstEntry();
        while (e != null) {
            Map.Entry<Long, Path> next = segments.higherEntry(e.getKey());
            Path file = e.getValue();
            boolean newest = next == null;
            long coveredThrough = newest || checkpoint == null || lastLogTs > checkpointTs
                    ? -1 : previousTsOf(next.getValue());
            if (coveredThrough >= 0 && coveredThrough <= checkpointTs) {
                // invariant 3: every record here is at or below the next header's predecessor,
                // which the checkpoint covers: kept (a checkpoint deletes it later), not read
                kept.add(new Segment(e.getKey(), file, coveredThrough));
                lastLogTs = coveredThrough;
                coveredSkipped++;
                e = next;
                continue;
            }
            byte[] buf = readAll(file);
            int size = buf.length;
            ByteBuffer b = ByteBuffer.wrap(buf);
            boolean headerOk = size >= RecordFormat.SEGMENT_HEADER_BYTES
                    && b.getInt(RecordFormat.HDR_MAGIC) == RecordFormat.SEGMENT_MAGIC
                    && b.getInt(RecordFormat.HDR_CRC) == RecordFormat.crc(buf, 0, RecordFormat.HDR_CRC);
            if (!headerOk) {
                int intact = newest ? nextIntact(buf, RecordFormat.SEGMENT_HEADER_BYTES - 1) : -1;
                if (!newest || intact >= 0) {
                    throw new CorruptLogException(file, 0, "segment header is damaged"
                            + (intact >= 0 ? " and an intact record follows at offset " + intact : "")
                            + " (segment is not the newest or holds records)", null);
                }
                removeEmptyNewest(file); // created, then the crash came before its header was forced
                break;
            }
            int version = b.getInt(RecordFormat.HDR_VERSION);
            if (version != RecordFormat.FORMAT_VERSION) {
                throw new CorruptLogException(file, RecordFormat.HDR_VERSION, "segment has format version " + version
                        + (version > 0 && version < RecordFormat.FORMAT_VERSION ? ", written by an older release" : "")
                        + "; this release reads format version " + RecordFormat.FORMAT_VERSION
                        + " only (no conversion: recover the directory with the release that wrote it)", null);
            }
            long firstTs = b.getLong(RecordFormat.HDR_FIRST_TS);
            long prevTs = b.getLong(RecordFormat.HDR_PREV_TS);
            if (firstTs != e.getKey()) {
                throw new CorruptLogException(file, RecordFormat.HDR_FIRST_TS, "header says first commit "
                        + firstTs + " but the file name says " + e.getKey(), null);
            }
            // Contiguous if the header's predecessor is what we read last, or if the whole gap
            // between them is covered by the checkpoint (commits that were visible, hence in the
            // checkpoint, but never reached the log before a crash; or segments the checkpoint
            // let us delete).
            boolean contiguous = prevTs == lastLogTs || (prevTs <= checkpointTs && lastLogTs <= checkpointTs);
            if (!contiguous) {
                throw new CorruptLogException(file, RecordFormat.HDR_PREV_TS, "segment follows commit " + prevTs
                        + " but the log before it ends at " + (lastLogTs < 0 ? "checkpoint " + checkpointTs
                        : "commit " + lastLogTs) + ": a segment is missing", null);
            }
            lastLogTs = prevTs;
            int off = RecordFormat.SEGMENT_HEADER_BYTES;
            boolean first = true;
            while (off < size) {
                int total = RecordFormat.validRecordAt(buf, off, size);
                if (total < 0) {
                    int intact = nextIntact(buf, off);
                    if (!newest || intact >= 0) {
                        throw new CorruptLogException(file, off, "damaged record (short, bad length or bad CRC32C)"
                                + (intact >= 0 ? " followed by an intact record at offset " + intact
                                : " in a segment followed by newer segments"), null);
                    }
                    truncate(file, off); // torn tail: the crash came during this write
                    break;
                }
                long ts = ByteBuffer.wrap(buf).getLong(off + RecordFormat.TS_OFFSET);
                if (first ? ts != firstTs || ts <= lastLogTs : ts <= lastLogTs) {
                    throw new CorruptLogException(file, off, "record has commit timestamp " + ts
                            + (first ? " but the segment starts at " + firstTs : " not above the previous " + lastLogTs),
                            null);
                }
                replayRecord(file, off, buf, total, ts > checkpointTs);
                first = false;
                records++;
                lastLogTs = ts;
                off += total;
            }
            if (off == RecordFormat.SEGMENT_HEADER_BYTES && newest) {
                removeEmptyNewest(file); // its name could collide with the next segment's
            } else {
                kept.add(new Segment(firstTs, file, lastLogTs));
            }
            e = next;
        }
        lastTs = Math.max(lastTs, lastLogTs);
        makeDurable(checkpoint, kept);
        return new Result(checkpointTs, checkpoint, kept, lastTs, records);
    }

    /**
     * Forces what recovery trusts and may not be durable: the checkpoint it loaded, the newest
     * segment it kept, then the directory (invariant 1).
     */
    private void makeDurable(Path checkpoint, List<Segment> kept) throws IOException {
        if (checkpoint != null) {
            force(checkpoint);
        }
        if (!kept.isEmpty()) {
            force(kept.get(kept.size() - 1).path());
        }
        io.forceDirectory(dir);
    }

    private void force(Path file) throws IOException {
        try (FileIo.Channel ch = io.openExisting(file)) {
            ch.force();
        }
    }

    private void replayRecord(Path file, int off, byte[] buf, int total, boolean apply) {
        try {
            RecordFormat.walk(buf, off, total, (ts, ko, kl, vo, vl) -> { });
        } catch (IllegalArgumentException ex) {
            throw new CorruptLogException(file, off, "record passes its CRC32C but is malformed: " + ex.getMessage(), ex);
        }
        if (!apply) {
            return; // covered by the checkpoint
        }
        RecordFormat.walk(buf, off, total, (ts, ko, kl, vo, vl) -> {
            K k;
            V v;
            try {
                k = keyCodec.decode(buf, ko, kl);
                v = vl == RecordFormat.TOMBSTONE ? null : valueCodec.decode(buf, vo, vl);
            } catch (RuntimeException ex) {
                throw new CorruptLogException(file, off, "cannot decode a write of commit " + ts + " with "
                        + keyCodec + "/" + valueCodec + ": " + ex.getMessage(), ex);
            }
            store.replay(ts, k, v);
        });
    }

    /** The offset of the first intact record strictly after {@code from}, or -1. */
    private int nextIntact(byte[] buf, int from) {
        for (int p = from + 1; p + RecordFormat.FRAME_BYTES + RecordFormat.MIN_BODY_BYTES <= buf.length; p++) {
            int len = RecordFormat.plausibleBodyLength(buf, p, buf.length);
            if (len >= 0) {
                scanCrcBytes += len;
                if (RecordFormat.bodyCrcMatches(buf, p, len)) {
                    return p;
                }
            }
        }
        return -1;
    }

    /** Body bytes checksummed while searching for intact records after damage (tests bound it). */
    long scanCrcBytes() {
        return scanCrcBytes;
    }

    /** The previous-commit field of a segment's header if the header is intact, else -1. */
    private long previousTsOf(Path file) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(RecordFormat.SEGMENT_HEADER_BYTES);
        try (FileIo.Channel ch = io.openExisting(file)) {
            while (h.hasRemaining() && ch.read(h, h.position()) >= 0) {
                // until the header is read or the file ends
            }
        }
        boolean intact = !h.hasRemaining() && h.getInt(RecordFormat.HDR_MAGIC) == RecordFormat.SEGMENT_MAGIC
                && h.getInt(RecordFormat.HDR_VERSION) == RecordFormat.FORMAT_VERSION
                && h.getInt(RecordFormat.HDR_CRC) == RecordFormat.crc(h.array(), 0, RecordFormat.HDR_CRC);
        return intact ? h.getLong(RecordFormat.HDR_PREV_TS) : -1;
    }

    /** Segments skipped because the checkpoint covers them (tests look at it). */
    int coveredSkipped() {
        return coveredSkipped;
    }

    private byte[] readAll(Path file) throws IOException {
        try (FileIo.Channel ch = io.openExisting(file)) {
            long size = ch.size();
            if (size > Integer.MAX_VALUE - 16) {
                throw new CorruptLogException(file, 0, "segment of " + size + " bytes is larger than any segment written", null);
            }
            ByteBuffer b = ByteBuffer.allocate((int) size);
            while (b.hasRemaining()) {
                if (ch.read(b, b.position()) < 0) {
                    break;
                }
            }
            return b.position() == b.capacity() ? b.array() : java.util.Arrays.copyOf(b.array(), b.position());
        }
    }

    private void truncate(Path file, long size) throws IOException {
        try (FileIo.Channel ch = io.openExisting(file)) {
            ch.truncate(size);
            ch.force();
        }
    }

    private void removeEmptyNewest(Path file) throws IOException {
        io.delete(file);
        io.forceDirectory(dir);
    }
}
