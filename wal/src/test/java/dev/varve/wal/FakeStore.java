// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import dev.varve.spi.CommitRecord;
import dev.varve.spi.StoreAccess;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiConsumer;

/** A StoreAccess over a TreeMap: records what recovery replays, and serves snapshots for checkpoints. */
final class FakeStore<K extends Comparable<K>, V> implements StoreAccess<K, V> {
    /** What the log reported through backgroundFailure: {kind, failure} pairs, in order. */
    final java.util.List<Object[]> failures = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Override
    public void backgroundFailure(dev.varve.Database.FailureKind kind, Throwable failure) {
        failures.add(new Object[] {kind, failure});
    }

    /** One replayed write. */
    record Replayed(long ts, Object key, Object value) {}

    final TreeMap<K, V> map = new TreeMap<>();
    final List<Replayed> replayed = new ArrayList<>();
    private long ts;
    /** Set by a test: {@link #readSnapshot} then refuses, as a closed database does. */
    volatile boolean closed;

    @Override
    public synchronized void replay(long commitTimestamp, K key, V value) {
        if (commitTimestamp < ts) {
            throw new IllegalStateException("replay of " + commitTimestamp + " after " + ts);
        }
        ts = commitTimestamp;
        replayed.add(new Replayed(commitTimestamp, key, value));
        put(key, value);
    }

    @Override
    public synchronized void recoveredThrough(long commitTimestamp) {
        if (commitTimestamp < ts) {
            throw new IllegalStateException("recoveredThrough " + commitTimestamp + " after " + ts);
        }
        ts = commitTimestamp;
    }

    private void put(K key, V value) {
        if (value == null) {
            map.remove(key);
        } else {
            map.put(key, value);
        }
    }

    /** What the core does on commit: installs the writes (the test then appends the record). */
    synchronized void apply(CommitRecord<K, V> r) {
        for (int i = 0; i < r.size(); i++) {
            put(r.key(i), r.value(i));
        }
        ts = r.commitTimestamp();
    }

    synchronized long lastTs() {
        return ts;
    }

    /** Distinct commit timestamps replayed, in order. */
    synchronized List<Long> replayedCommits() {
        List<Long> out = new ArrayList<>();
        for (Replayed r : replayed) {
            if (out.isEmpty() || out.get(out.size() - 1) != r.ts()) {
                out.add(r.ts());
            }
        }
        return out;
    }

    @Override
    public long readSnapshot(BiConsumer<? super K, ? super V> consumer) {
        if (closed) {
            throw new IllegalStateException("database is closed");
        }
        TreeMap<K, V> copy;
        long at;
        synchronized (this) {
            copy = new TreeMap<>(map);
            at = ts;
        }
        for (Map.Entry<K, V> e : copy.entrySet()) {
            consumer.accept(e.getKey(), e.getValue());
        }
        return at;
    }

    @Override
    public Comparator<? super K> comparator() {
        return Comparator.naturalOrder();
    }
}
