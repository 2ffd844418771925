// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Random sequences of put, remove, get, scan, savepoint and rollbackTo over the default map and a
 * named map of one transaction, checked after every step against a model (the two maps as
 * TreeMaps, and a stack of their copies, one per live savepoint); then committed and compared with
 * a new snapshot. Invalidated savepoints are used now and then and must be refused.
 *
 * <p>The seed is printed on failure with the round and operation index; rerun with {@code
 * -Dvarve.seed=<seed>} (and {@code -Dvarve.savepointRounds=N} for more rounds).
 */
class SavepointDifferentialTest {
    private static final int ROUNDS = Integer.getInteger("varve.savepointRounds", 300);

    @Test
    void savepointsAgreeWithAStackOfCopies() {
        String property = System.getProperty("varve.seed");
        long seed = property != null ? Long.parseLong(property) : new Random().nextLong();
        Random random = new Random(seed);
        int[] seen = new int[3]; // rollbacks, refused stale savepoints, commits that wrote
        for (int round = 0; round < ROUNDS; round++) {
            new Run(random, seed, round, seen).execute();
        }
        String where = "seed " + seed;
        assertTrue(seen[0] > ROUNDS, "too few rollbacks: " + seen[0] + "; " + where);
        assertTrue(seen[1] > 0, "no invalidated savepoint was tried; " + where);
        assertTrue(seen[2] > ROUNDS / 2, "too few commits wrote anything: " + seen[2] + "; " + where);
    }

    /** One round: a database with random contents, then one transaction of random steps. */
    private static final class Run {
        private final Random random;
        private final long seed;
        private final int round;
        private final int[] seen;
        private final int domain;
        /** The model: [0] the default map, [1] the named map, as the transaction sees them. */
        private final List<TreeMap<Integer, Long>> model = new ArrayList<>();
        /** The model at each live savepoint, oldest first, beside the savepoints. */
        private final List<List<TreeMap<Integer, Long>>> copies = new ArrayList<>();
        /** The keys the transaction has written in each map (a write of the committed value too). */
        private final List<TreeSet<Integer>> written = new ArrayList<>(List.of(new TreeSet<>(), new TreeSet<>()));
        /** The written keys at each live savepoint. */
        private final List<List<TreeSet<Integer>>> writtenCopies = new ArrayList<>();

        private final List<Savepoint> live = new ArrayList<>();
        private final List<Savepoint> stale = new ArrayList<>();
        private int op;

        Run(Random random, long seed, int round, int[] seen) {
            this.random = random;
            this.seed = seed;
            this.round = round;
            this.seen = seen;
            this.domain = 4 + random.nextInt(round % 4 == 0 ? 200 : 24); // some rounds pass the array tier
        }

        private String where() {
            return "seed " + seed + " (rerun with -Dvarve.seed=" + seed + "), round " + round + ", operation " + op;
        }

        void execute() {
            Isolation isolation = random.nextBoolean() ? Isolation.SERIALIZABLE : Isolation.SNAPSHOT;
            try (Database<Integer, Long> db = Database.<Integer, Long>builder().open()) {
                NamedMap<Integer, Long> named = db.openMap("named");
                model.add(new TreeMap<>());
                model.add(new TreeMap<>());
                for (int i = random.nextInt(domain); i > 0; i--) {
                    int key = random.nextInt(domain);
                    long value = random.nextInt(1000);
                    if (random.nextBoolean()) {
                        db.put(key, value);
                        model.get(0).put(key, value);
                    } else {
                        named.put(key, value);
                        model.get(1).put(key, value);
                    }
                }
                try (Transaction<Integer, Long> tx = db.begin(isolation)) {
                    List<NavigableMap<Integer, Long>> views = List.of(tx.asMap(), tx.map(named));
                    int ops = 20 + random.nextInt(120);
                    for (op = 0; op < ops; op++) {
                        step(tx, named, views);
                        for (int m = 0; m < 2; m++) {
                            assertEquals(model.get(m), new TreeMap<>(views.get(m)), "map " + m + ", " + where());
                        }
                        assertEquals(
                                written.get(0).isEmpty() && written.get(1).isEmpty(),
                                tx.isReadOnly(),
                                "isReadOnly: written " + written + ", " + where());
                    }
                    if (!tx.isReadOnly()) {
                        seen[2]++;
                    }
                    tx.commit();
                }
                try (Snapshot<Integer, Long> s = db.snapshot()) {
                    assertEquals(model.get(0), new TreeMap<>(s), "committed default map, " + where());
                    assertEquals(model.get(1), new TreeMap<>(s.map(named)), "committed named map, " + where());
                }
            }
        }

        private void step(
                Transaction<Integer, Long> tx, NamedMap<Integer, Long> named, List<NavigableMap<Integer, Long>> views) {
            int m = random.nextInt(2);
            NavigableMap<Integer, Long> view = views.get(m);
            TreeMap<Integer, Long> expected = model.get(m);
            int key = random.nextInt(domain);
            int choice = random.nextInt(100);
            if (choice < 30) {
                long value = op * 1000L + random.nextInt(1000);
                written.get(m).add(key);
                if (random.nextBoolean()) {
                    assertEquals(expected.put(key, value), view.put(key, value), "previous value, " + where());
                } else {
                    expected.put(key, value);
                    if (m == 0) {
                        tx.put(key, value);
                    } else {
                        tx.put(named, key, value);
                    }
                }
            } else if (choice < 45) {
                if (random.nextBoolean()) {
                    Long previous = expected.remove(key);
                    if (previous != null) { // the view's remove writes only a key it sees
                        written.get(m).add(key);
                    }
                    assertEquals(previous, view.remove(key), "removed value, " + where());
                } else {
                    expected.remove(key);
                    written.get(m).add(key);
                    if (m == 0) {
                        tx.remove(key);
                    } else {
                        tx.remove(named, key);
                    }
                }
            } else if (choice < 55) {
                assertEquals(expected.get(key), m == 0 ? tx.get(key) : view.get(key), "get, " + where());
            } else if (choice < 62) {
                int to = key + random.nextInt(domain);
                assertEquals(
                        new ArrayList<>(expected.subMap(key, true, to, false)
                                .descendingMap()
                                .entrySet()),
                        new ArrayList<>(view.subMap(key, true, to, false)
                                .descendingMap()
                                .entrySet()),
                        "descending sub-map, " + where());
            } else if (choice < 77) {
                live.add(tx.savepoint());
                copies.add(List.of(new TreeMap<>(model.get(0)), new TreeMap<>(model.get(1))));
                writtenCopies.add(List.of(new TreeSet<>(written.get(0)), new TreeSet<>(written.get(1))));
            } else if (choice < 95) {
                if (live.isEmpty()) {
                    return;
                }
                int target = random.nextInt(live.size());
                tx.rollbackTo(live.get(target));
                seen[0]++;
                List<Savepoint> undone = live.subList(target + 1, live.size());
                stale.addAll(undone);
                undone.clear();
                copies.subList(target + 1, copies.size()).clear();
                model.set(0, new TreeMap<>(copies.get(target).get(0)));
                model.set(1, new TreeMap<>(copies.get(target).get(1)));
                writtenCopies.subList(target + 1, writtenCopies.size()).clear();
                written.set(0, new TreeSet<>(writtenCopies.get(target).get(0)));
                written.set(1, new TreeSet<>(writtenCopies.get(target).get(1)));
            } else if (!stale.isEmpty()) {
                Savepoint sp = stale.get(random.nextInt(stale.size()));
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> tx.rollbackTo(sp), where());
                assertTrue(e.getMessage().startsWith(sp + " is no longer valid"), e.getMessage() + ", " + where());
                seen[1]++;
            }
        }
    }
}
