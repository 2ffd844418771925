// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.UUID;

/**
 * An immutable ordered list of typed elements, for composite keys: its natural order is exactly
 * the unsigned lexicographic order of its {@link #pack() encoding}, so it can be a {@link
 * Database}'s key with natural ordering, and {@link Codec#TUPLE} writes it to the write-ahead log
 * in that same order.
 *
 * <p><b>Elements.</b> Each element is {@code null}, a {@code byte[]} (copied in and out), a {@code
 * String} (without unpaired surrogates, since it is stored as UTF-8), a {@code Long} ({@code
 * Integer}, {@code Short} and {@code Byte} are accepted and stored as {@code Long}), a {@code
 * Boolean}, a {@link UUID} or a nested {@code Tuple}.
 *
 * <p><b>Order.</b> Tuples compare element by element, and a proper prefix sorts before its
 * extensions. Elements of different types sort by type, in the order of the FoundationDB tuple
 * layer's type codes: {@code null} &lt; bytes &lt; string &lt; nested tuple &lt; integer &lt;
 * {@code false} &lt; {@code true} &lt; UUID. Within a type: bytes unsigned lexicographically,
 * strings by Unicode code point (the order of their UTF-8 bytes, which differs from {@link
 * String#compareTo} for characters above U+FFFF), integers numerically, UUIDs as 16 unsigned
 * big-endian bytes (which differs from {@link UUID#compareTo}), nested tuples by this order.
 * {@code compareTo} is consistent with {@code equals}; byte arrays are equal by content.
 *
 * <p><b>Encoding</b> (FoundationDB's {@code design/tuple.md}): each element is one type code and
 * its payload, written one after another with no header:
 *
 * <pre>
 * null      0x00                        (inside a nested tuple: 0x00 0xFF)
 * bytes     0x01 data 0x00              every 0x00 in data written 0x00 0xFF
 * string    0x02 utf-8 0x00             same escape
 * nested    0x05 element* 0x00
 * integer   0x14                        zero
 *           0x14+n b1..bn               positive, n = 1..8 minimal big-endian bytes
 *           0x14-n c1..cn               negative, the one's complement of |v| in n minimal bytes
 * false     0x26
 * true      0x27
 * UUID      0x30 b1..b16                most significant byte first
 * </pre>
 *
 * <p><b>Prefix scans.</b> {@link #prefix(NavigableMap, Tuple)} is the view of every key that
 * starts with a tuple prefix; {@link #prefixEnd(Tuple)} is its exclusive upper bound.
 *
 * <p><b>Nesting</b> is limited to {@value #MAX_DEPTH} levels (a tuple holding a tuple is one
 * level), so that comparing, packing and unpacking never run out of stack, even on hostile bytes.
 *
 * <p>Thread-safe: instances are immutable and can be shared freely without synchronization.
 */
public final class Tuple implements Comparable<Tuple> {

    private static final Tuple EMPTY = new Tuple(new Object[0]);

    /** Each element in its canonical type (I1); never changed after construction. */
    private final Object[] elements;

    /** Levels of nested tuples below this one: 0 if it holds none (I5). */
    private final int depth;

    /** The deepest nesting {@code of}, {@code add} and {@code unpack} accept. */
    public static final int MAX_DEPTH = 100;

    // Implementation notes.
    //
    // I1. elements holds only null, Long, String (no unpaired surrogate), byte[] (a private copy
    //     nobody else sees), Boolean, UUID and Tuple; nothing writes to it after the constructor.
    //     The final field publishes it safely (JLS 17.5).
    // I2. pack(t) is the concatenation of its elements' encodings, and each encoding is
    //     self-delimiting: a type code, then a fixed-length payload or one ended by a 0x00 that is
    //     not followed by 0xFF. Every type code is at most 0x30 < 0xFF, so "end of this element"
    //     (0x00 then the next type code or the end) always sorts below "the element goes on"
    //     (0x00 0xFF). Hence comparing two encodings byte by byte compares their first differing
    //     elements, and a tuple's encoding is a proper prefix of its extensions' encodings.
    // I3. Element encodings compare as compareElement does: by type code first (booleans share
    //     a rank; false's code is below true's), then escaped bytes/UTF-8 keep unsigned order
    //     (the escape 0x00 -> 0x00 0xFF keeps it, by I2's argument), integers by length code then
    //     by big-endian magnitude (one's complement reverses it for negatives), UUIDs by their
    //     16 bytes, nested tuples recursively (a nested null is 0x00 0xFF, above the terminator).
    //     With I2: sign(a.compareTo(b)) == sign(Arrays.compareUnsigned(a.pack(), b.pack())).
    // I4. unpack accepts only canonical encodings (minimal integers, strict UTF-8), so for every
    //     array it accepts, pack(unpack(b)) equals b, and unpack(pack(t)) equals t. It reads only
    //     after checking the bytes are there, so malformed input is an IllegalArgumentException,
    //     never an index exception.
    // I5. depth <= MAX_DEPTH, checked where a tuple becomes an element (canonical) and where
    //     unpack opens a nested tuple, so every recursion here is at most MAX_DEPTH + 1 deep.

    private Tuple(Object[] elements) {
        this.elements = elements;
        int d = 0;
        for (Object e : elements) {
            if (e instanceof Tuple) {
                d = Math.max(d, ((Tuple) e).depth + 1);
            }
        }
        this.depth = d;
    }

    /**
     * A tuple of the given elements, in order.
     *
     * @param elements the elements: each {@code null}, {@code byte[]} (copied), {@code String},
     *     {@code Long}, {@code Integer}, {@code Short}, {@code Byte} (the last three stored as
     *     {@code Long}), {@code Boolean}, {@link UUID} or {@code Tuple}
     * @return the tuple
     * @throws NullPointerException if {@code elements} itself is {@code null} (a {@code null}
     *     element is allowed)
     * @throws IllegalArgumentException if an element has another type, or is a string with an
     *     unpaired surrogate (the message names its index)
     */
    public static Tuple of(Object... elements) {
        Objects.requireNonNull(elements, "elements");
        if (elements.length == 0) {
            return EMPTY;
        }
        Object[] copy = new Object[elements.length];
        for (int i = 0; i < elements.length; i++) {
            copy[i] = canonical(i, elements[i]);
        }
        return new Tuple(copy);
    }

    /**
     * The number of elements.
     *
     * @return the size, zero for the empty tuple
     */
    public int size() {
        return elements.length;
    }

    /**
     * The element at {@code index}; a {@code byte[]} is returned as a fresh copy.
     *
     * @param index the element's position, from zero
     * @return the element, possibly {@code null}
     * @throws IndexOutOfBoundsException if {@code index} is negative or at least {@link #size()}
     */
    public Object get(int index) {
        Object e = elements[checkIndex(index)];
        return e instanceof byte[] ? ((byte[]) e).clone() : e;
    }

    /**
     * Whether the element at {@code index} is {@code null}.
     *
     * @param index the element's position, from zero
     * @return true if it is {@code null}
     * @throws IndexOutOfBoundsException if {@code index} is negative or at least {@link #size()}
     */
    public boolean isNull(int index) {
        return elements[checkIndex(index)] == null;
    }

    /**
     * The integer at {@code index}.
     *
     * @param index the element's position, from zero
     * @return its value
     * @throws IndexOutOfBoundsException if {@code index} is negative or at least {@link #size()}
     * @throws ClassCastException if the element is not an integer (or is {@code null}); the
     *     message names the index and the element's type
     */
    public long getLong(int index) {
        return typed(index, Long.class);
    }

    /**
     * The string at {@code index}.
     *
     * @param index the element's position, from zero
     * @return the string
     * @throws IndexOutOfBoundsException if {@code index} is negative or at least {@link #size()}
     * @throws ClassCastException if the element is not a string (or is {@code null}); the
     *     message names the index and the element's type
     */
    public String getString(int index) {
        return typed(index, String.class);
    }

    /**
     * A copy of the byte string at {@code index}.
     *
     * @param index the element's position, from zero
     * @return a fresh copy of the bytes
     * @throws IndexOutOfBoundsException if {@code index} is negative or at least {@link #size()}
     * @throws ClassCastException if the element is not a byte string (or is {@code null}); the
     *     message names the index and the element's type
     */
    public byte[] getBytes(int index) {
        return typed(index, byte[].class).clone();
    }

    /**
     * The boolean at {@code index}.
     *
     * @param index the element's position, from zero
     * @return its value
     * @throws IndexOutOfBoundsException if {@code index} is negative or at least {@link #size()}
     * @throws ClassCastException if the element is not a boolean (or is {@code null}); the
     *     message names the index and the element's type
     */
    public boolean getBoolean(int index) {
        return typed(index, Boolean.class);
    }

    /**
     * The UUID at {@code index}.
     *
     * @param index the element's position, from zero
     * @return the UUID
     * @throws IndexOutOfBoundsException if {@code index} is negative or at least {@link #size()}
     * @throws ClassCastException if the element is not a UUID (or is {@code null}); the message
     *     names the index and the element's type
     */
    public UUID getUUID(int index) {
        return typed(index, UUID.class);
    }

    /**
     * The nested tuple at {@code index}.
     *
     * @param index the element's position, from zero
     * @return the nested tuple
     * @throws IndexOutOfBoundsException if {@code index} is negative or at least {@link #size()}
     * @throws ClassCastException if the element is not a tuple (or is {@code null}); the message
     *     names the index and the element's type
     */
    public Tuple getTuple(int index) {
        return typed(index, Tuple.class);
    }

    /**
     * A new tuple of this tuple's elements followed by {@code element}; this tuple is unchanged.
     *
     * @param element the element to append, of a type {@link #of(Object...)} accepts, possibly
     *     {@code null}
     * @return the longer tuple
     * @throws IllegalArgumentException if {@code of} would reject the element
     */
    public Tuple add(Object element) {
        Object[] copy = Arrays.copyOf(elements, elements.length + 1);
        copy[elements.length] = canonical(elements.length, element);
        return new Tuple(copy);
    }

    /**
     * A new tuple of this tuple's elements followed by those of {@code other} (not nested).
     *
     * @param other the tuple whose elements are appended
     * @return the concatenation
     * @throws NullPointerException if {@code other} is {@code null}
     */
    public Tuple concat(Tuple other) {
        Objects.requireNonNull(other, "other");
        if (other.elements.length == 0) {
            return this;
        }
        if (elements.length == 0) {
            return other;
        }
        Object[] copy = Arrays.copyOf(elements, elements.length + other.elements.length);
        System.arraycopy(other.elements, 0, copy, elements.length, other.elements.length);
        return new Tuple(copy);
    }

    /**
     * Whether this tuple's first elements equal those of {@code prefix}, element by element (so
     * {@code ("ab")} does not start with {@code ("a")}). Every tuple starts with the empty tuple
     * and with itself.
     *
     * @param prefix the candidate prefix
     * @return true if {@code prefix.size() <= size()} and each of its elements equals this one's
     * @throws NullPointerException if {@code prefix} is {@code null}
     */
    public boolean startsWith(Tuple prefix) {
        Objects.requireNonNull(prefix, "prefix");
        if (prefix.elements.length > elements.length) {
            return false;
        }
        for (int i = 0; i < prefix.elements.length; i++) {
            if (!elementEquals(elements[i], prefix.elements[i])) {
                return false;
            }
        }
        return true;
    }

    /**
     * The smallest tuple greater than every tuple that {@link #startsWith(Tuple) starts with}
     * {@code prefix}: the exclusive upper bound of a prefix scan, {@code [prefix,
     * prefixEnd(prefix))}.
     *
     * <p>It is {@code prefix} with its last element replaced by that element's immediate
     * successor in the tuple order: {@code v + 1} for an integer ({@code false} after {@code
     * Long.MAX_VALUE}), {@code s + "\0"} for a string, {@code b} followed by one 0x00 byte for a
     * byte string, {@code t.add(null)} for a nested tuple {@code t}, empty bytes after {@code
     * null}, {@code true} after {@code false}, the zero UUID after {@code true} and the next UUID
     * after a UUID. The greatest UUID has no successor, so the last element is dropped and the
     * one before it replaced, and so on. Working on elements rather than bytes is what makes it
     * right for strings, byte strings and nested tuples: FoundationDB's byte range {@code
     * pack(prefix) + 0x00 .. pack(prefix) + 0xFF} has no tuple as its end, and a byte-prefix
     * match would wrongly take {@code ("a\0")} as starting with {@code ("a")}.
     *
     * @param prefix the prefix
     * @return the bound, or {@code null} if no tuple is greater than every extension of {@code
     *     prefix} (the empty prefix, or one whose elements are all the greatest UUID); then the
     *     scan has no upper bound
     * @throws NullPointerException if {@code prefix} is {@code null}
     */
    public static Tuple prefixEnd(Tuple prefix) {
        Objects.requireNonNull(prefix, "prefix");
        for (int n = prefix.elements.length; n > 0; n--) {
            Object next = successor(prefix.elements[n - 1]);
            if (next != NO_SUCCESSOR) {
                Object[] copy = Arrays.copyOf(prefix.elements, n);
                copy[n - 1] = next;
                return new Tuple(copy);
            }
        }
        return null;
    }

    /**
     * The live view of the entries of {@code map} whose keys {@link #startsWith(Tuple) start
     * with} {@code prefix}: {@code map.subMap(prefix, true, prefixEnd(prefix), false)}, or {@code
     * map.tailMap(prefix, true)} when {@link #prefixEnd(Tuple)} is {@code null}. It has the
     * semantics of {@code subMap} on the given map: on a transaction's {@code asMap()} it reads
     * the snapshot and the transaction's own writes and, under {@code SERIALIZABLE}, records the
     * scanned range (a concurrent insert of a key with this prefix is a conflict); on a {@link
     * Snapshot} it is read-only.
     *
     * @param <V> the value type
     * @param map a map in tuples' natural order (its {@code comparator()} is {@code null} or
     *     {@link Comparator#naturalOrder()})
     * @param prefix the prefix every returned key starts with
     * @return the view
     * @throws NullPointerException if {@code map} or {@code prefix} is {@code null}
     * @throws IllegalArgumentException if {@code map} has another order (a range of one order is
     *     not a prefix range of another)
     */
    public static <V> NavigableMap<Tuple, V> prefix(NavigableMap<Tuple, V> map, Tuple prefix) {
        Objects.requireNonNull(map, "map");
        Objects.requireNonNull(prefix, "prefix");
        Comparator<? super Tuple> order = map.comparator();
        if (order != null && order != Comparator.naturalOrder()) {
            throw new IllegalArgumentException(
                    "Tuple.prefix needs a map in Tuple's natural order, not one ordered by " + order);
        }
        Tuple end = prefixEnd(prefix);
        return end == null ? map.tailMap(prefix, true) : map.subMap(prefix, true, end, false);
    }

    /**
     * This tuple's encoding (FoundationDB tuple layer, see the class comment); its unsigned
     * lexicographic order ({@link Arrays#compareUnsigned(byte[], byte[])}) is this class's order.
     *
     * @return a fresh array
     */
    public byte[] pack() {
        Out out = new Out();
        for (Object e : elements) {
            out.element(e, false);
        }
        return out.toArray();
    }

    /**
     * The tuple whose {@link #pack()} is exactly {@code bytes}.
     *
     * @param bytes an encoding made by {@code pack}
     * @return the tuple
     * @throws NullPointerException if {@code bytes} is {@code null}
     * @throws IllegalArgumentException if the bytes are not a canonical encoding (truncated, an
     *     unknown or unsupported type code, an unterminated string or nested tuple, invalid
     *     UTF-8, a non-minimal or out-of-range integer); the message names the offset and the
     *     byte found there
     */
    public static Tuple unpack(byte[] bytes) {
        Objects.requireNonNull(bytes, "bytes");
        return unpack(bytes, 0, bytes.length);
    }

    /**
     * The tuple encoded in {@code length} bytes of {@code bytes} starting at {@code offset}; the
     * result keeps no reference to {@code bytes}.
     *
     * @param bytes the array holding the encoding
     * @param offset where the encoding starts
     * @param length how many bytes it has
     * @return the tuple
     * @throws NullPointerException if {@code bytes} is {@code null}
     * @throws IndexOutOfBoundsException if the range is not inside {@code bytes}
     * @throws IllegalArgumentException as {@link #unpack(byte[])}; offsets in the message count
     *     from {@code offset}
     */
    public static Tuple unpack(byte[] bytes, int offset, int length) {
        Objects.requireNonNull(bytes, "bytes");
        Objects.checkFromIndexSize(offset, length, bytes.length);
        Reader r = new Reader(bytes, offset, offset + length);
        List<Object> out = new ArrayList<>();
        while (r.pos < r.end) {
            out.add(r.element(0));
        }
        return out.isEmpty() ? EMPTY : new Tuple(out.toArray());
    }

    /**
     * Compares in the order described in the class comment, the unsigned order of {@link
     * #pack()}.
     *
     * @param other the tuple to compare with
     * @return negative, zero or positive as this tuple sorts before, equal to or after {@code
     *     other}
     * @throws NullPointerException if {@code other} is {@code null}
     */
    @Override
    public int compareTo(Tuple other) {
        int n = Math.min(elements.length, other.elements.length);
        for (int i = 0; i < n; i++) {
            int c = compareElement(elements[i], other.elements[i]);
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(elements.length, other.elements.length);
    }

    /**
     * Whether {@code o} is a tuple with equal elements in the same order (byte strings by
     * content; an {@code Integer} given to {@code of} equals the same {@code Long}).
     *
     * @param o the object to compare with
     * @return true if equal
     */
    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof Tuple)) {
            return false;
        }
        Tuple t = (Tuple) o;
        if (t.elements.length != elements.length) {
            return false;
        }
        for (int i = 0; i < elements.length; i++) {
            if (!elementEquals(elements[i], t.elements[i])) {
                return false;
            }
        }
        return true;
    }

    /**
     * A hash of the elements, consistent with {@link #equals(Object)}.
     *
     * @return the hash code
     */
    @Override
    public int hashCode() {
        int h = 1;
        for (Object e : elements) {
            h = 31 * h + (e instanceof byte[] ? Arrays.hashCode((byte[]) e) : Objects.hashCode(e));
        }
        return h;
    }

    /**
     * The elements in parentheses, e.g. {@code (42, "a\"b", b"\x00\xff", null, true, (7))}: strings
     * quoted with Java escapes, byte strings as {@code b"..."} with {@code \xNN} for bytes outside
     * printable ASCII, UUIDs in their standard form.
     *
     * @return the description
     */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < elements.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            describe(sb, elements[i]);
        }
        return sb.append(')').toString();
    }

    // ---- elements -------------------------------------------------------------------------

    private static final Object NO_SUCCESSOR = new Object();

    private static final int NULL = 0x00;
    private static final int BYTES = 0x01;
    private static final int STRING = 0x02;
    private static final int NESTED = 0x05;
    private static final int INT_ZERO = 0x14;
    private static final int FALSE = 0x26;
    private static final int TRUE = 0x27;
    private static final int UUID_CODE = 0x30;
    private static final int ESCAPE = 0xFF;

    private static Object canonical(int index, Object e) {
        if (e instanceof Tuple && ((Tuple) e).depth >= MAX_DEPTH) {
            throw new IllegalArgumentException("element " + index + " is a tuple with " + ((Tuple) e).depth
                    + " levels of nesting; a Tuple nests at most " + MAX_DEPTH + " levels");
        }
        if (e == null || e instanceof Long || e instanceof Boolean || e instanceof UUID || e instanceof Tuple) {
            return e;
        }
        if (e instanceof Integer || e instanceof Short || e instanceof Byte) {
            return ((Number) e).longValue();
        }
        if (e instanceof byte[]) {
            return ((byte[]) e).clone();
        }
        if (e instanceof String) {
            String s = (String) e;
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                    i++;
                } else if (Character.isSurrogate(c)) {
                    throw new IllegalArgumentException("element " + index
                            + " is a string with an unpaired surrogate at char " + i
                            + "; a Tuple stores strings as UTF-8");
                }
            }
            return s;
        }
        throw new IllegalArgumentException("element " + index + " has unsupported type "
                + e.getClass().getName()
                + "; a Tuple holds null, byte[], String, Long (or Integer, Short, Byte), Boolean, UUID and Tuple");
    }

    private int checkIndex(int index) {
        if (index < 0 || index >= elements.length) {
            throw new IndexOutOfBoundsException(
                    "index " + index + " is out of bounds for a Tuple of size " + elements.length);
        }
        return index;
    }

    private <T> T typed(int index, Class<T> type) {
        Object e = elements[checkIndex(index)];
        if (!type.isInstance(e)) {
            throw new ClassCastException(
                    "element " + index + " is " + typeName(e) + ", not " + typeName(type) + ": " + this);
        }
        return type.cast(e);
    }

    private static String typeName(Object e) {
        return e == null ? "null" : "a " + typeName(e.getClass());
    }

    private static String typeName(Class<?> c) {
        return c == byte[].class ? "byte[]" : c.getSimpleName();
    }

    /** The type's place in the order; booleans share one rank (I3). */
    private static int rank(Object e) {
        if (e == null) {
            return NULL;
        } else if (e instanceof byte[]) {
            return BYTES;
        } else if (e instanceof String) {
            return STRING;
        } else if (e instanceof Tuple) {
            return NESTED;
        } else if (e instanceof Long) {
            return INT_ZERO;
        } else if (e instanceof Boolean) {
            return FALSE;
        } else {
            return UUID_CODE;
        }
    }

    private static int compareElement(Object a, Object b) {
        int ra = rank(a);
        int rb = rank(b);
        if (ra != rb) {
            return Integer.compare(ra, rb);
        }
        switch (ra) {
            case NULL:
                return 0;
            case BYTES:
                return Arrays.compareUnsigned((byte[]) a, (byte[]) b);
            case STRING:
                return compareCodePoints((String) a, (String) b);
            case NESTED:
                return ((Tuple) a).compareTo((Tuple) b);
            case INT_ZERO:
                return Long.compare((Long) a, (Long) b);
            case FALSE:
                return Boolean.compare((Boolean) a, (Boolean) b);
            default:
                UUID ua = (UUID) a;
                UUID ub = (UUID) b;
                int c = Long.compareUnsigned(ua.getMostSignificantBits(), ub.getMostSignificantBits());
                return c != 0 ? c : Long.compareUnsigned(ua.getLeastSignificantBits(), ub.getLeastSignificantBits());
        }
    }

    /**
     * Code point order, which is UTF-8 byte order. At the first differing char both strings have
     * the same preceding chars, so either both chars are low surrogates of the same high one
     * (their order is the code points' order) or {@code codePointAt} reads whole code points (no
     * unpaired surrogates, I1).
     */
    private static int compareCodePoints(String a, String b) {
        int n = Math.min(a.length(), b.length());
        for (int i = 0; i < n; i++) {
            if (a.charAt(i) != b.charAt(i)) {
                return Integer.compare(a.codePointAt(i), b.codePointAt(i));
            }
        }
        return Integer.compare(a.length(), b.length());
    }

    private static boolean elementEquals(Object a, Object b) {
        if (a instanceof byte[] && b instanceof byte[]) {
            return Arrays.equals((byte[]) a, (byte[]) b);
        }
        return Objects.equals(a, b);
    }

    private static Object successor(Object e) {
        if (e == null) {
            return new byte[0];
        } else if (e instanceof byte[]) {
            byte[] b = (byte[]) e;
            return Arrays.copyOf(b, b.length + 1);
        } else if (e instanceof String) {
            return e + "\0";
        } else if (e instanceof Tuple) {
            return ((Tuple) e).add(null);
        } else if (e instanceof Long) {
            long v = (Long) e;
            return v == Long.MAX_VALUE ? (Object) Boolean.FALSE : (Object) (v + 1);
        } else if (e instanceof Boolean) {
            return (Boolean) e ? new UUID(0, 0) : Boolean.TRUE;
        } else {
            UUID u = (UUID) e;
            long lo = u.getLeastSignificantBits() + 1;
            long hi = u.getMostSignificantBits() + (lo == 0 ? 1 : 0);
            if (lo == 0 && hi == 0) {
                return NO_SUCCESSOR; // u was the greatest UUID
            }
            return new UUID(hi, lo);
        }
    }

    private static void describe(StringBuilder sb, Object e) {
        if (e == null) {
            sb.append("null");
        } else if (e instanceof String) {
            sb.append('"');
            String s = (String) e;
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == '"' || c == '\\') {
                    sb.append('\\').append(c);
                } else if (c < 0x20 || c == 0x7F) {
                    sb.append(String.format("\\u%04x", (int) c));
                } else {
                    sb.append(c);
                }
            }
            sb.append('"');
        } else if (e instanceof byte[]) {
            sb.append("b\"");
            for (byte x : (byte[]) e) {
                int u = x & 0xFF;
                if (u >= 0x20 && u < 0x7F && u != '"' && u != '\\') {
                    sb.append((char) u);
                } else {
                    sb.append(String.format("\\x%02x", u));
                }
            }
            sb.append('"');
        } else {
            sb.append(e); // Long, Boolean, UUID, Tuple
        }
    }

    private static String hex(int b) {
        return String.format("0x%02x", b & 0xFF);
    }

    // ---- encoding -------------------------------------------------------------------------

    /** A growable byte buffer, for one {@code pack} call. */
    private static final class Out {
        private byte[] buf = new byte[32];
        private int len;

        void put(int b) {
            if (len == buf.length) {
                buf = Arrays.copyOf(buf, buf.length * 2);
            }
            buf[len++] = (byte) b;
        }

        void escaped(byte[] data) {
            for (byte b : data) {
                put(b);
                if (b == 0) {
                    put(ESCAPE);
                }
            }
            put(0);
        }

        void element(Object e, boolean nested) {
            if (e == null) {
                put(NULL);
                if (nested) {
                    put(ESCAPE);
                }
            } else if (e instanceof byte[]) {
                put(BYTES);
                escaped((byte[]) e);
            } else if (e instanceof String) {
                put(STRING);
                escaped(((String) e).getBytes(StandardCharsets.UTF_8)); // exact: no unpaired surrogates (I1)
            } else if (e instanceof Tuple) {
                put(NESTED);
                for (Object x : ((Tuple) e).elements) {
                    element(x, true);
                }
                put(0);
            } else if (e instanceof Long) {
                integer((Long) e);
            } else if (e instanceof Boolean) {
                put((Boolean) e ? TRUE : FALSE);
            } else {
                UUID u = (UUID) e;
                put(UUID_CODE);
                bigEndian(u.getMostSignificantBits(), 8);
                bigEndian(u.getLeastSignificantBits(), 8);
            }
        }

        void integer(long v) {
            if (v == 0) {
                put(INT_ZERO);
                return;
            }
            // Magnitude as an unsigned long: -Long.MIN_VALUE wraps to 2^63, which is right.
            long magnitude = v > 0 ? v : -v;
            int n = (Long.SIZE - Long.numberOfLeadingZeros(magnitude) + 7) / 8;
            if (v > 0) {
                put(INT_ZERO + n);
                bigEndian(magnitude, n);
            } else {
                put(INT_ZERO - n);
                bigEndian(~magnitude, n); // the one's complement in n bytes: its low n bytes
            }
        }

        void bigEndian(long v, int n) {
            for (int shift = 8 * (n - 1); shift >= 0; shift -= 8) {
                put((int) (v >>> shift));
            }
        }

        byte[] toArray() {
            return Arrays.copyOf(buf, len);
        }
    }

    // ---- decoding -------------------------------------------------------------------------

    /** A cursor over one encoding; offsets in messages count from {@code start}. */
    private static final class Reader {
        private final byte[] b;
        private final int start;
        private final int end;
        private int pos;

        Reader(byte[] b, int start, int end) {
            this.b = b;
            this.start = start;
            this.end = end;
            this.pos = start;
        }

        private int offset(int at) {
            return at - start;
        }

        private IllegalArgumentException malformed(String what) {
            return new IllegalArgumentException("not a packed Tuple: " + what);
        }

        /** The element at {@code pos}, inside {@code level} nested tuples (0: top level). */
        Object element(int level) {
            boolean nested = level > 0;
            int at = pos;
            int code = b[pos++] & 0xFF; // callers checked pos < end
            if (code == NULL) {
                if (nested) { // the caller saw 0x00 0xFF
                    pos++;
                }
                return null;
            } else if (code == BYTES) {
                return escaped(at, "byte string");
            } else if (code == STRING) {
                byte[] utf8 = escaped(at, "string");
                try {
                    return StandardCharsets.UTF_8
                            .newDecoder()
                            .onMalformedInput(CodingErrorAction.REPORT)
                            .onUnmappableCharacter(CodingErrorAction.REPORT)
                            .decode(ByteBuffer.wrap(utf8))
                            .toString();
                } catch (CharacterCodingException e) {
                    throw malformed("string with type code 0x02 at offset " + offset(at) + " is not valid UTF-8");
                }
            } else if (code == NESTED) {
                if (level == MAX_DEPTH) {
                    throw malformed("nested tuple with type code 0x05 at offset " + offset(at)
                            + " is nested deeper than " + MAX_DEPTH + " levels");
                }
                List<Object> items = new ArrayList<>();
                while (true) {
                    if (pos >= end) {
                        throw malformed("nested tuple with type code 0x05 at offset " + offset(at)
                                + " has no 0x00 terminator: input ends at offset " + offset(end));
                    }
                    if (b[pos] == 0) {
                        if (pos + 1 < end && (b[pos + 1] & 0xFF) == ESCAPE) {
                            items.add(element(level + 1));
                            continue;
                        }
                        pos++;
                        return items.isEmpty() ? EMPTY : new Tuple(items.toArray());
                    }
                    items.add(element(level + 1));
                }
            } else if (code >= INT_ZERO - 8 && code <= INT_ZERO + 8) {
                return integer(at, code);
            } else if (code == FALSE) {
                return Boolean.FALSE;
            } else if (code == TRUE) {
                return Boolean.TRUE;
            } else if (code == UUID_CODE) {
                require(at, code, 16, "UUID");
                long hi = bigEndian(pos, 8);
                long lo = bigEndian(pos + 8, 8);
                pos += 16;
                return new UUID(hi, lo);
            }
            throw malformed("unknown or unsupported type code " + hex(code) + " at offset " + offset(at));
        }

        /** The unescaped payload of a 0x01/0x02 element whose type code is at {@code at}. */
        private byte[] escaped(int at, String kind) {
            Out data = new Out();
            while (true) {
                if (pos >= end) {
                    throw malformed(kind + " with type code " + hex(b[at]) + " at offset " + offset(at)
                            + " has no 0x00 terminator: input ends at offset " + offset(end));
                }
                byte x = b[pos++];
                if (x == 0) {
                    if (pos < end && (b[pos] & 0xFF) == ESCAPE) {
                        pos++;
                    } else {
                        return data.toArray();
                    }
                }
                data.put(x);
            }
        }

        private void require(int at, int code, int n, String kind) {
            if (end - pos < n) {
                throw malformed(kind + " with type code " + hex(code) + " at offset " + offset(at) + " needs " + n
                        + " payload bytes, found " + (end - pos) + " before the end at offset " + offset(end));
            }
        }

        private long bigEndian(int from, int n) {
            long v = 0;
            for (int i = from; i < from + n; i++) {
                v = (v << 8) | (b[i] & 0xFF);
            }
            return v;
        }

        private long integer(int at, int code) {
            int n = Math.abs(code - INT_ZERO);
            if (n == 0) {
                return 0;
            }
            require(at, code, n, "integer");
            int first = b[pos] & 0xFF;
            long raw = bigEndian(pos, n);
            String where = "integer with type code " + hex(code) + " at offset " + offset(at);
            long value;
            if (code > INT_ZERO) {
                if (first == 0) {
                    throw malformed(where + " is not minimal: byte 0x00 at offset " + offset(pos));
                }
                if (n == 8 && first >= 0x80) {
                    throw malformed(where + " does not fit a long: byte " + hex(first) + " at offset " + offset(pos));
                }
                value = raw;
            } else {
                if (first == 0xFF) {
                    throw malformed(where + " is not minimal: byte 0xff at offset " + offset(pos));
                }
                long mask = n == 8 ? -1L : (1L << (8 * n)) - 1;
                long magnitude = ~raw & mask;
                if (Long.compareUnsigned(magnitude, Long.MIN_VALUE) > 0) { // above 2^63
                    throw malformed(where + " does not fit a long: byte " + hex(first) + " at offset " + offset(pos));
                }
                value = -magnitude;
            }
            pos += n;
            return value;
        }
    }
}
