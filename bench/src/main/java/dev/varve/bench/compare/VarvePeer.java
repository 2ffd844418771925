// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench.compare;

import dev.varve.Database;
import dev.varve.Isolation;
import dev.varve.SerializationFailureException;
import dev.varve.Transaction;
import java.time.Duration;
import java.util.Map;

/** Varve in memory: transfers and scans in SERIALIZABLE transactions, point operations autocommit. */
final class VarvePeer implements Peer {
    private final Database<Long, Long> db =
            Database.<Long, Long>builder().autoVacuum(Duration.ofMillis(200)).open();

    @Override
    public String name() {
        return "Varve";
    }

    @Override
    public String isolation() {
        return "SERIALIZABLE (SSI); get/put autocommit";
    }

    @Override
    public void load(long base, long count, long value) {
        for (long from = 0; from < count; from += 1000) {
            try (Transaction<Long, Long> tx = db.begin(Isolation.SERIALIZABLE)) {
                for (long k = from; k < Math.min(count, from + 1000); k++) {
                    tx.put(base + k, value);
                }
                tx.commit();
            }
        }
    }

    @Override
    public void insertAll(long base, long[] offsets, long value) {
        try (Transaction<Long, Long> tx = db.begin(Isolation.SERIALIZABLE)) {
            for (long k : offsets) {
                tx.put(base + k, value);
            }
            tx.commit();
        }
    }

    @Override
    public long get(long key) {
        Long v = db.get(key);
        return v == null ? -1 : v;
    }

    @Override
    public void put(long key, long value) {
        db.put(key, value);
    }

    @Override
    public boolean transfer(long from, long to, long amount) {
        try (Transaction<Long, Long> tx = db.begin(Isolation.SERIALIZABLE)) {
            long a = tx.get(from);
            long b = tx.get(to);
            if (a >= amount) {
                tx.put(from, a - amount);
                tx.put(to, b + amount);
            }
            tx.commit();
            return true;
        } catch (SerializationFailureException e) {
            return false;
        }
    }

    @Override
    public long scan(long from, int n) {
        try (Transaction<Long, Long> tx = db.begin(Isolation.SERIALIZABLE)) {
            long sum = 0;
            int i = 0;
            for (Map.Entry<Long, Long> e : tx.asMap().tailMap(from, true).entrySet()) {
                sum += e.getValue();
                if (++i == n) {
                    break;
                }
            }
            tx.commit();
            return sum;
        }
    }

    @Override
    public long sum(long base, long count) {
        try (var s = db.snapshot()) {
            long sum = 0;
            for (long v : s.subMap(base, true, base + count, false).values()) {
                sum += v;
            }
            return sum;
        }
    }

    @Override
    public void close() {
        db.close();
    }
}
