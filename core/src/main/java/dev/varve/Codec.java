// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInput;
import java.io.DataInputStream;
import java.io.DataOutput;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.Function;

/**
 * Turns keys or values into bytes for the write-ahead log and its checkpoints, and back.
 *
 * <p>A codec must be a pure function: {@code decode(encode(x))} equals {@code x}, and the same
 * codec (the same byte format, which {@link #id()} names) must be given when the directory is
 * reopened. Implementations must be thread-safe
 * (encoding runs on committing threads, decoding on the opening thread). Neither method is ever
 * called with {@code null}.
 *
 * @param <T> the encoded type
 */
public interface Codec<T> {

    /** A {@code Long} as 8 bytes, big-endian. */
    Codec<Long> LONG = new Codec<>() {
        @Override
        public byte[] encode(Long value) {
            return ByteBuffer.allocate(Long.BYTES).putLong(value).array();
        }

        @Override
        public Long decode(byte[] bytes, int offset, int length) {
            requireLength(length, Long.BYTES, "LONG");
            return ByteBuffer.wrap(bytes, offset, length).getLong();
        }

        @Override
        public String id() {
            return "varve.long/1";
        }

        @Override
        public String toString() {
            return "Codec.LONG";
        }
    };

    /** An {@code Integer} as 4 bytes, big-endian. */
    Codec<Integer> INT = new Codec<>() {
        @Override
        public byte[] encode(Integer value) {
            return ByteBuffer.allocate(Integer.BYTES).putInt(value).array();
        }

        @Override
        public Integer decode(byte[] bytes, int offset, int length) {
            requireLength(length, Integer.BYTES, "INT");
            return ByteBuffer.wrap(bytes, offset, length).getInt();
        }

        @Override
        public String id() {
            return "varve.int/1";
        }

        @Override
        public String toString() {
            return "Codec.INT";
        }
    };

    /**
     * A {@code String} as UTF-8. Encoding a string with an unpaired surrogate fails with {@link
     * IllegalArgumentException} rather than silently replacing it.
     */
    Codec<String> STRING = new Codec<>() {
        @Override
        public byte[] encode(String value) {
            try {
                ByteBuffer b = StandardCharsets.UTF_8
                        .newEncoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .encode(java.nio.CharBuffer.wrap(value));
                return Arrays.copyOf(b.array(), b.limit());
            } catch (CharacterCodingException e) {
                throw new IllegalArgumentException("Codec.STRING cannot encode a string with an unpaired surrogate", e);
            }
        }

        @Override
        public String decode(byte[] bytes, int offset, int length) {
            try {
                return StandardCharsets.UTF_8
                        .newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(bytes, offset, length))
                        .toString();
            } catch (CharacterCodingException e) {
                throw new IllegalArgumentException("Codec.STRING: " + length + " bytes are not valid UTF-8", e);
            }
        }

        @Override
        public String id() {
            return "varve.string/1";
        }

        @Override
        public String toString() {
            return "Codec.STRING";
        }
    };

    /** A {@code byte[]} as itself; both directions copy, so later changes to an array do not leak. */
    Codec<byte[]> BYTES = new Codec<>() {
        @Override
        public byte[] encode(byte[] value) {
            return value.clone();
        }

        @Override
        public byte[] decode(byte[] bytes, int offset, int length) {
            return Arrays.copyOfRange(bytes, offset, offset + length);
        }

        @Override
        public String id() {
            return "varve.bytes/1";
        }

        @Override
        public String toString() {
            return "Codec.BYTES";
        }
    };

    /**
     * A {@link Tuple} as {@link Tuple#pack()}: the FoundationDB tuple layer's order-preserving
     * encoding, whose unsigned byte order is the tuples' natural order, so a database keyed by
     * tuples in natural order keeps composite keys in the same order in memory and in the log.
     * Decoding bytes that {@link Tuple#unpack(byte[], int, int)} refuses throws an {@link
     * IllegalArgumentException} whose message is {@code "Codec.TUPLE: "} followed by unpack's
     * (which names the offset, counted from the value's first byte, and the byte found there),
     * with unpack's exception as its cause.
     */
    Codec<Tuple> TUPLE = new Codec<>() {
        @Override
        public byte[] encode(Tuple value) {
            return value.pack();
        }

        @Override
        public Tuple decode(byte[] bytes, int offset, int length) {
            try {
                return Tuple.unpack(bytes, offset, length);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("Codec.TUPLE: " + e.getMessage(), e);
            }
        }

        @Override
        public String id() {
            return "varve.tuple/1";
        }

        @Override
        public String toString() {
            return "Codec.TUPLE";
        }
    };

    /**
     * Encodes one value.
     *
     * @param value the value, never {@code null}
     * @return its bytes; the log copies them before this codec is called again, so a codec may
     *     return a reused or shared array only if it is not changed until then
     * @throws IllegalArgumentException if the value cannot be encoded
     */
    byte[] encode(T value);

    /**
     * Decodes one value from {@code length} bytes of {@code bytes} starting at {@code offset}.
     * The codec must not keep a reference to {@code bytes}.
     *
     * @param bytes the array holding the encoded value
     * @param offset where the encoded value starts
     * @param length how many bytes it has
     * @return the decoded value, never {@code null}
     * @throws IllegalArgumentException if the bytes are not a valid encoding
     */
    T decode(byte[] bytes, int offset, int length);

    /**
     * Names this codec's byte format: a stable name and version, such as {@code "varve.long/1"},
     * to be stored in the log and its checkpoints so that reopening a directory with a codec of
     * another format is refused rather than misread. A codec whose byte format changes must change
     * its id (a new version); one whose format stays the same must keep it.
     *
     * <p>The empty string means <em>undeclared</em>: an undeclared id is not checked on reopen,
     * only declared ones are. This default method returns {@code ""}, so a codec implemented
     * directly is undeclared unless it overrides {@code id()}; an override must return the same
     * string every time, never {@code null}, and should follow the rules {@link #of(String,
     * Function, Function)} enforces (at most 255 UTF-8 bytes, no control characters). The
     * built-ins declare {@code "varve.long/1"}, {@code "varve.int/1"}, {@code "varve.string/1"},
     * {@code "varve.bytes/1"} and {@code "varve.tuple/1"}; {@link #of(Function, Function)} is
     * undeclared.
     *
     * <p>{@code varve-wal} does not record ids yet; until it does, no id is checked.
     *
     * @return the id of this codec's byte format, {@code ""} if undeclared
     */
    default String id() {
        return "";
    }

    /**
     * A codec from two functions, for types without a built-in codec, with an undeclared {@link
     * #id() id} ({@code ""}): its format is not checked on reopen. {@link #of(String, Function,
     * Function)} declares one.
     *
     * @param <T> the encoded type
     * @param encoder returns the bytes of a value
     * @param decoder returns the value of exactly the bytes given (a fresh array it may keep)
     * @return the codec
     * @throws NullPointerException if either function is {@code null}
     */
    static <T> Codec<T> of(Function<? super T, byte[]> encoder, Function<byte[], ? extends T> decoder) {
        return of("", encoder, decoder);
    }

    /**
     * A codec from two functions whose byte format is named by {@code id} (see {@link #id()}), for
     * types without a built-in codec. An {@code id} of {@code ""} declares nothing, as {@link
     * #of(Function, Function)}.
     *
     * @param <T> the encoded type
     * @param id the stable name and version of the byte format, such as {@code "app.order/1"}: at
     *     most 255 bytes in UTF-8, with no control character (U+0000 to U+001F, U+007F to U+009F)
     *     and no unpaired surrogate
     * @param encoder returns the bytes of a value
     * @param decoder returns the value of exactly the bytes given (a fresh array it may keep)
     * @return the codec, whose {@link #id()} returns {@code id}
     * @throws NullPointerException if {@code id} or either function is {@code null}
     * @throws IllegalArgumentException if {@code id} has more than 255 UTF-8 bytes ({@code "Codec
     *     id has 256 UTF-8 bytes, more than 255"}), a control character ({@code "Codec id has
     *     control character U+000A at index 3"}) or an unpaired surrogate ({@code "Codec id has an
     *     unpaired surrogate U+D800 at index 3"})
     */
    static <T> Codec<T> of(String id, Function<? super T, byte[]> encoder, Function<byte[], ? extends T> decoder) {
        requireValidId(id);
        Objects.requireNonNull(encoder, "encoder");
        Objects.requireNonNull(decoder, "decoder");
        return new Codec<>() {
            @Override
            public String id() {
                return id;
            }

            @Override
            public byte[] encode(T value) {
                return Objects.requireNonNull(encoder.apply(value), "encoder returned null");
            }

            @Override
            public T decode(byte[] bytes, int offset, int length) {
                return Objects.requireNonNull(
                        decoder.apply(Arrays.copyOfRange(bytes, offset, offset + length)), "decoder returned null");
            }

            @Override
            public String toString() {
                return id.isEmpty() ? "Codec.of" : "codec " + id;
            }
        };
    }

    /**
     * Writes a value to a {@link DataOutput}: the encoding half of {@link #ofData}.
     *
     * @param <T> the encoded type
     */
    @FunctionalInterface
    interface Writer<T> {
        /**
         * Writes {@code value}.
         *
         * @param value the value, never null
         * @param out where to write it
         * @throws IOException if the value cannot be written (reported as an {@link
         *     IllegalArgumentException})
         */
        void write(T value, DataOutput out) throws IOException;
    }

    /**
     * Reads a value from a {@link DataInput}: the decoding half of {@link #ofData}.
     *
     * @param <T> the encoded type
     */
    @FunctionalInterface
    interface Reader<T> {
        /**
         * Reads one value, consuming exactly the bytes its {@link Writer} wrote.
         *
         * @param in where to read it from
         * @return the value, never null
         * @throws IOException if the bytes are not a value (reported as an {@link
         *     IllegalArgumentException})
         */
        T read(DataInput in) throws IOException;
    }

    /**
     * A codec written against {@link DataOutput} and {@link DataInput}, whose methods may throw
     * {@link IOException}, with an undeclared {@link #id() id}. See {@link #ofData(String, Writer,
     * Reader)}.
     *
     * @param <T> the encoded type
     * @param writer writes a value
     * @param reader reads it back
     * @return the codec
     * @throws NullPointerException if either is null
     */
    static <T> Codec<T> ofData(Writer<? super T> writer, Reader<? extends T> reader) {
        return ofData("", writer, reader);
    }

    /**
     * A codec written against {@link DataOutput} and {@link DataInput} (as {@code
     * java.io.Externalizable} is), whose byte format is named by {@code id} (see {@link #id()}).
     * Decoding checks that {@code reader} consumed exactly the bytes of the value: one that reads
     * past them or leaves some unread does not match the bytes (another format, or a version
     * whose {@code id} was not changed), and decoding throws an {@link IllegalArgumentException}
     * that names the codec and the byte counts. An {@link IOException} from either function is
     * reported as an {@link IllegalArgumentException} with it as the cause. Thread-safe if the
     * functions are.
     *
     * @param <T> the encoded type
     * @param id the byte format's stable name and version, such as {@code "app.order/1"} (rules as
     *     for {@link #of(String, Function, Function)}), or {@code ""} for undeclared
     * @param writer writes a value
     * @param reader reads it back
     * @return the codec
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code id} breaks the rules of {@link #of(String,
     *     Function, Function)}
     */
    static <T> Codec<T> ofData(String id, Writer<? super T> writer, Reader<? extends T> reader) {
        requireValidId(id);
        Objects.requireNonNull(writer, "writer");
        Objects.requireNonNull(reader, "reader");
        String name = id.isEmpty() ? "Codec.ofData" : "codec " + id;
        return new Codec<>() {
            @Override
            public String id() {
                return id;
            }

            @Override
            public byte[] encode(T value) {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream(32);
                try (DataOutputStream out = new DataOutputStream(bytes)) {
                    writer.write(value, out);
                } catch (IOException e) {
                    throw new IllegalArgumentException(name + " could not write " + value + ": " + e, e);
                }
                return bytes.toByteArray();
            }

            @Override
            public T decode(byte[] bytes, int offset, int length) {
                ByteArrayInputStream source = new ByteArrayInputStream(bytes, offset, length);
                T value;
                try {
                    value = reader.read(new DataInputStream(source));
                } catch (EOFException e) {
                    throw new IllegalArgumentException(
                            name + " read past the end of a " + length
                                    + "-byte value: the bytes do not match the codec",
                            e);
                } catch (IOException e) {
                    throw new IllegalArgumentException(name + " could not read a " + length + "-byte value: " + e, e);
                }
                if (source.available() > 0) {
                    throw new IllegalArgumentException(name + " read " + (length - source.available()) + " of " + length
                            + " bytes of a value: the bytes do not match the codec");
                }
                return Objects.requireNonNull(value, "reader returned null");
            }

            @Override
            public String toString() {
                return name;
            }
        };
    }

    /**
     * {@code codec} with a round-trip check on every encode: the bytes are decoded again and must
     * give a value equal to the one encoded ({@link Objects#deepEquals}, so arrays compare by
     * content), or encoding throws an {@link IllegalArgumentException} naming the codec, the value
     * and what came back. This is how a lossy codec is caught (a field not written, a rounded
     * number, a charset that replaces characters) before its bytes reach the log: a debug aid,
     * off by default, that costs one decode per encode. {@code varve-wal} and {@link
     * Database#openMap(String, Codec, Codec)} wrap every codec they are given with it when the
     * system property {@code varve.codec.check} is {@code true}. The id is {@code codec}'s.
     *
     * @param <T> the encoded type
     * @param codec the codec to check
     * @return the checking codec
     * @throws NullPointerException if {@code codec} is null
     */
    static <T> Codec<T> checked(Codec<T> codec) {
        Objects.requireNonNull(codec, "codec");
        return new Codec<>() {
            @Override
            public byte[] encode(T value) {
                byte[] bytes = codec.encode(value);
                T back = codec.decode(bytes, 0, bytes.length);
                if (!Objects.deepEquals(value, back)) {
                    throw new IllegalArgumentException(codec + " is lossy: " + value + " encodes to " + bytes.length
                            + " bytes that decode to " + back);
                }
                return bytes;
            }

            @Override
            public T decode(byte[] bytes, int offset, int length) {
                return codec.decode(bytes, offset, length);
            }

            @Override
            public String id() {
                return codec.id();
            }

            @Override
            public String toString() {
                return "checked(" + codec + ")";
            }
        };
    }

    /**
     * {@code codec} wrapped by {@link #checked} if the system property {@code varve.codec.check}
     * is {@code true}, else {@code codec} itself: what the log and {@code openMap} apply to the
     * codecs they are given.
     *
     * @param <T> the encoded type
     * @param codec a codec
     * @return the codec to use
     * @throws NullPointerException if {@code codec} is null
     */
    static <T> Codec<T> checkedIfEnabled(Codec<T> codec) {
        Objects.requireNonNull(codec, "codec");
        return Boolean.getBoolean("varve.codec.check") ? checked(codec) : codec;
    }

    private static void requireValidId(String id) {
        Objects.requireNonNull(id, "id");
        int utf8Bytes = 0;
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (Character.isISOControl(c)) {
                throw new IllegalArgumentException("Codec id has control character " + codePoint(c) + " at index " + i);
            }
            if (Character.isHighSurrogate(c) && i + 1 < id.length() && Character.isLowSurrogate(id.charAt(i + 1))) {
                utf8Bytes += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new IllegalArgumentException(
                        "Codec id has an unpaired surrogate " + codePoint(c) + " at index " + i);
            } else {
                utf8Bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
            }
        }
        if (utf8Bytes > 255) {
            throw new IllegalArgumentException("Codec id has " + utf8Bytes + " UTF-8 bytes, more than 255");
        }
    }

    private static String codePoint(char c) {
        return String.format("U+%04X", (int) c);
    }

    private static void requireLength(int actual, int expected, String codec) {
        if (actual != expected) {
            throw new IllegalArgumentException("Codec." + codec + " expects " + expected + " bytes, found " + actual);
        }
    }
}
