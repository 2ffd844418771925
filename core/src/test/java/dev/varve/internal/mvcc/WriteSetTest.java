// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.varve.CountingComparator;
import dev.varve.Database;
import dev.varve.Isolation;
import dev.varve.Transaction;
import java.util.Comparator;
import java.util.Map;
import java.util.NavigableMap;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The write set against a TreeMap model (random and in-order puts, lookups, seeks, walks in both
 * directions, freezing), and guards on its comparator calls: O(n log n) for n writes and walks.
 */
// A broken merge can loop forever: each test then fails after the bound instead of hanging the build.
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class WriteSetTest {

    @Test
    void agreesWithATreeMapOnRandomOperations() {
        long seed = Long.getLong("varve.seed", System.nanoTime());
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int round = 0; round < 200; round++) {
            WriteSet<Integer, String> ws = new WriteSet<>(Comparator.naturalOrder());
            TreeMap<Integer, Object> model = new TreeMap<>();
            int domain = 1 + rnd.nextInt(round % 2 == 0 ? 40 : 2000);
            boolean inOrder = rnd.nextInt(4) == 0;
            int ops = rnd.nextInt(600);
            for (int op = 0; op < ops; op++) {
                String where = "seed " + seed + " round " + round + " op " + op;
                int key = inOrder ? op : rnd.nextInt(domain);
                switch (rnd.nextInt(7)) {
                    case 0, 1 -> {
                        Object v = rnd.nextInt(5) == 0 ? WriteSet.TOMBSTONE : "v" + op;
                        ws.put(key, v);
                        model.put(key, v);
                    }
                    case 2 -> assertEquals(model.get(key), ws.get(key), where);
                    case 5 -> { // a savepoint's undo (I5), also right after the first merge (I6)
                        ws.removeKey(key);
                        model.remove(key);
                    }
                    case 6 -> assertEquals(model.size(), ws.size(), where); // freezes; later puts thaw it
                    case 3 -> {
                        boolean inclusive = rnd.nextBoolean();
                        boolean descending = rnd.nextBoolean();
                        Map.Entry<Integer, Object> expected = descending
                                ? (inclusive ? model.floorEntry(key) : model.lowerEntry(key))
                                : (inclusive ? model.ceilingEntry(key) : model.higherEntry(key));
                        assertEquals(expected, ws.next(key, inclusive, descending), where);
                    }
                    default -> {
                        boolean descending = rnd.nextBoolean();
                        assertEquals(descending ? model.lastEntry() : model.firstEntry(), ws.first(descending), where);
                    }
                }
                assertEquals(model.isEmpty(), ws.isEmpty(), where);
            }
            assertEquals(model.size(), ws.size(), "seed " + seed + " round " + round);
            int i = 0;
            for (Map.Entry<Integer, Object> e : model.entrySet()) {
                assertEquals(e.getKey(), ws.key(i));
                assertEquals(e.getValue() == WriteSet.TOMBSTONE ? null : e.getValue(), ws.value(i));
                i++;
            }
        }
    }

    /**
     * Large write sets (past the small-array tier) under puts, overwrites and removals made while
     * walking in either direction, as an iterator's setValue and remove do.
     */
    @Test
    void agreesWithATreeMapOnLargeSetsWrittenDuringWalks() {
        long seed = Long.getLong("varve.seed", System.nanoTime());
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int round = 0; round < 40; round++) {
            WriteSet<Integer, String> ws = new WriteSet<>(Comparator.naturalOrder());
            TreeMap<Integer, Object> model = new TreeMap<>();
            int domain = 1 + rnd.nextInt(round % 4 == 0 ? 300 : 20_000);
            int mode = rnd.nextInt(3); // 0 random, 1 ascending, 2 descending arrival
            int ops = rnd.nextInt(3000);
            for (int op = 0; op < ops; op++) {
                String where = "seed " + seed + " round " + round + " op " + op;
                int key = mode == 0 ? rnd.nextInt(domain) : mode == 1 ? op * 3 : domain - op * 3;
                int what = rnd.nextInt(40);
                if (what < 30) {
                    Object v = rnd.nextInt(6) == 0 ? WriteSet.TOMBSTONE : "v" + op;
                    ws.put(key, v);
                    model.put(key, v);
                } else if (what < 36) {
                    assertEquals(model.get(key), ws.get(key), where);
                } else {
                    walk(ws, model, rnd, where);
                }
                assertEquals(model.isEmpty(), ws.isEmpty(), where);
            }
            assertFrozenEquals(model, ws, "seed " + seed + " round " + round);
        }
    }

    /** Walks part of the set from a random start in a random direction, writing as it goes. */
    private static void walk(
            WriteSet<Integer, String> ws, TreeMap<Integer, Object> model, SplittableRandom rnd, String where) {
        boolean descending = rnd.nextBoolean();
        NavigableMap<Integer, Object> m = descending ? model.descendingMap() : model;
        Map.Entry<Integer, Object> w = ws.first(descending);
        assertEquals(m.firstEntry(), w, where + " first");
        for (int step = rnd.nextInt(400); step > 0 && w != null; step--) {
            int k = w.getKey();
            switch (rnd.nextInt(4)) {
                case 0 -> { // setValue of the current entry
                    ws.put(k, "s" + step);
                    model.put(k, "s" + step);
                }
                case 1 -> { // a new key just ahead or behind, not yet reached or already passed
                    int other = k + (rnd.nextBoolean() ? 1 : -1);
                    ws.put(other, "n" + step);
                    model.put(other, "n" + step);
                }
                default -> {}
            }
            w = ws.next(k, false, descending);
            assertEquals(m.higherEntry(k), w, where + " after " + k + (descending ? " descending" : ""));
        }
    }

    private static void assertFrozenEquals(TreeMap<Integer, Object> model, WriteSet<Integer, String> ws, String where) {
        assertEquals(model.size(), ws.size(), where);
        int i = 0;
        for (Map.Entry<Integer, Object> e : model.entrySet()) {
            assertEquals(e.getKey(), ws.key(i), where + " index " + i);
            assertEquals(e.getValue() == WriteSet.TOMBSTONE ? null : e.getValue(), ws.value(i), where + " index " + i);
            assertEquals(e.getKey(), ws.frozenKeys()[i], where + " index " + i);
            i++;
        }
    }

    /**
     * The comparator calls of 200 k puts in random order, a descending walk that overwrites every
     * key, and 100 k descending puts of new keys between written ones, each followed by a seek
     * (an iterator's setValue over a descending view), stay within 40 n log2 n per phase.
     */
    @Test
    void randomOrderPutsAndDescendingWalksCostNLogNComparisons() {
        int n = 200_000;
        long budget = 40 * CountingComparator.nLogN(n);
        long seed = Long.getLong("varve.seed", System.nanoTime());
        int[] order = shuffled(n, new SplittableRandom(seed));
        CountingComparator<Integer> cmp = new CountingComparator<>();
        WriteSet<Integer, String> ws = new WriteSet<>(cmp);

        cmp.reset(budget, "for " + n + " random-order puts (seed " + seed + ")");
        for (int k : order) {
            ws.put(k, "v");
        }
        long puts = cmp.calls();

        cmp.reset(budget, "for a descending walk over " + n + " keys that overwrites each");
        int visited = 0;
        for (Map.Entry<Integer, Object> w = ws.first(true); w != null; w = ws.next(w.getKey(), false, true)) {
            ws.put(w.getKey(), "w");
            visited++;
        }
        long walk = cmp.calls();
        assertEquals(n, visited);

        cmp.reset(budget, "for freezing " + n + " keys");
        assertEquals(n, ws.size());
        assertEquals("w", ws.value(n - 1));

        // Odd keys written in key order (the cheap append), then the even keys between them in
        // descending order, each followed by the seek an iterator makes for its next entry.
        WriteSet<Integer, String> fresh = new WriteSet<>(cmp);
        cmp.reset(budget, "for " + n + " puts between written keys in descending order, each followed by a seek");
        for (int k = 1; k < n; k += 2) {
            fresh.put(k, "odd");
        }
        for (int k = n - 2; k >= 0; k -= 2) {
            fresh.put(k, "even");
            assertEquals(k == 0 ? null : Map.entry(k - 1, "odd"), fresh.next(k, false, true));
        }
        long descendingPuts = cmp.calls();
        assertEquals(n, fresh.size());
        System.out.printf(
                "WriteSet comparator calls for n = %d: random puts %d, descending walk %d, descending puts"
                        + " between written keys with seeks %d (budget %d each)%n",
                n, puts, walk, descendingPuts, budget);
    }

    /**
     * The same through the public API: a transaction writes 10 k new keys in key order, then
     * calls setValue on every entry of its descending view, which interleaves those writes with
     * 10 k snapshot entries; walk and commit stay within 40 n log2 n comparator calls (the index's
     * own searches included).
     */
    @Test
    void descendingSetValueOverManyEntriesCostsNLogNComparisons() {
        int n = 20_000;
        CountingComparator<Long> cmp = new CountingComparator<>();
        try (Database<Long, Long> db = Database.<Long, Long>builder(cmp).open()) {
            for (long from = 0; from < n; from += 1000) {
                try (Transaction<Long, Long> tx = db.begin()) {
                    for (long k = from; k < from + 1000; k += 2) {
                        tx.put(k, k); // the even keys are committed
                    }
                    tx.commit();
                }
            }
            try (Transaction<Long, Long> tx = db.begin(Isolation.SNAPSHOT)) {
                for (long k = 1; k < n; k += 2) {
                    tx.put(k, k); // the odd ones written by this transaction, in key order
                }
                cmp.reset(40 * CountingComparator.nLogN(n), "for setValue over " + n + " entries of a descending view");
                int seen = 0;
                for (Map.Entry<Long, Long> e : tx.asMap().descendingMap().entrySet()) {
                    e.setValue(e.getValue() + 1);
                    seen++;
                }
                tx.commit();
                cmp.reset(Long.MAX_VALUE, "");
                assertEquals(n, seen);
            }
            for (long k = 0; k < n; k++) {
                assertEquals(k + 1, db.get(k), "key " + k);
            }
        }
    }

    private static int[] shuffled(int n, SplittableRandom rnd) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }
}
