// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Backup;
import dev.varve.Codec;
import dev.varve.Database;
import dev.varve.NamedMap;
import dev.varve.Snapshot;
import dev.varve.Transaction;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backups round-trip: named maps with custom comparators and codecs, in memory and durable,
 * into memory and into a log directory, and a copy of a backup opened as a log directory; an
 * empty database; and every refusal the API promises (non-empty target, closed database, a map
 * without codecs, the wrong codecs, restoring into memory without codecs).
 */
class BackupRoundTripTest {
    @TempDir
    Path tmp;

    /** A named comparator class: its identity ("comparator:<class>") is recorded and checked. */
    static final class ByLength implements Comparator<String> {
        @Override
        public int compare(String a, String b) {
            int c = Integer.compare(a.length(), b.length());
            return c != 0 ? c : a.compareTo(b);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ByLength;
        }

        @Override
        public int hashCode() {
            return 1;
        }
    }

    record Point(int x, int y) {}

    static final Codec<Point> POINT = Codec.of(
            "test.point/1",
            p -> ByteBuffer.allocate(8).putInt(p.x()).putInt(p.y()).array(),
            b -> new Point(ByteBuffer.wrap(b).getInt(0), ByteBuffer.wrap(b).getInt(4)));

    static final Codec<String> UPPER = Codec.of(
            "test.upper/1",
            s -> s.toUpperCase(java.util.Locale.ROOT).getBytes(StandardCharsets.UTF_8),
            b -> new String(b, StandardCharsets.UTF_8).toLowerCase(java.util.Locale.ROOT));

    static final Comparator<String> BY_LENGTH = new ByLength();
    static final Comparator<Long> DESCENDING = Comparator.reverseOrder();

    /** Fills the default map and three named maps (custom order and codecs), and drops a fourth. */
    private static void fill(Database<String, Long> db) {
        NamedMap<String, Point> points = db.openMap("points", BY_LENGTH, UPPER, POINT);
        NamedMap<Long, String> desc = db.openMap("desc", DESCENDING, Codec.LONG, Codec.STRING);
        NamedMap<Integer, byte[]> blobs = db.openMap("blobs", Codec.INT, Codec.BYTES);
        NamedMap<Integer, Integer> gone = db.openMap("gone", Codec.INT, Codec.INT);
        try (Transaction<String, Long> tx = db.begin()) {
            for (int i = 0; i < 50; i++) {
                tx.put("k" + i, (long) i * i);
                tx.map(points).put("p".repeat(1 + i % 7) + i, new Point(i, -i));
                tx.map(desc).put((long) i, "v" + i);
                tx.map(blobs).put(i, new byte[i]);
                tx.map(gone).put(i, i);
            }
            tx.commit();
        }
        db.remove("k3");
        desc.remove(7L);
        assertTrue(db.dropMap("gone"));
        db.openMap("empty", Codec.INT, Codec.INT);
    }

    /** Every map's content, in its iteration order (the map's comparator), as strings. */
    private static Map<String, List<String>> contents(Database<String, Long> db) {
        Map<String, List<String>> out = new TreeMap<>();
        NamedMap<String, Point> points = db.openMap("points", BY_LENGTH, UPPER, POINT);
        NamedMap<Long, String> desc = db.openMap("desc", DESCENDING, Codec.LONG, Codec.STRING);
        NamedMap<Integer, byte[]> blobs = db.openMap("blobs", Codec.INT, Codec.BYTES);
        NamedMap<Integer, Integer> empty = db.openMap("empty", Codec.INT, Codec.INT);
        try (Snapshot<String, Long> s = db.snapshot()) {
            out.put("", list(s));
            out.put("points", list(s.map(points)));
            out.put("desc", list(s.map(desc)));
            List<String> b = new ArrayList<>();
            s.map(blobs).forEach((k, v) -> b.add(k + "=" + v.length));
            out.put("blobs", b);
            out.put("empty", list(s.map(empty)));
        }
        return out;
    }

    private static List<String> list(Map<?, ?> m) {
        List<String> out = new ArrayList<>();
        m.forEach((k, v) -> out.add(k + "=" + v));
        return out;
    }

    private static Database<String, Long> inMemory() {
        return Database.<String, Long>builder().open();
    }

    private Database<String, Long> durable(Path dir) {
        return Database.<String, Long>builder()
                .durability(Wal.full(dir, Codec.STRING, Codec.LONG))
                .open();
    }

    @Test
    void namedMapsWithCustomComparatorsAndCodecsRoundTripFromMemoryIntoMemoryAndIntoALog() {
        Path backup = tmp.resolve("b");
        Map<String, List<String>> expected;
        Backup written;
        try (Database<String, Long> db = inMemory()) {
            fill(db);
            written = db.backup(backup, Codec.STRING, Codec.LONG);
            expected = contents(db);
        }
        assertEquals(backup, written.directory());
        assertEquals(Map.of("", 49L, "points", 50L, "desc", 49L, "blobs", 50L, "empty", 0L), written.entries());
        assertEquals(198, written.totalEntries());
        assertTrue(written.bytes() > 0);
        assertFalse(expected.get("points").isEmpty());
        try (Database<String, Long> db = Database.<String, Long>builder()
                .restore(backup, Codec.STRING, Codec.LONG)
                .open()) {
            assertEquals(java.util.Set.of("points", "desc", "blobs", "empty"), db.mapNames());
            assertEquals(expected, contents(db));
            assertEquals(written.snapshotTimestamp(), db.snapshot().snapshotTimestamp());
            db.put("after", 1L); // the clock continues above the backup
            try (Transaction<String, Long> tx = db.begin()) {
                tx.put("after", 2L);
                tx.commit();
                assertTrue(tx.commitTimestamp() > written.snapshotTimestamp());
            }
        }
        try (Database<String, Long> db = Database.<String, Long>builder()
                .durability(Wal.full(tmp.resolve("log"), Codec.STRING, Codec.LONG))
                .restore(backup)
                .open()) {
            assertEquals(expected, contents(db));
            db.put("after", 3L);
        }
        try (Database<String, Long> db = durable(tmp.resolve("log"))) { // the restored log recovers as usual
            assertEquals(3L, db.get("after"));
            db.remove("after");
            assertEquals(expected, contents(db));
        }
    }

    @Test
    void aDurableDatabaseRoundTripsWithMapsNotOpenedSinceItsRestartAndACopyOpensAsALog() throws Exception {
        Path log = tmp.resolve("log");
        Map<String, List<String>> expected;
        try (Database<String, Long> db = durable(log)) {
            fill(db);
            db.checkpoint();
            db.put("tail", 9L); // in the log after the checkpoint
            expected = contents(db);
        }
        Path backup = tmp.resolve("b");
        Backup written;
        try (Database<String, Long> db = durable(log)) {
            // "desc" and the others are not opened in this run: written from their recovered bytes
            written = db.backup(backup);
        }
        assertEquals(50L, written.entries().get("points"));
        assertEquals(50L, written.entries().get(""));
        BackupManifest m = BackupManifest.verify(backup);
        assertEquals(written.snapshotTimestamp(), m.snapshotTimestamp());
        assertEquals(written.totalEntries(), m.totalEntries());
        assertEquals("comparator:" + ByLength.class.getName(), m.maps().get(1).comparatorId());
        try (Database<String, Long> db = Database.<String, Long>builder()
                .restore(backup, Codec.STRING, Codec.LONG)
                .open()) {
            assertEquals(expected, contents(db));
        }
        Path copy = tmp.resolve("copy");
        Files.createDirectories(copy);
        try (var files = Files.list(backup)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, copy.resolve(f.getFileName()));
            }
        }
        try (Database<String, Long> db = durable(copy)) { // a backup is a log directory
            assertEquals(expected, contents(db));
        }
        try (Database<String, Long> db = Database.<String, Long>builder()
                .restore(backup)
                .durability(Wal.relaxed(tmp.resolve("log2"), Codec.STRING, Codec.LONG))
                .open()) {
            assertEquals(expected, contents(db));
            Backup again = db.backup(tmp.resolve("b2")); // a restored database backs up the same
            assertEquals(written.entries(), again.entries());
        }
    }

    @Test
    void aDatabaseRestoredIntoMemoryIsBackedUpAgainWithTheMapsItNeverOpened() {
        Path first = tmp.resolve("b1");
        Map<String, List<String>> expected;
        try (Database<String, Long> db = inMemory()) {
            fill(db);
            db.backup(first, Codec.STRING, Codec.LONG);
            expected = contents(db);
        }
        Path second = tmp.resolve("b2");
        try (Database<String, Long> db = Database.<String, Long>builder()
                .restore(first, Codec.STRING, Codec.LONG)
                .open()) {
            db.openMap("points", BY_LENGTH, UPPER, POINT).put("zz", new Point(1, 1));
            db.openMap("points", BY_LENGTH, UPPER, POINT).remove("zz");
            db.backup(second); // codecs known from the backup; "desc" etc. never opened
            NamedMap<Integer, Integer> added = db.openMap("added", Codec.INT, Codec.INT);
            added.put(1, 1);
        }
        try (Database<String, Long> db = Database.<String, Long>builder()
                .restore(second, Codec.STRING, Codec.LONG)
                .open()) {
            assertEquals(expected, contents(db));
        }
    }

    @Test
    void anEmptyDatabaseRoundTrips() {
        Path backup = tmp.resolve("b");
        Backup written;
        try (Database<String, Long> db = inMemory()) {
            written = db.backup(backup, Codec.STRING, Codec.LONG);
        }
        assertEquals(0, written.snapshotTimestamp());
        assertEquals(Map.of("", 0L), written.entries());
        BackupManifest m = BackupManifest.verify(backup);
        assertEquals(1, m.maps().size());
        assertEquals(0, m.totalEntries());
        try (Database<String, Long> db = Database.<String, Long>builder()
                .restore(backup, Codec.STRING, Codec.LONG)
                .open()) {
            assertTrue(db.snapshot().isEmpty());
            assertTrue(db.mapNames().isEmpty());
            db.put("a", 1L);
            assertEquals(1L, db.get("a"));
        }
        Path log = tmp.resolve("log");
        try (Database<String, Long> db = Database.<String, Long>builder()
                .durability(Wal.full(log, Codec.STRING, Codec.LONG))
                .restore(backup)
                .open()) {
            assertTrue(db.snapshot().isEmpty());
            db.put("a", 1L);
        }
        try (Database<String, Long> db = durable(log)) {
            assertEquals(1L, db.get("a"));
            Backup again = db.backup(tmp.resolve("b2"));
            assertEquals(Map.of("", 1L), again.entries());
        }
        try (Database<String, Long> db = durable(tmp.resolve("log-empty"))) {
            Backup empty = db.backup(tmp.resolve("b3"));
            assertEquals(0, empty.totalEntries());
        }
    }

    @Test
    void refusesANonEmptyTargetAFileAClosedDatabaseAndTheWrongBackupCall() throws Exception {
        Path full = Files.createDirectories(tmp.resolve("full"));
        Files.writeString(full.resolve("x"), "x");
        Path file = Files.writeString(tmp.resolve("file"), "x");
        try (Database<String, Long> db = inMemory()) {
            db.put("a", 1L);
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> db.backup(full, Codec.STRING, Codec.LONG));
            assertTrue(
                    e.getMessage().contains(full.toString()) && e.getMessage().contains("not empty"), e.getMessage());
            assertEquals(List.of(full.resolve("x")), WalTestSupport.files(full, ""));
            e = assertThrows(IllegalArgumentException.class, () -> db.backup(file, Codec.STRING, Codec.LONG));
            assertTrue(e.getMessage().contains(file + " is not a directory"), e.getMessage());
            IllegalStateException s = assertThrows(IllegalStateException.class, () -> db.backup(tmp.resolve("n")));
            assertTrue(s.getMessage().contains("backup(dir, keyCodec, valueCodec)"), s.getMessage());
        }
        Database<String, Long> closed = inMemory();
        closed.close();
        assertThrows(IllegalStateException.class, () -> closed.backup(tmp.resolve("c"), Codec.STRING, Codec.LONG));
        Database<String, Long> closedDurable = durable(tmp.resolve("log"));
        closedDurable.close();
        assertThrows(IllegalStateException.class, () -> closedDurable.backup(tmp.resolve("c")));
        assertFalse(Files.exists(tmp.resolve("c")));
        try (Database<String, Long> db = durable(tmp.resolve("log"))) {
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class, () -> db.backup(tmp.resolve("d"), Codec.STRING, Codec.LONG));
            assertTrue(e.getMessage().contains("use backup(dir)"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> db.backup(full));
        }
    }

    @Test
    void refusesAnInMemoryMapOpenedWithoutCodecsNamingIt() {
        try (Database<String, Long> db = inMemory()) {
            NamedMap<Integer, Integer> bare = db.openMap("bare");
            bare.put(1, 1);
            Path target = tmp.resolve("b");
            IllegalStateException e =
                    assertThrows(IllegalStateException.class, () -> db.backup(target, Codec.STRING, Codec.LONG));
            assertTrue(e.getMessage().contains("'bare'") && e.getMessage().contains("without codecs"), e.getMessage());
            assertFalse(Files.exists(target));
            db.openMap("bare", Codec.INT, Codec.INT); // the codecs given later are used
            Backup b = db.backup(target, Codec.STRING, Codec.LONG);
            assertEquals(1L, b.entries().get("bare"));
        }
    }

    @Test
    void restoreRefusesOtherCodecsAnotherOrderAndMemoryWithoutCodecs() throws Exception {
        Path backup = tmp.resolve("b");
        try (Database<String, Long> db = inMemory()) {
            fill(db);
            db.backup(backup, Codec.STRING, Codec.LONG);
        }
        Codec<Long> otherLong = Codec.of("test.other-long/1", l -> new byte[8], b -> 0L);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> Database.<String, Long>builder()
                        .restore(backup, Codec.STRING, otherLong)
                        .open());
        assertTrue(e.getMessage().contains(backup.resolve("MANIFEST").toString()), e.getMessage());
        assertTrue(e.getMessage().contains("test.other-long/1"), e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> Database.<String, Long>builder(Comparator.reverseOrder())
                        .restore(backup, Codec.STRING, Codec.LONG)
                        .open());
        assertTrue(e.getMessage().contains("natural ordering"), e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> Database.<String, Long>builder()
                        .durability(Wal.full(tmp.resolve("log"), Codec.STRING, otherLong))
                        .restore(backup)
                        .open());
        assertFalse(Files.exists(tmp.resolve("log").resolve("RESTORING")));
        IllegalStateException s = assertThrows(
                IllegalStateException.class,
                () -> Database.<String, Long>builder().restore(backup).open());
        assertTrue(s.getMessage().contains("restore(dir, keyCodec, valueCodec)"), s.getMessage());
        try (Database<String, Long> db = Database.<String, Long>builder()
                .restore(backup, Codec.STRING, Codec.LONG)
                .open()) {
            e = assertThrows(
                    IllegalArgumentException.class, () -> db.openMap("desc", DESCENDING, Codec.LONG, Codec.LONG));
            assertTrue(e.getMessage().contains("map 'desc'"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> db.openMap("points", UPPER, POINT));
            assertTrue(e.getMessage().contains("natural ordering"), e.getMessage());
            assertNull(db.get("k3"));
        }
        Path used = Files.createDirectories(tmp.resolve("used"));
        Files.writeString(used.resolve("x"), "x");
        e = assertThrows(
                IllegalArgumentException.class,
                () -> Database.<String, Long>builder()
                        .durability(Wal.full(used, Codec.STRING, Codec.LONG))
                        .restore(backup)
                        .open());
        assertTrue(e.getMessage().contains(used + " is not empty"), e.getMessage());
    }

    @Test
    void aLogDirectoryLeftByAnUnfinishedRestoreIsRefused() throws Exception {
        Path log = Files.createDirectories(tmp.resolve("log"));
        Files.createFile(log.resolve(Backups.RESTORING));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> durable(log));
        assertTrue(e.getMessage().contains("unfinished restore"), e.getMessage());
    }
}
