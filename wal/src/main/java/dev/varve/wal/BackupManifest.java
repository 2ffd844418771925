// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The {@code MANIFEST} of a backup directory ({@code Database.backup}): the format version, when
 * it was written, the snapshot timestamp of its image, its maps (name, codec ids, comparator id,
 * entry count) and its files (size and CRC32C). {@link #verify(Path)} reads it and checks the
 * whole backup against it, for operators ({@code varve-bench backup-info}) and before every
 * restore.
 *
 * <h2>File {@code MANIFEST} (big-endian)</h2>
 * <pre>
 *   0              4               8                      16                     24
 *   +--------------+---------------+----------------------+----------------------+-----------+------+-----------+-------+--------+
 *   | magic "VRVB" | format version| created (int64, ms   | snapshot ts (int64)  | map count | maps | file count| files | CRC32C |
 *   |              | = 1           | since the epoch)     |                      | (int32)   |      | (int32)   |       |        |
 *   +--------------+---------------+----------------------+----------------------+-----------+------+-----------+-------+--------+
 *   map:    | id (int32; 0 = the default map) | entries (int64) | name | key codec id | value codec id | comparator id |
 *   file:   | name | size in bytes (int64) | CRC32C of the whole file (int32) |
 *   string: | UTF-8 length (int32) | UTF-8 bytes |           (as in the map catalog)
 *   CRC32C: of every byte before it.
 * </pre>
 * The backup's other files are in the log directory's formats: one checkpoint ({@code
 * checkpoint-<snapshot ts>.ckp}, records and CRC rules of {@link Checkpoints}) and one map catalog
 * ({@code maps-<generation>.catalog}, {@link MapCatalog}); the directory holds no log segments,
 * so a copy of it opens as a write-ahead log directory. The {@code MANIFEST} is written last
 * (as {@code MANIFEST.tmp}, forced, renamed, the directory forced): a directory without one is
 * an unfinished backup.
 *
 * <p>Immutable and thread-safe.
 *
 * @param directory the backup directory it was read from
 * @param formatVersion the manifest's format version
 * @param created when the backup was written (the writing machine's clock)
 * @param snapshotTimestamp the commit timestamp of the backup's image
 * @param maps the maps in the backup, by ascending id (the default map, id 0, first)
 * @param files the backup's files besides the manifest
 */
public record BackupManifest(
        Path directory,
        int formatVersion,
        Instant created,
        long snapshotTimestamp,
        List<MapInfo> maps,
        List<FileInfo> files) {

    /** The manifest's file name in a backup directory. */
    public static final String FILE_NAME = "MANIFEST";

    static final int MAGIC = 0x56525642; // "VRVB"
    static final int VERSION = 1;
    static final String TEMP_NAME = "MANIFEST.tmp";

    /**
     * Checks the parts and copies the lists.
     *
     * @param directory the backup directory
     * @param formatVersion the format version
     * @param created when the backup was written
     * @param snapshotTimestamp the image's commit timestamp
     * @param maps the maps
     * @param files the files
     * @throws NullPointerException if an argument is null
     */
    public BackupManifest {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(created, "created");
        maps = List.copyOf(maps);
        files = List.copyOf(files);
    }

    /**
     * One map in a backup, as its catalog records it, with its live keys in the image.
     *
     * @param id the map's id (0 for the default map)
     * @param name its name ({@code ""} for the default map)
     * @param keyCodecId the id of its key codec ({@code ""} if undeclared)
     * @param valueCodecId the id of its value codec ({@code ""} if undeclared)
     * @param comparatorId its key order ({@code dev.varve.spi.MapDefinition#comparatorId})
     * @param entries its live keys in the image
     */
    public record MapInfo(
            int id, String name, String keyCodecId, String valueCodecId, String comparatorId, long entries) {}

    /**
     * One file of a backup.
     *
     * @param name its name in the backup directory
     * @param bytes its size in bytes
     * @param crc32c the CRC32C of its whole content
     */
    public record FileInfo(String name, long bytes, int crc32c) {}

    /**
     * Reads the manifest of the backup in {@code directory} and verifies the whole backup against
     * it: the manifest's own CRC32C; that every file it lists is there with its size; each
     * file's own format (every checkpoint record and the trailer's CRC32C, the catalog's CRC32C);
     * that the checkpoint holds the snapshot, maps and entry counts the manifest records and the
     * catalog the same maps and codec ids; and each file's CRC32C. Reads only; never changes the
     * directory. Thread-safe.
     *
     * @param directory the backup directory
     * @return the verified manifest
     * @throws CorruptLogException if anything does not match: the message names the file and the
     *     byte offset ({@link CorruptLogException#file()}, {@link CorruptLogException#offset()});
     *     also for a directory without a manifest (an unfinished backup, or none)
     * @throws IllegalArgumentException if {@code directory} is not a directory
     * @throws UncheckedIOException if reading fails
     * @throws NullPointerException if {@code directory} is null
     */
    public static BackupManifest verify(Path directory) {
        Objects.requireNonNull(directory, "directory");
        try {
            return Backups.verify(Backups.READ_ONLY, directory);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read backup " + directory + ": " + e, e);
        }
    }

    /**
     * The live keys in the image over every map.
     *
     * @return the sum of the maps' entries
     */
    public long totalEntries() {
        long n = 0;
        for (MapInfo m : maps) {
            n += m.entries();
        }
        return n;
    }

    /**
     * The size of the backup's files (the manifest not included).
     *
     * @return the bytes
     */
    public long totalBytes() {
        long n = 0;
        for (FileInfo f : files) {
            n += f.bytes();
        }
        return n;
    }

    /**
     * A report for operators: one line per fact, map and file.
     *
     * @return the multi-line text, ending with a line break
     */
    public String describe() {
        StringBuilder b = new StringBuilder();
        b.append("backup             ").append(directory).append('\n');
        b.append("format version     ").append(formatVersion).append('\n');
        b.append("created            ").append(created).append('\n');
        b.append("snapshot timestamp ").append(snapshotTimestamp).append('\n');
        b.append("entries            ").append(totalEntries()).append('\n');
        b.append("bytes              ").append(totalBytes()).append('\n');
        for (MapInfo m : maps) {
            b.append(String.format(
                    "map %-14s id %d, %d entries, key codec '%s', value codec '%s', %s%n",
                    m.id() == 0 ? "(default)" : "'" + m.name() + "'",
                    m.id(),
                    m.entries(),
                    m.keyCodecId(),
                    m.valueCodecId(),
                    m.comparatorId()));
        }
        for (FileInfo f : files) {
            b.append(String.format("file %-40s %12d bytes, CRC32C %08x%n", f.name(), f.bytes(), f.crc32c()));
        }
        return b.toString();
    }

    /** The manifest's bytes, CRC32C included. */
    byte[] encode() {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeInt(MAGIC);
            out.writeInt(formatVersion);
            out.writeLong(created.toEpochMilli());
            out.writeLong(snapshotTimestamp);
            out.writeInt(maps.size());
            for (MapInfo m : maps) {
                out.writeInt(m.id());
                out.writeLong(m.entries());
                for (String s : new String[] {m.name(), m.keyCodecId(), m.valueCodecId(), m.comparatorId()}) {
                    MapCatalog.putString(out, s);
                }
            }
            out.writeInt(files.size());
            for (FileInfo f : files) {
                MapCatalog.putString(out, f.name());
                out.writeLong(f.bytes());
                out.writeInt(f.crc32c());
            }
            byte[] body = bytes.toByteArray();
            out.writeInt(RecordFormat.crc(body, 0, body.length));
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // NOTE: a ByteArrayOutputStream does not throw
        }
    }

    /**
     * Parses the manifest {@code file} of {@code directory}.
     *
     * @throws CorruptLogException naming the file and offset if it is damaged
     */
    static BackupManifest decode(Path directory, Path file, byte[] bytes) {
        if (bytes.length < 36) {
            throw new CorruptLogException(
                    file, bytes.length, "backup manifest of " + bytes.length + " bytes is too short", null);
        }
        if (RecordFormat.crc(bytes, 0, bytes.length - 4)
                != ByteBuffer.wrap(bytes).getInt(bytes.length - 4)) {
            throw new CorruptLogException(file, bytes.length - 4, "backup manifest fails its CRC32C", null);
        }
        ByteBuffer b = ByteBuffer.wrap(bytes, 0, bytes.length - 4);
        try {
            if (b.getInt() != MAGIC) {
                throw new CorruptLogException(file, 0, "backup manifest has a bad magic number", null);
            }
            int version = b.getInt();
            if (version != VERSION) {
                throw new CorruptLogException(
                        file, 4, "backup manifest has format version " + version + "; this release reads 1", null);
            }
            Instant created = Instant.ofEpochMilli(b.getLong());
            long snapshotTs = b.getLong();
            int mapCount = count(file, b);
            List<MapInfo> maps = new ArrayList<>();
            for (int i = 0; i < mapCount; i++) {
                int id = b.getInt();
                long entries = b.getLong();
                maps.add(new MapInfo(
                        id,
                        MapCatalog.string(b),
                        MapCatalog.string(b),
                        MapCatalog.string(b),
                        MapCatalog.string(b),
                        entries));
            }
            int fileCount = count(file, b);
            List<FileInfo> files = new ArrayList<>();
            for (int i = 0; i < fileCount; i++) {
                files.add(new FileInfo(MapCatalog.string(b), b.getLong(), b.getInt()));
            }
            if (b.hasRemaining()) {
                throw new CorruptLogException(
                        file, b.position(), "backup manifest has " + b.remaining() + " bytes after its files", null);
            }
            return new BackupManifest(directory, version, created, snapshotTs, maps, files);
        } catch (BufferUnderflowException | IllegalArgumentException | java.time.DateTimeException e) {
            throw new CorruptLogException(file, b.position(), "backup manifest is malformed: " + e, e);
        }
    }

    private static int count(Path file, ByteBuffer b) {
        int at = b.position();
        int n = b.getInt();
        if (n < 0 || n > b.remaining()) {
            throw new CorruptLogException(file, at, "backup manifest has a count of " + n, null);
        }
        return n;
    }
}
