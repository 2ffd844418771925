// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import dev.varve.internal.index.KeyRange;
import dev.varve.internal.mvcc.WriteSet;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NavigableSet;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;

/**
 * The {@link NavigableMap} view of a transaction (or of a read-only snapshot): natural-order
 * bounds plus a direction. Every navigation opens a {@link MergeCursor} at the right place and
 * takes its first entry, so each one records exactly the range it read.
 */
class TransactionMap<K, V> extends AbstractMap<K, V> implements NavigableMap<K, V> {
    private final TxMap<K, V> tx;
    private final Comparator<? super K> cmp;
    private final KeyRange<K> bounds;
    private final boolean descending;

    TransactionMap(TxMap<K, V> tx) {
        this(tx, KeyRange.all(), false);
    }

    private TransactionMap(TxMap<K, V> tx, KeyRange<K> bounds, boolean descending) {
        this.tx = tx;
        this.cmp = tx.comparator();
        this.bounds = bounds;
        this.descending = descending;
    }

    @SuppressWarnings("unchecked")
    private K key(Object key) {
        Objects.requireNonNull(key, "key");
        return (K) key;
    }

    // ---- point operations -----------------------------------------------------------------

    @Override
    public V get(Object key) {
        K k = key(key);
        if (!bounds.contains(cmp, k)) {
            return null;
        }
        tx.checkActive();
        return tx.read(k);
    }

    @Override
    public boolean containsKey(Object key) {
        return get(key) != null;
    }

    @Override
    public V put(K key, V value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        checkWritable();
        if (!bounds.contains(cmp, key)) {
            throw new IllegalArgumentException("key out of range: " + key);
        }
        return tx.writeThrough(key, value);
    }

    @Override
    public V remove(Object key) {
        K k = key(key);
        checkWritable();
        if (!bounds.contains(cmp, k)) {
            return null;
        }
        V previous = tx.read(k);
        if (previous != null) {
            tx.writeThrough(k, WriteSet.TOMBSTONE);
        }
        return previous;
    }

    @Override
    public int size() {
        int n = 0;
        for (Iterator<Map.Entry<K, V>> it = tx.cursor(bounds, descending); it.hasNext(); it.next()) {
            n++;
        }
        return n;
    }

    @Override
    public boolean isEmpty() {
        return !tx.cursor(bounds, descending).hasNext();
    }

    @Override
    public void clear() {
        checkWritable();
        for (Iterator<Map.Entry<K, V>> it = tx.cursor(bounds, descending); it.hasNext(); ) {
            it.next();
            it.remove();
        }
    }

    // ---- navigation in natural order --------------------------------------------------------

    private Map.Entry<K, V> first(KeyRange<K> range, boolean fromHigh) {
        Map.Entry<K, V> e = tx.cursor(range, fromHigh).peek();
        return e == null ? null : Transaction.entry(e.getKey(), e.getValue());
    }

    private Map.Entry<K, V> absCeiling(K key, boolean inclusive) {
        if (bounds.tooLow(cmp, key)) {
            return first(bounds, false);
        }
        if (bounds.tooHigh(cmp, key)) {
            return null;
        }
        return first(bounds.withLow(key, inclusive), false);
    }

    private Map.Entry<K, V> absFloor(K key, boolean inclusive) {
        if (bounds.tooHigh(cmp, key)) {
            return first(bounds, true);
        }
        if (bounds.tooLow(cmp, key)) {
            return null;
        }
        return first(bounds.withHigh(key, inclusive), true);
    }

    // ---- navigation in view order -----------------------------------------------------------

    @Override
    public Map.Entry<K, V> firstEntry() {
        return first(bounds, descending);
    }

    @Override
    public Map.Entry<K, V> lastEntry() {
        return first(bounds, !descending);
    }

    @Override
    public Map.Entry<K, V> ceilingEntry(K key) {
        K k = key(key);
        return descending ? absFloor(k, true) : absCeiling(k, true);
    }

    @Override
    public Map.Entry<K, V> higherEntry(K key) {
        K k = key(key);
        return descending ? absFloor(k, false) : absCeiling(k, false);
    }

    @Override
    public Map.Entry<K, V> floorEntry(K key) {
        K k = key(key);
        return descending ? absCeiling(k, true) : absFloor(k, true);
    }

    @Override
    public Map.Entry<K, V> lowerEntry(K key) {
        K k = key(key);
        return descending ? absCeiling(k, false) : absFloor(k, false);
    }

    @Override
    public K ceilingKey(K key) {
        return keyOrNull(ceilingEntry(key));
    }

    @Override
    public K higherKey(K key) {
        return keyOrNull(higherEntry(key));
    }

    @Override
    public K floorKey(K key) {
        return keyOrNull(floorEntry(key));
    }

    @Override
    public K lowerKey(K key) {
        return keyOrNull(lowerEntry(key));
    }

    @Override
    public K firstKey() {
        return keyOrThrow(firstEntry());
    }

    @Override
    public K lastKey() {
        return keyOrThrow(lastEntry());
    }

    @Override
    public Map.Entry<K, V> pollFirstEntry() {
        checkWritable();
        return poll(firstEntry());
    }

    @Override
    public Map.Entry<K, V> pollLastEntry() {
        checkWritable();
        return poll(lastEntry());
    }

    /**
     * Rejects a write through a read-only snapshot whether or not it would change anything (as an
     * unmodifiable map does: {@code pollFirstEntry()} of an empty snapshot still throws).
     */
    private void checkWritable() {
        if (tx.isReadOnlyView()) {
            throw new UnsupportedOperationException("a snapshot is read-only");
        }
        tx.checkActive();
    }

    private Map.Entry<K, V> poll(Map.Entry<K, V> e) {
        if (e != null) {
            tx.writeThrough(e.getKey(), WriteSet.TOMBSTONE);
        }
        return e;
    }

    private static <K> K keyOrNull(Map.Entry<K, ?> e) {
        return e == null ? null : e.getKey();
    }

    private static <K> K keyOrThrow(Map.Entry<K, ?> e) {
        if (e == null) {
            throw new NoSuchElementException();
        }
        return e.getKey();
    }

    // ---- views ------------------------------------------------------------------------------

    @Override
    public Comparator<? super K> comparator() {
        Comparator<? super K> user = tx.userComparator();
        return descending ? Collections.reverseOrder(user) : user;
    }

    @Override
    public NavigableMap<K, V> descendingMap() {
        return new TransactionMap<>(tx, bounds, !descending);
    }

    /** Whether a new bound at {@code key} stays within this view, as {@link java.util.TreeMap} decides. */
    private boolean boundInRange(K key, boolean inclusive) {
        return inclusive ? bounds.contains(cmp, key) : bounds.inClosedRange(cmp, key);
    }

    private KeyRange<K> checkedLow(KeyRange<K> base, K key, boolean inclusive, String which) {
        if (!boundInRange(key, inclusive)) {
            throw new IllegalArgumentException(which + " out of range: " + key);
        }
        return base.withLow(key, inclusive);
    }

    private KeyRange<K> checkedHigh(KeyRange<K> base, K key, boolean inclusive, String which) {
        if (!boundInRange(key, inclusive)) {
            throw new IllegalArgumentException(which + " out of range: " + key);
        }
        return base.withHigh(key, inclusive);
    }

    @Override
    public NavigableMap<K, V> subMap(K fromKey, boolean fromInclusive, K toKey, boolean toInclusive) {
        Objects.requireNonNull(fromKey, "fromKey");
        Objects.requireNonNull(toKey, "toKey");
        int c = cmp.compare(fromKey, toKey);
        if (descending ? c < 0 : c > 0) {
            throw new IllegalArgumentException("fromKey " + fromKey + " is after toKey " + toKey);
        }
        KeyRange<K> b;
        if (descending) {
            b = checkedHigh(checkedLow(bounds, toKey, toInclusive, "toKey"), fromKey, fromInclusive, "fromKey");
        } else {
            b = checkedHigh(checkedLow(bounds, fromKey, fromInclusive, "fromKey"), toKey, toInclusive, "toKey");
        }
        return new TransactionMap<>(tx, b, descending);
    }

    @Override
    public NavigableMap<K, V> headMap(K toKey, boolean inclusive) {
        Objects.requireNonNull(toKey, "toKey");
        KeyRange<K> b = descending
                ? checkedLow(bounds, toKey, inclusive, "toKey")
                : checkedHigh(bounds, toKey, inclusive, "toKey");
        return new TransactionMap<>(tx, b, descending);
    }

    @Override
    public NavigableMap<K, V> tailMap(K fromKey, boolean inclusive) {
        Objects.requireNonNull(fromKey, "fromKey");
        KeyRange<K> b = descending
                ? checkedHigh(bounds, fromKey, inclusive, "fromKey")
                : checkedLow(bounds, fromKey, inclusive, "fromKey");
        return new TransactionMap<>(tx, b, descending);
    }

    @Override
    public SortedMap<K, V> subMap(K fromKey, K toKey) {
        return subMap(fromKey, true, toKey, false);
    }

    @Override
    public SortedMap<K, V> headMap(K toKey) {
        return headMap(toKey, false);
    }

    @Override
    public SortedMap<K, V> tailMap(K fromKey) {
        return tailMap(fromKey, true);
    }

    @Override
    public NavigableSet<K> navigableKeySet() {
        return new KeySet<>(this);
    }

    @Override
    public NavigableSet<K> keySet() {
        return navigableKeySet();
    }

    @Override
    public NavigableSet<K> descendingKeySet() {
        return descendingMap().navigableKeySet();
    }

    @Override
    public Set<Map.Entry<K, V>> entrySet() {
        return new EntrySet();
    }

    private final class EntrySet extends AbstractSet<Map.Entry<K, V>> {
        @Override
        public Iterator<Map.Entry<K, V>> iterator() {
            return tx.cursor(bounds, descending);
        }

        @Override
        public int size() {
            return TransactionMap.this.size();
        }

        @Override
        public boolean isEmpty() {
            return TransactionMap.this.isEmpty();
        }

        @Override
        public boolean contains(Object o) {
            if (!(o instanceof Map.Entry)) {
                return false;
            }
            Map.Entry<?, ?> e = (Map.Entry<?, ?>) o;
            if (e.getKey() == null) {
                return false;
            }
            V value;
            try {
                value = get(e.getKey());
            } catch (ClassCastException ignored) {
                return false;
            }
            return value != null && value.equals(e.getValue());
        }

        @Override
        public boolean remove(Object o) {
            if (contains(o)) {
                TransactionMap.this.remove(((Map.Entry<?, ?>) o).getKey());
                return true;
            }
            return false;
        }

        @Override
        public void clear() {
            TransactionMap.this.clear();
        }
    }

    /** The key set of a navigable map, as a navigable set view of it. */
    static final class KeySet<K> extends AbstractSet<K> implements NavigableSet<K> {
        private final NavigableMap<K, ?> map;

        KeySet(NavigableMap<K, ?> map) {
            this.map = map;
        }

        @Override
        public Iterator<K> iterator() {
            Iterator<? extends Map.Entry<K, ?>> entries = map.entrySet().iterator();
            return new Iterator<>() {
                @Override
                public boolean hasNext() {
                    return entries.hasNext();
                }

                @Override
                public K next() {
                    return entries.next().getKey();
                }

                @Override
                public void remove() {
                    entries.remove();
                }
            };
        }

        @Override
        public Iterator<K> descendingIterator() {
            return descendingSet().iterator();
        }

        @Override
        public int size() {
            return map.size();
        }

        @Override
        public boolean isEmpty() {
            return map.isEmpty();
        }

        @Override
        public boolean contains(Object o) {
            return map.containsKey(o);
        }

        @Override
        public boolean remove(Object o) {
            return map.remove(o) != null;
        }

        @Override
        public void clear() {
            map.clear();
        }

        @Override
        public K lower(K k) {
            return map.lowerKey(k);
        }

        @Override
        public K floor(K k) {
            return map.floorKey(k);
        }

        @Override
        public K ceiling(K k) {
            return map.ceilingKey(k);
        }

        @Override
        public K higher(K k) {
            return map.higherKey(k);
        }

        @Override
        public K first() {
            return map.firstKey();
        }

        @Override
        public K last() {
            return map.lastKey();
        }

        @Override
        public K pollFirst() {
            Map.Entry<K, ?> e = map.pollFirstEntry();
            return e == null ? null : e.getKey();
        }

        @Override
        public K pollLast() {
            Map.Entry<K, ?> e = map.pollLastEntry();
            return e == null ? null : e.getKey();
        }

        @Override
        public Comparator<? super K> comparator() {
            return map.comparator();
        }

        @Override
        public NavigableSet<K> descendingSet() {
            return new KeySet<>(map.descendingMap());
        }

        @Override
        public NavigableSet<K> subSet(K from, boolean fromInclusive, K to, boolean toInclusive) {
            return new KeySet<>(map.subMap(from, fromInclusive, to, toInclusive));
        }

        @Override
        public NavigableSet<K> headSet(K to, boolean inclusive) {
            return new KeySet<>(map.headMap(to, inclusive));
        }

        @Override
        public NavigableSet<K> tailSet(K from, boolean inclusive) {
            return new KeySet<>(map.tailMap(from, inclusive));
        }

        @Override
        public NavigableSet<K> subSet(K from, K to) {
            return subSet(from, true, to, false);
        }

        @Override
        public NavigableSet<K> headSet(K to) {
            return headSet(to, false);
        }

        @Override
        public NavigableSet<K> tailSet(K from) {
            return tailSet(from, true);
        }
    }
}
