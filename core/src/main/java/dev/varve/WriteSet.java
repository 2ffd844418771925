package dev.varve;

import dev.varve.spi.CommitRecord;
import java.util.Comparator;
import java.util.Map;

/**
 * A transaction's buffered writes in key order: a value, or {@link #TOMBSTONE} for a removal.
 * Frozen into arrays at commit, when it also serves as the {@link CommitRecord} handed to the
 * log.
 */
final class WriteSet<K, V> {
    /** Marks a removed key in the write set (user values are never null). */
    static final Object TOMBSTONE = new Object() {
        @Override
        public String toString() {
            return "TOMBSTONE";
        }
    };

    /** Writes in key order: keys and values, sortedCount of them. */
    private Object[] sortedKeys = NONE;
    private Object[] sortedValues = NONE;
    private int sortedCount;
    /** Recent writes of keys not in the sorted part, in arrival order; merged when full. */
    private Object[] tailKeys = new Object[4];
    private Object[] tailValues = new Object[4];
    private int tailCount;
    /** The greatest key written, or null if none: a key above it needs no search. */
    private K greatestKey;
    private final Comparator<? super K> comparator;
    private Object[] frozenKeys;
    private Object[] frozenValues;

    private static final Object[] NONE = {};
    private static final int TAIL = 16;

    WriteSet(Comparator<? super K> comparator) {
        this.comparator = comparator;
    }

    /*
     * Implementation notes.
     *
     * A small two-level sorted map, cheaper than a TreeMap for the usual write set (a few to a few
     * thousand keys, often written in key order): a sorted array pair and an unsorted tail of at
     * most TAIL entries. A key is in exactly one of the two. put overwrites in place or appends to
     * the tail; a full tail is sorted and merged into the sorted arrays (amortized O(n / TAIL) moves
     * per put, O(1) when keys arrive in order, since the merge then appends). Ordered access
     * (next, first, freeze) merges the tail first. Not thread-safe: a transaction is used by one
     * thread at a time.
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

    /** The buffered write of {@code key}: a value, TOMBSTONE, or null if {@code key} is not written. */
    Object get(K key) {
        int i = search(key);
        if (i >= 0) {
            return sortedValues[i];
        }
        int t = searchTail(key);
        return t >= 0 ? tailValues[t] : null;
    }

    void put(K key, Object valueOrTombstone) {
        frozenKeys = null;
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
        if (greatestKey == null || comparator.compare(key, greatestKey) > 0) {
            greatestKey = key;
        }
        appendToTail(key, valueOrTombstone);
    }

    /** Adds a key known not to be in the write set. */
    private void appendToTail(K key, Object valueOrTombstone) {
        if (tailCount == tailKeys.length) { // small write sets stay small; grows up to TAIL
            tailKeys = java.util.Arrays.copyOf(tailKeys, TAIL);
            tailValues = java.util.Arrays.copyOf(tailValues, TAIL);
        }
        tailKeys[tailCount] = key;
        tailValues[tailCount] = valueOrTombstone;
        if (++tailCount == TAIL) {
            mergeTail();
        }
    }

    boolean isEmpty() {
        return sortedCount + tailCount == 0;
    }

    /** Sorts the tail (insertion sort: at most TAIL entries) and merges it into the sorted part. */
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
        if (sortedCount == 0 || comparator.compare((K) sortedKeys[sortedCount - 1], (K) tailKeys[0]) < 0) {
            // In-order arrival: append.
            if (n > sortedKeys.length) {
                int capacity = Math.max(n, sortedKeys.length * 2);
                sortedKeys = java.util.Arrays.copyOf(sortedKeys, capacity);
                sortedValues = java.util.Arrays.copyOf(sortedValues, capacity);
            }
            System.arraycopy(tailKeys, 0, sortedKeys, sortedCount, tailCount);
            System.arraycopy(tailValues, 0, sortedValues, sortedCount, tailCount);
        } else {
            int capacity = Math.max(n, sortedKeys.length);
            Object[] keys = new Object[capacity];
            Object[] values = new Object[capacity];
            int a = 0;
            int b = 0;
            for (int out = 0; out < n; out++) {
                if (b >= tailCount || (a < sortedCount
                        && comparator.compare((K) sortedKeys[a], (K) tailKeys[b]) < 0)) {
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
        java.util.Arrays.fill(tailKeys, 0, tailCount, null);
        java.util.Arrays.fill(tailValues, 0, tailCount, null);
        tailCount = 0;
    }

    @SuppressWarnings("unchecked")
    private Map.Entry<K, Object> entry(int i) {
        return new java.util.AbstractMap.SimpleImmutableEntry<>((K) sortedKeys[i], sortedValues[i]);
    }

    /** The first write strictly after (or at, if {@code inclusive}) {@code key} in {@code descending} order. */
    Map.Entry<K, Object> next(K key, boolean inclusive, boolean descending) {
        mergeTail();
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

    /** The first write in {@code descending} order, or null. */
    Map.Entry<K, Object> first(boolean descending) {
        mergeTail();
        if (sortedCount == 0) {
            return null;
        }
        return entry(descending ? sortedCount - 1 : 0);
    }

    // ---- frozen form, built once the transaction stops writing -----------------------------

    void freeze() {
        if (frozenKeys == null) {
            mergeTail();
            frozenKeys = java.util.Arrays.copyOf(sortedKeys, sortedCount);
            frozenValues = new Object[sortedCount];
            for (int i = 0; i < sortedCount; i++) {
                frozenValues[i] = sortedValues[i] == TOMBSTONE ? null : sortedValues[i];
            }
        }
    }

    int size() {
        freeze();
        return frozenKeys.length;
    }

    @SuppressWarnings("unchecked")
    K key(int i) {
        return (K) frozenKeys[i];
    }

    /** The written value, or null for a removal. */
    @SuppressWarnings("unchecked")
    V value(int i) {
        return (V) frozenValues[i];
    }

    /** The written keys in key order (shared, not copied: callers must not modify it). */
    Object[] frozenKeys() {
        freeze();
        return frozenKeys;
    }

    CommitRecord<K, V> toRecord(long commitTs) {
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
