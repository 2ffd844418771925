// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.index;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.testing.TestThreads;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link VersionedIndex}: sequential model tests against a {@link TreeMap} for every abbreviation
 * mode (Long, Integer, String with ties on the abbreviated key, no abbreviation with a comparator
 * or another key class), the key-class mode, and multi-threaded invariants, each bounded in time
 * and count.
 */
final class VersionedIndexTest {

    /** An entry; equal-but-not-identical copies check that replace and remove compare by identity. */
    private record Val(long id) {}

    // ---- sequential model tests ------------------------------------------------------------------

    private static final int OPS = 4_000;

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 5, 0x5EED_CAFEL})
    void longKeysAgreeWithTreeMap(long seed) {
        new ModelRun<Long>(
                        "Long natural",
                        seed,
                        new VersionedIndex<>(null),
                        Comparator.naturalOrder(),
                        VersionedIndexTest::longPool,
                        (k, r) -> r.nextBoolean() ? k + 1 : k - 1)
                .run();
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 5, 0x5EED_CAFEL})
    void stringKeysWithLongCommonPrefixesAgreeWithTreeMap(long seed) {
        new ModelRun<String>(
                        "String natural",
                        seed,
                        new VersionedIndex<>(null),
                        Comparator.naturalOrder(),
                        VersionedIndexTest::stringPool,
                        VersionedIndexTest::stringNeighbour)
                .run();
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 5, 0x5EED_CAFEL})
    void integerKeysAgreeWithTreeMap(long seed) {
        new ModelRun<Integer>(
                        "Integer natural",
                        seed,
                        new VersionedIndex<>(null),
                        Comparator.naturalOrder(),
                        VersionedIndexTest::intPool,
                        (k, r) -> r.nextBoolean() ? k + 1 : k - 1)
                .run();
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 5, 0x5EED_CAFEL})
    void longKeysInReverseComparatorOrderAgreeWithTreeMap(long seed) {
        Comparator<Long> reverse = Comparator.reverseOrder();
        new ModelRun<Long>(
                        "Long reverseOrder()",
                        seed,
                        new VersionedIndex<>(reverse),
                        reverse,
                        VersionedIndexTest::longPool,
                        (k, r) -> r.nextBoolean() ? k + 1 : k - 1)
                .run();
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 5, 0x5EED_CAFEL})
    void stringKeysWithACustomComparatorAgreeWithTreeMap(long seed) {
        Comparator<String> byLengthThenText =
                Comparator.comparingInt(String::length).thenComparing(Comparator.naturalOrder());
        new ModelRun<String>(
                        "String by length",
                        seed,
                        new VersionedIndex<>(byLengthThenText),
                        byLengthThenText,
                        VersionedIndexTest::stringPool,
                        VersionedIndexTest::stringNeighbour)
                .run();
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void naturallyOrderedKeysOfAnotherClassAgreeWithTreeMap(long seed) {
        new ModelRun<BigInteger>(
                        "BigInteger natural",
                        seed,
                        new VersionedIndex<>(null),
                        Comparator.naturalOrder(),
                        VersionedIndexTest::bigPool,
                        (k, r) -> r.nextBoolean() ? k.add(BigInteger.ONE) : k.subtract(BigInteger.ONE))
                .run();
    }

    /** One seeded random run of every operation against a TreeMap model, checked after every step. */
    private static final class ModelRun<K> {
        private final String label;
        private final long seed;
        private final VersionedIndex<K> index;
        private final Comparator<? super K> order;
        private final TreeMap<K, Val> model;
        private final SplittableRandom rnd;
        private final List<K> keys;
        private final List<K> boundKeys;
        /** Keys the operations removed since it was last cleared (for the mutating cursors). */
        private final List<K> removedLog = new ArrayList<>();

        private long nextId;
        private int step;
        private String lastOp = "(none)";

        ModelRun(
                String label,
                long seed,
                VersionedIndex<K> index,
                Comparator<? super K> order,
                BiFunction<SplittableRandom, Integer, List<K>> pool,
                BiFunction<K, SplittableRandom, K> neighbour) {
            this.label = label;
            this.seed = seed;
            this.index = index;
            this.order = order;
            this.model = new TreeMap<>(order);
            this.held = new TreeMap<>(order);
            this.rnd = new SplittableRandom(seed);
            this.keys = pool.apply(rnd, POOL_SIZES[Math.floorMod(seed, POOL_SIZES.length)]);
            Set<K> bounds = new LinkedHashSet<>(keys);
            for (K k : keys) {
                bounds.add(neighbour.apply(k, rnd));
            }
            this.boundKeys = new ArrayList<>(bounds);
        }

        private String ctx() {
            return label + " seed " + seed + " step " + step + " after " + lastOp + " (model size " + model.size()
                    + ")";
        }

        private Val newVal() {
            return new Val(nextId++);
        }

        private K randomKey() {
            return keys.get(rnd.nextInt(keys.size()));
        }

        /** A present key if there is one (a random pool key otherwise). */
        private K presentKey() {
            K k = randomKey();
            if (model.isEmpty() || model.containsKey(k)) {
                return k;
            }
            K c = model.ceilingKey(k);
            return c != null ? c : model.firstKey();
        }

        void run() {
            for (step = 0; step < OPS; step++) {
                int phase = step * 3 / OPS; // grow, churn, shrink
                int insertWeight = phase == 0 ? 50 : phase == 1 ? 25 : 10;
                int deleteWeight = phase == 0 ? 10 : phase == 1 ? 25 : 50;
                int r = rnd.nextInt(100);
                K k;
                if (r < insertWeight) {
                    k = randomKey();
                    if (rnd.nextBoolean()) {
                        putIfAbsent(k);
                    } else {
                        compute(k, 0);
                    }
                } else if (r < insertWeight + deleteWeight) {
                    k = presentKey();
                    if (rnd.nextBoolean()) {
                        removeRight(k);
                    } else {
                        compute(k, 1);
                    }
                } else {
                    k = rnd.nextInt(4) == 0 ? randomKey() : presentKey();
                    miscOp(k);
                }
                checkAfterOp(k);
                if (step % 64 == 63) {
                    fullCheck();
                }
                if (step % 256 == 255) {
                    mutatingCursor();
                }
            }
            fullCheck();
            drain();
        }

        private void miscOp(K k) {
            switch (rnd.nextInt(12)) {
                case 0 -> {
                    lastOp = "get(" + show(k) + ")";
                    assertSame(model.get(k), index.get(k), this::ctx);
                }
                case 1 -> replaceRight(k);
                case 2 -> {
                    Val cur = model.get(k);
                    Val wrong = cur == null ? newVal() : new Val(cur.id()); // equal, not identical
                    lastOp = "replace(" + show(k) + ", wrong expected " + wrong + ")";
                    assertFalse(
                            index.replace(k, wrong, newVal()),
                            () -> ctx() + ": replace with an equal but not identical expected entry succeeded");
                }
                case 3 -> {
                    Val cur = model.get(k);
                    Val wrong = cur == null ? newVal() : new Val(cur.id());
                    lastOp = "remove(" + show(k) + ", wrong expected " + wrong + ")";
                    assertFalse(
                            index.remove(k, wrong),
                            () -> ctx() + ": remove with an equal but not identical expected entry succeeded");
                }
                case 4 -> {
                    lastOp = "remove(" + show(k) + ", null)";
                    assertFalse(index.remove(k, null), () -> ctx() + ": remove with a null expected entry succeeded");
                }
                case 5 -> {
                    lastOp = "replace(" + show(k) + ", null, v)";
                    assertFalse(
                            index.replace(k, null, newVal()),
                            () -> ctx() + ": replace with a null expected entry succeeded");
                }
                case 6 -> compute(k, 0); // insert or update
                case 7 -> compute(k, 2); // unchanged
                case 9 -> nodeOf(k);
                case 10 -> insertWithFinger(k);
                case 11 -> computeAtHeldNode(k);
                default -> putIfAbsent(k);
            }
        }

        /** Nodes obtained earlier, by key; they may have been removed from the index since. */
        private final TreeMap<K, VersionedIndex.Node<K>> held;

        private void nodeOf(K k) {
            lastOp = "node(" + show(k) + ")";
            VersionedIndex.Node<K> n = index.node(k);
            Val expected = model.get(k);
            if (expected == null) {
                assertNull(n, this::ctx);
            } else {
                assertNotNull(n, this::ctx);
                assertEquals(0, order.compare(n.key, k), this::ctx);
                assertSame(expected, n.value, this::ctx);
                held.put(k, n);
            }
        }

        /** insertIfAbsent from a finger: a held node below k (maybe removed since), or none. */
        private void insertWithFinger(K k) {
            Map.Entry<K, VersionedIndex.Node<K>> below = rnd.nextBoolean() ? held.lowerEntry(k) : held.floorEntry(k);
            VersionedIndex.Node<K> finger = below == null ? null : below.getValue();
            Val v = newVal();
            Val before = model.get(k);
            lastOp = "insertIfAbsent(" + show(k) + ", " + v + ", finger "
                    + (below == null ? "none" : show(below.getKey())) + ")";
            VersionedIndex.Node<K> z = index.insertIfAbsent(k, v, finger);
            if (before != null) {
                assertNull(z, () -> ctx() + ": inserted over a present key");
                return;
            }
            assertNotNull(z, () -> ctx() + ": an absent key was not inserted");
            assertSame(v, z.value, this::ctx);
            model.put(k, v);
            held.put(k, z);
        }

        /** computeAt through a held node of k (maybe removed since): update or remove. */
        private void computeAtHeldNode(K k) {
            VersionedIndex.Node<K> n = held.get(k);
            if (n == null) {
                nodeOf(k);
                return;
            }
            boolean remove = rnd.nextInt(3) == 0;
            Val v = newVal();
            Val before = model.get(k);
            lastOp = "computeAt(held node of " + show(k) + (remove ? ", remove)" : ", set " + v + ")");
            Object[] seen = new Object[1];
            Object result = index.computeAt(n, k, (key, cur) -> {
                seen[0] = cur;
                return remove ? null : v;
            });
            assertSame(before, seen[0], () -> ctx() + ": the function saw another entry than the model's");
            if (remove) {
                assertNull(result, this::ctx);
                model.remove(k);
                held.remove(k);
            } else {
                assertSame(v, result, this::ctx);
                model.put(k, v);
            }
        }

        private void putIfAbsent(K k) {
            Val v = newVal();
            Val before = model.get(k);
            lastOp = "putIfAbsent(" + show(k) + ", " + v + ") over " + before;
            assertSame(
                    before,
                    index.putIfAbsent(k, v),
                    () -> ctx() + ": putIfAbsent must return the present entry or null");
            if (before == null) {
                model.put(k, v);
            }
        }

        private void replaceRight(K k) {
            Val cur = model.get(k);
            Val v = newVal();
            lastOp = "replace(" + show(k) + ", " + cur + ", " + v + ")";
            if (cur == null) {
                assertFalse(index.replace(k, newVal(), v), () -> ctx() + ": replace of an absent key succeeded");
            } else {
                assertTrue(
                        index.replace(k, cur, v), () -> ctx() + ": replace with the identical expected entry failed");
                model.put(k, v);
            }
        }

        private void removeRight(K k) {
            Val cur = model.get(k);
            lastOp = "remove(" + show(k) + ", " + cur + ")";
            if (cur == null) {
                assertFalse(index.remove(k, newVal()), () -> ctx() + ": remove of an absent key succeeded");
            } else {
                assertTrue(index.remove(k, cur), () -> ctx() + ": remove with the identical expected entry failed");
                model.remove(k);
                removedLog.add(k);
            }
        }

        /** action 0: new entry (insert or update); 1: null (remove, or no insert); 2: unchanged. */
        private void compute(K k, int action) {
            Val before = model.get(k);
            Val v = newVal();
            int[] calls = {0};
            lastOp = "compute(" + show(k) + ", action " + action + ") over " + before;
            Object installed = index.compute(k, (key, old) -> {
                calls[0]++;
                assertEquals(k, key, () -> ctx() + ": compute passed another key to the function");
                assertSame(before, old, () -> ctx() + ": compute passed another present entry to the function");
                return action == 0 ? v : action == 1 ? null : old;
            });
            assertEquals(1, calls[0], () -> ctx() + ": without contention compute must call the function once");
            Val expected = action == 0 ? v : action == 1 ? null : before;
            assertSame(expected, installed, () -> ctx() + ": compute must return the installed entry or null");
            if (expected == null) {
                if (model.remove(k) != null) {
                    removedLog.add(k);
                }
            } else {
                model.put(k, expected);
            }
        }

        private void checkAfterOp(K k) {
            assertSame(model.get(k), index.get(k), () -> ctx() + ": get of the key just operated on");
            K other = randomKey();
            assertSame(model.get(other), index.get(other), () -> ctx() + ": get(" + show(other) + ")");
            assertEquals(model.size(), index.size(), () -> ctx() + ": size");
            assertEquals(model.isEmpty(), index.size() == 0, () -> ctx() + ": emptiness");
        }

        private void fullCheck() {
            for (K k : keys) {
                assertSame(model.get(k), index.get(k), () -> ctx() + ": full check get(" + show(k) + ")");
            }
            checkCursor(index.cursor(), model, "cursor()");
            checkCursor(index.cursor(KeyRange.all(), false), model, "all ascending");
            checkCursor(index.cursor(KeyRange.all(), true), model.descendingMap(), "all descending");
            // every combination of inclusive / exclusive / unbounded ends, both directions
            K a = pickBound();
            K b = pickBound();
            if (order.compare(a, b) > 0) {
                K t = a;
                a = b;
                b = t;
            }
            for (int lowKind = 0; lowKind < 3; lowKind++) {
                for (int highKind = 0; highKind < 3; highKind++) {
                    for (boolean desc : new boolean[] {false, true}) {
                        KeyRange<K> bounds = new KeyRange<>(
                                lowKind == 2 ? null : a,
                                lowKind == 0,
                                lowKind == 2,
                                highKind == 2 ? null : b,
                                highKind == 0,
                                highKind == 2);
                        checkBounded(bounds, desc);
                        checkBounded(
                                new KeyRange<>(a, lowKind == 0, lowKind == 2, a, highKind == 0, highKind == 2), desc);
                    }
                }
            }
            for (int i = 0; i < 8; i++) {
                checkBounded(randomBounds(), rnd.nextBoolean());
            }
        }

        private K pickBound() {
            if (!model.isEmpty() && rnd.nextInt(3) == 0) {
                return presentKey();
            }
            return boundKeys.get(rnd.nextInt(boundKeys.size()));
        }

        private KeyRange<K> randomBounds() {
            boolean lu = rnd.nextInt(4) == 0;
            boolean hu = rnd.nextInt(4) == 0;
            K lo = pickBound();
            K hi = rnd.nextInt(8) == 0 ? lo : pickBound();
            if (order.compare(lo, hi) > 0) {
                K t = lo;
                lo = hi;
                hi = t;
            }
            // an unbounded end sometimes still carries a key, which must then be ignored
            return new KeyRange<>(
                    lu && rnd.nextBoolean() ? null : lo,
                    rnd.nextBoolean(),
                    lu,
                    hu && rnd.nextBoolean() ? null : hi,
                    rnd.nextBoolean(),
                    hu);
        }

        private NavigableMap<K, Val> view(KeyRange<K> b) {
            if (b.lowUnbounded() && b.highUnbounded()) {
                return model;
            }
            if (b.lowUnbounded()) {
                return model.headMap(b.high(), b.highInclusive());
            }
            if (b.highUnbounded()) {
                return model.tailMap(b.low(), b.lowInclusive());
            }
            return model.subMap(b.low(), b.lowInclusive(), b.high(), b.highInclusive());
        }

        private void checkBounded(KeyRange<K> b, boolean desc) {
            NavigableMap<K, Val> v = view(b);
            checkCursor(index.cursor(b, desc), desc ? v.descendingMap() : v, describe(b, desc));
        }

        private void checkCursor(VersionedIndex.Cursor<K> c, NavigableMap<K, Val> expected, String what) {
            Iterator<Map.Entry<K, Val>> it = expected.entrySet().iterator();
            int pos = 0;
            while (true) {
                boolean has = c.next();
                int p = pos;
                if (!it.hasNext()) {
                    assertFalse(
                            has,
                            () -> ctx() + ": cursor " + what + " returned an extra key " + show(c.key())
                                    + " at position " + p + "; expected " + showKeys(expected.keySet()));
                    break;
                }
                Map.Entry<K, Val> e = it.next();
                assertTrue(
                        has,
                        () -> ctx() + ": cursor " + what + " ended at position " + p + ", missing " + show(e.getKey())
                                + "; expected " + showKeys(expected.keySet()));
                assertEquals(
                        e.getKey(),
                        c.key(),
                        () -> ctx() + ": cursor " + what + " key at position " + p + " was " + show(c.key())
                                + ", expected " + show(e.getKey()) + "; expected " + showKeys(expected.keySet()));
                assertSame(e.getValue(), c.entry(), () -> ctx() + ": cursor " + what + " entry of " + show(e.getKey()));
                pos++;
            }
            assertNull(c.key(), () -> ctx() + ": key() after the end of " + what);
            assertNull(c.entry(), () -> ctx() + ": entry() after the end of " + what);
            assertFalse(c.next(), () -> ctx() + ": next() after the end of " + what);
        }

        /**
         * A cursor interleaved with random operations: it returns strictly ordered keys in range,
         * each with its entry at the move, and every key present for the whole run.
         */
        private void mutatingCursor() {
            KeyRange<K> b = rnd.nextInt(3) == 0 ? KeyRange.all() : randomBounds();
            boolean desc = rnd.nextBoolean();
            String what = "mutating " + describe(b, desc);
            NavigableMap<K, Val> range = view(b); // a live view of the model
            Set<K> mustSee = new TreeSet<>(order);
            mustSee.addAll(range.keySet());
            removedLog.clear();
            VersionedIndex.Cursor<K> c = index.cursor(b, desc);
            K prev = null;
            int moves = 0;
            while (true) {
                for (int i = rnd.nextInt(4); i > 0; i--) {
                    K k = rnd.nextBoolean() ? randomKey() : presentKey();
                    switch (rnd.nextInt(5)) {
                        case 0 -> putIfAbsent(k);
                        case 1 -> removeRight(k);
                        case 2 -> replaceRight(k);
                        case 3 -> compute(k, rnd.nextInt(3));
                        default -> compute(k, 1);
                    }
                    checkAfterOp(k);
                }
                for (K k : removedLog) {
                    mustSee.remove(k);
                }
                removedLog.clear();
                if (!c.next()) {
                    break;
                }
                moves++;
                K key = c.key();
                K p = prev;
                assertTrue(
                        range.containsKey(key),
                        () -> ctx() + ": " + what + " returned " + show(key) + ", which is absent or out of range");
                assertSame(
                        model.get(key),
                        c.entry(),
                        () -> ctx() + ": " + what + " entry of " + show(key) + " at the move");
                if (p != null) {
                    int cmp = order.compare(key, p);
                    assertTrue(
                            desc ? cmp < 0 : cmp > 0,
                            () -> ctx() + ": " + what + " returned " + show(key) + " after " + show(p)
                                    + ", out of order");
                }
                mustSee.remove(key);
                prev = key;
            }
            int m = moves;
            assertTrue(
                    mustSee.isEmpty(),
                    () -> ctx() + ": " + what + " (" + m + " moves) missed keys present for its whole run: "
                            + showKeys(mustSee));
        }

        /** Empties the index in random order, then fills it a little again. */
        private void drain() {
            List<K> present = new ArrayList<>(model.keySet());
            Collections.shuffle(present, new java.util.Random(rnd.nextLong()));
            for (K k : present) {
                step++;
                if (rnd.nextBoolean()) {
                    removeRight(k);
                } else {
                    compute(k, 1);
                }
                checkAfterOp(k);
            }
            assertEquals(0, index.size(), () -> ctx() + ": drained index not empty");
            assertEquals(0, index.size(), () -> ctx() + ": drained index size");
            fullCheck();
            for (int i = 0; i < 50; i++) {
                step++;
                K k = randomKey();
                putIfAbsent(k);
                checkAfterOp(k);
            }
            fullCheck();
        }
    }

    private static String describe(KeyRange<?> b, boolean desc) {
        return (b.lowUnbounded() ? "(-inf" : (b.lowInclusive() ? "[" : "(") + show(b.low())) + ", "
                + (b.highUnbounded() ? "+inf)" : show(b.high()) + (b.highInclusive() ? "]" : ")"))
                + (desc ? " descending" : " ascending");
    }

    /** A key, strings escaped so that control and high characters show. */
    private static String show(Object k) {
        if (!(k instanceof String)) {
            return String.valueOf(k);
        }
        String s = (String) k;
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch >= 0x20 && ch < 0x7f) {
                sb.append(ch);
            } else {
                sb.append(String.format("\\u%04X", (int) ch));
            }
        }
        return sb.append('"').toString();
    }

    private static String showKeys(Iterable<?> keys) {
        StringBuilder sb = new StringBuilder("[");
        int n = 0;
        for (Object k : keys) {
            if (n > 0) {
                sb.append(", ");
            }
            if (n++ == 30) {
                sb.append("...");
                break;
            }
            sb.append(show(k));
        }
        return sb.append(']').toString();
    }

    // ---- key pools -------------------------------------------------------------------------------

    /** Pool sizes, by seed mod 3: small enough to empty the index often, or big enough for tall towers. */
    private static final int[] POOL_SIZES = {24, 300, 2_000};

    private static List<Long> longPool(SplittableRandom rnd, int n) {
        Set<Long> s = new LinkedHashSet<>(List.of(
                Long.MIN_VALUE,
                Long.MIN_VALUE + 1,
                -1L,
                0L,
                1L,
                Long.MAX_VALUE - 1,
                Long.MAX_VALUE,
                (long) Integer.MIN_VALUE,
                (long) Integer.MAX_VALUE,
                1L << 53,
                -(1L << 53),
                1L << 32,
                -(1L << 32)));
        while (s.size() < n) {
            s.add(rnd.nextBoolean() ? (long) rnd.nextInt(-n, n) : rnd.nextLong());
        }
        return new ArrayList<>(s);
    }

    private static List<Integer> intPool(SplittableRandom rnd, int n) {
        Set<Integer> s = new LinkedHashSet<>(
                List.of(Integer.MIN_VALUE, Integer.MIN_VALUE + 1, -1, 0, 1, Integer.MAX_VALUE - 1, Integer.MAX_VALUE));
        while (s.size() < n) {
            s.add(rnd.nextBoolean() ? rnd.nextInt(-n, n) : rnd.nextInt());
        }
        return new ArrayList<>(s);
    }

    private static List<BigInteger> bigPool(SplittableRandom rnd, int n) {
        Set<BigInteger> s = new LinkedHashSet<>(List.of(
                BigInteger.ZERO,
                BigInteger.ONE,
                BigInteger.ONE.negate(),
                BigInteger.ONE.shiftLeft(100),
                BigInteger.ONE.shiftLeft(100).negate()));
        while (s.size() < n) {
            BigInteger b = BigInteger.valueOf(rnd.nextLong());
            s.add(rnd.nextBoolean() ? b : b.shiftLeft(rnd.nextInt(80)));
        }
        return new ArrayList<>(s);
    }

    /** Characters at the edges of the abbreviation's 16-bit slots, and in the middle. */
    private static final char[] ALPHABET = {'\u0000', '\u0001', 'a', 'b', '\u7FFF', '\u8000', '\uFFFE', '\uFFFF'};

    private static List<String> stringPool(SplittableRandom rnd, int n) {
        Set<String> s = new LinkedHashSet<>(List.of(
                "",
                "\u0000",
                "\u0000\u0000",
                "\u0000\u0000\u0000\u0000",
                "\u0000\u0000\u0000\u0000\u0000",
                "a",
                "a\u0000",
                "ab",
                "ab\u0000",
                "ab\u0000\u0000",
                "ab\u0000\u0000\u0000",
                "ab\u0000\u0000\u0000\u0000",
                "ab\u0000\u0000\u0000\u0001",
                "abc",
                "abc\u0000",
                "abcd",
                "abcd\u0000",
                "abcde",
                "abcd\uFFFF",
                "abc\uFFFF",
                "ab\uFFFF",
                "\uFFFF",
                "\uFFFF\uFFFF\uFFFF\uFFFF",
                "\uFFFF\uFFFF\uFFFF\uFFFF\u0000",
                "\uFFFF\uFFFF\uFFFF\uFFFF\uFFFF",
                "\u7FFF",
                "\u8000",
                "\u8000\u0000",
                "\u7FFF\uFFFF\uFFFF\uFFFF\uFFFF",
                "\uD800\uDC00",
                "\uE000",
                "user",
                "user0",
                "user0000",
                "user00000",
                "user0000123",
                "user0000124",
                "user00001230"));
        while (s.size() < n) {
            switch (rnd.nextInt(4)) {
                case 0 -> s.add(String.format("user%07d", rnd.nextInt(n * 4)));
                case 1 -> s.add("user" + rnd.nextInt(n * 4));
                case 2 -> s.add(String.format("user%07d", rnd.nextInt(n)) + ALPHABET[rnd.nextInt(ALPHABET.length)]);
                default -> {
                    char[] cs = new char[rnd.nextInt(9)];
                    for (int i = 0; i < cs.length; i++) {
                        cs[i] = ALPHABET[rnd.nextInt(ALPHABET.length)];
                    }
                    s.add(new String(cs));
                }
            }
        }
        return new ArrayList<>(s);
    }

    private static String stringNeighbour(String k, SplittableRandom rnd) {
        switch (rnd.nextInt(4)) {
            case 0:
                return k + "\u0000";
            case 1:
                return k.isEmpty() ? "\u0000" : k.substring(0, k.length() - 1);
            case 2:
                return k + ALPHABET[rnd.nextInt(ALPHABET.length)];
            default:
                return k.isEmpty() ? "a" : k.substring(0, k.length() - 1) + (char) (k.charAt(k.length() - 1) + 1);
        }
    }

    // ---- key-class mode --------------------------------------------------------------------------

    @Test
    void theFirstLongKeyFixesTheModeAndAnIntegerKeyThenThrows() {
        VersionedIndex<Object> index = new VersionedIndex<>(null);
        Val one = new Val(1);
        assertNull(index.putIfAbsent(1L, one));
        assertThrows(ClassCastException.class, () -> index.get(1), "get with an Integer key in Long mode");
        assertThrows(
                ClassCastException.class,
                () -> index.putIfAbsent(2, new Val(2)),
                "putIfAbsent with an Integer key in Long mode");
        assertThrows(
                ClassCastException.class,
                () -> index.compute(2, (k, v) -> new Val(2)),
                "compute with an Integer key in Long mode");
        assertThrows(
                ClassCastException.class,
                () -> index.replace(1, one, new Val(3)),
                "replace with an Integer key in Long mode");
        assertThrows(ClassCastException.class, () -> index.remove(1, one), "remove with an Integer key in Long mode");
        assertThrows(ClassCastException.class, () -> index.get("1"), "get with a String key in Long mode");
        assertEquals(1, index.size(), "a rejected key must leave the index unchanged");
        assertSame(one, index.get(1L));

        // the mode outlives the keys
        assertTrue(index.remove(1L, one));
        assertEquals(0, index.size());
        assertThrows(ClassCastException.class, () -> index.get(1), "get with an Integer key in an emptied Long index");
        assertThrows(
                ClassCastException.class,
                () -> index.putIfAbsent(1, one),
                "putIfAbsent with an Integer key in an emptied Long index");
        assertEquals(0, index.size());
    }

    @Test
    void stringAndIntegerModesRejectOtherKeyClasses() {
        VersionedIndex<Object> strings = new VersionedIndex<>(null);
        assertNull(strings.putIfAbsent("a", new Val(1)));
        assertThrows(ClassCastException.class, () -> strings.get(1L), "get with a Long key in String mode");
        assertThrows(
                ClassCastException.class,
                () -> strings.putIfAbsent(1L, new Val(2)),
                "putIfAbsent with a Long key in String mode");

        VersionedIndex<Object> ints = new VersionedIndex<>(null);
        assertNull(ints.putIfAbsent(7, new Val(1)));
        assertThrows(ClassCastException.class, () -> ints.get(7L), "get with a Long key in Integer mode");
        assertThrows(
                ClassCastException.class,
                () -> ints.putIfAbsent(7L, new Val(2)),
                "putIfAbsent with a Long key in Integer mode");
        assertEquals(1, ints.size());
    }

    @Test
    void aSearchOfAnEmptyIndexDoesNotFixTheMode() {
        VersionedIndex<Object> index = new VersionedIndex<>(null);
        assertNull(index.get(5), "get of an empty index");
        assertFalse(index.cursor().next(), "cursor of an empty index");
        Val v = new Val(1);
        assertNull(index.putIfAbsent(5L, v), "the first insert fixes the mode, not an earlier search");
        assertSame(v, index.get(5L));
        assertThrows(ClassCastException.class, () -> index.get(5));
    }

    @Test
    void entriesAreNeverNull() {
        VersionedIndex<Long> index = new VersionedIndex<>(null);
        assertThrows(NullPointerException.class, () -> index.putIfAbsent(1L, null));
        Val v = new Val(1);
        assertNull(index.putIfAbsent(1L, v));
        assertThrows(NullPointerException.class, () -> index.replace(1L, v, null));
        assertSame(v, index.get(1L));
    }

    // ---- concurrency -----------------------------------------------------------------------------

    private static final long RUN_NANOS = TimeUnit.MILLISECONDS.toNanos(1_500);

    /** Runs the tasks together (TestThreads#runAll); a failure sets {@code stop}. */
    private static void runThreads(String name, List<Runnable> tasks, AtomicBoolean stop) throws InterruptedException {
        List<Callable<Object>> callables = new ArrayList<>();
        for (Runnable task : tasks) {
            callables.add(Executors.callable(task));
        }
        TestThreads.runAll(name, callables, stop);
    }

    private static final int OWNERS = 4;

    /** Thread t owns the keys k with floorMod(k, 4) == t: every neighbour of a key is another thread's. */
    @Test
    @Timeout(60)
    void ownersOfInterleavedKeysSeeExactlyTheirOwnEffects() throws Exception {
        VersionedIndex<Long> index = new VersionedIndex<>(null);
        List<List<Long>> owned = new ArrayList<>();
        for (int t = 0; t < OWNERS; t++) {
            owned.add(new ArrayList<>());
        }
        for (long k = -192; k < 192; k++) {
            owned.get(Math.floorMod(k, OWNERS)).add(k);
        }
        owned.get(Math.floorMod(Long.MIN_VALUE, OWNERS)).add(Long.MIN_VALUE);
        owned.get(Math.floorMod(Long.MAX_VALUE, OWNERS)).add(Long.MAX_VALUE);
        List<Map<Long, Val>> models = new ArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        long deadline = System.nanoTime() + RUN_NANOS;
        AtomicLong totalOps = new AtomicLong();
        List<Runnable> tasks = new ArrayList<>();
        for (int t = 0; t < OWNERS; t++) {
            int owner = t;
            List<Long> mine = owned.get(t);
            Map<Long, Val> model = new HashMap<>();
            models.add(model);
            tasks.add(() -> {
                SplittableRandom rnd = new SplittableRandom(100 + owner);
                long id = (long) owner << 40;
                int ops = 0;
                for (; ops < 400_000 && !stop.get() && ((ops & 255) != 0 || System.nanoTime() < deadline); ops++) {
                    Long k = mine.get(rnd.nextInt(mine.size()));
                    Val cur = model.get(k);
                    Val v = new Val(id++);
                    int op = ops;
                    Function<String, String> ctx0 =
                            what -> "owner " + owner + " op " + op + " key " + k + " (own entry " + cur + "): " + what;
                    switch (rnd.nextInt(8)) {
                        case 0, 1 -> {
                            assertSame(cur, index.putIfAbsent(k, v), () -> ctx0.apply("putIfAbsent"));
                            if (cur == null) {
                                model.put(k, v);
                            }
                        }
                        case 2, 3 -> {
                            if (cur != null) {
                                assertFalse(
                                        index.remove(k, new Val(cur.id())),
                                        () -> ctx0.apply("remove with an equal copy"));
                                assertTrue(index.remove(k, cur), () -> ctx0.apply("remove with the identical entry"));
                                model.remove(k);
                            } else {
                                assertFalse(index.remove(k, v), () -> ctx0.apply("remove of an absent key"));
                            }
                        }
                        case 4 -> {
                            if (cur != null) {
                                assertFalse(
                                        index.replace(k, new Val(cur.id()), v),
                                        () -> ctx0.apply("replace with an equal copy"));
                                assertTrue(
                                        index.replace(k, cur, v), () -> ctx0.apply("replace with the identical entry"));
                                model.put(k, v);
                            } else {
                                assertFalse(index.replace(k, v, v), () -> ctx0.apply("replace of an absent key"));
                            }
                        }
                        case 5, 6 -> {
                            int action = rnd.nextInt(3);
                            Object installed = index.compute(k, (key, old) -> {
                                assertSame(cur, old, () -> ctx0.apply("compute saw another entry"));
                                return action == 0 ? v : action == 1 ? null : old;
                            });
                            Val expected = action == 0 ? v : action == 1 ? null : cur;
                            assertSame(expected, installed, () -> ctx0.apply("compute action " + action));
                            if (expected == null) {
                                model.remove(k);
                            } else {
                                model.put(k, expected);
                            }
                        }
                        default -> assertSame(cur, index.get(k), () -> ctx0.apply("get"));
                    }
                    assertSame(model.get(k), index.get(k), () -> ctx0.apply("get after the op"));
                }
                totalOps.addAndGet(ops);
            });
        }
        runThreads("owners", tasks, stop);

        TreeMap<Long, Val> union = new TreeMap<>();
        for (Map<Long, Val> m : models) {
            union.putAll(m);
        }
        String ctx = "after " + totalOps.get() + " ops";
        for (List<Long> ks : owned) {
            for (Long k : ks) {
                assertSame(union.get(k), index.get(k), () -> ctx + ": get(" + k + ")");
            }
        }
        assertEquals(union.size(), index.size(), () -> ctx + ": size");
        assertCursorEquals(union, index.cursor(), ctx + " ascending");
        assertCursorEquals(union.descendingMap(), index.cursor(KeyRange.all(), true), ctx + " descending");
        assertCursorEquals(
                union.subMap(-50L, true, 50L, false),
                index.cursor(new KeyRange<>(-50L, true, false, 50L, false, false), false),
                ctx + " [-50, 50)");
        assertCursorEquals(
                union.subMap(-50L, false, 50L, true).descendingMap(),
                index.cursor(new KeyRange<>(-50L, false, false, 50L, true, false), true),
                ctx + " (-50, 50] descending");
    }

    /** The cursor returns exactly the expected entries, in order (so keys strictly monotone). */
    private static <K> void assertCursorEquals(NavigableMap<K, ?> expected, VersionedIndex.Cursor<K> c, String what) {
        List<K> got = new ArrayList<>();
        int pos = 0;
        for (Map.Entry<K, ?> e : expected.entrySet()) {
            int p = pos++;
            assertTrue(
                    c.next(),
                    () -> what + ": cursor ended at position " + p + ", expected " + e.getKey() + "; got " + got);
            got.add(c.key());
            assertEquals(e.getKey(), c.key(), () -> what + ": key at position " + p + "; got so far " + got);
            assertSame(e.getValue(), c.entry(), () -> what + ": entry of " + e.getKey());
        }
        assertFalse(c.next(), () -> what + ": extra key " + c.key() + " after " + got.size() + " keys");
    }

    private static final int COUNTERS = 16;
    private static final int INCREMENTS = 20_000;
    /** Fresh indexes per test: the first increments of each race to insert the counters. */
    private static final int ROUNDS = 8;

    @Test
    @Timeout(60)
    void concurrentComputeIncrementsLoseNoUpdate() throws Exception {
        for (int round = 0; round < ROUNDS; round++) {
            VersionedIndex<Long> index = new VersionedIndex<>(null);
            AtomicBoolean stop = new AtomicBoolean();
            long[][] counts = new long[OWNERS][COUNTERS];
            List<Runnable> tasks = new ArrayList<>();
            for (int t = 0; t < OWNERS; t++) {
                long[] mine = counts[t];
                long seed = 200 + 10 * round + t;
                tasks.add(() -> {
                    SplittableRandom rnd = new SplittableRandom(seed);
                    for (int i = 0; i < INCREMENTS && !stop.get(); i++) {
                        int c = rnd.nextInt(COUNTERS);
                        Object after = index.compute(counterKey(c), (k, v) -> v == null ? 1L : (Long) v + 1);
                        assertTrue(after instanceof Long && (Long) after >= 1, () -> "compute returned " + after);
                        mine[c]++;
                    }
                });
            }
            runThreads("counters", tasks, stop);
            long total = 0;
            for (int c = 0; c < COUNTERS; c++) {
                long expected = 0;
                for (long[] mine : counts) {
                    expected += mine[c];
                }
                total += expected;
                long e = expected;
                int cc = c;
                int r = round;
                assertEquals(
                        e,
                        index.get(counterKey(c)),
                        () -> "round " + r + " counter " + cc + " (key " + counterKey(cc)
                                + "): lost or duplicated increments");
            }
            assertEquals((long) OWNERS * INCREMENTS, total);
            assertEquals(COUNTERS, index.size());
        }
    }

    /** Counter keys spread out, with no other key between them (so they are neighbours). */
    private static Long counterKey(int c) {
        return (long) c * 1_000_003L - 7_000_000L;
    }

    /**
     * As above, but a counter that reaches the limit is removed by the increment that got it
     * there, which credits the limit to its thread: removals and reinsertions race with updates.
     */
    @Test
    @Timeout(60)
    void concurrentComputeWithRemovalAtALimitLosesNoUpdate() throws Exception {
        final long limit = 37;
        for (int round = 0; round < ROUNDS; round++) {
            VersionedIndex<Long> index = new VersionedIndex<>(null);
            AtomicBoolean stop = new AtomicBoolean();
            long[][] counts = new long[OWNERS][COUNTERS];
            long[][] flushed = new long[OWNERS][COUNTERS];
            List<Runnable> tasks = new ArrayList<>();
            for (int t = 0; t < OWNERS; t++) {
                long[] mine = counts[t];
                long[] myFlushed = flushed[t];
                long seed = 300 + 10 * round + t;
                tasks.add(() -> {
                    SplittableRandom rnd = new SplittableRandom(seed);
                    for (int i = 0; i < INCREMENTS && !stop.get(); i++) {
                        int c = rnd.nextInt(COUNTERS);
                        Object after = index.compute(counterKey(c), (k, v) -> {
                            long n = (v == null ? 0 : (Long) v) + 1;
                            assertTrue(n <= limit, () -> "counter " + k + " went past the limit: " + n);
                            return n == limit ? null : Long.valueOf(n);
                        });
                        if (after == null) {
                            myFlushed[c] += limit; // only our function returns null, and only at the limit
                        } else {
                            assertTrue(
                                    after instanceof Long && (Long) after >= 1 && (Long) after < limit,
                                    () -> "compute returned " + after);
                        }
                        mine[c]++;
                    }
                });
            }
            runThreads("limited counters", tasks, stop);
            long present = 0;
            for (int c = 0; c < COUNTERS; c++) {
                long expected = 0;
                long credited = 0;
                for (int t = 0; t < OWNERS; t++) {
                    expected += counts[t][c];
                    credited += flushed[t][c];
                }
                Object v = index.get(counterKey(c));
                present += v == null ? 0 : 1;
                long now = v == null ? 0 : (Long) v;
                long e = expected;
                long f = credited;
                int cc = c;
                int r = round;
                assertEquals(
                        e,
                        f + now,
                        () -> "round " + r + " counter " + cc + ": " + f + " flushed + " + now + " present != " + e
                                + " increments");
            }
            assertEquals(present, index.size(), "size after the run");
        }
    }

    private static Long raceKey(int i) {
        return (long) i * 7_919L - 10_000_000L;
    }

    /**
     * Racing threads go through the same keys in the same order, one phase at a time: each
     * putIfAbsent, compute-insert, replace and remove of a key has exactly one winner, and the
     * losers see the winner's entry.
     */
    @Test
    @Timeout(60)
    void racesForTheSameKeyHaveExactlyOneWinner() throws Exception {
        int keys = 4_000;
        VersionedIndex<Long> index = new VersionedIndex<>(null);
        Val[][] mine = new Val[OWNERS][keys];
        Object[][] returned = new Object[OWNERS][keys];
        for (int phase = 0; phase < 4; phase++) {
            int ph = phase;
            Val[] installed = new Val[keys];
            for (int i = 0; i < keys; i++) {
                installed[i] = (Val) index.get(raceKey(i));
            }
            for (int t = 0; t < OWNERS; t++) {
                for (int i = 0; i < keys; i++) {
                    mine[t][i] = new Val(phase * 100_000_000L + t * 1_000_000L + i);
                }
            }
            AtomicBoolean stop = new AtomicBoolean();
            List<Runnable> tasks = new ArrayList<>();
            for (int t = 0; t < OWNERS; t++) {
                Val[] own = mine[t];
                Object[] got = returned[t];
                tasks.add(() -> {
                    for (int i = 0; i < keys && !stop.get(); i++) {
                        Long k = raceKey(i);
                        Val v = own[i];
                        Val before = installed[i];
                        switch (ph) {
                            case 0 -> got[i] = index.putIfAbsent(k, v);
                            case 1 -> got[i] = index.replace(k, before, v);
                            case 2 -> got[i] = index.remove(k, before);
                            default -> got[i] = index.compute(k, (kk, old) -> old == null ? v : old);
                        }
                    }
                });
            }
            runThreads("race phase " + phase, tasks, stop);
            for (int i = 0; i < keys; i++) {
                int ii = i;
                Object now = index.get(raceKey(i));
                List<Integer> winners = new ArrayList<>();
                for (int t = 0; t < OWNERS; t++) {
                    Object g = returned[t][i];
                    boolean won = ph == 0 ? g == null : ph == 1 || ph == 2 ? (Boolean) g : g == mine[t][i];
                    if (won) {
                        winners.add(t);
                    }
                }
                assertEquals(1, winners.size(), () -> "phase " + ph + " key " + raceKey(ii) + ": winners " + winners);
                int w = winners.get(0);
                if (ph == 2) {
                    assertNull(now, () -> "phase 2 key " + raceKey(ii) + " still present after its removal");
                } else {
                    assertSame(
                            mine[w][i],
                            now,
                            () -> "phase " + ph + " key " + raceKey(ii) + ": the winner's entry is not installed");
                }
                if (ph == 0 || ph == 3) {
                    for (int t = 0; t < OWNERS; t++) {
                        if (t != w) {
                            int tt = t;
                            assertSame(
                                    now,
                                    returned[t][i],
                                    () -> "phase " + ph + " key " + raceKey(ii) + ": loser " + tt
                                            + " must get the winner's entry");
                        }
                    }
                }
            }
            assertEquals(ph == 2 ? 0 : keys, index.size(), () -> "size after phase " + ph);
        }
    }

    /**
     * A null expected entry is no entry: replace and remove with it fail, also when the node they
     * find is being deleted meanwhile (a CAS from null would revive a deleted node).
     */
    @Test
    @Timeout(60)
    void aNullExpectedEntryNeverMatchesWhileKeysAreDeleted() throws Exception {
        int keys = 8;
        VersionedIndex<Long> index = new VersionedIndex<>(null);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger togglersLeft = new AtomicInteger(2);
        AtomicLong probes = new AtomicLong();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1_000);
        List<Runnable> tasks = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            long seed = 600 + t;
            tasks.add(() -> {
                try {
                    SplittableRandom rnd = new SplittableRandom(seed);
                    long id = 0;
                    for (int ops = 0;
                            ops < 5_000_000 && !stop.get() && ((ops & 255) != 0 || System.nanoTime() < deadline);
                            ops++) {
                        Long k = (long) rnd.nextInt(keys);
                        Object cur = index.get(k);
                        if (cur == null) {
                            index.putIfAbsent(k, new Val(id++));
                        } else {
                            index.remove(k, cur);
                        }
                    }
                } finally {
                    togglersLeft.decrementAndGet();
                }
            });
        }
        Val probe = new Val(-1);
        for (int t = 0; t < 2; t++) {
            long seed = 700 + t;
            tasks.add(() -> {
                SplittableRandom rnd = new SplittableRandom(seed);
                long n = 0;
                while (!stop.get() && togglersLeft.get() > 0) {
                    Long k = (long) rnd.nextInt(keys);
                    n++;
                    assertFalse(index.replace(k, null, probe), () -> "replace(" + k + ", null, v) succeeded");
                    assertFalse(index.remove(k, null), () -> "remove(" + k + ", null) succeeded");
                }
                probes.addAndGet(n);
            });
        }
        runThreads("null expected", tasks, stop);
        assertTrue(probes.get() > 0, "the probers ran");
        TreeMap<Long, Object> present = new TreeMap<>();
        for (long k = 0; k < keys; k++) {
            Object v = index.get(k);
            assertTrue(v != probe, "a revived node holds the probe's entry: " + k);
            if (v != null) {
                present.put(k, v);
            }
        }
        assertCursorEquals(present, index.cursor(), "cursor after the run");
        assertEquals(present.size(), index.size(), "size after the run");
    }

    /**
     * Stable keys at the even positions 0, 2, .., 2 * half - 2, churned keys at the odd ones; keys
     * order like their positions. A small space makes each churned key's deletion race the
     * readers' steps far more often; a large one gives the index levels some height.
     */
    @ParameterizedTest(name = "{0} keys, {1} stable")
    @CsvSource({"Long, 1024", "String, 1024", "Long, 16", "String, 16"})
    @Timeout(60)
    void readersSeeEveryStableKeyExactlyOnceWhileWritersChurnTheOthers(String keyType, int half) throws Exception {
        if (keyType.equals("Long")) {
            readersWhileChurning(half, i -> (long) i * 3 - 1_000);
        } else {
            // a common prefix longer than the abbreviation: every comparison is a tie-break
            readersWhileChurning(half, i -> String.format("key:%06d", i));
        }
    }

    private static <K> void readersWhileChurning(int half, IntFunction<K> key) throws Exception {
        int n = 2 * half;
        List<K> keys = new ArrayList<>();
        Map<K, Integer> position = new HashMap<>();
        for (int i = 0; i <= n; i++) {
            K k = key.apply(i);
            keys.add(k);
            position.put(k, i);
        }
        VersionedIndex<K> index = new VersionedIndex<>(null);
        Val[] stable = new Val[n];
        for (int i = 0; i < n; i += 2) {
            stable[i] = new Val(i);
            assertNull(index.putIfAbsent(keys.get(i), stable[i]));
        }
        int writers = 2;
        int readers = 2;
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger writersLeft = new AtomicInteger(writers);
        AtomicLong writes = new AtomicLong();
        AtomicLong cursors = new AtomicLong();
        AtomicLong seen = new AtomicLong();
        long deadline = System.nanoTime() + RUN_NANOS;
        List<Map<Integer, Val>> models = new ArrayList<>();
        List<Runnable> tasks = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            int writer = w;
            Map<Integer, Val> model = new HashMap<>();
            models.add(model);
            tasks.add(() -> {
                try {
                    // writer w owns the odd positions i with (i / 2) % writers == w
                    SplittableRandom rnd = new SplittableRandom(400 + writer);
                    long id = 1_000_000L * (writer + 1);
                    long ops = 0;
                    while (!stop.get() && ops < 5_000_000 && (ops % 256 != 0 || System.nanoTime() < deadline)) {
                        ops++;
                        int i = 2 * (rnd.nextInt(half / writers) * writers + writer) + 1;
                        K k = keys.get(i);
                        Val cur = model.get(i);
                        Val v = new Val(id++);
                        switch (rnd.nextInt(4)) {
                            case 0 -> {
                                assertSame(
                                        cur, index.putIfAbsent(k, v), () -> "writer " + writer + " putIfAbsent " + i);
                                if (cur == null) {
                                    model.put(i, v);
                                }
                            }
                            case 1 -> {
                                assertEquals(
                                        cur != null,
                                        cur != null && index.remove(k, cur),
                                        () -> "writer " + writer + " remove " + i);
                                model.remove(i);
                            }
                            case 2 -> {
                                Object installed = index.compute(k, (kk, old) -> old == null ? v : null);
                                assertSame(
                                        cur == null ? v : null,
                                        installed,
                                        () -> "writer " + writer + " compute toggle " + i);
                                if (cur == null) {
                                    model.put(i, v);
                                } else {
                                    model.remove(i);
                                }
                            }
                            default -> {
                                if (cur != null) {
                                    assertTrue(index.replace(k, cur, v), () -> "writer " + writer + " replace " + i);
                                    model.put(i, v);
                                }
                            }
                        }
                    }
                    writes.addAndGet(ops);
                } finally {
                    writersLeft.decrementAndGet();
                }
            });
        }
        for (int r = 0; r < readers; r++) {
            int reader = r;
            tasks.add(() -> {
                SplittableRandom rnd = new SplittableRandom(500 + reader);
                int rounds = 0;
                while (!stop.get() && (writersLeft.get() > 0 || rounds == 0)) {
                    rounds++;
                    boolean lu = rnd.nextInt(4) == 0;
                    boolean hu = rnd.nextInt(4) == 0;
                    int a = rnd.nextInt(n + 1);
                    int b = rnd.nextInt(n + 1);
                    int lo = Math.min(a, b);
                    int hi = Math.max(a, b);
                    boolean li = rnd.nextBoolean();
                    boolean hiInc = rnd.nextBoolean();
                    boolean desc = rnd.nextBoolean();
                    KeyRange<K> bounds =
                            new KeyRange<>(lu ? null : keys.get(lo), li, lu, hu ? null : keys.get(hi), hiInc, hu);
                    String what = "reader " + reader + " round " + rounds + " " + describe(bounds, desc);
                    VersionedIndex.Cursor<K> c = index.cursor(bounds, desc);
                    int prev = desc ? n + 1 : -1;
                    // the next stable (even) position the cursor must reach
                    int expectEven = desc
                            ? lastEvenAtMost(Math.min(n - 1, hu ? n - 1 : hiInc ? hi : hi - 1))
                            : firstEvenAtLeast(lu ? 0 : li ? lo : lo + 1);
                    long count = 0;
                    while (c.next()) {
                        count++;
                        K k = c.key();
                        Integer pos = position.get(k);
                        assertNotNull(pos, () -> what + ": unknown key " + show(k));
                        int p = pos;
                        int pr = prev;
                        assertTrue(
                                desc ? p < pr : p > pr,
                                () -> what + ": key " + show(k) + " after " + show(keys.get(Math.min(pr, n)))
                                        + ", out of order");
                        assertTrue(
                                (lu || p > lo || (p == lo && li)) && (hu || p < hi || (p == hi && hiInc)),
                                () -> what + ": key " + show(k) + " out of bounds");
                        Object entry = c.entry();
                        assertNotNull(entry, () -> what + ": null entry for " + show(k));
                        if (p % 2 == 0) {
                            int ee = expectEven;
                            assertEquals(
                                    ee,
                                    p,
                                    () -> what + ": stable key " + show(keys.get(ee)) + " skipped (next was " + show(k)
                                            + ")");
                            assertSame(stable[p], entry, () -> what + ": entry of stable key " + show(k));
                            expectEven += desc ? -2 : 2;
                        } else {
                            // an odd position may have been skipped; the next even one must still come
                            int ee = expectEven;
                            assertTrue(
                                    desc ? p > ee : p < ee,
                                    () -> what + ": stable key " + show(keys.get(ee)) + " skipped (next was " + show(k)
                                            + ")");
                        }
                        prev = p;
                    }
                    int ee = expectEven;
                    boolean inRange = desc
                            ? ee >= 0 && (lu || ee > lo || (ee == lo && li))
                            : ee < n && (hu || ee < hi || (ee == hi && hiInc));
                    assertFalse(inRange, () -> what + ": cursor ended before stable key " + show(keys.get(ee)));
                    assertNull(c.key());
                    seen.addAndGet(count);
                    cursors.incrementAndGet();
                    if (rounds % 4 == 0) {
                        for (int i = 0; i < n; i += 2) {
                            K k = keys.get(i);
                            int ii = i;
                            assertSame(
                                    stable[i],
                                    index.get(k),
                                    () -> "reader " + reader + ": get of stable key " + show(keys.get(ii)));
                        }
                    }
                }
            });
        }
        runThreads("readers and writers", tasks, stop);
        assertTrue(cursors.get() >= readers, "every reader ran a cursor");
        assertTrue(writes.get() > 0, "the writers ran");

        TreeMap<Integer, Object> expected = new TreeMap<>();
        for (int i = 0; i < n; i += 2) {
            expected.put(i, stable[i]);
        }
        for (Map<Integer, Val> m : models) {
            expected.putAll(m);
        }
        VersionedIndex.Cursor<K> c = index.cursor();
        for (Map.Entry<Integer, Object> e : expected.entrySet()) {
            assertTrue(c.next(), () -> "final cursor ended before " + show(keys.get(e.getKey())));
            assertEquals(keys.get(e.getKey()), c.key(), "final cursor key");
            assertSame(e.getValue(), c.entry(), () -> "final entry of " + show(keys.get(e.getKey())));
        }
        assertFalse(c.next(), () -> "final cursor: extra key " + show(c.key()));
        assertEquals(expected.size(), index.size(), "final size");
        System.out.printf(
                "VersionedIndexTest readers/writers (%d stable): %d writes, %d cursors, %d entries read%n",
                half, writes.get(), cursors.get(), seen.get());
    }

    private static int firstEvenAtLeast(int i) {
        return i % 2 == 0 ? i : i + 1;
    }

    private static int lastEvenAtMost(int i) {
        return i < 0 ? -2 : i % 2 == 0 ? i : i - 1;
    }
}
