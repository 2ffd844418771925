// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Codec.ofData (DataOutput/DataInput codecs), Codec.checked (the round-trip check), and typed conflict keys. */
class CodecDataTest {
    record Order(long id, String item, int quantity) {}

    static final Codec<Order> ORDER = Codec.ofData(
            "test.order/1",
            (o, out) -> {
                out.writeLong(o.id());
                out.writeUTF(o.item());
                out.writeInt(o.quantity());
            },
            in -> new Order(in.readLong(), in.readUTF(), in.readInt()));

    @Test
    void aDataCodecRoundTripsAndKeepsItsId() {
        Order o = new Order(7, "tea", 3);
        byte[] bytes = ORDER.encode(o);
        assertEquals(8 + 2 + 3 + 4, bytes.length);
        byte[] framed = new byte[bytes.length + 4];
        System.arraycopy(bytes, 0, framed, 2, bytes.length);
        assertEquals(o, ORDER.decode(framed, 2, bytes.length));
        assertEquals("test.order/1", ORDER.id());
        assertEquals(
                "",
                Codec.ofData((Long v, java.io.DataOutput out) -> out.writeLong(v), in -> in.readLong())
                        .id());
    }

    @Test
    void aReaderThatDoesNotMatchTheBytesIsRefusedWithTheCounts() {
        Codec<Order> shortReader =
                Codec.ofData("test.order/1", (o, out) -> ORDER.encode(o), in -> new Order(in.readLong(), "?", 0));
        byte[] bytes = ORDER.encode(new Order(1, "x", 2));
        IllegalArgumentException left =
                assertThrows(IllegalArgumentException.class, () -> shortReader.decode(bytes, 0, bytes.length));
        assertEquals(
                "codec test.order/1 read 8 of 15 bytes of a value: the bytes do not match the codec",
                left.getMessage());

        Codec<Order> longReader = Codec.ofData(
                (o, out) -> out.writeLong(o.id()), in -> new Order(in.readLong(), in.readUTF(), in.readInt()));
        byte[] eight = longReader.encode(new Order(1, "x", 2));
        IllegalArgumentException past =
                assertThrows(IllegalArgumentException.class, () -> longReader.decode(eight, 0, eight.length));
        assertTrue(past.getMessage().startsWith("Codec.ofData read past the end of a 8-byte value"), past.getMessage());
    }

    @Test
    void anIOExceptionOfTheUsersCodeIsAnIllegalArgumentWithItsCause() {
        IOException boom = new IOException("no room");
        Codec<String> failing = Codec.ofData(
                "test.fail/1",
                (s, out) -> {
                    throw boom;
                },
                in -> in.readUTF());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> failing.encode("a"));
        assertSame(boom, e.getCause());
        assertTrue(e.getMessage().startsWith("codec test.fail/1 could not write a"), e.getMessage());
        assertThrows(NullPointerException.class, () -> Codec.ofData(null, (s, out) -> {}, in -> ""));
        assertThrows(IllegalArgumentException.class, () -> Codec.ofData("bad\nid", (s, out) -> {}, in -> ""));
    }

    @Test
    void theRoundTripCheckCatchesALossyCodec() {
        Codec<Order> dropsQuantity = Codec.ofData(
                "test.lossy/1",
                (o, out) -> {
                    out.writeLong(o.id());
                    out.writeUTF(o.item());
                },
                in -> new Order(in.readLong(), in.readUTF(), 0));
        Order o = new Order(1, "tea", 5);
        assertEquals(new Order(1, "tea", 0), dropsQuantity.decode(dropsQuantity.encode(o), 0, 13), "lossy, silently");
        Codec<Order> checked = Codec.checked(dropsQuantity);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> checked.encode(o));
        assertEquals(
                "codec test.lossy/1 is lossy: Order[id=1, item=tea, quantity=5] encodes to 13 bytes that decode to"
                        + " Order[id=1, item=tea, quantity=0]",
                e.getMessage());
        assertEquals("test.lossy/1", checked.id(), "the check does not change the format");
        assertEquals(
                new Order(1, "tea", 0),
                checked.encode(new Order(1, "tea", 0)).length == 13
                        ? checked.decode(checked.encode(new Order(1, "tea", 0)), 0, 13)
                        : null);
        assertArrayEquals(new byte[] {1, 2}, Codec.checked(Codec.BYTES).encode(new byte[] {1, 2}), "arrays by content");
    }

    @Test
    void theRoundTripCheckIsOffUnlessTheSystemPropertySaysSo() {
        Codec<String> plain = Codec.STRING;
        assertSame(plain, Codec.checkedIfEnabled(plain));
        System.setProperty("varve.codec.check", "true");
        try {
            Codec<String> c = Codec.checkedIfEnabled(plain);
            assertEquals("checked(Codec.STRING)", c.toString());
            assertEquals("varve.string/1", c.id());
        } finally {
            System.clearProperty("varve.codec.check");
        }
    }

    @Test
    void conflictKeysAreTypedByMap() {
        try (Database<Long, String> db = Database.<Long, String>builder().open()) {
            NamedMap<String, Integer> stock = db.openMap("stock");
            Transaction<Long, String> a = db.begin(Isolation.SNAPSHOT);
            Transaction<Long, String> b = db.begin(Isolation.SNAPSHOT);
            a.put(1L, "a");
            a.map(stock).put("tea", 1);
            b.put(1L, "b");
            b.map(stock).put("tea", 2);
            a.commit();
            SerializationFailureException e = assertThrows(SerializationFailureException.class, b::commit);
            assertEquals(List.of(1L), e.keys(Long.class));
            assertEquals(List.of("tea"), e.keys(stock));
            assertEquals(2, e.keys().size());
            assertThrows(ClassCastException.class, () -> e.keys(String.class));
            assertEquals(List.of(), e.keys(db.<String, Integer>openMap("other")));
        }
    }
}
