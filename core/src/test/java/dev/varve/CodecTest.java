// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CodecTest {

    private static <T> T roundTrip(Codec<T> c, T v) {
        byte[] b = c.encode(v);
        byte[] padded = new byte[b.length + 5];
        System.arraycopy(b, 0, padded, 3, b.length);
        return c.decode(padded, 3, b.length);
    }

    @Test
    void builtInsRoundTripAtAnOffset() {
        for (long v : new long[] {0, 1, -1, Long.MIN_VALUE, Long.MAX_VALUE, 123456789012L}) {
            assertEquals(v, roundTrip(Codec.LONG, v));
        }
        for (int v : new int[] {0, 1, -1, Integer.MIN_VALUE, Integer.MAX_VALUE}) {
            assertEquals(v, roundTrip(Codec.INT, v));
        }
        for (String s : new String[] {"", "alice", "ünïcödé", "😀 emoji", "a\u0000b"}) {
            assertEquals(s, roundTrip(Codec.STRING, s));
        }
        assertArrayEquals(new byte[] {1, 2, 3}, roundTrip(Codec.BYTES, new byte[] {1, 2, 3}));
        assertArrayEquals(new byte[0], roundTrip(Codec.BYTES, new byte[0]));
    }

    @Test
    void stringIsUtf8() {
        assertArrayEquals("héllo".getBytes(StandardCharsets.UTF_8), Codec.STRING.encode("héllo"));
    }

    @Test
    void bytesCodecCopiesBothWays() {
        byte[] v = {9, 8};
        byte[] enc = Codec.BYTES.encode(v);
        assertNotSame(v, enc);
        byte[] dec = Codec.BYTES.decode(enc, 0, 2);
        assertNotSame(enc, dec);
    }

    @Test
    void fixedWidthCodecsRejectWrongLength() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> Codec.LONG.decode(new byte[7], 0, 7));
        assertEquals("Codec.LONG expects 8 bytes, found 7", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Codec.INT.decode(new byte[5], 0, 5));
        assertEquals("Codec.INT expects 4 bytes, found 5", e.getMessage());
    }

    @Test
    void stringRejectsMalformedInputBothWays() {
        assertThrows(IllegalArgumentException.class, () -> Codec.STRING.encode("bad \uD800 surrogate"));
        assertThrows(IllegalArgumentException.class, () -> Codec.STRING.decode(new byte[] {(byte) 0xC3}, 0, 1));
    }

    @Test
    void ofBuildsFromFunctions() {
        Codec<java.util.UUID> uuid = Codec.of(
                u -> u.toString().getBytes(StandardCharsets.US_ASCII),
                b -> java.util.UUID.fromString(new String(b, StandardCharsets.US_ASCII)));
        java.util.UUID u = java.util.UUID.randomUUID();
        assertEquals(u, roundTrip(uuid, u));
    }

    @Test
    void tupleIsPackAndUnpack() {
        Tuple t = Tuple.of(42L, "a\u0000b", new byte[] {0, -1}, null, true, java.util.UUID.randomUUID(), Tuple.of(-7));
        assertEquals(t, roundTrip(Codec.TUPLE, t));
        assertArrayEquals(t.pack(), Codec.TUPLE.encode(t));
        assertEquals(Tuple.of(), roundTrip(Codec.TUPLE, Tuple.of()));
        assertEquals("Codec.TUPLE", Codec.TUPLE.toString());
    }

    @Test
    void tupleRejectsMalformedBytesWithUnpacksMessage() {
        byte[] b = {9, 0x15, 0x01, 0x07, 9}; // the integer 1, then an unknown type code
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Codec.TUPLE.decode(b, 1, 3));
        assertEquals(
                "Codec.TUPLE: not a packed Tuple: unknown or unsupported type code 0x07 at offset 2", e.getMessage());
        assertSame(IllegalArgumentException.class, e.getCause().getClass());
        assertEquals(
                "not a packed Tuple: unknown or unsupported type code 0x07 at offset 2",
                e.getCause().getMessage());
    }

    @Test
    void builtInsDeclareTheirFormatIds() {
        assertEquals("varve.long/1", Codec.LONG.id());
        assertEquals("varve.int/1", Codec.INT.id());
        assertEquals("varve.string/1", Codec.STRING.id());
        assertEquals("varve.bytes/1", Codec.BYTES.id());
        assertEquals("varve.tuple/1", Codec.TUPLE.id());
        assertEquals("Codec.LONG", Codec.LONG.toString());
        assertEquals("Codec.BYTES", Codec.BYTES.toString());
    }

    @Test
    void ofWithAnIdDeclaresIt() {
        Codec<String> c = Codec.of(
                "app.name/2", s -> s.getBytes(StandardCharsets.UTF_8), b -> new String(b, StandardCharsets.UTF_8));
        assertEquals("app.name/2", c.id());
        assertEquals("x", roundTrip(c, "x"));
    }

    @Test
    void ofWithoutAnIdIsUndeclared() {
        assertEquals("", Codec.<byte[]>of(b -> b, b -> b).id());
        assertEquals("", Codec.<byte[]>of("", b -> b, b -> b).id());
    }

    @Test
    void aDirectImplementationIsUndeclaredByDefault() {
        Codec<byte[]> c = new Codec<>() {
            @Override
            public byte[] encode(byte[] value) {
                return value;
            }

            @Override
            public byte[] decode(byte[] bytes, int offset, int length) {
                return java.util.Arrays.copyOfRange(bytes, offset, offset + length);
            }
        };
        assertEquals("", c.id());
    }

    @Test
    void ofRefusesANullIdOrFunction() {
        NullPointerException e = assertThrows(NullPointerException.class, () -> Codec.<byte[]>of(null, b -> b, b -> b));
        assertEquals("id", e.getMessage());
        e = assertThrows(NullPointerException.class, () -> Codec.<byte[]>of("a/1", null, b -> b));
        assertEquals("encoder", e.getMessage());
        e = assertThrows(NullPointerException.class, () -> Codec.<byte[]>of("a/1", b -> b, null));
        assertEquals("decoder", e.getMessage());
    }

    @Test
    void ofRefusesAnIdOfMoreThan255Utf8Bytes() {
        assertEquals(255, Codec.<byte[]>of("a".repeat(255), b -> b, b -> b).id().length());
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> Codec.<byte[]>of("a".repeat(256), b -> b, b -> b));
        assertEquals("Codec id has 256 UTF-8 bytes, more than 255", e.getMessage());
        // bytes, not chars: 127 two-byte chars and one ASCII are 255 bytes; one more two-byte char is 257
        String e127 = "\u00e9".repeat(127);
        assertEquals(e127 + "a", Codec.<byte[]>of(e127 + "a", b -> b, b -> b).id());
        e = assertThrows(IllegalArgumentException.class, () -> Codec.<byte[]>of(e127 + "\u00e9a", b -> b, b -> b));
        assertEquals("Codec id has 257 UTF-8 bytes, more than 255", e.getMessage());
        // a surrogate pair is one four-byte code point
        String emoji = "\uD83D\uDE00";
        assertEquals(
                emoji.repeat(63) + "abc",
                Codec.<byte[]>of(emoji.repeat(63) + "abc", b -> b, b -> b).id());
        e = assertThrows(IllegalArgumentException.class, () -> Codec.<byte[]>of(emoji.repeat(64), b -> b, b -> b));
        assertEquals("Codec id has 256 UTF-8 bytes, more than 255", e.getMessage());
    }

    @Test
    void ofRefusesAnIdWithAControlCharacter() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> Codec.<byte[]>of("app\n/1", b -> b, b -> b));
        assertEquals("Codec id has control character U+000A at index 3", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Codec.<byte[]>of("\u0000", b -> b, b -> b));
        assertEquals("Codec id has control character U+0000 at index 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Codec.<byte[]>of("a/1\u007F", b -> b, b -> b));
        assertEquals("Codec id has control character U+007F at index 3", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Codec.<byte[]>of("a\u0085", b -> b, b -> b));
        assertEquals("Codec id has control character U+0085 at index 1", e.getMessage());
        assertEquals("app id/1", Codec.<byte[]>of("app id/1", b -> b, b -> b).id()); // a space is not a control
    }

    @Test
    void ofRefusesAnIdWithAnUnpairedSurrogate() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> Codec.<byte[]>of("app\uD800/1", b -> b, b -> b));
        assertEquals("Codec id has an unpaired surrogate U+D800 at index 3", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Codec.<byte[]>of("\uDE00", b -> b, b -> b));
        assertEquals("Codec id has an unpaired surrogate U+DE00 at index 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Codec.<byte[]>of("a\uD83D", b -> b, b -> b));
        assertEquals("Codec id has an unpaired surrogate U+D83D at index 1", e.getMessage());
    }
}
