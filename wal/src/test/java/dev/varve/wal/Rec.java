// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import dev.varve.spi.CommitRecord;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** A hand-made commit record. */
final class Rec<K, V> implements CommitRecord<K, V> {
    final long ts;
    final List<K> keys = new ArrayList<>();
    final List<V> values = new ArrayList<>();

    Rec(long ts) {
        this.ts = ts;
    }

    static <K, V> Rec<K, V> of(long ts, K key, V value) {
        return new Rec<K, V>(ts).with(key, value);
    }

    Rec<K, V> with(K key, V value) {
        keys.add(key);
        values.add(value);
        return this;
    }

    @Override
    public long commitTimestamp() {
        return ts;
    }

    @Override
    public int size() {
        return keys.size();
    }

    @Override
    public K key(int i) {
        return keys.get(i);
    }

    @Override
    public V value(int i) {
        return values.get(i);
    }

    @Override
    public String toString() {
        return "Rec[" + ts + " " + keys + "=" + Arrays.toString(values.toArray()) + "]";
    }
}
