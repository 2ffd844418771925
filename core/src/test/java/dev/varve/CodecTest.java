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
}
