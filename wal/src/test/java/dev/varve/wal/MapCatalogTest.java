// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static dev.varve.wal.WalTestSupport.files;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Codec;
import dev.varve.Database;
import dev.varve.NamedMap;
import dev.varve.Snapshot;
import dev.varve.Transaction;
import dev.varve.Tuple;
import dev.varve.spi.MapDefinition;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The catalog of maps a durable database keeps in its directory: each map's name, codec ids and
 * order are recorded when it is created (the default map's at the first open), a reopen with
 * another declared codec id or another order is refused with a message that names the map, what
 * the log holds and what was given, and every map's content survives reopens, checkpoints, the
 * deletion of the segments it was written in (also when the map was not opened in that run), a
 * crash at any file operation, and drops.
 */
class MapCatalogTest {

    @TempDir
    Path dir;

    /** Longs in descending order (a named class: comparator id "comparator:<class name>"). */
    static final class DescendingLongs implements Comparator<Long> {
        @Override
        public int compare(Long a, Long b) {
            return Long.compare(b, a);
        }
    }

    /** Even longs first, each part ascending. */
    static final class EvenFirstLongs implements Comparator<Long> {
        @Override
        public int compare(Long a, Long b) {
            int parity = Long.compare(Math.floorMod(a, 2L), Math.floorMod(b, 2L));
            return parity != 0 ? parity : Long.compare(a, b);
        }
    }

    /** Strings in descending natural order. */
    static final class DescendingStrings implements Comparator<String> {
        @Override
        public int compare(String a, String b) {
            return b.compareTo(a);
        }
    }

    /** Shorter strings first, then natural order. */
    static final class ShortestFirstStrings implements Comparator<String> {
        @Override
        public int compare(String a, String b) {
            int length = Integer.compare(a.length(), b.length());
            return length != 0 ? length : a.compareTo(b);
        }
    }

    /** Tuples in descending tuple order. */
    static final class DescendingTuples implements Comparator<Tuple> {
        @Override
        public int compare(Tuple a, Tuple b) {
            return b.compareTo(a);
        }
    }

    /** UTF-8 strings like {@link Codec#STRING}, with an undeclared id (""). */
    private static final Codec<String> UNDECLARED_STRING = Codec.of(s -> s.getBytes(UTF_8), b -> new String(b, UTF_8));

    private static String id(Comparator<?> comparator) {
        return MapDefinition.comparatorId(comparator);
    }

    private Wal.Builder<String, Long> wal(Path d, Wal.Sync sync) {
        return Wal.builder(d, Codec.STRING, Codec.LONG)
                .sync(sync)
                .segmentSize(4096)
                .checkpointEvery(0);
    }

    private Database<String, Long> open(Wal.Sync sync) {
        return Database.<String, Long>builder()
                .durability(wal(dir, sync).build())
                .open();
    }

    private Database<String, Long> open() {
        return open(Wal.Sync.FULL);
    }

    private static <K, V> TreeMap<K, V> contents(Database<?, ?> db, NamedMap<K, V> map) {
        try (Snapshot<?, ?> s = db.snapshot()) {
            TreeMap<K, V> copy = new TreeMap<>(map.comparator());
            copy.putAll(s.map(map));
            return copy;
        }
    }

    private static <K> List<K> keysInOrder(Database<?, ?> db, NamedMap<K, ?> map) {
        try (Snapshot<?, ?> s = db.snapshot()) {
            return new ArrayList<>(s.map(map).keySet());
        }
    }

    private static <K, V> TreeMap<K, V> contents(Database<K, V> db) {
        try (Snapshot<K, V> s = db.snapshot()) {
            return new TreeMap<>(s);
        }
    }

    /** Asserts that {@code e}'s message contains every fragment (the wording around them may vary). */
    private static void assertNames(IllegalArgumentException e, String... fragments) {
        String message = e.getMessage();
        assertNotNull(message, "the refusal has no message");
        for (String f : fragments) {
            assertTrue(message.contains(f), () -> "the message does not name \"" + f + "\": " + message);
        }
    }

    // ---- the default map ------------------------------------------------------------------------

    @Test
    void reopeningWithAnotherDefaultKeyCodecIsRefused() {
        try (Database<Long, Long> db = Database.<Long, Long>builder()
                .durability(Wal.full(dir, Codec.LONG, Codec.LONG))
                .open()) {
            db.put(1L, 10L);
        }
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> Database.<Integer, Long>builder()
                        .durability(Wal.full(dir, Codec.INT, Codec.LONG))
                        .open()
                        .close());
        assertNames(e, "the default map", "varve.long/1", "varve.int/1");
        // the refusal changed nothing and left the directory unlocked
        try (Database<Long, Long> db = Database.<Long, Long>builder()
                .durability(Wal.full(dir, Codec.LONG, Codec.LONG))
                .open()) {
            assertEquals(10L, db.get(1L));
        }
    }

    @Test
    void reopeningWithAnotherDefaultValueCodecIsRefused() {
        try (Database<String, String> db = Database.<String, String>builder()
                .durability(Wal.full(dir, Codec.STRING, Codec.STRING))
                .open()) {
            db.put("a", "alpha");
        }
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> Database.<String, byte[]>builder()
                        .durability(Wal.full(dir, Codec.STRING, Codec.BYTES))
                        .open()
                        .close());
        assertNames(e, "the default map", "varve.string/1", "varve.bytes/1");
        try (Database<String, String> db = Database.<String, String>builder()
                .durability(Wal.full(dir, Codec.STRING, Codec.STRING))
                .open()) {
            assertEquals("alpha", db.get("a"));
        }
    }

    @Test
    void defaultMapCodecsAreRecordedAtTheFirstOpenBeforeAnyCommit() {
        Database.<String, Long>builder()
                .durability(Wal.full(dir, Codec.STRING, Codec.LONG))
                .open()
                .close();
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> Database.<String, byte[]>builder()
                        .durability(Wal.full(dir, Codec.STRING, Codec.BYTES))
                        .open()
                        .close());
        assertNames(e, "the default map", "varve.long/1", "varve.bytes/1");
    }

    @Test
    void reopeningANaturallyOrderedDefaultMapWithANamedComparatorIsRefused() {
        try (Database<String, Long> db = open()) {
            db.put("a", 1L);
        }
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> Database.<String, Long>builder(new DescendingStrings())
                        .durability(Wal.full(dir, Codec.STRING, Codec.LONG))
                        .open()
                        .close());
        assertNames(e, "the default map", "natural", "comparator:" + DescendingStrings.class.getName());
        try (Database<String, Long> db = open()) {
            assertEquals(1L, db.get("a"));
        }
    }

    @Test
    void reopeningADefaultMapOrderedByANamedComparatorWithNaturalOrderIsRefused() {
        try (Database<String, Long> db = Database.<String, Long>builder(new DescendingStrings())
                .durability(Wal.full(dir, Codec.STRING, Codec.LONG))
                .open()) {
            db.put("a", 1L);
            db.put("b", 2L);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> open().close());
        assertNames(e, "the default map", "comparator:" + DescendingStrings.class.getName(), "natural");
        try (Database<String, Long> db = Database.<String, Long>builder(new DescendingStrings())
                        .durability(Wal.full(dir, Codec.STRING, Codec.LONG))
                        .open();
                Snapshot<String, Long> s = db.snapshot()) {
            assertEquals(List.of("b", "a"), new ArrayList<>(s.keySet()));
        }
    }

    @Test
    void reopeningTheDefaultMapWithAnotherNamedComparatorClassIsRefused() {
        try (Database<String, Long> db = Database.<String, Long>builder(new DescendingStrings())
                .durability(Wal.full(dir, Codec.STRING, Codec.LONG))
                .open()) {
            db.put("a", 1L);
        }
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> Database.<String, Long>builder(new ShortestFirstStrings())
                        .durability(Wal.full(dir, Codec.STRING, Codec.LONG))
                        .open()
                        .close());
        assertNames(
                e,
                "the default map",
                "comparator:" + DescendingStrings.class.getName(),
                "comparator:" + ShortestFirstStrings.class.getName());
    }

    @Test
    void defaultMapOrderedByALambdaReopensWithALambdaButNotWithNaturalOrder() {
        assertEquals("comparator", id((String a, String b) -> b.compareTo(a)));
        Comparator<String> descending = (a, b) -> b.compareTo(a);
        try (Database<String, Long> db = Database.<String, Long>builder(descending)
                .durability(Wal.full(dir, Codec.STRING, Codec.LONG))
                .open()) {
            db.put("a", 1L);
            db.put("c", 3L);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> open().close());
        assertNames(e, "the default map", "natural");
        Comparator<String> alsoDescending = (a, b) -> -a.compareTo(b); // another lambda: "comparator" too
        try (Database<String, Long> db = Database.<String, Long>builder(alsoDescending)
                        .durability(Wal.full(dir, Codec.STRING, Codec.LONG))
                        .open();
                Snapshot<String, Long> s = db.snapshot()) {
            assertEquals(List.of("c", "a"), new ArrayList<>(s.keySet()));
        }
    }

    @Test
    void undeclaredDefaultCodecIdsAreNotCompared() {
        assertEquals("", UNDECLARED_STRING.id());
        try (Database<String, Long> db = Database.<String, Long>builder()
                .durability(Wal.full(dir, UNDECLARED_STRING, Codec.LONG))
                .open()) {
            db.put("a", 1L);
        }
        try (Database<String, Long> db = open()) { // declared key codec over an undeclared one
            assertEquals(1L, db.get("a"));
            db.put("b", 2L);
        }
        try (Database<String, Long> db = Database.<String, Long>builder()
                .durability(Wal.full(dir, UNDECLARED_STRING, Codec.LONG))
                .open()) { // undeclared over whatever the catalog now holds
            assertEquals(Map.of("a", 1L, "b", 2L), contents(db));
        }
    }

    // ---- named maps: the wrong-codec matrix -----------------------------------------------------

    @Test
    void reopeningANamedMapWithAnotherKeyCodecIsRefusedAndChangesNothing() {
        try (Database<String, Long> db = open()) {
            NamedMap<Long, String> orders = db.openMap("orders", Codec.LONG, Codec.STRING);
            orders.put(7L, "seven");
        }
        for (int run = 0; run < 2; run++) {
            try (Database<String, Long> db = open()) {
                java.util.Set<String> before = db.mapNames(); // the log's maps, opened or not
                IllegalArgumentException e = assertThrows(
                        IllegalArgumentException.class, () -> db.openMap("orders", Codec.INT, Codec.STRING));
                assertNames(e, "map 'orders'", "varve.long/1", "varve.int/1");
                assertEquals(before, db.mapNames(), "a refused open changed the catalog");
                NamedMap<Long, String> orders = db.openMap("orders", Codec.LONG, Codec.STRING);
                assertEquals(Map.of(7L, "seven"), contents(db, orders));
            }
        }
    }

    @Test
    void reopeningANamedMapWithAnotherValueCodecIsRefused() {
        try (Database<String, Long> db = open()) {
            db.openMap("orders", Codec.LONG, Codec.STRING).put(7L, "seven");
        }
        try (Database<String, Long> db = open()) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> db.openMap("orders", Codec.LONG, Codec.BYTES));
            assertNames(e, "map 'orders'", "varve.string/1", "varve.bytes/1");
            assertEquals(Map.of(7L, "seven"), contents(db, db.openMap("orders", Codec.LONG, Codec.STRING)));
        }
    }

    @Test
    void reopeningANaturallyOrderedNamedMapWithANamedComparatorIsRefused() {
        try (Database<String, Long> db = open()) {
            db.openMap("orders", Codec.LONG, Codec.STRING).put(7L, "seven");
        }
        try (Database<String, Long> db = open()) {
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class,
                    () -> db.openMap("orders", new DescendingLongs(), Codec.LONG, Codec.STRING));
            assertNames(e, "map 'orders'", "natural", "comparator:" + DescendingLongs.class.getName());
            assertEquals(Map.of(7L, "seven"), contents(db, db.openMap("orders", Codec.LONG, Codec.STRING)));
        }
    }

    @Test
    void reopeningANamedMapOrderedByANamedComparatorWithNaturalOrderIsRefused() {
        try (Database<String, Long> db = open()) {
            NamedMap<Long, String> orders = db.openMap("orders", new DescendingLongs(), Codec.LONG, Codec.STRING);
            orders.put(1L, "one");
            orders.put(2L, "two");
        }
        try (Database<String, Long> db = open()) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> db.openMap("orders", Codec.LONG, Codec.STRING));
            assertNames(e, "map 'orders'", "comparator:" + DescendingLongs.class.getName(), "natural");
            NamedMap<Long, String> orders = db.openMap("orders", new DescendingLongs(), Codec.LONG, Codec.STRING);
            assertEquals(List.of(2L, 1L), keysInOrder(db, orders));
        }
    }

    @Test
    void reopeningANamedMapWithAnotherNamedComparatorClassIsRefused() {
        try (Database<String, Long> db = open()) {
            db.openMap("orders", new DescendingLongs(), Codec.LONG, Codec.STRING)
                    .put(1L, "one");
        }
        try (Database<String, Long> db = open()) {
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class,
                    () -> db.openMap("orders", new EvenFirstLongs(), Codec.LONG, Codec.STRING));
            assertNames(
                    e,
                    "map 'orders'",
                    "comparator:" + DescendingLongs.class.getName(),
                    "comparator:" + EvenFirstLongs.class.getName());
        }
    }

    @Test
    void namedMapOrderedByALambdaReopensWithAnotherLambda() {
        try (Database<String, Long> db = open()) {
            NamedMap<Long, String> m =
                    db.openMap("m", (Long a, Long b) -> Long.compare(b, a), Codec.LONG, Codec.STRING);
            for (long k = 1; k <= 5; k++) {
                m.put(k, "v" + k);
            }
        }
        try (Database<String, Long> db = open()) {
            NamedMap<Long, String> m =
                    db.openMap("m", (Long a, Long b) -> -Long.compare(a, b), Codec.LONG, Codec.STRING);
            assertEquals(List.of(5L, 4L, 3L, 2L, 1L), keysInOrder(db, m));
        }
    }

    @Test
    void undeclaredNamedMapCodecIdsAreNotCompared() {
        try (Database<String, Long> db = open()) {
            db.openMap("notes", UNDECLARED_STRING, UNDECLARED_STRING).put("k", "v");
        }
        try (Database<String, Long> db = open()) {
            NamedMap<String, String> notes = db.openMap("notes", Codec.STRING, Codec.STRING);
            assertEquals(Map.of("k", "v"), contents(db, notes));
            notes.put("k2", "v2");
        }
        try (Database<String, Long> db = open()) {
            assertEquals(
                    Map.of("k", "v", "k2", "v2"),
                    contents(db, db.openMap("notes", UNDECLARED_STRING, UNDECLARED_STRING)));
        }
    }

    @Test
    void openingANamedMapWithoutCodecsIsRefusedOnADurableDatabase() {
        for (int run = 0; run < 2; run++) { // the map is new in the first run, in the log in the second
            try (Database<String, Long> db = open()) {
                java.util.Set<String> before = db.mapNames();
                IllegalArgumentException natural =
                        assertThrows(IllegalArgumentException.class, () -> db.<Long, String>openMap("x"));
                assertNames(natural, "map 'x'", "codecs");
                IllegalArgumentException ordered = assertThrows(
                        IllegalArgumentException.class, () -> db.<Long, String>openMap("x", new DescendingLongs()));
                assertNames(ordered, "map 'x'", "codecs");
                assertEquals(before, db.mapNames(), "a refused open changed the catalog");
                assertEquals(run == 1, before.contains("x"));
                NamedMap<Long, String> x = db.openMap("x", Codec.LONG, Codec.STRING);
                assertEquals(run == 0 ? Map.of() : Map.of(1L, "a"), contents(db, x));
                x.put(1L, "a");
            }
        }
    }

    // ---- content across reopens -----------------------------------------------------------------

    @Test
    void tupleKeyedMapWithAComparatorSurvivesReopenThroughACheckpointAndTheLogTail() {
        List<Tuple> keys = List.of(
                Tuple.of(1L, 2L),
                Tuple.of(1L, Long.MIN_VALUE),
                Tuple.of(1L, Long.MAX_VALUE),
                Tuple.of(-1L, "a\0b", new byte[] {0, 0, -1}),
                Tuple.of(Tuple.of(null, 3L), true, new UUID(-1L, 5L)),
                Tuple.of("", new byte[0], false),
                Tuple.of());
        TreeMap<Tuple, Long> expected;
        try (Database<String, Long> db = open()) {
            NamedMap<Tuple, Long> events = db.openMap("events", new DescendingTuples(), Codec.TUPLE, Codec.LONG);
            long v = 0;
            for (Tuple k : keys) {
                events.put(k, v++);
            }
            db.put("before-checkpoint", 1L);
            db.checkpoint(); // the image holds these
            db.transact(
                    tx -> { // the log tail holds these
                        tx.map(events).put(Tuple.of(2L, 1L), 21L);
                        tx.map(events).remove(Tuple.of(1L, 2L));
                        tx.put("after-checkpoint", 2L);
                        return null;
                    });
            expected = contents(db, events);
            assertEquals(keys.size(), expected.size());
        }
        try (Database<String, Long> db = open()) {
            NamedMap<Tuple, Long> events = db.openMap("events", new DescendingTuples(), Codec.TUPLE, Codec.LONG);
            assertEquals(expected, contents(db, events));
            assertEquals(List.copyOf(expected.keySet()), keysInOrder(db, events), "recovered in the map's order");
            assertEquals(Tuple.of(), keysInOrder(db, events).get(keys.size() - 1), "the empty tuple sorts last");
            assertEquals(Map.of("before-checkpoint", 1L, "after-checkpoint", 2L), contents(db));
            events.put(Tuple.of(3L), 3L); // only in the log, after the recovered checkpoint
            expected.put(Tuple.of(3L), 3L);
        }
        try (Database<String, Long> db = open()) {
            NamedMap<Tuple, Long> events = db.openMap("events", new DescendingTuples(), Codec.TUPLE, Codec.LONG);
            assertEquals(expected, contents(db, events));
            db.checkpoint(); // now everything is in one image
        }
        try (Database<String, Long> db = open()) {
            NamedMap<Tuple, Long> events = db.openMap("events", new DescendingTuples(), Codec.TUPLE, Codec.LONG);
            assertEquals(List.copyOf(expected.keySet()), keysInOrder(db, events));
            assertEquals(expected, contents(db, events));
        }
    }

    @ParameterizedTest
    @EnumSource(Wal.Sync.class)
    void commitSpanningThreeMapsIsRecoveredWhole(Wal.Sync sync) {
        try (Database<String, Long> db = open(sync)) {
            NamedMap<Integer, String> a = db.openMap("a", Codec.INT, Codec.STRING);
            NamedMap<Long, Long> b = db.openMap("b", new DescendingLongs(), Codec.LONG, Codec.LONG);
            db.transact(tx -> {
                tx.put("x", 1L);
                tx.map(a).put(1, "one");
                tx.map(b).put(1L, 10L);
                return null;
            });
            try (Transaction<String, Long> tx = db.begin()) {
                tx.put("x", 2L);
                tx.put("y", 3L);
                tx.map(a).remove(1);
                tx.map(a).put(2, "two");
                tx.map(b).put(2L, 20L);
                tx.map(b).put(1L, 11L);
                tx.commit();
            }
        }
        try (Database<String, Long> db = open(sync)) {
            NamedMap<Integer, String> a = db.openMap("a", Codec.INT, Codec.STRING);
            NamedMap<Long, Long> b = db.openMap("b", new DescendingLongs(), Codec.LONG, Codec.LONG);
            try (Snapshot<String, Long> s = db.snapshot()) { // one snapshot: all three maps at one timestamp
                assertEquals(Map.of("x", 2L, "y", 3L), new TreeMap<>(s));
                assertEquals(Map.of(2, "two"), new TreeMap<>(s.map(a)));
                assertEquals(
                        List.of(Map.entry(2L, 20L), Map.entry(1L, 11L)),
                        List.copyOf(s.map(b).entrySet()));
            }
        }
    }

    @Test
    void commitWritingThreeMapsCostsTheForcesOfACommitWritingOneUnderFull() {
        FaultyIo io = FaultyIo.counting();
        int commits = 10;
        try (Database<String, Long> db = Database.<String, Long>builder()
                .durability(wal(dir, Wal.Sync.FULL).fileIo(io).build())
                .open()) {
            NamedMap<Integer, String> a = db.openMap("a", Codec.INT, Codec.STRING);
            NamedMap<Long, Long> b = db.openMap("b", new DescendingLongs(), Codec.LONG, Codec.LONG);
            db.transact(
                    tx -> { // the first record also creates the segment (one more force)
                        tx.put("first", 0L);
                        tx.map(a).put(-1, "first");
                        tx.map(b).put(-1L, 0L);
                        return null;
                    });
            int before = io.segmentForces.get();
            for (int i = 0; i < commits; i++) {
                db.put("one-" + i, (long) i);
            }
            int oneMap = io.segmentForces.get() - before;
            before = io.segmentForces.get();
            for (int i = 0; i < commits; i++) {
                int c = i;
                db.transact(tx -> {
                    tx.put("three-" + c, (long) c);
                    tx.map(a).put(c, "v" + c);
                    tx.map(b).put((long) c, (long) c);
                    return null;
                });
            }
            int threeMaps = io.segmentForces.get() - before;
            System.out.println(
                    "segment forces for " + commits + " commits: one map " + oneMap + ", three maps " + threeMaps);
            assertTrue(oneMap >= 1 && oneMap <= commits, "one-map commits took " + oneMap + " forces");
            assertEquals(oneMap, threeMaps, "a commit that writes three maps is one record, forced once");
        }
    }

    /** Commits in {@link #multiMapWorkload}: commit c writes key c and "last" = c in each of three maps. */
    private static final int CRASH_COMMITS = 12;

    /**
     * Opens {@code d} over {@code io} and runs {@link #CRASH_COMMITS} commits that each write the
     * default map and two named maps, with a checkpoint half way; stops at the injected crash.
     *
     * @return the file-changing operations {@code io} saw
     */
    private int multiMapWorkload(Path d, FaultyIo io, Set<Integer> acked) {
        Database<String, Long> db;
        try {
            db = Database.<String, Long>builder()
                    .durability(Wal.builder(d, Codec.STRING, Codec.LONG)
                            .sync(Wal.Sync.FULL)
                            .segmentSize(1024)
                            .checkpointEvery(0)
                            .fileIo(io)
                            .build())
                    .open();
        } catch (RuntimeException crashedWhileOpening) {
            if (!io.crashed()) {
                throw crashedWhileOpening;
            }
            return io.ops.get();
        }
        try {
            NamedMap<Integer, String> a = db.openMap("a", Codec.INT, Codec.STRING);
            NamedMap<Long, Long> b = db.openMap("b", new DescendingLongs(), Codec.LONG, Codec.LONG);
            for (int i = 1; i <= CRASH_COMMITS; i++) {
                int c = i;
                db.transact(tx -> {
                    tx.put("last", (long) c);
                    tx.put("d" + c, (long) c);
                    tx.map(a).put(0, "v" + c);
                    tx.map(a).put(c, "a-value-" + c);
                    tx.map(b).put(0L, (long) c);
                    tx.map(b).put((long) c, 100L * c);
                    return null;
                });
                acked.add(c);
                if (c == CRASH_COMMITS / 2) {
                    db.checkpoint();
                }
            }
        } catch (RuntimeException crashed) {
            if (!io.crashed()) {
                throw crashed;
            }
            // the log failed at the injected crash; the database refuses writes from now on
        } finally {
            try {
                db.close();
            } catch (RuntimeException failedWhileClosing) {
                // the crash hit the final flush
            }
        }
        return io.ops.get();
    }

    /** Reopens {@code d} for real and checks that it holds commits 1..last whole, in every map. */
    private static void checkWhole(Path d, Set<Integer> acked, String label) {
        try (Database<String, Long> db = Database.<String, Long>builder()
                .durability(Wal.builder(d, Codec.STRING, Codec.LONG)
                        .segmentSize(1024)
                        .checkpointEvery(0)
                        .build())
                .open()) {
            NamedMap<Integer, String> a = db.openMap("a", Codec.INT, Codec.STRING);
            NamedMap<Long, Long> b = db.openMap("b", new DescendingLongs(), Codec.LONG, Codec.LONG);
            try (Snapshot<String, Long> s = db.snapshot()) {
                Long lastInDefault = s.get("last");
                int last = lastInDefault == null ? 0 : lastInDefault.intValue();
                assertEquals(last == 0 ? null : "v" + last, s.map(a).get(0), label + ": map a's last commit");
                assertEquals(last == 0 ? null : (long) last, s.map(b).get(0L), label + ": map b's last commit");
                for (int c = 1; c <= CRASH_COMMITS; c++) {
                    boolean in = c <= last;
                    String what = label + ": commit " + c + " of " + last + " recovered";
                    assertEquals(in ? (Long) (long) c : null, s.get("d" + c), what + " (default map)");
                    assertEquals(in ? "a-value-" + c : null, s.map(a).get(c), what + " (map a)");
                    assertEquals(in ? (Long) (100L * c) : null, s.map(b).get((long) c), what + " (map b)");
                }
                assertEquals(last == 0 ? 0 : last + 1, s.size(), label);
                for (int c : acked) {
                    assertTrue(c <= last, label + ": acknowledged commit " + c + " lost; recovered up to " + last);
                }
            }
        }
    }

    /** Crashes the workload at each of its file operations in turn ({@code mode} for the write in flight). */
    private void crashSweep(FaultyIo.Mode mode, long seed) throws Exception {
        System.out.println("MapCatalogTest crash sweep " + mode + " seed=" + seed);
        int total = multiMapWorkload(
                dir.resolve("clean-" + seed), FaultyIo.counting(new FaultyIo.Disk()), ConcurrentHashMap.newKeySet());
        // the number of operations varies a little from run to run (when the writer goes idle):
        // crash at op 1, 2, ... until a run ends before its crash point
        int crashed = 0;
        for (int n = 1; ; n++) {
            assertTrue(n <= 4 * total + 10, "the workload kept crashing past op #" + n + "; a clean run has " + total);
            Path d = dir.resolve("crash-" + mode + "-" + seed + "-" + n);
            FaultyIo io = FaultyIo.crashingAt(new FaultyIo.Disk(), n, mode, new Random(seed + n));
            Set<Integer> acked = ConcurrentHashMap.newKeySet();
            multiMapWorkload(d, io, acked);
            checkWhole(
                    d,
                    acked,
                    mode + " seed=" + seed + " crash at op #" + n + " of about " + total + " (" + io.crashedAt() + ")");
            if (!io.crashed()) {
                assertEquals(CRASH_COMMITS, acked.size(), "a run without a crash acknowledges every commit");
                break;
            }
            crashed++;
        }
        System.out.println("crash sweep: about " + total + " file operations, " + crashed + " crashes checked");
        assertTrue(crashed > total / 2, "only " + crashed + " crashes were injected");
    }

    @Test
    void crashAtAnyFileOperationLeavesNoPartOfAMultiMapCommit() throws Exception {
        crashSweep(FaultyIo.Mode.TEAR, System.nanoTime());
    }

    @Test
    @Tag("slow")
    void crashesWithFailedAndVariouslyTornWritesLeaveNoPartOfAMultiMapCommit() throws Exception {
        crashSweep(FaultyIo.Mode.FAIL, System.nanoTime());
        for (int i = 0; i < 4; i++) {
            crashSweep(FaultyIo.Mode.TEAR, System.nanoTime()); // each seed tears the writes at other lengths
        }
    }

    @Test
    void relaxedReopenAfterCloseHoldsEveryMap() {
        long seed = System.nanoTime();
        String label = "seed=" + seed;
        Random rnd = new Random(seed);
        TreeMap<String, Long> expectedDefault = new TreeMap<>();
        TreeMap<Integer, String> expectedA = new TreeMap<>();
        TreeMap<Long, Long> expectedB = new TreeMap<>(new DescendingLongs());
        try (Database<String, Long> db = open(Wal.Sync.RELAXED)) {
            NamedMap<Integer, String> a = db.openMap("a", Codec.INT, Codec.STRING);
            NamedMap<Long, Long> b = db.openMap("b", new DescendingLongs(), Codec.LONG, Codec.LONG);
            for (int i = 0; i < 300; i++) {
                int writes = 1 + rnd.nextInt(4);
                int[] map = new int[writes];
                int[] key = new int[writes];
                boolean[] remove = new boolean[writes];
                for (int w = 0; w < writes; w++) {
                    map[w] = rnd.nextInt(3);
                    key[w] = rnd.nextInt(40);
                    remove[w] = rnd.nextInt(5) == 0;
                }
                long value = i;
                db.transact(tx -> {
                    for (int w = 0; w < writes; w++) {
                        switch (map[w]) {
                            case 0 -> {
                                if (remove[w]) {
                                    tx.remove("k" + key[w]);
                                } else {
                                    tx.put("k" + key[w], value);
                                }
                            }
                            case 1 -> {
                                if (remove[w]) {
                                    tx.map(a).remove(key[w]);
                                } else {
                                    tx.map(a).put(key[w], "v" + value);
                                }
                            }
                            default -> {
                                if (remove[w]) {
                                    tx.map(b).remove((long) key[w]);
                                } else {
                                    tx.map(b).put((long) key[w], value);
                                }
                            }
                        }
                    }
                    return null;
                });
                for (int w = 0; w < writes; w++) {
                    switch (map[w]) {
                        case 0 -> {
                            if (remove[w]) {
                                expectedDefault.remove("k" + key[w]);
                            } else {
                                expectedDefault.put("k" + key[w], value);
                            }
                        }
                        case 1 -> {
                            if (remove[w]) {
                                expectedA.remove(key[w]);
                            } else {
                                expectedA.put(key[w], "v" + value);
                            }
                        }
                        default -> {
                            if (remove[w]) {
                                expectedB.remove((long) key[w]);
                            } else {
                                expectedB.put((long) key[w], value);
                            }
                        }
                    }
                }
            }
        }
        try (Database<String, Long> db = open(Wal.Sync.RELAXED)) {
            NamedMap<Integer, String> a = db.openMap("a", Codec.INT, Codec.STRING);
            NamedMap<Long, Long> b = db.openMap("b", new DescendingLongs(), Codec.LONG, Codec.LONG);
            assertEquals(expectedDefault, contents(db), label + ": default map");
            assertEquals(expectedA, contents(db, a), label + ": map a");
            assertEquals(expectedB, contents(db, b), label + ": map b");
            assertEquals(List.copyOf(expectedB.keySet()), keysInOrder(db, b), label + ": map b's order");
        }
    }

    @Test
    void mapNotOpenedInARunSurvivesThatRunsCheckpointsAndSegmentDeletion() throws Exception {
        TreeMap<Integer, String> expectedX;
        TreeMap<Integer, Long> expectedOther = new TreeMap<>();
        try (Database<String, Long> db = open()) {
            NamedMap<Integer, String> x = db.openMap("x", Codec.INT, Codec.STRING);
            NamedMap<Integer, Long> other = db.openMap("other", Codec.INT, Codec.LONG);
            for (int i = 0; i < 40; i++) {
                x.put(i, "x-value-" + i + "-".repeat(200));
            }
            db.checkpoint(); // x's first part in a checkpoint image
            for (int i = 40; i < 80; i++) {
                x.put(i, "x-value-" + i + "-".repeat(200)); // the rest only in log segments
            }
            x.remove(3);
            other.put(0, 0L);
            expectedOther.put(0, 0L);
            expectedX = contents(db, x);
        }
        List<Path> firstRunSegments = files(dir, ".seg");
        assertTrue(firstRunSegments.size() > 1, "the first run's writes span several segments: " + firstRunSegments);

        try (Database<String, Long> db = open()) { // x is not opened in this run
            NamedMap<Integer, Long> other = db.openMap("other", Codec.INT, Codec.LONG);
            for (int round = 0; round < 4; round++) {
                for (int i = 0; i < 30; i++) {
                    long v = round * 100L + i;
                    db.transact(tx -> {
                        tx.put("d" + (v % 17), v);
                        tx.map(other).put((int) (v % 23), v);
                        return null;
                    });
                    expectedOther.put((int) (v % 23), v);
                }
                db.checkpoint();
            }
        }
        for (Path p : firstRunSegments) {
            assertFalse(Files.exists(p), "the checkpoints deleted the segments they cover, but " + p + " is left");
        }

        try (Database<String, Long> db = open()) {
            NamedMap<Integer, String> x = db.openMap("x", Codec.INT, Codec.STRING);
            assertEquals(expectedX.keySet(), contents(db, x).keySet(), "map x's keys after a run that did not open it");
            assertEquals(expectedX, contents(db, x), "map x after a run that did not open it");
            assertEquals(expectedOther, contents(db, db.openMap("other", Codec.INT, Codec.LONG)));
        }
        try (Database<String, Long> db = open()) { // opens nothing, writes nothing, checkpoints
            db.checkpoint();
            db.put("z", 1L);
            db.checkpoint();
        }
        try (Database<String, Long> db = open()) {
            assertEquals(expectedX, contents(db, db.openMap("x", Codec.INT, Codec.STRING)));
            assertEquals(expectedOther, contents(db, db.openMap("other", Codec.INT, Codec.LONG)));
            assertEquals(1L, db.get("z"));
        }
    }

    // ---- drops ----------------------------------------------------------------------------------

    @Test
    void droppedMapIsEmptyAfterReopen() {
        try (Database<String, Long> db = open()) {
            NamedMap<Integer, String> x = db.openMap("x", Codec.INT, Codec.STRING);
            NamedMap<Integer, String> kept = db.openMap("kept", Codec.INT, Codec.STRING);
            db.transact(tx -> {
                tx.map(x).put(1, "one");
                tx.map(kept).put(1, "one");
                tx.put("d", 1L);
                return null;
            });
            assertTrue(db.dropMap("x"));
        }
        try (Database<String, Long> db = open()) {
            assertEquals(Map.of(1, "one"), contents(db, db.openMap("kept", Codec.INT, Codec.STRING)));
            assertEquals(1L, db.get("d"));
            assertEquals(Map.of(), contents(db, db.openMap("x", Codec.INT, Codec.STRING)), "a dropped map's data");
        }
    }

    @Test
    void droppedMapDataDoesNotComeBackFromACheckpoint() {
        try (Database<String, Long> db = open()) {
            NamedMap<Integer, String> x = db.openMap("x", Codec.INT, Codec.STRING);
            x.put(1, "in the image");
            db.checkpoint();
            x.put(2, "in the tail");
            assertTrue(db.dropMap("x"));
            db.put("after-drop", 1L);
        }
        try (Database<String, Long> db = open()) {
            assertEquals(Map.of(), contents(db, db.openMap("x", Codec.INT, Codec.STRING)));
            assertEquals(1L, db.get("after-drop"));
        }
    }

    @Test
    void droppedMapStaysDroppedThroughALaterCheckpoint() {
        try (Database<String, Long> db = open()) {
            NamedMap<Integer, String> x = db.openMap("x", Codec.INT, Codec.STRING);
            x.put(1, "one");
            assertTrue(db.dropMap("x"));
            db.checkpoint();
        }
        try (Database<String, Long> db = open()) {
            assertEquals(Map.of(), contents(db, db.openMap("x", Codec.INT, Codec.STRING)));
        }
    }

    @Test
    void mapReopenedAfterADropHoldsOnlyItsNewData() {
        try (Database<String, Long> db = open()) {
            NamedMap<Integer, String> x = db.openMap("x", Codec.INT, Codec.STRING);
            for (int i = 1; i <= 3; i++) {
                x.put(i, "old-" + i);
            }
            assertTrue(db.dropMap("x"));
            NamedMap<Integer, String> again = db.openMap("x", Codec.INT, Codec.STRING);
            assertEquals(Map.of(), contents(db, again));
            again.put(4, "new-4");
            again.put(1, "new-1");
        }
        try (Database<String, Long> db = open()) {
            assertEquals(Map.of(1, "new-1", 4, "new-4"), contents(db, db.openMap("x", Codec.INT, Codec.STRING)));
            db.checkpoint();
        }
        try (Database<String, Long> db = open()) { // the same through the checkpoint image
            assertEquals(Map.of(1, "new-1", 4, "new-4"), contents(db, db.openMap("x", Codec.INT, Codec.STRING)));
        }
    }

    @Test
    void droppedNameMayBeCreatedAgainWithOtherCodecs() {
        try (Database<String, Long> db = open()) {
            db.openMap("orders", Codec.LONG, Codec.STRING).put(7L, "seven");
        }
        try (Database<String, Long> db = open()) {
            db.openMap("orders", Codec.LONG, Codec.STRING); // a map is dropped through a handle of this run
            assertTrue(db.dropMap("orders"));
        }
        try (Database<String, Long> db = open()) {
            NamedMap<Integer, byte[]> orders = db.openMap("orders", Codec.INT, Codec.BYTES);
            assertEquals(Map.of(), contents(db, orders));
            orders.put(1, new byte[] {1, 2});
        }
        try (Database<String, Long> db = open()) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> db.openMap("orders", Codec.LONG, Codec.STRING));
            assertNames(e, "map 'orders'", "varve.int/1", "varve.long/1");
            NamedMap<Integer, byte[]> orders = db.openMap("orders", Codec.INT, Codec.BYTES);
            try (Snapshot<String, Long> s = db.snapshot()) {
                assertEquals(Set.of(1), s.map(orders).keySet());
                assertTrue(Arrays.equals(new byte[] {1, 2}, s.map(orders).get(1)));
            }
        }
    }
}
