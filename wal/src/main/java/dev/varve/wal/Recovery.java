// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import dev.varve.Codec;
import dev.varve.spi.StoreAccess;
import dev.varve.wal.events.RecoveryEvent;
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

    static final int READ_WINDOW_BYTES = 64 << 10;
    /** Where recovery reports what it did (System.Logger: the application chooses the backend). */
    static final System.Logger LOG = System.getLogger("dev.varve.wal");

    private final FileIo io;
    private final Path dir;
    private final StoreAccess<K, V> store;
    private final Codec<K> keyCodec;
    private final Codec<V> valueCodec;
    /** Where each write's map goes (MapCatalog C1, C3). */
    private final MapCatalog maps;
    /** See {@link #scanCrcBytes()}; confined to the thread running {@link #run()}. */
    private long scanCrcBytes;
    /** See {@link #coveredSkipped()}; confined like {@link #scanCrcBytes}. */
    private int coveredSkipped;
    /** The read buffer, reused for every segment (R4); confined like the rest. */
    private final Window window = new Window();
    // What readSegment found in the segment it read last.
    private long readPrevTs;
    private long readLastTs;
    private long readRecords;
    private boolean readCut;
    /** The first commit ts of the segment being read: the salt of its markers' CRC. */
    private long readSalt;
    /** The end of the part of the segment its markers vouch for (R5). */
    private long readVouched;

    /*
     * Implementation notes.
     *
     * Steps. run() lists the directory (list: segments and checkpoints by the timestamp in their
     * names; an unfinished checkpoint.tmp is deleted), loads the newest checkpoint
     * (loadCheckpoint: older ones are deleted), replays the segments after it (replay, one
     * segment at a time through readSegment: R2, R3, R5, R6), then forces what it trusts
     * (makeDurable: R1, R5). Each step hands the next a record (Listing, Loaded, Replayed);
     * readSegment leaves what it found in the read* fields, confined to the running thread.
     *
     * (R1) Everything run() returns is durable when it returns: the loaded checkpoint and the
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
     * (R2) Files are replayed oldest first and stop at the first damage: the result is a prefix of
     *     the commit order (the rule beside the format, in RecordFormat).
     * (R3) A segment whose successor's intact header names a predecessor commit at or below the
     *     checkpoint holds only covered commits (what a header's predecessor is: R6): it is kept,
     *     with that commit as its last, and not read. Such segments exist only between a
     *     checkpoint's rename and the deletion of what it covers; damage in them is not reported,
     *     as nothing in them is needed. The newest segment is always read.
     * (R4) Memory is bounded by the largest record, not by the segment: a segment is read through
     *     one Window, a buffer of READ_WINDOW_BYTES refilled as the reading moves on and grown
     *     only to hold a whole record (frame plus body) that does not fit, so to at most the
     *     largest record whose intact frame announces it.
     * (R5) Forced markers (the rule beside the format): in the newest segment, damage below the
     *     forced offset of an intact marker after it is corruption; other damage there is cut.
     *     A marker's forced offset is at most its own offset (else the marker is malformed, and
     *     reported). After forcing the newest segment, recovery appends a marker for its whole
     *     valid end and forces it, unless the segment already ends with a marker stating its own
     *     offset (so repeated opens do not grow it): the next recovery then knows all of it was
     *     forced. The marker is written after the force it states, never before.
     * (R6) Segments chain: a header's previous-commit field is the last commit logged before the
     *     segment, or one the checkpoint covers. A segment follows the log read so far if that
     *     field is the last commit read, or if both are at or below the checkpoint: the gap is
     *     then covered by the checkpoint (commits visible, hence in it, that never reached the
     *     log before a crash, or segments it let a checkpointer delete; Checkpoints (7)).
     *     Otherwise a segment is missing, which is reported.
     */

    Recovery(FileIo io, Path dir, StoreAccess<K, V> store, Codec<K> keyCodec, Codec<V> valueCodec) {
        this(io, dir, store, keyCodec, valueCodec, MapCatalog.unsaved(keyCodec, valueCodec));
    }

    Recovery(FileIo io, Path dir, StoreAccess<K, V> store, Codec<K> keyCodec, Codec<V> valueCodec, MapCatalog maps) {
        this.io = io;
        this.dir = dir;
        this.store = store;
        this.keyCodec = keyCodec;
        this.valueCodec = valueCodec;
        this.maps = maps;
    }

    /**
     * Recovers in three steps, {@link #list}, {@link #loadCheckpoint} and {@link #replay}, then
     * makes what it trusts durable (R1).
     *
     * @return the checkpoint loaded, the segments kept and the newest commit recovered
     * @throws CorruptLogException if damage other than a torn tail is found (the rule in {@link
     *     RecordFormat}), or the newest checkpoint is damaged
     * @throws IOException if a file operation fails
     */
    Result run() throws IOException {
        RecoveryEvent event = new RecoveryEvent();
        event.begin();
        Listing files = list();
        Loaded checkpoint = loadCheckpoint(files.checkpoints());
        Replayed log = replay(files.segments(), checkpoint);
        Path newestFile =
                files.segments().isEmpty() ? null : files.segments().lastEntry().getValue();
        makeDurable(checkpoint.file(), log, newestFile);
        long lastTs = Math.max(checkpoint.ts(), log.lastLogTs()); // the newest commit known (checkpoint or log)
        LOG.log(
                System.Logger.Level.DEBUG,
                "recovered {0}: checkpoint {1}, {2} records replayed from {3} segments, newest commit timestamp {4}",
                dir,
                checkpoint.file() == null ? "none" : checkpoint.file().getFileName() + " (ts " + checkpoint.ts() + ")",
                log.records(),
                log.kept().size(),
                lastTs);
        if (event.shouldCommit()) {
            event.checkpointTimestamp = checkpoint.ts();
            event.records = log.records();
            event.segments = log.kept().size();
            event.tornTailBytes = tornTailBytes;
            event.newestCommitTimestamp = lastTs;
            event.commit();
        }
        return new Result(checkpoint.ts(), checkpoint.file(), log.kept(), lastTs, log.records());
    }

    /** The log's files, by the commit timestamp their names carry. */
    private record Listing(TreeMap<Long, Path> segments, TreeMap<Long, Path> checkpoints) {}

    /** The checkpoint loaded: its snapshot timestamp (0 if none) and file ({@code null} if none). */
    private record Loaded(long ts, Path file) {}

    /**
     * What replaying the segments found: those kept, the newest commit read from them (-1 if
     * none), the records read, and the newest segment's valid and vouched ends (-1 unless it was
     * read and kept; R5).
     */
    private record Replayed(List<Segment> kept, long lastLogTs, long records, long newestEnd, long newestVouched) {}

    /** Step 1: lists the segments and checkpoints in the directory, deleting an unfinished checkpoint.tmp. */
    private Listing list() throws IOException {
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
        return new Listing(segments, checkpoints);
    }

    /**
     * Step 2: loads the newest checkpoint into the store, checks that it holds the snapshot its
     * name says, and deletes the older ones.
     */
    private Loaded loadCheckpoint(TreeMap<Long, Path> checkpoints) throws IOException {
        if (checkpoints.isEmpty()) {
            return new Loaded(0, null);
        }
        Map.Entry<Long, Path> newest = checkpoints.lastEntry();
        Path checkpoint = newest.getValue();
        long checkpointTs = Checkpoints.load(io, checkpoint, store, keyCodec, valueCodec, maps);
        if (checkpointTs != newest.getKey()) {
            throw new CorruptLogException(
                    checkpoint,
                    0,
                    "checkpoint holds snapshot " + checkpointTs + " but its name says " + newest.getKey(),
                    null);
        }
        for (Path older : checkpoints.headMap(newest.getKey()).values()) {
            io.delete(older); // left by a crash between a newer checkpoint's rename and this cleanup
        }
        return new Loaded(checkpointTs, checkpoint);
    }

    /**
     * Step 3: replays the segments oldest first (R2) through {@link #readSegment},
     * skipping those the checkpoint covers (R3), cutting a torn tail and removing a
     * newest segment that holds nothing.
     */
    private Replayed replay(TreeMap<Long, Path> segments, Loaded checkpoint) throws IOException {
        long checkpointTs = checkpoint.ts();
        List<Segment> kept = new ArrayList<>();
        long lastLogTs = -1; // the newest commit read from the log; -1 before the first segment
        long records = 0;
        long newestEnd = -1;
        long newestVouched = -1;
        Map.Entry<Long, Path> e = segments.firstEntry();
        while (e != null) {
            Map.Entry<Long, Path> next = segments.higherEntry(e.getKey());
            Path file = e.getValue();
            boolean newest = next == null;
            long coveredThrough = newest || checkpoint.file() == null || lastLogTs > checkpointTs
                    ? -1
                    : previousTsOf(next.getValue());
            if (coveredThrough >= 0 && coveredThrough <= checkpointTs) {
                // R3: every record here is covered; kept (a checkpoint deletes it later), not read
                kept.add(new Segment(e.getKey(), file, coveredThrough));
                lastLogTs = coveredThrough;
                coveredSkipped++;
                e = next;
                continue;
            }
            long off;
            try (FileIo.Channel ch = io.openExisting(file)) {
                Window w = window.over(ch, ch.size());
                off = readSegment(w, file, e.getKey(), newest, checkpointTs, lastLogTs);
            }
            if (off < 0) {
                removeEmptyNewest(file); // created, then the crash came before its header was forced
                break;
            }
            if (readCut) {
                truncate(file, off); // torn tail (R5)
            }
            lastLogTs = readRecords > 0 ? readLastTs : readPrevTs;
            records += readRecords;
            if (off == RecordFormat.SEGMENT_HEADER_BYTES && newest) {
                removeEmptyNewest(file); // its name could collide with the next segment's
            } else {
                kept.add(new Segment(e.getKey(), file, lastLogTs));
                if (newest) {
                    newestEnd = off;
                    newestVouched = readVouched;
                }
            }
            e = next;
        }
        return new Replayed(kept, lastLogTs, records, newestEnd, newestVouched);
    }

    /**
     * Reads one segment through {@code w}: checks its header, replays its records (those above
     * {@code checkpointTs}), and stops at the end or at a torn tail ({@link #readCut}).
     *
     * @return the offset where the valid part ends, or -1 for a newest segment whose header never
     *     became durable (it holds nothing)
     */
    private long readSegment(Window w, Path file, long nameTs, boolean newest, long checkpointTs, long lastLogTs)
            throws IOException {
        readCut = false;
        readRecords = 0;
        readSalt = nameTs; // the header must say the same (checked below)
        int h = w.ensure(0, RecordFormat.SEGMENT_HEADER_BYTES);
        boolean headerOk = h >= 0
                && getInt(w.buf, RecordFormat.HDR_MAGIC) == RecordFormat.SEGMENT_MAGIC
                && getInt(w.buf, RecordFormat.HDR_CRC) == RecordFormat.crc(w.buf, 0, RecordFormat.HDR_CRC);
        if (!headerOk) {
            long intact = newest
                    ? scan(w, file, RecordFormat.SEGMENT_HEADER_BYTES - 1, Long.MAX_VALUE)
                            .firstIntact()
                    : -1;
            if (!newest || intact >= 0) {
                throw new CorruptLogException(
                        file,
                        0,
                        "segment header is damaged"
                                + (intact >= 0 ? " and an intact record follows at offset " + intact : "")
                                + " (segment is not the newest or holds records)",
                        null);
            }
            return -1;
        }
        int version = getInt(w.buf, RecordFormat.HDR_VERSION);
        if (!RecordFormat.readable(version)) {
            throw new CorruptLogException(
                    file,
                    RecordFormat.HDR_VERSION,
                    "segment has format version " + version
                            + (version > 0 && version < RecordFormat.FORMAT_VERSION
                                    ? ", written by an older release"
                                    : "")
                            + "; this release reads format versions " + RecordFormat.OLDEST_READ_VERSION + " to "
                            + RecordFormat.FORMAT_VERSION
                            + " only (no conversion: recover the directory with the release that wrote it)",
                    null);
        }
        long firstTs = getLong(w.buf, RecordFormat.HDR_FIRST_TS);
        long prevTs = getLong(w.buf, RecordFormat.HDR_PREV_TS);
        if (firstTs != nameTs) {
            throw new CorruptLogException(
                    file,
                    RecordFormat.HDR_FIRST_TS,
                    "header says first commit " + firstTs + " but the file name says " + nameTs,
                    null);
        }
        boolean contiguous = prevTs == lastLogTs || (prevTs <= checkpointTs && lastLogTs <= checkpointTs); // R6
        if (!contiguous) {
            throw new CorruptLogException(
                    file,
                    RecordFormat.HDR_PREV_TS,
                    "segment follows commit " + prevTs
                            + " but the log before it ends at "
                            + (lastLogTs < 0 ? "checkpoint " + checkpointTs : "commit " + lastLogTs)
                            + ": a segment is missing",
                    null);
        }
        readPrevTs = prevTs;
        readVouched = RecordFormat.SEGMENT_HEADER_BYTES;
        long last = prevTs;
        long off = RecordFormat.SEGMENT_HEADER_BYTES;
        while (off < w.size) {
            int total = recordAt(w, off, false);
            if (total < 0) {
                if (!newest) {
                    throw new CorruptLogException(
                            file,
                            off,
                            "damaged record (short, bad length or bad CRC32C)"
                                    + " in a segment followed by newer segments",
                            null);
                }
                // An intact frame's length is trustworthy: never search inside its value, and if it
                // runs past the end of the file, nothing was written after it.
                int fi = w.ensure(off, RecordFormat.FRAME_BYTES + 1);
                int frameLen = fi < 0 ? -1 : RecordFormat.intactFrameLength(w.buf, fi);
                long recordEnd = off + RecordFormat.FRAME_BYTES + (long) frameLen;
                if (frameLen >= 0 && recordEnd > w.size) {
                    readCut = true; // the last write, torn: a torn tail
                    break;
                }
                Scan sc = scan(w, file, frameLen >= 0 ? recordEnd - 1 : off, off);
                if (sc.markerAt() >= 0) {
                    throw new CorruptLogException(
                            file,
                            off,
                            "damaged record (short, bad length or bad CRC32C) below offset " + sc.forced()
                                    + ", which the marker at offset " + sc.markerAt() + " says was forced",
                            null);
                }
                readCut = true; // never known to be forced: a torn tail
                break;
            }
            int i = w.at;
            if (w.buf[i + RecordFormat.TYPE_OFFSET] == RecordFormat.TYPE_FORCED) {
                long forced = markerValue(w, file, off);
                readVouched = forced == off ? off + total : Math.max(readVouched, forced);
                off += total;
                continue;
            }
            long ts = getLong(w.buf, i + RecordFormat.TS_OFFSET);
            boolean first = readRecords == 0;
            if (first ? ts != firstTs || ts <= last : ts <= last) {
                throw new CorruptLogException(
                        file,
                        off,
                        "record has commit timestamp " + ts
                                + (first ? " but the segment starts at " + firstTs : " not above the previous " + last),
                        null);
            }
            replayRecord(file, off, w.buf, i, total, ts > checkpointTs);
            readRecords++;
            last = ts;
            off += total;
        }
        readLastTs = last;
        return off;
    }

    /** Where a search after damage found the first intact record and a marker that proves it forced. */
    private record Scan(long firstIntact, long markerAt, long forced) {}

    /**
     * Looks for intact records after {@code from}, stepping over each one found, until a marker
     * states a forced offset above {@code bound} (or, with {@code Long.MAX_VALUE}, until the first
     * intact record).
     */
    private Scan scan(Window w, Path file, long from, long bound) throws IOException {
        long firstIntact = -1;
        long p = from + 1;
        while (p + RecordFormat.MARKER_RECORD_BYTES <= w.size) {
            int total = recordAt(w, p, true);
            if (total < 0) {
                p++;
                continue;
            }
            if (firstIntact < 0) {
                firstIntact = p;
                if (bound == Long.MAX_VALUE) {
                    break;
                }
            }
            if (w.buf[w.at + RecordFormat.TYPE_OFFSET] == RecordFormat.TYPE_FORCED) {
                long forced = markerValue(w, file, p);
                if (forced > bound) {
                    return new Scan(firstIntact, p, forced);
                }
            }
            p += total;
        }
        return new Scan(firstIntact, -1, -1);
    }

    /** The forced offset of the intact marker at {@code off} (in {@code w} at {@code w.at}). */
    private static long markerValue(Window w, Path file, long off) {
        long forced = getLong(w.buf, w.at + RecordFormat.FORCED_OFFSET);
        if (forced < RecordFormat.SEGMENT_HEADER_BYTES || forced > off) {
            throw new CorruptLogException(
                    file,
                    off,
                    "marker passes its CRC32C but says offset " + forced + " was forced, outside the segment before it",
                    null);
        }
        return forced;
    }

    /**
     * Whether an intact record starts at {@code off}; if so it is whole in {@code w.buf} from
     * {@code w.at}.
     *
     * @return its total size, or -1
     */
    private int recordAt(Window w, long off, boolean scanning) throws IOException {
        int i = w.ensure(off, RecordFormat.FRAME_BYTES + 1);
        if (i < 0) {
            return -1;
        }
        int len = RecordFormat.plausibleBodyLength(w.buf, i, w.size - off);
        if (len < 0) {
            return -1;
        }
        if (scanning) {
            scanCrcBytes += len;
        }
        i = w.ensure(off, RecordFormat.FRAME_BYTES + len);
        w.at = i;
        boolean intact = w.buf[i + RecordFormat.TYPE_OFFSET] == RecordFormat.TYPE_FORCED
                ? RecordFormat.markerMatches(w.buf, i, off, readSalt) // this segment's, written here
                : RecordFormat.bodyCrcMatches(w.buf, i, len);
        return intact ? RecordFormat.FRAME_BYTES + len : -1;
    }

    /**
     * A window over one segment file: {@code buf[0, len)} holds the file's bytes from {@code start}
     * (R4).
     */
    private static final class Window {
        byte[] buf = new byte[READ_WINDOW_BYTES];
        FileIo.Channel ch;
        long size;
        long start;
        int len;
        /** Where {@link #recordAt} left the record it checked. */
        int at;

        Window over(FileIo.Channel channel, long fileSize) {
            ch = channel;
            size = fileSize;
            start = 0;
            len = 0;
            return this;
        }

        /** Makes the file's bytes {@code [pos, pos + n)} available; their index in buf, or -1 past the end. */
        int ensure(long pos, int n) throws IOException {
            if (pos < 0 || n > size - pos) {
                return -1;
            }
            if (pos >= start && pos + n <= start + len) {
                return (int) (pos - start);
            }
            int keep = pos >= start && pos < start + len ? (int) (start + len - pos) : 0;
            if (n > buf.length) {
                byte[] grown = new byte[n]; // a record larger than the window: grow to it, not further
                System.arraycopy(buf, len - keep, grown, 0, keep);
                buf = grown;
            } else {
                System.arraycopy(buf, len - keep, buf, 0, keep);
            }
            start = pos;
            len = keep;
            ByteBuffer dst = ByteBuffer.wrap(buf, len, (int) Math.min(buf.length - len, size - (start + len)));
            while (len < n) {
                int r = ch.read(dst, start + len);
                if (r < 0) {
                    return -1;
                }
                len += r;
            }
            return 0;
        }
    }

    private static int getInt(byte[] b, int at) {
        return ByteBuffer.wrap(b).getInt(at);
    }

    private static long getLong(byte[] b, int at) {
        return ByteBuffer.wrap(b).getLong(at);
    }

    /**
     * Forces what recovery trusts and may not be durable: the checkpoint it loaded, the newest
     * segment it kept, then the directory (R1); then vouches for the newest segment with
     * a marker (R5).
     */
    private void makeDurable(Path checkpoint, Replayed log, Path newestFile) throws IOException {
        if (checkpoint != null) {
            force(checkpoint);
        }
        List<Segment> kept = log.kept();
        long newestEnd = log.newestEnd();
        if (!kept.isEmpty()) {
            Path last = kept.get(kept.size() - 1).path();
            try (FileIo.Channel ch = io.openExisting(last)) {
                ch.force();
                if (last.equals(newestFile) && newestEnd > log.newestVouched()) {
                    long salt = kept.get(kept.size() - 1).firstTs();
                    ch.write(
                            RecordFormat.marker(newestEnd, newestEnd, salt),
                            newestEnd); // true now: the force came first
                    ch.force();
                }
            }
        }
        io.forceDirectory(dir);
    }

    private void force(Path file) throws IOException {
        try (FileIo.Channel ch = io.openExisting(file)) {
            ch.force();
        }
    }

    private void replayRecord(Path file, long off, byte[] buf, int at, int total, boolean apply) {
        try {
            RecordFormat.walk(buf, at, total, (ts, map, ko, kl, vo, vl) -> {});
        } catch (IllegalArgumentException ex) {
            throw new CorruptLogException(
                    file, off, "record passes its CRC32C but is malformed: " + ex.getMessage(), ex);
        }
        if (!apply) {
            return; // covered by the checkpoint
        }
        boolean[] toStore = {false};
        long ts = RecordFormat.walk(buf, at, total, (ts1, map, ko, kl, vo, vl) -> {
            if (map != 0) {
                switch (maps.route(map)) {
                    case PENDING ->
                        maps.recovered(
                                map,
                                ts1,
                                java.util.Arrays.copyOfRange(buf, ko, ko + kl),
                                vl == RecordFormat.TOMBSTONE ? null : java.util.Arrays.copyOfRange(buf, vo, vo + vl));
                    case SKIP -> {} // a map dropped since (MapCatalog C1)
                    default ->
                        throw new CorruptLogException(
                                file, off, "commit " + ts1 + " writes map id " + map + ", which no map ever had", null);
                }
                return;
            }
            toStore[0] = true;
            K k;
            V v;
            try {
                k = keyCodec.decode(buf, ko, kl);
                v = vl == RecordFormat.TOMBSTONE ? null : valueCodec.decode(buf, vo, vl);
            } catch (RuntimeException ex) {
                throw new CorruptLogException(
                        file,
                        off,
                        "cannot decode a write of commit " + ts1 + " with " + keyCodec + "/" + valueCodec + ": "
                                + ex.getMessage(),
                        ex);
            }
            store.replay(ts1, k, v);
        });
        if (!toStore[0]) {
            store.recoveredThrough(ts); // only named maps: the clock still moves past it
        }
    }

    /** Bytes of torn tails this recovery cut (for its JFR event). */
    private long tornTailBytes;

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
        boolean intact = !h.hasRemaining()
                && h.getInt(RecordFormat.HDR_MAGIC) == RecordFormat.SEGMENT_MAGIC
                && RecordFormat.readable(h.getInt(RecordFormat.HDR_VERSION))
                && h.getInt(RecordFormat.HDR_CRC) == RecordFormat.crc(h.array(), 0, RecordFormat.HDR_CRC);
        return intact ? h.getLong(RecordFormat.HDR_PREV_TS) : -1;
    }

    /** Segments skipped because the checkpoint covers them (tests look at it). */
    int coveredSkipped() {
        return coveredSkipped;
    }

    private void truncate(Path file, long size) throws IOException {
        try (FileIo.Channel ch = io.openExisting(file)) {
            long was = ch.size();
            tornTailBytes += Math.max(0, was - size);
            ch.truncate(size);
            ch.force();
            LOG.log(
                    System.Logger.Level.WARNING,
                    "recovery cut a torn tail: {0} from byte {1} ({2} bytes: a write the crash tore, never forced)",
                    file,
                    size,
                    was - size);
        }
    }

    private void removeEmptyNewest(Path file) throws IOException {
        io.delete(file);
        io.forceDirectory(dir);
    }
}
