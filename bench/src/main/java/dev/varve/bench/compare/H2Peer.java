// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench.compare;

import java.util.Iterator;
import java.util.Map;
import org.h2.engine.IsolationLevel;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.MVStoreException;
import org.h2.mvstore.tx.Transaction;
import org.h2.mvstore.tx.TransactionMap;
import org.h2.mvstore.tx.TransactionStore;

/**
 * H2's MVStore {@link TransactionStore}, in memory: one transaction per operation. Transfers lock
 * both rows with {@link TransactionMap#lock} in key order (SELECT ... FOR UPDATE: a conflicting
 * transfer waits for the row lock, then reads the committed value), which makes them
 * serializable by two-phase locking; scans and point reads are READ_COMMITTED snapshots.
 */
final class H2Peer implements Peer {
    private static final String MAP = "kv";
    private final MVStore store = new MVStore.Builder().open();
    private final TransactionStore transactions = new TransactionStore(store);

    H2Peer() {
        transactions.init();
    }

    @Override
    public String name() {
        return "H2-MVStore";
    }

    @Override
    public String isolation() {
        return "READ_COMMITTED + row locks on written rows (2PL for transfers)";
    }

    private Transaction begin() {
        return transactions.begin(null, 10_000, 0, IsolationLevel.READ_COMMITTED);
    }

    @Override
    public void load(long base, long count, long value) {
        for (long from = 0; from < count; from += 1000) {
            Transaction tx = begin();
            TransactionMap<Long, Long> m = tx.openMap(MAP);
            for (long k = from; k < Math.min(count, from + 1000); k++) {
                m.put(base + k, value);
            }
            tx.commit();
        }
    }

    @Override
    public void insertAll(long base, long[] offsets, long value) {
        Transaction tx = begin();
        TransactionMap<Long, Long> m = tx.openMap(MAP);
        for (long k : offsets) {
            m.put(base + k, value);
        }
        tx.commit();
    }

    @Override
    public long get(long key) {
        Transaction tx = begin();
        TransactionMap<Long, Long> m = tx.openMap(MAP);
        Long v = m.get(key);
        tx.commit();
        return v == null ? -1 : v;
    }

    @Override
    public void put(long key, long value) {
        Transaction tx = begin();
        TransactionMap<Long, Long> m = tx.openMap(MAP);
        m.put(key, value);
        tx.commit();
    }

    @Override
    public boolean transfer(long from, long to, long amount) {
        Transaction tx = begin();
        try {
            TransactionMap<Long, Long> m = tx.openMap(MAP);
            long first = Math.min(from, to);
            long second = Math.max(from, to);
            long a1 = m.lock(first);
            long a2 = m.lock(second);
            long a = from == first ? a1 : a2;
            long b = from == first ? a2 : a1;
            if (a >= amount) {
                m.put(from, a - amount);
                m.put(to, b + amount);
            }
            tx.commit();
            return true;
        } catch (MVStoreException e) {
            tx.rollback(); // lock timeout or deadlock victim
            return false;
        }
    }

    @Override
    public long scan(long from, int n) {
        Transaction tx = begin();
        TransactionMap<Long, Long> m = tx.openMap(MAP);
        long sum = 0;
        int i = 0;
        Iterator<Map.Entry<Long, Long>> it = m.entryIterator(from, null);
        while (i < n && it.hasNext()) {
            sum += it.next().getValue();
            i++;
        }
        tx.commit();
        return sum;
    }

    @Override
    public long sum(long base, long count) {
        Transaction tx = transactions.begin(null, 10_000, 0, IsolationLevel.REPEATABLE_READ);
        TransactionMap<Long, Long> m = tx.openMap(MAP);
        long sum = 0;
        Iterator<Map.Entry<Long, Long>> it = m.entryIterator(base, base + count - 1);
        while (it.hasNext()) {
            sum += it.next().getValue();
        }
        tx.commit();
        return sum;
    }

    @Override
    public void close() {
        transactions.close();
        store.close();
    }
}
