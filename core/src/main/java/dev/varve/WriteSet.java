package dev.varve;

import dev.varve.spi.CommitRecord;
import java.util.Comparator;
import java.util.Map;
import java.util.TreeMap;

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

    private final TreeMap<K, Object> writes;
    private Object[] frozenKeys;
    private Object[] frozenValues;

    WriteSet(Comparator<? super K> comparator) {
        this.writes = new TreeMap<>(comparator);
    }

    /** The buffered write of {@code key}: a value, TOMBSTONE, or null if {@code key} is not written. */
    Object get(K key) {
        return writes.get(key);
    }

    void put(K key, Object valueOrTombstone) {
        writes.put(key, valueOrTombstone);
    }

    boolean isEmpty() {
        return writes.isEmpty();
    }

    /** The first write strictly after (or at, if {@code inclusive}) {@code key} in {@code descending} order. */
    Map.Entry<K, Object> next(K key, boolean inclusive, boolean descending) {
        if (descending) {
            return inclusive ? writes.floorEntry(key) : writes.lowerEntry(key);
        }
        return inclusive ? writes.ceilingEntry(key) : writes.higherEntry(key);
    }

    /** The first write in {@code descending} order, or null. */
    Map.Entry<K, Object> first(boolean descending) {
        return descending ? writes.lastEntry() : writes.firstEntry();
    }

    // ---- frozen form, built once the transaction stops writing -----------------------------

    void freeze() {
        if (frozenKeys == null) {
            frozenKeys = new Object[writes.size()];
            frozenValues = new Object[writes.size()];
            int i = 0;
            for (Map.Entry<K, Object> e : writes.entrySet()) {
                frozenKeys[i] = e.getKey();
                frozenValues[i] = e.getValue() == TOMBSTONE ? null : e.getValue();
                i++;
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

    /** The frozen keys, in key order (shared, not copied). */
    Object[] keys() {
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
