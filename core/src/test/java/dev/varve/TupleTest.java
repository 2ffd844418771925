// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class TupleTest {

    private static final UUID MAX_UUID = new UUID(-1L, -1L);

    // ---- random tuples -----------------------------------------------------------------------

    private static final String[] STRINGS = {
        "", "a", "a\0", "a\0b", "\0", "\0\0", "ab", "b", "é", "\uFFFF", "\uE000", "😀", "😀a", "\uD7FF"
    };
    private static final long[] LONGS = {
        0,
        1,
        -1,
        2,
        -2,
        127,
        128,
        -128,
        -129,
        255,
        256,
        -255,
        -256,
        -257,
        65535,
        65536,
        -65536,
        Integer.MAX_VALUE,
        Integer.MIN_VALUE,
        (1L << 56) - 1,
        1L << 56,
        -(1L << 56),
        -(1L << 56) - 1,
        Long.MAX_VALUE,
        Long.MIN_VALUE,
        Long.MAX_VALUE - 1,
        Long.MIN_VALUE + 1
    };

    private static Object randomElement(Random r, int depth) {
        switch (r.nextInt(depth < 2 ? 8 : 7)) {
            case 0:
                return null;
            case 1: {
                byte[] b = new byte[r.nextInt(4)];
                for (int i = 0; i < b.length; i++) {
                    b[i] = (byte) new int[] {0x00, 0x01, 0xFF, 0x7F, 0x80}[r.nextInt(5)];
                }
                return b;
            }
            case 2:
                return r.nextBoolean()
                        ? STRINGS[r.nextInt(STRINGS.length)]
                        : STRINGS[r.nextInt(STRINGS.length)] + STRINGS[r.nextInt(STRINGS.length)];
            case 3:
                switch (r.nextInt(3)) {
                    case 0:
                        return LONGS[r.nextInt(LONGS.length)];
                    case 1:
                        return r.nextLong() >> r.nextInt(64);
                    default:
                        return (long) (r.nextInt(7) - 3);
                }
            case 4:
                return r.nextBoolean();
            case 5:
                return r.nextInt(4) == 0 ? 7 : (short) -3; // Integer/Short, stored as Long
            case 6:
                switch (r.nextInt(4)) {
                    case 0:
                        return MAX_UUID;
                    case 1:
                        return new UUID(0, 0);
                    case 2:
                        return new UUID(r.nextInt(3) - 1, r.nextInt(3) - 1); // crosses the sign bit
                    default:
                        return new UUID(r.nextLong(), r.nextLong());
                }
            default:
                return randomTuple(r, depth + 1);
        }
    }

    private static Tuple randomTuple(Random r, int depth) {
        int n = r.nextInt(depth == 0 ? 5 : 3);
        Object[] e = new Object[n];
        for (int i = 0; i < n; i++) {
            e[i] = randomElement(r, depth);
        }
        return Tuple.of(e);
    }

    /** Often a relative of {@code a} (prefix, extension, one element changed), else independent. */
    private static Tuple related(Random r, Tuple a) {
        switch (r.nextInt(4)) {
            case 0:
                return randomTuple(r, 0);
            case 1: {
                Tuple t = Tuple.of();
                for (int i = 0; i < r.nextInt(a.size() + 1); i++) {
                    t = t.add(a.get(i));
                }
                return t;
            }
            case 2:
                return a.add(randomElement(r, 0));
            default: {
                if (a.size() == 0) {
                    return randomTuple(r, 0);
                }
                int at = r.nextInt(a.size());
                Tuple t = Tuple.of();
                for (int i = 0; i < a.size(); i++) {
                    t = t.add(i == at ? randomElement(r, 0) : a.get(i));
                }
                return t;
            }
        }
    }

    @Test
    void orderIsTheUnsignedOrderOfTheEncodingAndRoundTripsExactly() {
        for (long seed = 1; seed <= 8; seed++) {
            Random r = new Random(seed);
            for (int i = 0; i < 5_000; i++) {
                Tuple a = randomTuple(r, 0);
                Tuple b = related(r, a);
                byte[] pa = a.pack();
                byte[] pb = b.pack();
                String where = "seed " + seed + " pair " + i + ": " + a + " vs " + b;
                assertEquals(Integer.signum(Arrays.compareUnsigned(pa, pb)), Integer.signum(a.compareTo(b)), where);
                assertEquals(-Integer.signum(a.compareTo(b)), Integer.signum(b.compareTo(a)), where);
                assertEquals(a.compareTo(b) == 0, a.equals(b), where);
                if (a.equals(b)) {
                    assertEquals(a.hashCode(), b.hashCode(), where);
                }
                assertEquals(a, Tuple.unpack(pa), where);
                assertArrayEquals(pa, Tuple.unpack(pa).pack(), where);
                assertEquals(a, prefixOf(Tuple.unpack(pa).concat(Tuple.unpack(pb)), a.size()), where);
                assertEquals(a.concat(b), Tuple.unpack(concat(pa, pb)), where);
                assertEquals(
                        b.startsWith(a),
                        b.size() >= a.size() && prefixOf(b, a.size()).equals(a),
                        where);
            }
        }
    }

    @Test
    void randomBytesEitherUnpackCanonicallyOrFailWithIllegalArgument() {
        int accepted = 0;
        int refused = 0;
        for (long seed = 1; seed <= 4; seed++) {
            Random r = new Random(seed);
            for (int i = 0; i < 5_000; i++) {
                byte[] bytes;
                if (r.nextBoolean()) {
                    bytes = new byte[r.nextInt(12)];
                    for (int j = 0; j < bytes.length; j++) {
                        bytes[j] = (byte) new int[] {
                                    0x00, 0x01, 0x02, 0x05, 0x14, 0x15, 0x13, 0x0C, 0x1C, 0x26, 0xFF, 0x30, 0x7F, 0x80,
                                    0xC3
                                }
                                [r.nextInt(15)];
                    }
                } else { // a valid encoding, truncated or with one byte changed
                    bytes = randomTuple(r, 0).pack();
                    if (bytes.length > 0 && r.nextBoolean()) {
                        bytes[r.nextInt(bytes.length)] = (byte) r.nextInt(256);
                    } else {
                        bytes = Arrays.copyOf(bytes, r.nextInt(bytes.length + 1));
                    }
                }
                Tuple t;
                try {
                    t = Tuple.unpack(bytes);
                } catch (IllegalArgumentException expected) {
                    assertTrue(expected.getMessage().startsWith("not a packed Tuple: "), expected.getMessage());
                    refused++;
                    continue;
                } catch (RuntimeException e) {
                    throw new AssertionError("seed " + seed + " case " + i + ": " + hex(bytes), e);
                }
                assertArrayEquals(bytes, t.pack(), "seed " + seed + " case " + i + ": " + hex(bytes));
                accepted++;
            }
        }
        // Both outcomes are exercised, so neither half of the claim holds vacuously.
        assertTrue(accepted > 2_000 && refused > 2_000, accepted + " accepted, " + refused + " refused");
    }

    // ---- the byte format ---------------------------------------------------------------------

    @Test
    void packMatchesTheFoundationDbSpecTestCases() {
        // design/tuple.md: pack("foo\x00bar") as a byte string and pack(u"F\u00d4O\u0000bar").
        assertArrayEquals(
                bytes(0x01, 'f', 'o', 'o', 0x00, 0xFF, 'b', 'a', 'r', 0x00),
                Tuple.of("foo\0bar".getBytes(StandardCharsets.US_ASCII)).pack());
        assertArrayEquals(
                bytes(0x02, 'F', 0xC3, 0x94, 'O', 0x00, 0xFF, 'b', 'a', 'r', 0x00),
                Tuple.of("F\u00d4O\u0000bar").pack());
        // pack( (b"foo\x00bar", None, ()) ) as a nested tuple.
        assertArrayEquals(
                bytes(0x05, 0x01, 'f', 'o', 'o', 0x00, 0xFF, 'b', 'a', 'r', 0x00, 0x00, 0xFF, 0x05, 0x00, 0x00),
                Tuple.of(Tuple.of("foo\0bar".getBytes(StandardCharsets.US_ASCII), null, Tuple.of()))
                        .pack());
        assertArrayEquals(bytes(0x11, 0xAB, 0x4B, 0x93), Tuple.of(-5551212L).pack());
    }

    @Test
    void integersUseMinimalLengthAndOnesComplement() {
        assertArrayEquals(bytes(0x14), Tuple.of(0).pack());
        assertArrayEquals(bytes(0x15, 0x01), Tuple.of(1).pack());
        assertArrayEquals(bytes(0x15, 0xFF), Tuple.of(255).pack());
        assertArrayEquals(bytes(0x16, 0x01, 0x00), Tuple.of(256).pack());
        assertArrayEquals(bytes(0x13, 0xFE), Tuple.of(-1).pack());
        assertArrayEquals(bytes(0x13, 0x00), Tuple.of(-255).pack());
        assertArrayEquals(bytes(0x12, 0xFE, 0xFF), Tuple.of(-256).pack());
        assertArrayEquals(
                bytes(0x1C, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF),
                Tuple.of(Long.MAX_VALUE).pack());
        assertArrayEquals(
                bytes(0x0C, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF),
                Tuple.of(Long.MIN_VALUE).pack());
        assertEquals(
                Long.MIN_VALUE, Tuple.unpack(Tuple.of(Long.MIN_VALUE).pack()).getLong(0));
        assertEquals(
                Long.MAX_VALUE, Tuple.unpack(Tuple.of(Long.MAX_VALUE).pack()).getLong(0));
    }

    @Test
    void otherTypesHaveTheirTypeCodes() {
        UUID u = UUID.fromString("00112233-4455-6677-8899-aabbccddeeff");
        assertArrayEquals(
                bytes(
                        0x00, 0x26, 0x27, 0x30, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB,
                        0xCC, 0xDD, 0xEE, 0xFF),
                Tuple.of(null, false, true, u).pack());
        assertArrayEquals(
                bytes(0x01, 0x00, 0x02, 0x00, 0x05, 0x00),
                Tuple.of(new byte[0], "", Tuple.of()).pack());
        assertArrayEquals(new byte[0], Tuple.of().pack());
    }

    @Test
    void typesSortInTheTypeCodeOrder() {
        List<Tuple> sorted = List.of(
                Tuple.of(),
                Tuple.of((Object) null),
                Tuple.of(new byte[0]),
                Tuple.of(""),
                Tuple.of(Tuple.of()),
                Tuple.of(Long.MIN_VALUE),
                Tuple.of(0),
                Tuple.of(Long.MAX_VALUE),
                Tuple.of(false),
                Tuple.of(true),
                Tuple.of(new UUID(0, 0)),
                Tuple.of(MAX_UUID));
        List<Tuple> shuffled = new ArrayList<>(sorted);
        Collections.shuffle(shuffled, new Random(3));
        Collections.sort(shuffled);
        assertEquals(sorted, shuffled);
        // Where Java's own orders differ from the byte order:
        assertTrue("\uFFFF".compareTo("😀") > 0);
        assertTrue(Tuple.of("\uFFFF").compareTo(Tuple.of("😀")) < 0);
        assertTrue(new UUID(-1, 0).compareTo(new UUID(1, 0)) < 0);
        assertTrue(Tuple.of(new UUID(-1, 0)).compareTo(Tuple.of(new UUID(1, 0))) > 0);
    }

    // ---- malformed input ---------------------------------------------------------------------

    private static String unpackFailure(int... b) {
        return assertThrows(IllegalArgumentException.class, () -> Tuple.unpack(bytes(b)))
                .getMessage();
    }

    @Test
    void malformedInputNamesTheOffsetAndTheByte() {
        assertEquals(
                "not a packed Tuple: unknown or unsupported type code 0x07 at offset 2", unpackFailure(0x15, 1, 7));
        assertEquals("not a packed Tuple: unknown or unsupported type code 0x21 at offset 0", unpackFailure(0x21));
        assertEquals(
                "not a packed Tuple: unknown or unsupported type code 0xff at offset 1", unpackFailure(0x00, 0xFF));
        assertEquals(
                "not a packed Tuple: integer with type code 0x1c at offset 0 needs 8 payload bytes, found 2 before"
                        + " the end at offset 3",
                unpackFailure(0x1C, 1, 2));
        assertEquals(
                "not a packed Tuple: UUID with type code 0x30 at offset 1 needs 16 payload bytes, found 3 before"
                        + " the end at offset 5",
                unpackFailure(0x14, 0x30, 1, 2, 3));
        assertEquals(
                "not a packed Tuple: string with type code 0x02 at offset 0 has no 0x00 terminator: input ends at"
                        + " offset 3",
                unpackFailure(0x02, 'a', 'b'));
        assertEquals(
                "not a packed Tuple: byte string with type code 0x01 at offset 0 has no 0x00 terminator: input"
                        + " ends at offset 3",
                unpackFailure(0x01, 0x00, 0xFF)); // an escaped 0x00 is not a terminator
        assertEquals(
                "not a packed Tuple: nested tuple with type code 0x05 at offset 0 has no 0x00 terminator: input"
                        + " ends at offset 4",
                unpackFailure(0x05, 0x15, 0x01, 0x26));
        assertEquals(
                "not a packed Tuple: string with type code 0x02 at offset 0 is not valid UTF-8",
                unpackFailure(0x02, 0xC3, 0x00));
        assertEquals(
                "not a packed Tuple: integer with type code 0x16 at offset 0 is not minimal: byte 0x00 at offset 1",
                unpackFailure(0x16, 0x00, 0x05));
        assertEquals(
                "not a packed Tuple: integer with type code 0x13 at offset 0 is not minimal: byte 0xff at offset 1",
                unpackFailure(0x13, 0xFF));
        assertEquals(
                "not a packed Tuple: integer with type code 0x1c at offset 0 does not fit a long: byte 0x80 at"
                        + " offset 1",
                unpackFailure(0x1C, 0x80, 0, 0, 0, 0, 0, 0, 0));
        assertEquals(
                "not a packed Tuple: integer with type code 0x0c at offset 0 does not fit a long: byte 0x7e at"
                        + " offset 1",
                unpackFailure(0x0C, 0x7E, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF));
        // Offsets count from the start of the range given.
        byte[] padded = bytes(9, 9, 9, 0x14, 0x07, 9);
        assertEquals(
                "not a packed Tuple: unknown or unsupported type code 0x07 at offset 1",
                assertThrows(IllegalArgumentException.class, () -> Tuple.unpack(padded, 3, 2))
                        .getMessage());
        assertEquals(Tuple.of(0), Tuple.unpack(padded, 3, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> Tuple.unpack(padded, 4, 3));
    }

    // ---- the API -----------------------------------------------------------------------------

    @Test
    void gettersCheckIndexAndType() {
        UUID u = new UUID(1, 2);
        Tuple t = Tuple.of(1, "s", new byte[] {1}, true, u, Tuple.of(2), null, (byte) 3, (short) 4, 5L);
        assertEquals(1L, t.getLong(0));
        assertEquals("s", t.getString(1));
        assertArrayEquals(new byte[] {1}, t.getBytes(2));
        assertTrue(t.getBoolean(3));
        assertEquals(u, t.getUUID(4));
        assertEquals(Tuple.of(2L), t.getTuple(5));
        assertTrue(t.isNull(6));
        assertNull(t.get(6));
        assertEquals(3L, t.get(7));
        assertEquals(4L, t.getLong(8));
        assertEquals(10, t.size());
        assertEquals(
                "element 1 is a String, not Long: (1, \"s\", b\"\\x01\", true, 00000000-0000-0001-0000-000000000002,"
                        + " (2), null, 3, 4, 5)",
                assertThrows(ClassCastException.class, () -> t.getLong(1)).getMessage());
        assertTrue(assertThrows(ClassCastException.class, () -> t.getString(6))
                .getMessage()
                .startsWith("element 6 is null, not String: "));
        assertTrue(assertThrows(ClassCastException.class, () -> t.getBytes(0))
                .getMessage()
                .startsWith("element 0 is a Long, not byte[]: "));
        assertEquals(
                "index 10 is out of bounds for a Tuple of size 10",
                assertThrows(IndexOutOfBoundsException.class, () -> t.get(10)).getMessage());
        assertEquals(
                "index -1 is out of bounds for a Tuple of size 10",
                assertThrows(IndexOutOfBoundsException.class, () -> t.getTuple(-1))
                        .getMessage());
    }

    @Test
    void byteArraysAreCopiedAndComparedByContent() {
        byte[] b = {1, 2};
        Tuple t = Tuple.of(b);
        b[0] = 9;
        assertArrayEquals(new byte[] {1, 2}, t.getBytes(0));
        t.getBytes(0)[1] = 9;
        ((byte[]) t.get(0))[1] = 9;
        assertEquals(Tuple.of(new byte[] {1, 2}), t);
        assertEquals(Tuple.of(new byte[] {1, 2}).hashCode(), t.hashCode());
        assertEquals(Tuple.of(7L), Tuple.of(7));
        assertNotEquals(Tuple.of("7"), Tuple.of(7));
    }

    @Test
    void unsupportedElementsAreRefusedWithTheirIndex() {
        assertEquals(
                "element 1 has unsupported type java.lang.Double; a Tuple holds null, byte[], String, Long (or"
                        + " Integer, Short, Byte), Boolean, UUID and Tuple",
                assertThrows(IllegalArgumentException.class, () -> Tuple.of(1, 2.5))
                        .getMessage());
        assertEquals(
                "element 2 is a string with an unpaired surrogate at char 1; a Tuple stores strings as UTF-8",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> Tuple.of(1, 2).add("a\uD800"))
                        .getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tuple.of("\uDC00😀"));
    }

    @Test
    void addConcatStartsWithAndToString() {
        Tuple a = Tuple.of("x", 1);
        assertEquals(Tuple.of("x", 1, null), a.add(null));
        assertEquals(Tuple.of("x", 1, "x", 1), a.concat(a));
        assertEquals(Tuple.of("x", 1), a); // unchanged
        assertSame(a, a.concat(Tuple.of()));
        assertTrue(Tuple.of("x", 1, 2).startsWith(a));
        assertTrue(a.startsWith(a));
        assertTrue(a.startsWith(Tuple.of()));
        assertFalse(Tuple.of("xy", 1).startsWith(Tuple.of("x")));
        assertFalse(Tuple.of("x").startsWith(a));
        assertEquals(
                "(\"q\\\"\\\\\\u0000\", b\"a\\x00\\xff\", null, false, (-7, ()))",
                Tuple.of("q\"\\\0", new byte[] {'a', 0, -1}, null, false, Tuple.of(-7, Tuple.of()))
                        .toString());
    }

    @Test
    void nestingIsLimitedSoHostileBytesCannotExhaustTheStack() {
        Tuple deepest = Tuple.of();
        for (int i = 0; i < Tuple.MAX_DEPTH; i++) {
            deepest = Tuple.of(deepest);
        }
        assertEquals(deepest, Tuple.unpack(deepest.pack()));
        Tuple full = deepest;
        assertEquals(
                "element 0 is a tuple with 100 levels of nesting; a Tuple nests at most 100 levels",
                assertThrows(IllegalArgumentException.class, () -> Tuple.of(full))
                        .getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tuple.of(1).add(full));
        byte[] tooDeep = new byte[2 * (Tuple.MAX_DEPTH + 1)];
        Arrays.fill(tooDeep, 0, Tuple.MAX_DEPTH + 1, (byte) 0x05);
        assertEquals(
                "not a packed Tuple: nested tuple with type code 0x05 at offset 100 is nested deeper than 100 levels",
                assertThrows(IllegalArgumentException.class, () -> Tuple.unpack(tooDeep))
                        .getMessage());
        byte[] hostile = new byte[1_000_000];
        Arrays.fill(hostile, (byte) 0x05);
        assertThrows(IllegalArgumentException.class, () -> Tuple.unpack(hostile));
    }

    // ---- prefix ranges -----------------------------------------------------------------------

    @Test
    void prefixEndIsTheImmediateSuccessorOfTheLastElement() {
        assertEquals(Tuple.of("a", 8), Tuple.prefixEnd(Tuple.of("a", 7)));
        assertEquals(Tuple.of(false), Tuple.prefixEnd(Tuple.of(Long.MAX_VALUE)));
        assertEquals(Tuple.of("a\0"), Tuple.prefixEnd(Tuple.of("a")));
        assertEquals(Tuple.of(new byte[] {5, 0}), Tuple.prefixEnd(Tuple.of(new byte[] {5})));
        assertEquals(Tuple.of(Tuple.of(1, null)), Tuple.prefixEnd(Tuple.of(Tuple.of(1))));
        assertEquals(Tuple.of(new byte[0]), Tuple.prefixEnd(Tuple.of((Object) null)));
        assertEquals(Tuple.of(true), Tuple.prefixEnd(Tuple.of(false)));
        assertEquals(Tuple.of(new UUID(0, 0)), Tuple.prefixEnd(Tuple.of(true)));
        assertEquals(Tuple.of(new UUID(1, 0)), Tuple.prefixEnd(Tuple.of(new UUID(0, -1))));
        assertEquals(Tuple.of("a\0"), Tuple.prefixEnd(Tuple.of("a", MAX_UUID, MAX_UUID)));
        assertNull(Tuple.prefixEnd(Tuple.of(MAX_UUID)));
        assertNull(Tuple.prefixEnd(Tuple.of()));
    }

    @Test
    void prefixRangeHoldsExactlyTheTuplesThatStartWithThePrefix() {
        for (long seed = 1; seed <= 4; seed++) {
            Random r = new Random(seed);
            for (int i = 0; i < 5_000; i++) {
                Tuple t = randomTuple(r, 0);
                Tuple p = related(r, t);
                if (r.nextInt(4) == 0 && t.size() > 0) {
                    p = prefixOf(t, r.nextInt(t.size()));
                }
                Tuple end = Tuple.prefixEnd(p);
                boolean inRange = t.compareTo(p) >= 0 && (end == null || t.compareTo(end) < 0);
                String where = "seed " + seed + " case " + i + ": " + t + " prefix " + p + " end " + end;
                assertEquals(t.startsWith(p), inRange, where);
                if (end != null) {
                    assertFalse(end.startsWith(p), where);
                    assertTrue(end.compareTo(p) > 0, where);
                }
            }
        }
    }

    @Test
    void withPrefixRefusesAMapInAnotherOrder() {
        NavigableMap<Tuple, Long> reversed = new TreeMap<>(Collections.reverseOrder());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Tuple.prefix(reversed, Tuple.of(1)))
                .getMessage()
                .startsWith("Tuple.prefix needs a map in Tuple's natural order, not one ordered by "));
        NavigableMap<Tuple, Long> all = new TreeMap<>(Map.of(Tuple.of(MAX_UUID, 1), 1L, Tuple.of(true), 2L));
        assertEquals(Map.of(Tuple.of(MAX_UUID, 1), 1L), Tuple.prefix(all, Tuple.of(MAX_UUID)));
    }

    @Test
    void compositeKeysInADatabaseWithPrefixScans() throws Exception {
        try (Database<Tuple, Long> db = Database.<Tuple, Long>builder().open()) {
            for (long customer = 1; customer <= 3; customer++) {
                for (long order = 1; order <= 4; order++) {
                    db.put(Tuple.of(customer, order), customer * 100 + order);
                }
            }
            db.put(Tuple.of(2L), -1L); // the prefix itself is in its range
            db.put(Tuple.of(2L, "note"), -2L); // so is any extension, of any type
            db.put(Tuple.of(Tuple.of(2L), 1L), -3L); // a nested (2) is not the integer 2
            try (Transaction<Tuple, Long> tx = db.begin()) {
                tx.put(Tuple.of(2L, 9L), 209L); // own writes are in the scan
                tx.remove(Tuple.of(2L, 1L));
                NavigableMap<Tuple, Long> orders = Tuple.prefix(tx.asMap(), Tuple.of(2L));
                assertEquals(
                        List.of(
                                Tuple.of(2L),
                                Tuple.of(2L, "note"),
                                Tuple.of(2L, 2L),
                                Tuple.of(2L, 3L),
                                Tuple.of(2L, 4L),
                                Tuple.of(2L, 9L)),
                        new ArrayList<>(orders.keySet()));
                assertEquals(Tuple.of(2L, 9L), orders.lastKey());
                tx.commit();
            }
            try (Snapshot<Tuple, Long> snap = db.snapshot()) {
                NavigableMap<Tuple, Long> c3 = Tuple.prefix(snap, Tuple.of(3L));
                assertEquals(List.of(301L, 302L, 303L, 304L), new ArrayList<>(c3.values()));
                assertEquals(Map.of(Tuple.of(3L, 2L), 302L), Tuple.prefix(snap, Tuple.of(3L, 2L)));
                assertEquals(Map.of(Tuple.of(Tuple.of(2L), 1L), -3L), Tuple.prefix(snap, Tuple.of(Tuple.of(2L))));
                assertEquals(0, Tuple.prefix(snap, Tuple.of(4L)).size());
            }
        }
    }

    /** The README's "Composite keys" example (in memory here; TupleKeysDurabilityTest runs it through the log). */
    record OrderKey(long customer, long order) {
        Tuple toTuple() {
            return Tuple.of(customer, order);
        }

        static OrderKey of(Tuple t) {
            return new OrderKey(t.getLong(0), t.getLong(1));
        }
    }

    @Test
    void readmeRecordKeyExampleRunsAsDocumented() {
        try (Database<Tuple, Long> db = Database.<Tuple, Long>builder().open()) {
            db.put(new OrderKey(42, 7).toTuple(), 1999L);
            db.put(new OrderKey(42, 8).toTuple(), 2999L);
            db.put(new OrderKey(43, 1).toTuple(), 5L);
            db.put(new OrderKey(41, Long.MAX_VALUE).toTuple(), 6L);
            List<OrderKey> seen = new ArrayList<>();
            try (Snapshot<Tuple, Long> snap = db.snapshot()) {
                for (var e : Tuple.prefix(snap, Tuple.of(42L)).entrySet()) {
                    seen.add(OrderKey.of(e.getKey()));
                }
            }
            assertEquals(List.of(new OrderKey(42, 7), new OrderKey(42, 8)), seen);
        }
    }

    @Test
    void prefixScansInSerializableTransactionsCatchWriteSkewThroughPhantoms() {
        try (Database<Tuple, Long> db = Database.<Tuple, Long>builder().open()) {
            db.put(Tuple.of(1L, 1L), 11L);
            db.put(Tuple.of(2L, 1L), 21L);
            // Each transaction counts one customer's orders and adds an order to the other one.
            Transaction<Tuple, Long> t1 = db.begin(Isolation.SERIALIZABLE);
            Transaction<Tuple, Long> t2 = db.begin(Isolation.SERIALIZABLE);
            assertEquals(1, Tuple.prefix(t1.asMap(), Tuple.of(1L)).size());
            assertEquals(1, Tuple.prefix(t2.asMap(), Tuple.of(2L)).size());
            t1.put(Tuple.of(2L, 2L), 22L);
            t2.put(Tuple.of(1L, 2L), 12L);
            t1.commit();
            assertThrows(SerializationFailureException.class, t2::commit);
            try (Snapshot<Tuple, Long> snap = db.snapshot()) {
                assertEquals(2, Tuple.prefix(snap, Tuple.of(2L)).size());
                assertEquals(1, Tuple.prefix(snap, Tuple.of(1L)).size());
            }
        }
    }

    // ---- helpers -----------------------------------------------------------------------------

    private static byte[] bytes(int... b) {
        byte[] out = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = (byte) b[i];
        }
        return out;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            sb.append(String.format("%02x ", x & 0xFF));
        }
        return sb.toString().trim();
    }

    private static Tuple prefixOf(Tuple t, int n) {
        Tuple p = Tuple.of();
        for (int i = 0; i < n; i++) {
            p = p.add(t.get(i));
        }
        return p;
    }
}
