// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.testing.TestThreads;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The serializability check of {@link SerializableHistoryTest} over (map, key): randomized
 * write-skew-prone transactions over the default map and two named maps (one in reverse order),
 * whose keys are the same integers in every map, so that confusing two maps' keys would show as
 * a wrong edge. The checker sees key {@code map * MAP_STRIDE + key}, so its version orders, edges
 * and scanned ranges are per (map, key). SERIALIZABLE must never show a cycle; SNAPSHOT, on the
 * same workload, must (which shows the check can fail).
 */
class MultiMapHistoryTest {
    private static final int MAPS = 3;
    private static final int KEYS = 6;
    /** The checker's key of (map m, key k) is m * MAP_STRIDE + k. */
    private static final int MAP_STRIDE = 100;

    private static final int THREADS = 3;
    private static final int TXNS_PER_THREAD = 1500;

    record Outcome(List<HistoryChecker.Txn> committed, long aborted) {}

    static Outcome runHistory(Isolation isolation, long seed) throws Exception {
        List<HistoryChecker.Txn> committed = Collections.synchronizedList(new ArrayList<>());
        AtomicLong ids = new AtomicLong(HistoryChecker.INITIAL);
        AtomicLong aborted = new AtomicLong();
        try (Database<Integer, String> db = Database.<Integer, String>builder().open()) {
            NamedMap<Integer, String> one = db.openMap("one");
            NamedMap<Integer, String> two = db.openMap("two", Comparator.reverseOrder());
            for (int k = 0; k < KEYS; k += 2) {
                db.put(k, String.valueOf(HistoryChecker.INITIAL));
                one.put(k + 1, String.valueOf(HistoryChecker.INITIAL));
                two.put(k, String.valueOf(HistoryChecker.INITIAL));
            }
            List<Callable<Void>> tasks = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                SplittableRandom rnd = new SplittableRandom(seed * 31 + t);
                tasks.add(() -> {
                    for (int i = 0; i < TXNS_PER_THREAD; i++) {
                        HistoryChecker.Txn rec = new HistoryChecker.Txn(ids.incrementAndGet());
                        try (Transaction<Integer, String> tx = db.begin(isolation)) {
                            rec.snapshotTs = tx.snapshotTimestamp();
                            List<NavigableMap<Integer, String>> views = List.of(tx.asMap(), tx.map(one), tx.map(two));
                            runOne(views, rec, rnd);
                            tx.commit();
                            rec.commitTs = tx.commitTimestamp();
                            committed.add(rec);
                        } catch (SerializationFailureException e) {
                            aborted.incrementAndGet();
                        }
                    }
                    return null;
                });
            }
            TestThreads.runAll(tasks);
        }
        return new Outcome(committed, aborted.get());
    }

    /** Reads or scans keys of random maps, then writes keys (of random maps) it did not read. */
    private static void runOne(
            List<NavigableMap<Integer, String>> views, HistoryChecker.Txn rec, SplittableRandom rnd) {
        String me = String.valueOf(rec.id);
        int ops = 1 + rnd.nextInt(3);
        for (int i = 0; i < ops; i++) {
            int m = rnd.nextInt(MAPS);
            NavigableMap<Integer, String> view = views.get(m);
            if (rnd.nextInt(4) == 0) {
                int low = rnd.nextInt(KEYS);
                int high = Math.min(KEYS, low + 1 + rnd.nextInt(3));
                rec.scans.add(new int[] {m * MAP_STRIDE + low, m * MAP_STRIDE + high});
                // keys low .. high - 1, whatever the map's order
                NavigableMap<Integer, String> range = view.comparator() == null
                        ? view.subMap(low, true, high - 1, true)
                        : view.subMap(high - 1, true, low, true);
                for (Map.Entry<Integer, String> e : range.entrySet()) {
                    int key = m * MAP_STRIDE + e.getKey();
                    if (!rec.writes.contains(key)) {
                        rec.reads.put(key, Long.parseLong(e.getValue()));
                    }
                }
            } else {
                int k = rnd.nextInt(KEYS);
                int key = m * MAP_STRIDE + k;
                if (!rec.writes.contains(key)) {
                    String v = view.get(k);
                    rec.reads.put(key, v == null ? -1L : Long.parseLong(v));
                }
            }
        }
        Thread.yield(); // widen the window between reads and writes, so transactions overlap
        int writes = rnd.nextInt(3); // 0 writes: a read-only transaction
        for (int i = 0; i < writes; i++) {
            int m = rnd.nextInt(MAPS);
            int k = rnd.nextInt(KEYS);
            views.get(m).put(k, me);
            int key = m * MAP_STRIDE + k;
            if (!rec.writes.contains(key)) {
                rec.writes.add(key);
            }
        }
    }

    @Test
    void serializableHistoriesOverSeveralMapsHaveNoCycle() throws Exception {
        long seed = Long.getLong("varve.seed", System.nanoTime());
        for (int round = 0; round < 3; round++) {
            long roundSeed = seed + round;
            Outcome outcome = runHistory(Isolation.SERIALIZABLE, roundSeed);
            String cycle = new HistoryChecker(outcome.committed()).findCycle();
            assertNull(cycle, "seed " + roundSeed + ": committed SERIALIZABLE history is not serializable: " + cycle);
            assertTrue(
                    outcome.committed().size() > THREADS * TXNS_PER_THREAD / 4,
                    "seed " + roundSeed + ": too few commits to mean anything: "
                            + outcome.committed().size());
        }
    }

    @Test
    void snapshotHistoriesOfTheSameWorkloadShowCycles() throws Exception {
        long seed = Long.getLong("varve.seed", System.nanoTime());
        String cycle = null;
        for (int round = 0; round < 30 && cycle == null; round++) {
            cycle = new HistoryChecker(
                            runHistory(Isolation.SNAPSHOT, seed + round).committed())
                    .findCycle();
        }
        assertNotNull(cycle, "seed " + seed + ": snapshot isolation never produced write skew in 30 rounds");
    }
}
