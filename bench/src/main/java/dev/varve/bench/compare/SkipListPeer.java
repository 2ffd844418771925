// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench.compare;

import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The JDK's {@link ConcurrentSkipListMap}: with no transactions at all (the ceiling; a transfer is
 * two atomic {@code merge}s, so totals are only conserved once transfers finish), or under one
 * global lock held for every operation (the simplest serializable answer).
 */
final class SkipListPeer implements Peer {
    private final ConcurrentSkipListMap<Long, Long> map = new ConcurrentSkipListMap<>();
    private final ReentrantLock lock;

    SkipListPeer(boolean globalLock) {
        this.lock = globalLock ? new ReentrantLock() : null;
    }

    @Override
    public String name() {
        return lock == null ? "CSLM" : "CSLM+lock";
    }

    @Override
    public String isolation() {
        return lock == null ? "none (per-key atomic; scans weakly consistent)" : "SERIALIZABLE (one global lock)";
    }

    @Override
    public void load(long base, long count, long value) {
        for (long k = 0; k < count; k++) {
            map.put(base + k, value);
        }
    }

    @Override
    public void insertAll(long base, long[] offsets, long value) {
        if (lock != null) {
            lock.lock();
        }
        try {
            for (long k : offsets) {
                map.put(base + k, value);
            }
        } finally {
            if (lock != null) {
                lock.unlock();
            }
        }
    }

    @Override
    public long get(long key) {
        if (lock == null) {
            Long v = map.get(key);
            return v == null ? -1 : v;
        }
        lock.lock();
        try {
            Long v = map.get(key);
            return v == null ? -1 : v;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void put(long key, long value) {
        if (lock == null) {
            map.put(key, value);
            return;
        }
        lock.lock();
        try {
            map.put(key, value);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean transfer(long from, long to, long amount) {
        if (lock == null) {
            boolean[] moved = new boolean[1];
            map.computeIfPresent(from, (k, v) -> {
                moved[0] = v >= amount;
                return moved[0] ? v - amount : v;
            });
            if (moved[0]) {
                map.merge(to, amount, Long::sum);
            }
            return true;
        }
        lock.lock();
        try {
            long a = map.get(from);
            long b = map.get(to);
            if (a >= amount) {
                map.put(from, a - amount);
                map.put(to, b + amount);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public long scan(long from, int n) {
        if (lock != null) {
            lock.lock();
        }
        try {
            long sum = 0;
            int i = 0;
            for (Map.Entry<Long, Long> e : map.tailMap(from, true).entrySet()) {
                sum += e.getValue();
                if (++i == n) {
                    break;
                }
            }
            return sum;
        } finally {
            if (lock != null) {
                lock.unlock();
            }
        }
    }

    @Override
    public long sum(long base, long count) {
        long sum = 0;
        for (long v : map.subMap(base, true, base + count, false).values()) {
            sum += v;
        }
        return sum;
    }

    @Override
    public void close() {
        map.clear();
    }
}
