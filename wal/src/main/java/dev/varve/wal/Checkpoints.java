// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import dev.varve.Codec;
import dev.varve.spi.StoreAccess;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * Checkpoint files: a consistent image of the store at a snapshot timestamp. Big-endian.
 *
 * <pre>
 *   0               4               8
 *   +---------------+---------------+------------------------------------------
 *   | magic "VRVC"  | format version| entry | entry | ...
 *   +---------------+---------------+------------------------------------------
 *   entry:   | key length (int32 &gt;= 0) | key bytes | value length (int32 &gt;= 0) | value bytes |
 *   map:     | -2 (int32) | map id (int32 &gt; 0) |      (version 2: the entries after it are that map's)
 *   trailer: | -1 (int32) | entry count (int64) | snapshot ts (int64) | CRC32C of all bytes before it |
 * </pre>
 * Entries before the first map mark are the default map's (version 1 files hold no map mark).
 * Each map's entries are in its key order, encoded with its codecs (MapCatalog); a named map not
 * opened in the run that writes the checkpoint is written from its recovered bytes (MapCatalog
 * C3), at this checkpoint's snapshot timestamp like every entry.
 *
 * A checkpoint is written as {@code checkpoint.tmp}, forced, renamed atomically to {@code
 * checkpoint-<snapshotTs, 20 digits>.ckp}, and the directory forced; only then are older
 * checkpoints and the log segments it covers deleted. A renamed checkpoint is therefore complete:
 * on recovery the newest one must pass its CRC or recovery fails (the log it covers is gone).
 */
final class Checkpoints {

    static final int MAGIC = 0x56525643; // "VRVC"
    static final int VERSION = 2;
    /** Marks the start of a named map's entries (version 2). */
    static final int MAP_MARK = -2;

    static final int HEADER_BYTES = 8;
    static final int END_MARK = -1;
    static final int TRAILER_BYTES = 4 + 8 + 8 + 4;
    static final String TEMP_NAME = "checkpoint.tmp";

    private static final int BUFFER_BYTES = 256 * 1024;

    /*
     * Implementation notes: why a checkpoint may hold commits the log never forced.
     *
     * The image at snapshot T holds every commit <= T, including commits that are visible but
     * whose records are still queued, written and unforced (FULL during its force, RELAXED until
     * its flush), or lost with a failed writer. That is safe:
     * (1) The image is a prefix of the commit order: StoreAccess.readSnapshot returns every commit
     *     at or below T and none above (the core makes commits visible in timestamp order).
     * (2) It is durable before anything relies on it: checkpoint.tmp is forced, renamed, and the
     *     directory forced before write() returns; recovery only loads renamed checkpoints and
     *     checks their CRC first. A power loss before that leaves the previous state intact.
     * (3) Only what it covers is deleted, after (2): sealed segments whose last commit is <= T,
     *     oldest first. Sealed segments were forced when rolled, and the open one is never
     *     deleted, so the log left is a durable contiguous suffix plus the open segment.
     * (4) After a power loss the log's surviving records are a prefix of the commit order up to
     *     some L (WalLog W1; the recovery rule in RecordFormat), and recovery yields the
     *     commits <= max(T, L): the checkpoint, then the records above T. If L < T, the commits in
     *     (L, T] survive through the checkpoint alone. None of them was acknowledged in FULL (not
     *     forced) and RELAXED only promises a prefix, so the result is still a prefix; a commit
     *     whose log write failed was reported with an unknown outcome and may so reappear.
     * (5) Every acknowledged FULL commit survives: it was forced, so it is <= L (forced bytes are
     *     kept, or their damage reported), or it is <= T in the checkpoint.
     * (6) A commit that read one of those visible-unforced commits has a larger timestamp, so any
     *     prefix holding it holds what it read.
     * (7) The log chains across the gap: the next run starts its first segment with max(T, L) as
     *     predecessor, and recovery accepts a predecessor the checkpoint covers (Recovery R3,
     *     R6).
     * CheckpointOfUnloggedCommitsTest exercises (4), (5) and (7) over FaultyIo's page-cache model.
     */

    private Checkpoints() {}

    /**
     * The store refused {@code readSnapshot} (it is closed, the only reason {@link
     * StoreAccess#readSnapshot} may throw {@link IllegalStateException}); carries its exception.
     * Never made from an exception thrown by a codec or the file: those reach {@code readSnapshot}
     * wrapped in {@link EntryFailure} and leave it as {@link IOException}.
     */
    static final class StoreUnavailableException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        StoreUnavailableException(IllegalStateException cause) {
            super("the store refused a snapshot for the checkpoint: " + cause.getMessage(), cause);
        }
    }

    /** Carries a failure of the checkpoint's own entry callback (codec or write) out of {@code readSnapshot}. */
    private static final class EntryFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        EntryFailure(IOException cause) {
            super(cause);
        }

        IOException io() {
            return (IOException) getCause();
        }
    }

    static String name(long snapshotTs) {
        return String.format("checkpoint-%020d.ckp", snapshotTs);
    }

    /** The snapshot timestamp of a checkpoint file name, or -1 if it is not one. */
    static long parseName(String name) {
        if (name.length() != 35 || !name.startsWith("checkpoint-") || !name.endsWith(".ckp")) {
            return -1;
        }
        try {
            return Long.parseLong(name.substring(11, 31));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** What {@link #write} produced. */
    record Written(Path file, long snapshotTs, long entries) {}

    /**
     * Where an image finds each map's codecs, and the recovered bytes of the named maps its store
     * snapshot does not hold: the map catalog ({@link MapCatalog}), or a backup's view of a
     * database's maps (Backups).
     */
    interface ImageMaps {
        /**
         * The key codec of map {@code id}, or null to leave the map out of the image (a backup
         * meeting a map dropped since; then {@link #valueCodec} is not asked).
         *
         * @throws IllegalStateException if the map cannot be written (not open, no codecs)
         */
        Codec<Object> keyCodec(int id);

        /** The value codec of map {@code id}, whose key codec was not null. */
        Codec<Object> valueCodec(int id);

        /** The recovered state of the named maps not in {@code inStore} (MapCatalog C3). */
        java.util.TreeMap<Integer, java.util.List<MapCatalog.RawWrite>> recoveredNotIn(java.util.Set<Integer> inStore);
    }

    /**
     * An image written and forced to a temporary file: its snapshot timestamp, its entries, the
     * entries per map id (every map written, empty ones too), and the maps it took from the store.
     */
    record Image(
            long snapshotTs, long entries, java.util.TreeMap<Integer, Long> perMap, java.util.Set<Integer> inStore) {}

    /**
     * Writes a checkpoint of {@code store} into {@code dir} and makes it durable. On any failure
     * {@code checkpoint.tmp} is deleted (freeing its space) before the exception leaves.
     *
     * @param newerThan skip (return {@code null}) unless the snapshot is above this timestamp
     * @return the checkpoint, or {@code null} if skipped (no newer snapshot, or an empty image)
     * @throws IOException if a file operation fails, or a codec throws (its exception is the cause)
     * @throws StoreUnavailableException if the store is closed
     */
    static <K, V> Written write(
            FileIo io, Path dir, StoreAccess<K, V> store, Codec<K> keyCodec, Codec<V> valueCodec, long newerThan)
            throws IOException {
        return write(io, dir, store, MapCatalog.unsaved(keyCodec, valueCodec), newerThan);
    }

    /**
     * Writes a checkpoint of every map (see {@link #write(FileIo, Path, StoreAccess, Codec, Codec,
     * long)}), each with its codecs from {@code maps}; once it is durable, lets go of the recovered
     * bytes of the maps it took from the store (MapCatalog C3).
     */
    static Written write(FileIo io, Path dir, StoreAccess<?, ?> store, MapCatalog maps, long newerThan)
            throws IOException {
        Path tmp = dir.resolve(TEMP_NAME);
        io.delete(tmp);
        try {
            Image image = writeImage(io, tmp, store, maps, newerThan);
            if (image == null) {
                io.delete(tmp);
                return null;
            }
            Path target = dir.resolve(name(image.snapshotTs()));
            io.moveAtomically(tmp, target);
            io.forceDirectory(dir);
            maps.releaseOpened(image.inStore());
            return new Written(target, image.snapshotTs(), image.entries());
        } catch (IOException | RuntimeException | Error e) {
            try {
                io.delete(tmp); // no-op once renamed
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * Writes the image of every map at one snapshot into the new file {@code tmp} and forces it;
     * neither renames nor deletes it (the caller does, also on failure).
     *
     * @return the image, or {@code null} (the file unfinished) if its snapshot is not above
     *     {@code newerThan}
     * @throws IOException if a file operation fails, or a codec or {@code maps} throws (as cause)
     * @throws StoreUnavailableException if the store is closed
     */
    static Image writeImage(FileIo io, Path tmp, StoreAccess<?, ?> store, ImageMaps maps, long newerThan)
            throws IOException {
        long snapshotTs;
        long count;
        java.util.Set<Integer> inStore = new java.util.HashSet<>();
        java.util.TreeMap<Integer, Long> perMap = new java.util.TreeMap<>();
        try (FileIo.Channel ch = io.create(tmp)) {
            Out out = new Out(ch);
            out.putInt(MAGIC);
            out.putInt(VERSION);
            long[] n = {0};
            try {
                snapshotTs = store.readSnapshot(new StoreAccess.MapSnapshotConsumer() {
                    private Codec<Object> keyCodec = maps.keyCodec(0);
                    private Codec<Object> valueCodec = maps.valueCodec(0);
                    private int current;

                    /** The map whose mark is due before its first entry (a map without entries gets none). */
                    private int unmarked;

                    @Override
                    public void beginMap(int mapId) {
                        inStore.add(mapId);
                        current = mapId;
                        if (mapId != 0) {
                            try {
                                keyCodec = maps.keyCodec(mapId);
                                valueCodec = keyCodec == null ? null : maps.valueCodec(mapId);
                            } catch (IllegalStateException e) { // not the store's refusal: ours
                                throw new EntryFailure(new IOException("checkpoint: " + e.getMessage(), e));
                            }
                            unmarked = mapId;
                        }
                        if (keyCodec != null) {
                            perMap.putIfAbsent(mapId, 0L);
                        }
                    }

                    @Override
                    public void accept(Object k, Object v) {
                        if (keyCodec == null) {
                            return; // left out (ImageMaps.keyCodec)
                        }
                        byte[] kb = encode(keyCodec, k, n[0], "key");
                        byte[] vb = encode(valueCodec, v, n[0], "value");
                        if (unmarked != 0) {
                            mark(out, unmarked);
                            unmarked = 0;
                        }
                        entry(out, kb, vb);
                        n[0]++;
                        perMap.merge(current, 1L, Long::sum);
                    }
                });
                // Named maps not opened in this run (or opened after the snapshot's start): their
                // recovered bytes are their state at snapshotTs (MapCatalog C3).
                for (var e : maps.recoveredNotIn(inStore).entrySet()) {
                    perMap.putIfAbsent(e.getKey(), 0L);
                    if (e.getValue().isEmpty()) {
                        continue;
                    }
                    mark(out, e.getKey());
                    for (MapCatalog.RawWrite w : e.getValue()) {
                        entry(out, w.key(), w.value());
                        n[0]++;
                    }
                    perMap.merge(e.getKey(), (long) e.getValue().size(), Long::sum);
                }
            } catch (EntryFailure e) {
                throw e.io();
            } catch (IllegalStateException e) { // from the store itself: our callback's are EntryFailures
                throw new StoreUnavailableException(e);
            }
            count = n[0];
            if (snapshotTs <= newerThan) {
                return null;
            }
            // An empty image is written too: on load, StoreAccess.recoveredThrough moves the
            // store's clock past the timestamps it covers.
            out.putInt(END_MARK);
            out.putLong(count);
            out.putLong(snapshotTs);
            out.finish();
            ch.force();
        }
        return new Image(snapshotTs, count, perMap, inStore);
    }

    /** Writes a map mark; an I/O failure leaves as {@link EntryFailure}. */
    private static void mark(Out out, int mapId) {
        try {
            out.putInt(MAP_MARK);
            out.putInt(mapId);
        } catch (IOException e) {
            throw new EntryFailure(e);
        }
    }

    /** Writes one entry; an I/O failure leaves as {@link EntryFailure}. */
    private static void entry(Out out, byte[] kb, byte[] vb) {
        try {
            out.putInt(kb.length);
            out.put(kb);
            out.putInt(vb.length);
            out.put(vb);
        } catch (IOException e) {
            throw new EntryFailure(e);
        }
    }

    /** A codec's bytes for entry {@code index}; its exceptions leave as {@link EntryFailure}. */
    private static <T> byte[] encode(Codec<T> codec, T value, long index, String what) {
        try {
            return Objects.requireNonNull(codec.encode(value), "the codec returned null");
        } catch (RuntimeException e) {
            throw new EntryFailure(new IOException(
                    "checkpoint entry " + index + ": its " + what + " cannot be encoded with " + codec + ": " + e, e));
        }
    }

    /**
     * Verifies a checkpoint's CRC, then replays its entries at its snapshot timestamp.
     *
     * @return the snapshot timestamp
     * @throws CorruptLogException if the file is damaged or a codec cannot decode it
     */
    static <K, V> long load(FileIo io, Path file, StoreAccess<K, V> store, Codec<K> keyCodec, Codec<V> valueCodec)
            throws IOException {
        return load(io, file, store, keyCodec, valueCodec, MapCatalog.unsaved(keyCodec, valueCodec));
    }

    /**
     * Loads a checkpoint: the default map's entries into the store, a named map's into {@code
     * maps} as recovered bytes (MapCatalog C3), skipping maps dropped since (C1).
     *
     * @return the snapshot timestamp
     * @throws CorruptLogException if the file is damaged or a codec cannot decode it
     */
    static <K, V> long load(
            FileIo io, Path file, StoreAccess<K, V> store, Codec<K> keyCodec, Codec<V> valueCodec, MapCatalog maps)
            throws IOException {
        long[] ts = {0};
        MapCatalog.Route[] route = {MapCatalog.Route.STORE};
        Trailer t = read(io, file, new EntryVisitor() {
            @Override
            public void begin(long snapshotTs, long count) {
                ts[0] = snapshotTs;
            }

            @Override
            public void map(int mapId, long at) {
                route[0] = mapId <= 0 ? MapCatalog.Route.UNKNOWN : maps.route(mapId);
                if (route[0] == MapCatalog.Route.UNKNOWN) {
                    throw new CorruptLogException(
                            file, at, "checkpoint holds map id " + mapId + ", which no map ever had", null);
                }
            }

            @Override
            public void entry(int mapId, long index, long at, byte[] kb, byte[] vb) {
                if (route[0] == MapCatalog.Route.PENDING) {
                    maps.recovered(mapId, ts[0], kb, vb);
                    return;
                } else if (route[0] == MapCatalog.Route.SKIP) {
                    return; // dropped since
                }
                K k;
                V v;
                try {
                    k = keyCodec.decode(kb, 0, kb.length);
                    v = valueCodec.decode(vb, 0, vb.length);
                } catch (RuntimeException e) {
                    throw new CorruptLogException(
                            file,
                            at,
                            "cannot decode checkpoint entry " + index + " with " + keyCodec + "/" + valueCodec + ": "
                                    + e.getMessage(),
                            e);
                }
                store.replay(ts[0], k, v);
            }
        });
        store.recoveredThrough(t.snapshotTs());
        return t.snapshotTs();
    }

    /** A checkpoint's trailer: its snapshot timestamp and entry count, and where the trailer starts. */
    record Trailer(long snapshotTs, long entries, long at) {}

    /** Receives what {@link #read} finds in a checkpoint whose CRC passed, in file order. */
    interface EntryVisitor {
        /**
         * Before the first entry: what the trailer says.
         *
         * @param snapshotTs the snapshot timestamp
         * @param count the entry count
         */
        default void begin(long snapshotTs, long count) {}

        /** The entries after the map mark at offset {@code at} are map {@code mapId}'s. */
        void map(int mapId, long at);

        /** Entry {@code index} (counted over every map), at offset {@code at}, of map {@code mapId}. */
        void entry(int mapId, long index, long at, byte[] key, byte[] value);
    }

    /**
     * Reads a checkpoint: verifies its CRC and trailer (pass 1), then walks its entries (pass 2),
     * checking their structure, and hands them to {@code visitor}.
     *
     * @return the trailer
     * @throws CorruptLogException if the file is damaged (the message names it and the offset),
     *     or the visitor refuses what it was given
     * @throws IOException if reading fails
     */
    static Trailer read(FileIo io, Path file, EntryVisitor visitor) throws IOException {
        try (FileIo.Channel ch = io.openExisting(file)) {
            long size = ch.size();
            if (size < HEADER_BYTES + TRAILER_BYTES) {
                throw new CorruptLogException(file, 0, "checkpoint of " + size + " bytes is too short", null);
            }
            // pass 1: the CRC over everything before the last 4 bytes, and the trailer
            In in = new In(ch, 0);
            CRC32C crc = new CRC32C();
            byte[] chunk = new byte[BUFFER_BYTES];
            long left = size - 4;
            while (left > 0) {
                int n = (int) Math.min(chunk.length, left);
                in.readFully(chunk, 0, n);
                crc.update(chunk, 0, n);
                left -= n;
            }
            int stored = in.readInt();
            if (stored != (int) crc.getValue()) {
                throw new CorruptLogException(file, size - 4, "checkpoint fails its CRC32C", null);
            }
            In trailer = new In(ch, size - TRAILER_BYTES);
            if (trailer.readInt() != END_MARK) {
                throw new CorruptLogException(file, size - TRAILER_BYTES, "checkpoint has no end mark", null);
            }
            long count = trailer.readLong();
            long snapshotTs = trailer.readLong();
            // pass 2: entries
            In body = new In(ch, 0);
            int version;
            if (body.readInt() != MAGIC || (version = body.readInt()) < 1 || version > VERSION) {
                throw new CorruptLogException(file, 0, "checkpoint has a bad magic number or version", null);
            }
            visitor.begin(snapshotTs, count);
            long limit = size - TRAILER_BYTES;
            int map = 0;
            for (long i = 0; i < count; ) { // a map mark is always followed by an entry of its map
                long at = body.position();
                int kl = body.readInt();
                if (kl == MAP_MARK && version >= 2 && at + 8 <= limit) {
                    map = body.readInt();
                    visitor.map(map, at);
                    continue;
                }
                if (kl < 0 || at + 8 + kl > limit) {
                    throw new CorruptLogException(file, at, "checkpoint entry " + i + " has key length " + kl, null);
                }
                byte[] kb = new byte[kl];
                body.readFully(kb, 0, kl);
                int vl = body.readInt();
                if (vl < 0 || body.position() + vl > limit) {
                    throw new CorruptLogException(file, at, "checkpoint entry " + i + " has value length " + vl, null);
                }
                byte[] vb = new byte[vl];
                body.readFully(vb, 0, vl);
                visitor.entry(map, i, at, kb, vb);
                i++; // NOTE: not in the for statement: a map mark is not an entry
            }
            if (body.position() != limit) {
                throw new CorruptLogException(
                        file,
                        body.position(),
                        "checkpoint has " + (limit - body.position()) + " bytes after its " + count + " entries",
                        null);
            }
            return new Trailer(snapshotTs, count, limit);
        }
    }

    /** Buffered sequential writer that keeps a running CRC32C of everything written. */
    private static final class Out {
        private final FileIo.Channel ch;
        private final ByteBuffer buf = ByteBuffer.allocate(BUFFER_BYTES);
        private final CRC32C crc = new CRC32C();
        private long position;

        Out(FileIo.Channel ch) {
            this.ch = ch;
        }

        void putInt(int v) throws IOException {
            ensure(4);
            buf.putInt(v);
        }

        void putLong(long v) throws IOException {
            ensure(8);
            buf.putLong(v);
        }

        void put(byte[] b) throws IOException {
            int off = 0;
            while (off < b.length) {
                ensure(1);
                int n = Math.min(buf.remaining(), b.length - off);
                buf.put(b, off, n);
                off += n;
            }
        }

        private void ensure(int n) throws IOException {
            if (buf.remaining() < n) {
                drain();
            }
        }

        private void drain() throws IOException {
            buf.flip();
            crc.update(buf.array(), 0, buf.limit());
            ch.write(buf, position);
            position += buf.limit();
            buf.clear();
        }

        /** Writes what is buffered, then the CRC of everything. */
        void finish() throws IOException {
            drain();
            buf.putInt((int) crc.getValue()).flip();
            ch.write(buf, position);
            position += 4;
            buf.clear();
        }
    }

    /** Buffered sequential reader from a position. */
    private static final class In {
        private final FileIo.Channel ch;
        private final ByteBuffer buf = ByteBuffer.allocate(BUFFER_BYTES);
        private long filePos;

        In(FileIo.Channel ch, long from) {
            this.ch = ch;
            this.filePos = from;
            buf.limit(0);
        }

        long position() {
            return filePos - buf.remaining();
        }

        private void fill(int need) throws IOException {
            if (buf.remaining() >= need) {
                return;
            }
            buf.compact();
            while (buf.position() < need) {
                int n = ch.read(buf, filePos);
                if (n < 0) {
                    throw new EOFException("checkpoint ends early");
                }
                filePos += n;
            }
            buf.flip();
        }

        int readInt() throws IOException {
            fill(4);
            return buf.getInt();
        }

        long readLong() throws IOException {
            fill(8);
            return buf.getLong();
        }

        void readFully(byte[] dst, int off, int len) throws IOException {
            while (len > 0) {
                fill(1);
                int n = Math.min(len, buf.remaining());
                buf.get(dst, off, n);
                off += n;
                len -= n;
            }
        }
    }
}
