// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import dev.varve.spi.CommitRecord;
import java.util.AbstractMap;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Map;
import java.util.TreeMap;

/**
 * A transaction's buffered writes in key order: a value, or {@link #TOMBSTONE} for a removal.
 * Frozen into arrays at commit, when it also serves as the {@link CommitRecord} handed to the
 * log.
 */
public final class WriteSet<K, V> {
    /** Marks a removed key in the write set (user values are never null). */
    public static final Object TOMBSTONE = new Object() {
        @Override
        public String toString() {
            return "TOMBSTONE";
        }
    };

    /** Writes in key order: keys and values, sortedCount of them (array tier). */
    private Object[] sortedKeys = NONE;

    private Object[] sortedValues = NONE;
    private int sortedCount;
    /** Recent writes of keys not in the sorted part, in arrival order; merged when full (array tier). */
    private Object[] tailKeys = new Object[4];

    private Object[] tailValues = new Object[4];
    private int tailCount;
    /** The greatest key written, or null if none: a key above it needs no search (array tier). */
    private K greatestKey;
    /** Every write once the set outgrew the array tier (then the arrays are empty), else null. */
    private TreeMap<K, Object> tree;

    private final Comparator<? super K> comparator;
    private Object[] frozenKeys;
    private Object[] frozenValues;

    private static final Object[] NONE = {};
    private static final int TAIL = 16;
    /** The most writes an out-of-order merge may move; beyond it the set moves to the tree tier. */
    static final int ARRAY_LIMIT = 128;

    /**
     * An empty write set.
     *
     * @param comparator the key order, or null for natural ordering
     */
    public WriteSet(Comparator<? super K> comparator) {
        this.comparator = comparator;
    }

    /*
     * Implementation notes.
     *
     * Two tiers. The array tier suits the usual write set (a few to a few dozen keys, or any
     * number written in key order): a sorted array pair and an unsorted tail of at most TAIL
     * entries. The tree tier, a TreeMap, takes over when the array tier would re-merge a large
     * sorted part, and stays until the transaction ends.
     *
     * Invariants:
     *  I1. tree == null: a key is in exactly one of sorted part and tail; the sorted part is
     *      strictly ascending; greatestKey is the greatest key of both, or null if both are empty.
     *  I2. tree != null: every write is in the tree; sortedCount == tailCount == 0.
     *  I3. An out-of-order merge (a tail key below the greatest sorted key) happens only while
     *      sortedCount + tailCount <= ARRAY_LIMIT; otherwise mergeTail moves everything into the
     *      tree (once: O(n log n)). So every merge costs O(ARRAY_LIMIT + TAIL) comparisons and
     *      moves, or appends a sorted tail after the sorted part, which moves each key once.
     *  I4. frozenKeys/frozenValues, when not null, are the writes in key order as of the last
     *      write (put and removeKey clear them).
     *  I5. removeKey (a savepoint's undo, UndoLog) keeps I1: it closes the gap it leaves in the
     *      sorted part or the tail and recomputes greatestKey if it removed it.
     *  I6. The tail arrays are NONE (length 0) only after the first merge handed them to the
     *      sorted part, or in the tree tier; the next append allocates a fresh tail. No array is
     *      ever both the tail and the sorted part.
     *
     * Costs (n writes): get and put O(log n + TAIL); next and first merge the tail (I3: O(1)
     * amortized in the array tier) and then search, O(log n); freeze O(n). Keys written in key
     * order never leave the array tier (put needs one comparison with greatestKey, merges append),
     * so bulk loads and the small transactions keep the arrays' low constant. Not thread-safe: a
     * transaction is used by one thread at a time.
     */

    @SuppressWarnings("unchecked")
    private int search(K key) {
        int lo = 0;
        int hi = sortedCount - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int c = comparator.compare((K) sortedKeys[mid], key);
            if (c < 0) {
                lo = mid + 1;
            } else if (c > 0) {
                hi = mid - 1;
            } else {
                return mid;
            }
        }
        return -(lo + 1);
    }

    @SuppressWarnings("unchecked")
    private int searchTail(K key) {
        for (int i = tailCount - 1; i >= 0; i--) {
            if (comparator.compare((K) tailKeys[i], key) == 0) {
                return i;
            }
        }
        return -1;
    }

    /**
     * The buffered write of {@code key}.
     *
     * @param key the key
     * @return a value, {@link #TOMBSTONE}, or null if {@code key} is not written
     */
    public Object get(K key) {
        if (tree != null) {
            return tree.get(key);
        }
        int i = search(key);
        if (i >= 0) {
            return sortedValues[i];
        }
        int t = searchTail(key);
        return t >= 0 ? tailValues[t] : null;
    }

    /**
     * Buffers a write of {@code key}, replacing an earlier one.
     *
     * @param key the key
     * @param valueOrTombstone a value, or {@link #TOMBSTONE} for a removal
     */
    public void put(K key, Object valueOrTombstone) {
        frozenKeys = null;
        frozenValues = null;
        if (tree != null) {
            tree.put(key, valueOrTombstone);
            return;
        }
        if (greatestKey != null && comparator.compare(key, greatestKey) > 0) {
            greatestKey = key; // above every key written, so new: no search (in-order loads)
            appendToTail(key, valueOrTombstone);
            return;
        }
        int i = search(key);
        if (i >= 0) {
            sortedValues[i] = valueOrTombstone;
            return;
        }
        int t = searchTail(key);
        if (t >= 0) {
            tailValues[t] = valueOrTombstone;
            return;
        }
        if (greatestKey == null) {
            greatestKey = key; // the first write (I1); otherwise key < greatestKey here
        }
        appendToTail(key, valueOrTombstone);
    }

    /** Adds a key known not to be in the write set (array tier). */
    private void appendToTail(K key, Object valueOrTombstone) {
        if (tailCount == tailKeys.length) { // small write sets stay small; grows up to TAIL
            int capacity = tailCount == 0 ? 4 : TAIL; // empty: the tail was handed to the sorted part
            tailKeys = Arrays.copyOf(tailKeys, capacity);
            tailValues = Arrays.copyOf(tailValues, capacity);
        }
        tailKeys[tailCount] = key;
        tailValues[tailCount] = valueOrTombstone;
        if (++tailCount == TAIL) {
            mergeTail();
        }
    }

    /**
     * Whether nothing is written.
     *
     * @return true if no key is written
     */
    public boolean isEmpty() {
        return tree != null ? tree.isEmpty() : sortedCount + tailCount == 0;
    }

    /**
     * Sorts the tail (insertion sort: at most TAIL entries) and merges it into the sorted part, or
     * moves every write to the tree tier if that merge would be out of order and large (I3).
     */
    @SuppressWarnings("unchecked")
    private void mergeTail() {
        if (tailCount == 0) {
            return;
        }
        for (int i = 1; i < tailCount; i++) {
            Object k = tailKeys[i];
            Object v = tailValues[i];
            int j = i - 1;
            while (j >= 0 && comparator.compare((K) tailKeys[j], (K) k) > 0) {
                tailKeys[j + 1] = tailKeys[j];
                tailValues[j + 1] = tailValues[j];
                j--;
            }
            tailKeys[j + 1] = k;
            tailValues[j + 1] = v;
        }
        int n = sortedCount + tailCount;
        if (sortedCount == 0) {
            // The first merge: the sorted tail becomes the sorted part, no copy (I6).
            sortedKeys = tailKeys;
            sortedValues = tailValues;
            sortedCount = n;
            tailKeys = NONE;
            tailValues = NONE;
            tailCount = 0;
            return;
        }
        if (comparator.compare((K) sortedKeys[sortedCount - 1], (K) tailKeys[0]) < 0) {
            // In-order arrival: append.
            if (n > sortedKeys.length) {
                int capacity = Math.max(n, sortedKeys.length * 2);
                sortedKeys = Arrays.copyOf(sortedKeys, capacity);
                sortedValues = Arrays.copyOf(sortedValues, capacity);
            }
            System.arraycopy(tailKeys, 0, sortedKeys, sortedCount, tailCount);
            System.arraycopy(tailValues, 0, sortedValues, sortedCount, tailCount);
        } else if (n > ARRAY_LIMIT) {
            moveToTree();
            return;
        } else {
            int capacity = Math.max(n, sortedKeys.length);
            Object[] keys = new Object[capacity];
            Object[] values = new Object[capacity];
            int a = 0;
            int b = 0;
            for (int out = 0; out < n; out++) {
                if (b >= tailCount || (a < sortedCount && comparator.compare((K) sortedKeys[a], (K) tailKeys[b]) < 0)) {
                    keys[out] = sortedKeys[a];
                    values[out] = sortedValues[a++];
                } else {
                    keys[out] = tailKeys[b];
                    values[out] = tailValues[b++];
                }
            }
            sortedKeys = keys;
            sortedValues = values;
        }
        sortedCount = n;
        Arrays.fill(tailKeys, 0, tailCount, null);
        Arrays.fill(tailValues, 0, tailCount, null);
        tailCount = 0;
    }

    /** Moves every write (sorted part and sorted tail, disjoint by I1) into a new tree (I2). */
    @SuppressWarnings("unchecked")
    private void moveToTree() {
        TreeMap<K, Object> t = new TreeMap<>(comparator);
        for (int i = 0; i < sortedCount; i++) {
            t.put((K) sortedKeys[i], sortedValues[i]);
        }
        for (int i = 0; i < tailCount; i++) {
            t.put((K) tailKeys[i], tailValues[i]);
        }
        tree = t;
        sortedKeys = NONE;
        sortedValues = NONE;
        sortedCount = 0;
        tailKeys = NONE;
        tailValues = NONE;
        tailCount = 0;
        greatestKey = null;
    }

    @SuppressWarnings("unchecked")
    private Map.Entry<K, Object> entry(int i) {
        return new AbstractMap.SimpleImmutableEntry<>((K) sortedKeys[i], sortedValues[i]);
    }

    /**
     * The first write strictly after (or at, if {@code inclusive}) {@code key} in {@code descending} order.
     *
     * @param key where to start
     * @param inclusive whether a write of {@code key} itself counts
     * @param descending whether to go in descending key order
     * @return the write (its value may be {@link #TOMBSTONE}), or null if none
     */
    public Map.Entry<K, Object> next(K key, boolean inclusive, boolean descending) {
        mergeTail();
        if (tree != null) { // TreeMap's navigation returns immutable snapshot entries
            return descending
                    ? (inclusive ? tree.floorEntry(key) : tree.lowerEntry(key))
                    : (inclusive ? tree.ceilingEntry(key) : tree.higherEntry(key));
        }
        int i = search(key);
        int at;
        if (i >= 0) {
            at = inclusive ? i : (descending ? i - 1 : i + 1);
        } else {
            int insertion = -(i + 1); // first index with a key above `key`
            at = descending ? insertion - 1 : insertion;
        }
        return at >= 0 && at < sortedCount ? entry(at) : null;
    }

    /**
     * The first write in {@code descending} order.
     *
     * @param descending whether to go in descending key order
     * @return the write, or null if none
     */
    public Map.Entry<K, Object> first(boolean descending) {
        mergeTail();
        if (tree != null) {
            return descending ? tree.lastEntry() : tree.firstEntry();
        }
        if (sortedCount == 0) {
            return null;
        }
        return entry(descending ? sortedCount - 1 : 0);
    }

    // ---- undo (UndoLog) ----------------------------------------------------------------------

    /** Forgets the write of {@code key}, if any: as if it had never been written (I5). */
    @SuppressWarnings("unchecked")
    void removeKey(K key) {
        frozenKeys = null;
        frozenValues = null;
        if (tree != null) {
            tree.remove(key);
            return;
        }
        int i = search(key);
        if (i >= 0) {
            int above = sortedCount - i - 1;
            System.arraycopy(sortedKeys, i + 1, sortedKeys, i, above);
            System.arraycopy(sortedValues, i + 1, sortedValues, i, above);
            sortedCount--;
            sortedKeys[sortedCount] = null;
            sortedValues[sortedCount] = null;
        } else {
            int t = searchTail(key);
            if (t < 0) {
                return;
            }
            int after = tailCount - t - 1;
            System.arraycopy(tailKeys, t + 1, tailKeys, t, after);
            System.arraycopy(tailValues, t + 1, tailValues, t, after);
            tailCount--;
            tailKeys[tailCount] = null;
            tailValues[tailCount] = null;
        }
        if (comparator.compare(key, greatestKey) == 0) { // I1: greatestKey is not null here
            K greatest = sortedCount == 0 ? null : (K) sortedKeys[sortedCount - 1];
            for (int t = 0; t < tailCount; t++) {
                if (greatest == null || comparator.compare((K) tailKeys[t], greatest) > 0) {
                    greatest = (K) tailKeys[t];
                }
            }
            greatestKey = greatest;
        }
    }

    // ---- frozen form, built once the transaction stops writing -----------------------------

    /** Builds the frozen arrays (I4) unless they are current. */
    void freeze() {
        if (frozenKeys != null) {
            return;
        }
        mergeTail();
        if (tree != null) {
            int n = tree.size();
            Object[] keys = new Object[n];
            Object[] values = new Object[n];
            int i = 0;
            for (Map.Entry<K, Object> e : tree.entrySet()) {
                keys[i] = e.getKey();
                values[i++] = e.getValue() == TOMBSTONE ? null : e.getValue();
            }
            frozenValues = values;
            frozenKeys = keys;
            return;
        }
        Object[] values = new Object[sortedCount];
        for (int i = 0; i < sortedCount; i++) {
            values[i] = sortedValues[i] == TOMBSTONE ? null : sortedValues[i];
        }
        frozenValues = values;
        frozenKeys = Arrays.copyOf(sortedKeys, sortedCount);
    }

    /**
     * The number of keys written; freezes the set.
     *
     * @return the number of keys
     */
    public int size() {
        freeze();
        return frozenKeys.length;
    }

    /**
     * The {@code i}-th written key in key order; freezes the set.
     *
     * @param i the index, in [0, size())
     * @return the key
     */
    @SuppressWarnings("unchecked")
    public K key(int i) {
        return (K) frozenKeys[i];
    }

    /**
     * The value written to the {@code i}-th key in key order.
     *
     * @param i the index, in [0, size())
     * @return the value, or null for a removal
     */
    @SuppressWarnings("unchecked")
    public V value(int i) {
        return (V) frozenValues[i];
    }

    /**
     * The written keys in key order (shared, not copied: callers must not modify it).
     *
     * @return the keys
     */
    public Object[] frozenKeys() {
        freeze();
        return frozenKeys;
    }

    /**
     * The writes as the record of a commit, sharing the frozen arrays.
     *
     * @param commitTs the commit timestamp
     * @return the record
     */
    public CommitRecord<K, V> toRecord(long commitTs) {
        freeze();
        return new Record<>(commitTs, frozenKeys, frozenValues);
    }

    private record Record<K, V>(long commitTimestamp, Object[] keys, Object[] values) implements CommitRecord<K, V> {
        @Override
        public int size() {
            return keys.length;
        }

        @Override
        @SuppressWarnings("unchecked")
        public K key(int i) {
            return (K) keys[i];
        }

        @Override
        @SuppressWarnings("unchecked")
        public V value(int i) {
            return (V) values[i];
        }
    }
}
