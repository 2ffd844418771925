// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import dev.varve.Backup;
import dev.varve.Codec;
import dev.varve.spi.MapDefinition;
import dev.varve.spi.StoreAccess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntFunction;
import java.util.zip.CRC32C;

/**
 * Backups: writing a backup directory (a checkpoint image of every map at one snapshot, the map
 * catalog, and a {@link BackupManifest}), verifying one whole, and restoring one into memory
 * ({@link RestoredLog}) or into a write-ahead log directory. The formats are those of {@link
 * Checkpoints}, {@link MapCatalog} and {@link BackupManifest}; this class only orders the steps.
 *
 * <p>Implementation notes.
 * B1. Consistency: the image is one {@link Checkpoints#writeImage} of the store, which reads every
 *     map at one pinned snapshot without blocking readers or writers (Checkpoints (1)); no lock
 *     is held across I/O. A named map not opened in this run is written from its recovered
 *     bytes, its state at that snapshot (MapCatalog C3). The catalog written holds exactly the
 *     maps in the image, each as it was when its codecs were looked up, so every map id in the
 *     image is in the backup's catalog; a map dropped before its turn in the snapshot is left out
 *     (opening and dropping maps is not transactional).
 * B2. Nothing complete-looking is left by a failure or a crash: the files are written under
 *     temporary names, forced and renamed, catalog before checkpoint (a log directory's order:
 *     MapCatalog C1), and the MANIFEST last, after which the directory is forced. A directory
 *     without a MANIFEST is refused by restore and verify; on failure the files already made are
 *     deleted.
 * B3. Nothing is half-loaded: restore verifies the whole backup (verify) before it replays the
 *     first entry. A codec that fails to decode an entry during the load (after verification)
 *     fails Database.Builder.open(), so the partly filled store is never handed out.
 * B4. A restore into a log directory copies the catalog and the checkpoint into it with a {@code
 *     RESTORING} file present from the first byte to the last rename; WalDurability refuses to
 *     open a directory holding it, so a crash mid-restore never opens as an empty database.
 * B5. The backup directory is only read: verify and restore open its files read-only
 *     ({@link #READ_ONLY}), and never delete or write there.
 */
final class Backups {

    /** In a log directory: a restore into it has not finished (B4). */
    static final String RESTORING = "RESTORING";

    /** File access that only reads (B5): every other operation fails. */
    static final FileIo READ_ONLY = new FileIo() {
        @Override
        public Channel create(Path file) throws IOException {
            throw new IOException("a backup is read-only: cannot create " + file);
        }

        @Override
        public Channel openExisting(Path file) throws IOException {
            return new RealChannel(FileChannel.open(file, StandardOpenOption.READ));
        }

        @Override
        public void forceDirectory(Path dir) throws IOException {
            throw new IOException("a backup is read-only: cannot force " + dir);
        }

        @Override
        public void moveAtomically(Path from, Path to) throws IOException {
            throw new IOException("a backup is read-only: cannot move " + from);
        }

        @Override
        public void delete(Path file) throws IOException {
            throw new IOException("a backup is read-only: cannot delete " + file);
        }
    };

    private Backups() {}

    /**
     * The maps of a database as a backup sees them: an image's codecs (Checkpoints.ImageMaps),
     * and the catalog entry of each map the image asked about (B1).
     */
    interface Source extends Checkpoints.ImageMaps {
        /** The entry of map {@code id} as it was when the image took its codecs, or null. */
        MapCatalog.Entry entry(int id);

        /** The id the next new map would get: above every id in the image (MapCatalog C2). */
        int nextId();
    }

    /** A log's (or a restored database's) catalog as a backup's source. */
    static Source of(MapCatalog catalog) {
        return new Source() {
            private final Map<Integer, MapCatalog.Entry> seen = new HashMap<>();

            @Override
            public Codec<Object> keyCodec(int id) {
                MapCatalog.Entry e = catalog.entry(id);
                if (e == null) {
                    return null; // dropped since: left out (B1)
                }
                Codec<Object> codec = catalog.keyCodec(id);
                seen.put(id, e);
                return codec;
            }

            @Override
            public Codec<Object> valueCodec(int id) {
                return catalog.valueCodec(id);
            }

            @Override
            public TreeMap<Integer, List<MapCatalog.RawWrite>> recoveredNotIn(java.util.Set<Integer> inStore) {
                TreeMap<Integer, List<MapCatalog.RawWrite>> raw = catalog.recoveredNotIn(inStore);
                for (MapCatalog.Entry e : catalog.entries()) {
                    if (e.id() != 0 && !inStore.contains(e.id())) {
                        raw.putIfAbsent(e.id(), List.of()); // not opened, nothing recovered: empty, still a map
                    }
                }
                raw.keySet().removeIf(id -> {
                    MapCatalog.Entry e = catalog.entry(id);
                    if (e != null) {
                        seen.put(id, e);
                    }
                    return e == null;
                });
                return raw;
            }

            @Override
            public MapCatalog.Entry entry(int id) {
                return seen.get(id);
            }

            @Override
            public int nextId() {
                return catalog.nextId();
            }
        };
    }

    /** An in-memory database's maps as a backup's source: the default codecs and the named maps' definitions. */
    static Source of(
            Codec<?> keyCodec, Codec<?> valueCodec, String comparatorId, IntFunction<MapDefinition<?, ?>> named) {
        return new Source() {
            private final Map<Integer, MapCatalog.Entry> seen = new HashMap<>();
            private final Map<Integer, MapDefinition<?, ?>> definitions = new HashMap<>();
            private int nextId = 1;

            @Override
            @SuppressWarnings("unchecked")
            public Codec<Object> keyCodec(int id) {
                if (id == 0) {
                    seen.put(0, new MapCatalog.Entry(0, "", keyCodec.id(), valueCodec.id(), comparatorId));
                    return (Codec<Object>) keyCodec;
                }
                MapDefinition<?, ?> d = named.apply(id); // throws for a map without codecs
                if (d == null) {
                    return null; // dropped since: left out (B1)
                }
                definitions.put(id, d);
                seen.put(
                        id,
                        new MapCatalog.Entry(
                                id, d.name(), d.keyCodec().id(), d.valueCodec().id(), d.comparatorId()));
                nextId = Math.max(nextId, id + 1);
                return (Codec<Object>) d.keyCodec();
            }

            @Override
            @SuppressWarnings("unchecked")
            public Codec<Object> valueCodec(int id) {
                return (Codec<Object>)
                        (id == 0 ? valueCodec : definitions.get(id).valueCodec());
            }

            @Override
            public TreeMap<Integer, List<MapCatalog.RawWrite>> recoveredNotIn(java.util.Set<Integer> inStore) {
                return new TreeMap<>(); // an in-memory store holds every map it has
            }

            @Override
            public MapCatalog.Entry entry(int id) {
                return seen.get(id);
            }

            @Override
            public int nextId() {
                return nextId;
            }
        };
    }

    // ---- writing ------------------------------------------------------------------------------

    /**
     * Writes a backup of {@code store} into {@code target} (absent or an empty directory): B1, B2.
     *
     * @throws IllegalArgumentException if {@code target} is a file or a non-empty directory
     * @throws IllegalStateException if the store is closed or a map cannot be written (no codecs)
     * @throws UncheckedIOException if a file operation or a codec fails
     */
    static Backup write(FileIo io, Path target, StoreAccess<?, ?> store, Source maps) {
        List<Path> made = new ArrayList<>();
        try {
            prepare(io, target, "backup target");
            Path tmp = target.resolve(Checkpoints.TEMP_NAME);
            made.add(tmp);
            Checkpoints.Image image = Checkpoints.writeImage(io, tmp, store, maps, -1);
            List<MapCatalog.Entry> entries = new ArrayList<>();
            Map<String, Long> perName = new TreeMap<>();
            List<BackupManifest.MapInfo> infos = new ArrayList<>();
            for (Map.Entry<Integer, Long> e : image.perMap().entrySet()) {
                MapCatalog.Entry entry = maps.entry(e.getKey());
                entries.add(entry);
                perName.put(entry.name(), e.getValue());
                infos.add(new BackupManifest.MapInfo(
                        entry.id(),
                        entry.name(),
                        entry.keyCodecId(),
                        entry.valueCodecId(),
                        entry.comparatorId(),
                        e.getValue()));
            }
            int nextId = maps.nextId();
            for (MapCatalog.Entry e : entries) {
                nextId = Math.max(nextId, e.id() + 1);
            }
            Path catalog = MapCatalog.writeNew(io, target, entries, nextId); // before the checkpoint (B2)
            made.add(catalog);
            Path checkpoint = target.resolve(Checkpoints.name(image.snapshotTs()));
            io.moveAtomically(tmp, checkpoint);
            made.add(checkpoint);
            io.forceDirectory(target);
            List<BackupManifest.FileInfo> files = List.of(describe(io, catalog), describe(io, checkpoint));
            Instant created = Instant.ofEpochMilli(System.currentTimeMillis());
            BackupManifest manifest =
                    new BackupManifest(target, BackupManifest.VERSION, created, image.snapshotTs(), infos, files);
            Path manifestTmp = target.resolve(BackupManifest.TEMP_NAME);
            made.add(manifestTmp);
            byte[] bytes = manifest.encode();
            try (FileIo.Channel ch = io.create(manifestTmp)) {
                ch.write(ByteBuffer.wrap(bytes), 0);
                ch.force();
            }
            io.moveAtomically(manifestTmp, target.resolve(BackupManifest.FILE_NAME));
            io.forceDirectory(target); // the backup is complete from here on
            return new Backup(target, image.snapshotTs(), perName, manifest.totalBytes() + bytes.length, created);
        } catch (IOException e) {
            deleteAll(io, made, e);
            if (e.getCause() instanceof IllegalStateException ise) {
                throw ise; // a map the source cannot write (no codecs): misuse, not I/O
            }
            throw new UncheckedIOException("cannot write backup " + target + ": " + e, e);
        } catch (Checkpoints.StoreUnavailableException e) {
            deleteAll(io, made, e);
            throw (IllegalStateException) e.getCause(); // the store's own refusal (closed)
        } catch (RuntimeException | Error e) {
            deleteAll(io, made, e);
            throw e;
        }
    }

    /** Deletes what a failed backup made (B2); failures to delete are added to {@code failure}. */
    private static void deleteAll(FileIo io, List<Path> made, Throwable failure) {
        for (Path p : made) {
            try {
                io.delete(p);
            } catch (IOException suppressed) {
                failure.addSuppressed(suppressed);
            }
        }
    }

    /** Creates {@code target} (forcing each new directory's entry) or checks that it is an empty directory. */
    private static void prepare(FileIo io, Path target, String what) throws IOException {
        if (Files.exists(target)) {
            if (!Files.isDirectory(target)) {
                throw new IllegalArgumentException(what + " " + target + " is not a directory");
            }
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(target)) {
                for (Path p : ds) {
                    throw new IllegalArgumentException(what + " " + target + " is not empty (it holds "
                            + p.getFileName() + "): it must be a new or empty directory");
                }
            }
            return;
        }
        Path abs = target.toAbsolutePath();
        Path firstMissing = abs;
        while (firstMissing.getParent() != null && !Files.exists(firstMissing.getParent())) {
            firstMissing = firstMissing.getParent();
        }
        Files.createDirectories(abs);
        for (Path p = firstMissing; ; p = p.resolve(p.relativize(abs).getName(0))) {
            io.forceDirectory(p.getParent());
            if (p.equals(abs)) {
                break;
            }
        }
    }

    /** A file's name, size and CRC32C, read back from disk. */
    private static BackupManifest.FileInfo describe(FileIo io, Path file) throws IOException {
        long[] size = {0};
        int crc = crcOf(io, file, size);
        return new BackupManifest.FileInfo(file.getFileName().toString(), size[0], crc);
    }

    private static int crcOf(FileIo io, Path file, long[] sizeOut) throws IOException {
        CRC32C crc = new CRC32C();
        ByteBuffer buf = ByteBuffer.allocate(256 * 1024);
        long pos = 0;
        try (FileIo.Channel ch = io.openExisting(file)) {
            int n;
            while ((n = ch.read(buf.clear(), pos)) >= 0) {
                buf.flip();
                crc.update(buf);
                pos += n;
            }
        }
        sizeOut[0] = pos;
        return (int) crc.getValue();
    }

    // ---- verifying ----------------------------------------------------------------------------

    /** What {@link #verify} found, for a restore: the manifest and the backup's two files. */
    record Verified(BackupManifest manifest, Path catalog, Path checkpoint) {}

    /**
     * Verifies the whole backup in {@code dir} (see {@link BackupManifest#verify}).
     *
     * @throws CorruptLogException naming the file and offset of the first mismatch
     * @throws IllegalArgumentException if {@code dir} is not a directory
     * @throws IOException if reading fails
     */
    static BackupManifest verify(FileIo io, Path dir) throws IOException {
        return verified(io, dir).manifest();
    }

    static Verified verified(FileIo io, Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("backup " + dir + " is not a directory");
        }
        Path manifestFile = dir.resolve(BackupManifest.FILE_NAME);
        if (!Files.exists(manifestFile)) {
            throw new CorruptLogException(
                    manifestFile,
                    0,
                    "the backup has no MANIFEST: its writing did not finish, or it is no backup",
                    null);
        }
        BackupManifest m =
                BackupManifest.decode(dir, manifestFile, MapCatalog.readSmall(io, manifestFile, "backup manifest"));
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                if (RecordFormat.parseSegmentName(p.getFileName().toString()) >= 0) {
                    throw new CorruptLogException(
                            p,
                            0,
                            "a backup holds no log segments: this directory was opened as a write-ahead log since"
                                    + " (restore from a backup, or open a copy of one)",
                            null);
                }
            }
        }
        Path catalog = null;
        Path checkpoint = null;
        for (BackupManifest.FileInfo f : m.files()) {
            String name = f.name();
            boolean isCatalog = MapCatalog.parseName(name) >= 0;
            boolean isCheckpoint = Checkpoints.parseName(name) >= 0;
            if (!isCatalog && !isCheckpoint || isCatalog && catalog != null || isCheckpoint && checkpoint != null) {
                throw new CorruptLogException(
                        manifestFile, 0, "the MANIFEST lists '" + name + "', which a backup does not hold", null);
            }
            Path p = dir.resolve(name);
            if (!Files.isRegularFile(p)) {
                throw new CorruptLogException(p, 0, "the file the MANIFEST lists is missing", null);
            }
            long size = Files.size(p);
            if (size != f.bytes()) {
                throw new CorruptLogException(
                        p,
                        Math.min(size, f.bytes()),
                        "file of " + size + " bytes; the MANIFEST says " + f.bytes(),
                        null);
            }
            if (isCatalog) {
                catalog = p;
            } else {
                checkpoint = p;
            }
        }
        if (catalog == null || checkpoint == null) {
            throw new CorruptLogException(
                    manifestFile, 0, "the MANIFEST lists no " + (catalog == null ? "map catalog" : "checkpoint"), null);
        }
        checkCatalog(io, m, catalog);
        checkCheckpoint(io, m, checkpoint);
        for (BackupManifest.FileInfo f : m.files()) {
            Path p = dir.resolve(f.name());
            long[] size = {0};
            if (crcOf(io, p, size) != f.crc32c()) {
                throw new CorruptLogException(p, 0, "file fails the CRC32C its MANIFEST records", null);
            }
        }
        return new Verified(m, catalog, checkpoint);
    }

    /** The catalog must hold exactly the manifest's maps, with the same names and ids. */
    private static void checkCatalog(FileIo io, BackupManifest m, Path file) throws IOException {
        List<MapCatalog.Entry> held = MapCatalog.readFile(io, file, null, null).entries();
        List<MapCatalog.Entry> listed = new ArrayList<>();
        for (BackupManifest.MapInfo i : m.maps()) {
            listed.add(new MapCatalog.Entry(i.id(), i.name(), i.keyCodecId(), i.valueCodecId(), i.comparatorId()));
        }
        if (!held.equals(listed)) {
            throw new CorruptLogException(
                    file, 0, "the map catalog holds " + held + " but the MANIFEST lists " + listed, null);
        }
    }

    /** The checkpoint must pass its own checks and hold the manifest's snapshot, maps and counts. */
    private static void checkCheckpoint(FileIo io, BackupManifest m, Path file) throws IOException {
        Map<Integer, Long> counts = new TreeMap<>();
        Map<Integer, String> names = new HashMap<>();
        for (BackupManifest.MapInfo i : m.maps()) {
            counts.put(i.id(), 0L);
            names.put(i.id(), i.id() == 0 ? "the default map" : "map '" + i.name() + "'");
        }
        if (!counts.containsKey(0)) {
            throw new CorruptLogException(
                    file.resolveSibling(BackupManifest.FILE_NAME), 0, "the MANIFEST lists no default map", null);
        }
        Checkpoints.Trailer t = Checkpoints.read(io, file, new Checkpoints.EntryVisitor() {
            @Override
            public void map(int mapId, long at) {
                if (!counts.containsKey(mapId) || mapId == 0) {
                    throw new CorruptLogException(
                            file, at, "checkpoint holds map id " + mapId + ", which the MANIFEST does not list", null);
                }
            }

            @Override
            public void entry(int mapId, long index, long at, byte[] key, byte[] value) {
                counts.merge(mapId, 1L, Long::sum);
            }
        });
        if (t.snapshotTs() != m.snapshotTimestamp()
                || Checkpoints.parseName(file.getFileName().toString()) != t.snapshotTs()) {
            throw new CorruptLogException(
                    file,
                    t.at() + 12,
                    "checkpoint holds snapshot " + t.snapshotTs() + "; its name and the MANIFEST say "
                            + m.snapshotTimestamp(),
                    null);
        }
        for (BackupManifest.MapInfo i : m.maps()) {
            long found = counts.get(i.id());
            if (found != i.entries()) {
                throw new CorruptLogException(
                        file,
                        t.at(),
                        "checkpoint holds " + found + " entries of " + names.get(i.id()) + "; the MANIFEST says "
                                + i.entries(),
                        null);
            }
        }
    }

    // ---- restoring ----------------------------------------------------------------------------

    /**
     * Refuses a backup whose default map was written with other declared codec ids, or another
     * order, than the database restoring it gives.
     *
     * @throws IllegalArgumentException naming the backup's MANIFEST, what it holds and what was given
     */
    static void checkDefaultMap(Verified v, Codec<?> keyCodec, Codec<?> valueCodec, String comparatorId) {
        BackupManifest.MapInfo d = v.manifest().maps().get(0);
        MapCatalog.Entry held = new MapCatalog.Entry(0, "", d.keyCodecId(), d.valueCodecId(), d.comparatorId());
        MapCatalog.Entry given = new MapCatalog.Entry(0, "", keyCodec.id(), valueCodec.id(), comparatorId);
        if (MapCatalog.differs(held, given)) {
            throw new IllegalArgumentException("the default map in backup "
                    + v.manifest().directory().resolve(BackupManifest.FILE_NAME) + " was written with "
                    + held.describe() + "; the database restoring it was given " + given.describe());
        }
    }

    /**
     * Loads a verified backup into {@code store} (B3): the default map's entries, and the named
     * maps' as recovered bytes in the returned catalog, which is never saved.
     */
    static <K, V> MapCatalog loadInto(Verified v, StoreAccess<K, V> store, Codec<K> keyCodec, Codec<V> valueCodec)
            throws IOException {
        MapCatalog catalog = MapCatalog.readFile(READ_ONLY, v.catalog(), keyCodec, valueCodec);
        Checkpoints.load(READ_ONLY, v.checkpoint(), store, keyCodec, valueCodec, catalog);
        return catalog;
    }

    /**
     * Copies a verified backup's catalog and checkpoint into the log directory {@code dir}
     * (absent or empty), under {@link #RESTORING} (B4).
     *
     * @throws IllegalArgumentException if {@code dir} is a file or not empty
     */
    static void copyInto(FileIo io, Verified v, Path dir) throws IOException {
        if (Files.exists(dir) && Files.isSameFile(dir, v.manifest().directory())) {
            throw new IllegalArgumentException("cannot restore backup " + dir + " into itself");
        }
        prepare(io, dir, "the log directory to restore into,");
        Path marker = dir.resolve(RESTORING);
        try (FileIo.Channel ch = io.create(marker)) {
            ch.force();
        }
        io.forceDirectory(dir);
        copy(
                io,
                v.catalog(),
                dir.resolve(MapCatalog.TEMP_NAME),
                dir.resolve(v.catalog().getFileName()));
        copy(
                io,
                v.checkpoint(),
                dir.resolve(Checkpoints.TEMP_NAME),
                dir.resolve(v.checkpoint().getFileName()));
        io.forceDirectory(dir);
        io.delete(marker);
        io.forceDirectory(dir);
    }

    /** Copies {@code from} to {@code tmp}, forces it and renames it to {@code to}. */
    private static void copy(FileIo io, Path from, Path tmp, Path to) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(256 * 1024);
        try (FileIo.Channel in = READ_ONLY.openExisting(from);
                FileIo.Channel out = io.create(tmp)) {
            long pos = 0;
            int n;
            while ((n = in.read(buf.clear(), pos)) >= 0) {
                buf.flip();
                out.write(buf, pos);
                pos += n;
            }
            out.force();
        }
        io.moveAtomically(tmp, to);
    }
}
