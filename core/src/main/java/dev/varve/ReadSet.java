package dev.varve;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * What a SERIALIZABLE transaction read from its snapshot: the keys it looked up (present or
 * absent) and the key ranges its scans traversed. While the transaction runs it only grows; at
 * commit it is frozen (keys sorted) so that later committers can test their writes against it.
 */
final class ReadSet<K> {
    private final Comparator<? super K> comparator;
    private static final Object[] NO_KEYS = {};
    private Object[] keys = NO_KEYS;
    private int keyCount;
    private final List<KeyRange<K>> ranges = new ArrayList<>(0);
    private boolean frozen;

    ReadSet(Comparator<? super K> comparator) {
        this.comparator = comparator;
    }

    void addKey(K key) {
        if (keyCount == keys.length) {
            keys = Arrays.copyOf(keys, Math.max(4, keyCount * 2));
        }
        keys[keyCount++] = key;
    }

    /** Registers a range whose high end (or low end, for descending scans) grows as it is read. */
    void addRange(KeyRange<K> range) {
        ranges.add(range);
    }

    boolean isEmpty() {
        return keyCount == 0 && ranges.isEmpty();
    }

    int keyCount() {
        return keyCount;
    }

    @SuppressWarnings("unchecked")
    K key(int i) {
        return (K) keys[i];
    }

    List<KeyRange<K>> ranges() {
        return ranges;
    }

    /** Sorts the keys (dropping duplicates and empty ranges) so {@link #covers} can binary-search. */
    @SuppressWarnings("unchecked")
    void freeze() {
        if (frozen) {
            return;
        }
        frozen = true;
        // In place: nothing is added once frozen.
        Arrays.sort(keys, 0, keyCount, (a, b) -> comparator.compare((K) a, (K) b));
        int distinct = 0;
        for (int i = 0; i < keyCount; i++) {
            if (distinct == 0 || comparator.compare((K) keys[distinct - 1], (K) keys[i]) != 0) {
                keys[distinct++] = keys[i];
            }
        }
        Arrays.fill(keys, distinct, keyCount, null);
        keyCount = distinct;
        if (!ranges.isEmpty()) {
            ranges.removeIf(r -> r.isEmpty(comparator));
        }
    }

    /** Whether a frozen read set read {@code key}, directly or through a scanned range. */
    @SuppressWarnings("unchecked")
    boolean covers(K key) {
        int lo = 0;
        int hi = keyCount - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int c = comparator.compare((K) keys[mid], key);
            if (c < 0) {
                lo = mid + 1;
            } else if (c > 0) {
                hi = mid - 1;
            } else {
                return true;
            }
        }
        for (int i = 0; i < ranges.size(); i++) {
            if (ranges.get(i).contains(comparator, key)) {
                return true;
            }
        }
        return false;
    }
}
