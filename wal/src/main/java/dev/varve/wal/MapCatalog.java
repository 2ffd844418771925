// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import dev.varve.Codec;
import dev.varve.spi.MapDefinition;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The maps of a log directory: each map's id, name, codec ids and comparator id, the codecs of the
 * maps opened in this run (what records and checkpoints are encoded with), and the recovered state
 * of the named maps not opened yet (kept as bytes: their codecs are only given by {@code openMap}).
 *
 * <h2>File {@code maps-<generation, 20 digits>.catalog}</h2>
 * <pre>
 *   | magic "VRVM" | version (int32) = 1 | next id (int32) | entry count (int32) | entries | CRC32C of all before |
 *   entry: | id (int32) | name | key codec id | value codec id | comparator id |   (each string: int32 length, UTF-8)
 * </pre>
 * The default map is entry 0, named "". A new generation is written as {@code maps.tmp}, forced,
 * renamed and the directory forced before {@code openMap} returns or {@code dropMap} completes;
 * then older generations are deleted. Recovery reads the newest generation, which must pass its
 * CRC (a renamed file is complete).
 *
 * <p>Thread-safe: every method is synchronized, except the codec lookups of the append path,
 * which read a volatile array.
 *
 * <p>Implementation notes.
 * C1. A map is in the catalog file before any record that writes it is appended (openMap writes
 *     the file and forces it first), so a record's map id is always known to recovery unless
 *     the map was dropped since; ids below nextId that are absent were dropped, and their records
 *     are skipped; an id at or above nextId is damage.
 * C2. Ids are never reused (MapIndex M1): nextId only rises, and is stored.
 * C3. The recovered state of a named map not opened in this run is held here, the latest write
 *     per key (recovery replays in commit order, so later writes replace earlier ones); every
 *     timestamp in it is at or below the recovered one. openMap decodes it for the store but
 *     keeps it: a checkpoint whose store snapshot does not hold the map yet writes it from here
 *     (see Checkpoints), and one whose snapshot holds it lets it go (releaseOpened).
 */
final class MapCatalog implements Checkpoints.ImageMaps {
    static final int MAGIC = 0x5652564D; // "VRVM"
    static final int VERSION = 1;
    static final String TEMP_NAME = "maps.tmp";

    /** One map as the catalog file records it. */
    record Entry(int id, String name, String keyCodecId, String valueCodecId, String comparatorId) {
        String describe() {
            return "key codec '" + keyCodecId + "', value codec '" + valueCodecId + "' and "
                    + (comparatorId.equals("natural") ? "natural ordering" : comparatorId);
        }
    }

    /** A recovered write of a map not opened yet: its bytes and commit timestamp. */
    record RawWrite(long commitTs, byte[] key, byte[] value) {}

    private final FileIo io;
    /** Null for a catalog that is never saved (tests of the parts of the log). */
    private final Path dir;

    private final TreeMap<Integer, Entry> entries = new TreeMap<>();
    private int nextId = 1;
    private long generation;
    /** Codecs by map id, for the maps opened in this run (0: the default map). */
    private volatile Codec<?>[] keyCodecs = new Codec<?>[1];

    private volatile Codec<?>[] valueCodecs = new Codec<?>[1];
    /** C3: map id -> key bytes -> latest recovered write. */
    private final Map<Integer, Map<ByteBuffer, RawWrite>> pending = new HashMap<>();

    private MapCatalog(FileIo io, Path dir) {
        this.io = io;
        this.dir = dir;
    }

    /**
     * A catalog of the default map alone that is never written to a file (tests of the log's
     * parts, and the overloads that take the default codecs).
     */
    static <K, V> MapCatalog unsaved(Codec<K> keyCodec, Codec<V> valueCodec) {
        MapCatalog c = new MapCatalog(FileIo.REAL, null);
        c.setCodecs(0, keyCodec, valueCodec);
        c.entries.put(0, new Entry(0, "", keyCodec.id(), valueCodec.id(), "natural"));
        return c;
    }

    /**
     * Loads the directory's catalog (an empty one if it has none), checks the default map's
     * codecs and order against what it records, and records them if it records none (written at
     * once, so the first open of a directory leaves a catalog).
     *
     * @throws IllegalArgumentException if the default map was created with other declared codec
     *     ids or another order
     * @throws CorruptLogException if the newest catalog file is damaged
     * @throws IOException if a file operation fails
     */
    static <K, V> MapCatalog open(FileIo io, Path dir, Codec<K> keyCodec, Codec<V> valueCodec, String comparatorId)
            throws IOException {
        MapCatalog c = new MapCatalog(io, dir);
        c.load();
        Entry given = new Entry(0, "", keyCodec.id(), valueCodec.id(), comparatorId);
        Entry held = c.entries.get(0);
        if (held == null) {
            c.entries.put(0, given);
            c.save();
        } else if (differs(held, given)) {
            throw new IllegalArgumentException("the default map in " + dir + " was created with " + held.describe()
                    + "; the database was opened with " + given.describe());
        }
        c.setCodecs(0, keyCodec, valueCodec);
        return c;
    }

    /** Whether two entries' declared codec ids or their orders differ (an undeclared id, "", matches any). */
    static boolean differs(Entry held, Entry given) {
        return idsDiffer(held.keyCodecId(), given.keyCodecId())
                || idsDiffer(held.valueCodecId(), given.valueCodecId())
                || comparatorsDiffer(held.comparatorId(), given.comparatorId());
    }

    private static boolean idsDiffer(String a, String b) {
        return !a.isEmpty() && !b.isEmpty() && !a.equals(b);
    }

    /**
     * Natural ordering never matches a comparator; two comparators differ only when both name
     * their class ("comparator:<class>"): a lambda's class has no stable name (MapDefinition).
     */
    private static boolean comparatorsDiffer(String a, String b) {
        if (a.equals("natural") || b.equals("natural")) {
            return !a.equals(b);
        }
        return a.startsWith("comparator:") && b.startsWith("comparator:") && !a.equals(b);
    }

    // ---- opening and dropping named maps -------------------------------------------------------

    /**
     * Opens the named map {@code map}: checks it against its entry, or records a new entry
     * durably (C1), and registers its codecs for encoding.
     *
     * @return the map's id
     * @throws IllegalArgumentException if the entry has other declared codec ids or another order
     * @throws IOException if the catalog file cannot be written
     */
    synchronized int open(MapDefinition<?, ?> map) throws IOException {
        Entry given =
                new Entry(0, map.name(), map.keyCodec().id(), map.valueCodec().id(), map.comparatorId());
        Entry held = byName(map.name());
        int id;
        if (held != null) {
            if (differs(held, given)) {
                throw new IllegalArgumentException("map '" + map.name() + "' in " + where() + " was created with "
                        + held.describe() + "; openMap was given " + given.describe());
            }
            id = held.id();
        } else {
            id = nextId;
            Entry created = new Entry(id, map.name(), given.keyCodecId(), given.valueCodecId(), given.comparatorId());
            entries.put(id, created);
            nextId++;
            try {
                save();
            } catch (IOException | RuntimeException e) {
                entries.remove(id); // not recorded: the next open tries again (nextId stays: C2)
                throw e;
            }
        }
        setCodecs(id, map.keyCodec(), map.valueCodec());
        return id;
    }

    /**
     * The recovered state of map {@code id} (C3), decoded with {@code map}'s codecs.
     *
     * @param sink receives each live key: commit timestamp, key, value
     * @throws IllegalArgumentException if a key or value does not decode with the given codecs
     */
    @SuppressWarnings("unchecked")
    synchronized <K2, V2> void replayRecovered(
            int id, MapDefinition<K2, V2> map, dev.varve.spi.MapReplay<K2, V2> sink) {
        Map<ByteBuffer, RawWrite> raw = pending.get(id);
        if (raw == null) {
            return;
        }
        for (RawWrite w : raw.values()) {
            if (w.value() == null) {
                continue; // removed
            }
            K2 key;
            V2 value;
            try {
                key = map.keyCodec().decode(w.key(), 0, w.key().length);
                value = map.valueCodec().decode(w.value(), 0, w.value().length);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(
                        "map '" + map.name() + "' in " + where() + ": a recovered write of commit " + w.commitTs()
                                + " does not decode with key codec " + map.keyCodec() + " and value codec "
                                + map.valueCodec() + " (were other codecs used when it was written?): " + e,
                        e);
            }
            sink.replay(w.commitTs(), key, value);
        }
    }

    /**
     * Forgets map {@code id}: removes its entry and writes the catalog durably, then lets its
     * recovered state go; if the write fails, the entry stays (nothing is dropped).
     *
     * @throws IOException if the catalog file cannot be written
     */
    synchronized void drop(int id) throws IOException {
        Entry removed = entries.remove(id);
        if (removed == null) {
            return;
        }
        try {
            save();
        } catch (IOException | RuntimeException e) {
            entries.put(id, removed); // not recorded: not dropped
            throw e;
        }
        pending.remove(id);
        // The codecs stay: commits to the map may still be appended until the store drops it,
        // and a checkpoint that started before may still read it (recovery skips both: C1).
    }

    /** The names of the named maps in the catalog. */
    synchronized java.util.NavigableSet<String> names() {
        java.util.TreeSet<String> out = new java.util.TreeSet<>();
        for (Entry e : entries.values()) {
            if (e.id() != 0) {
                out.add(e.name());
            }
        }
        return out;
    }

    /** The entry of map {@code id} (0: the default map), or null if there is none (dropped, or never). */
    synchronized Entry entry(int id) {
        return entries.get(id);
    }

    /** Every entry, by id (0: the default map). */
    synchronized List<Entry> entries() {
        return new ArrayList<>(entries.values());
    }

    /** The id the next new map gets (C2). */
    synchronized int nextId() {
        return nextId;
    }

    /**
     * Reads the catalog file {@code file} without changing its directory (nothing is deleted or
     * written), for a backup: a catalog that is never saved (like {@link #unsaved}), holding the
     * default map's codecs if they are given.
     *
     * @param keyCodec the default map's key codec, or null to register no codecs
     * @param valueCodec the default map's value codec, or null as {@code keyCodec}
     * @throws CorruptLogException if the file is damaged
     * @throws IOException if reading fails
     */
    static MapCatalog readFile(FileIo io, Path file, Codec<?> keyCodec, Codec<?> valueCodec) throws IOException {
        MapCatalog c = new MapCatalog(io, null);
        c.generation = parseName(file.getFileName().toString());
        c.read(file);
        if (keyCodec != null) {
            c.setCodecs(0, keyCodec, valueCodec);
        }
        return c;
    }

    /**
     * Writes a new catalog holding {@code entries} (the default map's among them) and {@code
     * nextId} into {@code dir} as generation 1, durably (as {@link #save}), for a backup.
     *
     * @return the file written
     * @throws IOException if a file operation fails
     */
    static Path writeNew(FileIo io, Path dir, java.util.Collection<Entry> entries, int nextId) throws IOException {
        MapCatalog c = new MapCatalog(io, dir);
        for (Entry e : entries) {
            c.entries.put(e.id(), e);
        }
        c.nextId = nextId;
        c.save();
        return dir.resolve(fileName(c.generation));
    }

    /** The id of named map {@code name}, or -1. */
    synchronized int idOf(String name) {
        Entry e = byName(name);
        return e == null ? -1 : e.id();
    }

    private Entry byName(String name) {
        for (Entry e : entries.values()) {
            if (e.id() != 0 && e.name().equals(name)) {
                return e;
            }
        }
        return null;
    }

    private String where() {
        return dir == null ? "the log" : dir.toString();
    }

    private void setCodecs(int id, Codec<?> keyCodec, Codec<?> valueCodec) {
        Codec<?>[] k = Arrays.copyOf(keyCodecs, Math.max(keyCodecs.length, id + 1));
        Codec<?>[] v = Arrays.copyOf(valueCodecs, Math.max(valueCodecs.length, id + 1));
        k[id] = keyCodec;
        v[id] = valueCodec;
        valueCodecs = v;
        keyCodecs = k; // NOTE: written last, read first (keyCodec): a reader seeing it sees both
    }

    // ---- codecs of the append and checkpoint paths ----------------------------------------------

    /**
     * The key codec of map {@code id}.
     *
     * @throws IllegalStateException if the map is not open in this run
     */
    @Override
    @SuppressWarnings("unchecked")
    public Codec<Object> keyCodec(int id) {
        Codec<?>[] k = keyCodecs;
        if (id < 0 || id >= k.length || k[id] == null) {
            throw new IllegalStateException("map id " + id + " is not open in this log");
        }
        return (Codec<Object>) k[id];
    }

    /**
     * The value codec of map {@code id}.
     *
     * @throws IllegalStateException if the map is not open in this run
     */
    @Override
    @SuppressWarnings("unchecked")
    public Codec<Object> valueCodec(int id) {
        keyCodec(id); // the check, and the read that orders the two
        return (Codec<Object>) valueCodecs[id];
    }

    // ---- recovery ------------------------------------------------------------------------------

    /** What recovery does with a write of map {@code id}. */
    enum Route {
        /** The default map: decode and replay into the store. */
        STORE,
        /** A named map in the catalog: keep its bytes (C3). */
        PENDING,
        /** A map dropped since: skip. */
        SKIP,
        /** No map ever had this id: damage. */
        UNKNOWN
    }

    synchronized Route route(int id) {
        if (id == 0) {
            return Route.STORE;
        }
        if (entries.containsKey(id)) {
            return Route.PENDING;
        }
        return id > 0 && id < nextId ? Route.SKIP : Route.UNKNOWN;
    }

    /** Keeps a recovered write of named map {@code id} (C3); a later write of the key replaces it. */
    synchronized void recovered(int id, long commitTs, byte[] key, byte[] valueOrNull) {
        pending.computeIfAbsent(id, i -> new HashMap<>())
                .put(ByteBuffer.wrap(key), new RawWrite(commitTs, key, valueOrNull));
    }

    /**
     * The recovered state of the named maps whose ids are not in {@code inStore}, for a
     * checkpoint (C3): map id -> its live writes.
     */
    @Override
    public synchronized TreeMap<Integer, List<RawWrite>> recoveredNotIn(java.util.Set<Integer> inStore) {
        TreeMap<Integer, List<RawWrite>> out = new TreeMap<>();
        for (Map.Entry<Integer, Map<ByteBuffer, RawWrite>> e : pending.entrySet()) {
            if (!inStore.contains(e.getKey()) && entries.containsKey(e.getKey())) {
                List<RawWrite> live = new ArrayList<>();
                for (RawWrite w : e.getValue().values()) {
                    if (w.value() != null) {
                        live.add(w);
                    }
                }
                out.put(e.getKey(), live);
            }
        }
        return out;
    }

    /** Lets go of the recovered state of maps a durable checkpoint holds from the store (C3). */
    synchronized void releaseOpened(java.util.Set<Integer> inStore) {
        pending.keySet().removeAll(inStore);
    }

    // ---- the file --------------------------------------------------------------------------------

    static String fileName(long generation) {
        return String.format("maps-%020d.catalog", generation);
    }

    static long parseName(String name) {
        if (name.length() != 33 || !name.startsWith("maps-") || !name.endsWith(".catalog")) {
            return -1;
        }
        try {
            return Long.parseLong(name.substring(5, 25));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private void load() throws IOException {
        TreeMap<Long, Path> files = new TreeMap<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                long g = parseName(name);
                if (g >= 0) {
                    files.put(g, p);
                } else if (name.equals(TEMP_NAME)) {
                    io.delete(p); // never renamed: never relied on
                }
            }
        }
        if (files.isEmpty()) {
            return;
        }
        Map.Entry<Long, Path> newest = files.lastEntry();
        generation = newest.getKey();
        Path file = newest.getValue();
        read(file);
        for (Path older : files.headMap(generation).values()) {
            io.delete(older); // left by a crash between a newer one's rename and this cleanup
        }
    }

    /** Reads and parses one catalog file. */
    private void read(Path file) throws IOException {
        parse(file, readSmall(io, file, "catalog"));
    }

    /**
     * The whole content of a small file (a catalog, a backup's MANIFEST).
     *
     * @throws CorruptLogException if it is above 64 MiB: damage, not such a file
     */
    static byte[] readSmall(FileIo io, Path file, String what) throws IOException {
        try (FileIo.Channel ch = io.openExisting(file)) {
            long size = ch.size();
            if (size > 64L << 20) {
                throw new CorruptLogException(file, 0, what + " of " + size + " bytes is implausibly large", null);
            }
            ByteBuffer b = ByteBuffer.allocate((int) size);
            while (b.hasRemaining() && ch.read(b, b.position()) >= 0) {
                // until the whole file is read
            }
            return b.array();
        }
    }

    private void parse(Path file, byte[] bytes) {
        if (bytes.length < 20
                || RecordFormat.crc(bytes, 0, bytes.length - 4)
                        != ByteBuffer.wrap(bytes).getInt(bytes.length - 4)) {
            throw new CorruptLogException(file, 0, "map catalog fails its CRC32C", null);
        }
        ByteBuffer b = ByteBuffer.wrap(bytes, 0, bytes.length - 4);
        try {
            if (b.getInt() != MAGIC || b.getInt() != VERSION) {
                throw new CorruptLogException(file, 0, "map catalog has a bad magic number or version", null);
            }
            nextId = b.getInt();
            int count = b.getInt();
            for (int i = 0; i < count; i++) {
                Entry e = new Entry(b.getInt(), string(b), string(b), string(b), string(b));
                entries.put(e.id(), e);
            }
            if (b.hasRemaining() || nextId < 1) {
                throw new CorruptLogException(file, b.position(), "map catalog is malformed", null);
            }
        } catch (java.nio.BufferUnderflowException | IllegalArgumentException e) {
            throw new CorruptLogException(file, b.position(), "map catalog is malformed: " + e, e);
        }
    }

    /** Reads a string written by {@link #putString}. */
    static String string(ByteBuffer b) {
        int n = b.getInt();
        if (n < 0 || n > b.remaining()) {
            throw new IllegalArgumentException("string length " + n);
        }
        byte[] s = new byte[n];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }

    /** Writes a string: its UTF-8 length (int32), then its UTF-8 bytes. */
    static void putString(java.io.DataOutputStream out, String s) throws IOException {
        byte[] u = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(u.length);
        out.write(u);
    }

    private void save() throws IOException {
        if (dir == null) {
            return;
        }
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        java.io.DataOutputStream out = new java.io.DataOutputStream(bytes);
        out.writeInt(MAGIC);
        out.writeInt(VERSION);
        out.writeInt(nextId);
        out.writeInt(entries.size());
        for (Entry e : entries.values()) {
            out.writeInt(e.id());
            for (String s : new String[] {e.name(), e.keyCodecId(), e.valueCodecId(), e.comparatorId()}) {
                putString(out, s);
            }
        }
        byte[] body = bytes.toByteArray();
        ByteBuffer file = ByteBuffer.allocate(body.length + 4);
        file.put(body).putInt(RecordFormat.crc(body, 0, body.length)).flip();
        Path tmp = dir.resolve(TEMP_NAME);
        io.delete(tmp);
        try (FileIo.Channel ch = io.create(tmp)) {
            ch.write(file, 0);
            ch.force();
        }
        long next = generation + 1;
        io.moveAtomically(tmp, dir.resolve(fileName(next)));
        io.forceDirectory(dir);
        long previous = generation;
        generation = next;
        if (previous > 0) {
            io.delete(dir.resolve(fileName(previous)));
        }
    }
}
