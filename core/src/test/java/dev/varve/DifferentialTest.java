// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.AbstractMap;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Randomized differential test of transactions, their {@code asMap()} views, snapshots,
 * autocommit writes and vacuum against a single-threaded reference model: a {@link TreeMap} of
 * the committed state with the commit time of each key's last write, and for every open
 * transaction a {@code TreeMap} copy of its snapshot with its own writes applied. Several
 * transactions are interleaved on one thread; commits follow first-committer-wins (a commit is
 * refused exactly when a key it wrote was committed by another transaction after its snapshot).
 *
 * <p>The seed is printed on failure with the round and operation index; rerun with {@code
 * -Dvarve.seed=<seed>}.
 */
class DifferentialTest {
    private static final int ROUNDS = 200;
    private static final int OPS = 300;
    /** Every LONG_ROUND_EVERY-th round runs LONG_OPS operations, enough for the periodic work of long runs. */
    private static final int LONG_ROUND_EVERY = 25;

    private static final int LONG_OPS = 3000;
    /** Keys are 0..KEYS-1; queries and bounds also use a few keys just outside. */
    private static final int KEYS = 41;

    private static final int MAX_OPEN_TRANSACTIONS = 5;
    private static final int MAX_OPEN_SNAPSHOTS = 3;

    @Test
    void interleavedTransactionsSnapshotsAndVacuumAgreeWithReferenceModel() {
        String property = System.getProperty("varve.seed");
        long seed = property != null ? Long.parseLong(property) : new Random().nextLong();
        Random random = new Random(seed);
        Counters counters = new Counters();
        for (int round = 0; round < ROUNDS; round++) {
            new Run(random, seed, round, counters).execute();
        }
        // The run must exercise the rules it checks, or a passing run proves nothing.
        assertTrue(counters.writeWriteConflicts > 0, "no write-write conflict happened; seed " + seed);
        assertTrue(counters.commits > ROUNDS, "too few commits; seed " + seed);
    }

    /** What a whole run exercised. */
    private static final class Counters {
        int commits;
        int writeWriteConflicts;
    }

    // ---- minimal reproductions of what the randomized run found --------------------------------

    /** MergeCursor returned a snapshot key a second time after {@code setValue} wrote it. */
    @Test
    void entryIteratorDoesNotRevisitAnEntryItUpdated() {
        try (Database<Integer, String> db = Database.<Integer, String>builder().open();
                Transaction<Integer, String> tx = beginAfter(db, 1, 2)) {
            Iterator<Map.Entry<Integer, String>> it = tx.asMap().entrySet().iterator();
            List<Integer> seen = new ArrayList<>();
            while (it.hasNext()) {
                Map.Entry<Integer, String> e = it.next();
                seen.add(e.getKey());
                e.setValue("updated");
            }
            assertEquals(List.of(1, 2), seen);
            assertEquals(Map.of(1, "updated", 2, "updated"), tx.asMap());
        }
    }

    /** An empty read-only snapshot returned null from pollFirstEntry instead of refusing. */
    @Test
    void emptySnapshotRefusesEveryWrite() {
        try (Database<Integer, String> db = Database.<Integer, String>builder().open();
                Snapshot<Integer, String> snapshot = db.snapshot()) {
            assertThrows(UnsupportedOperationException.class, snapshot::pollFirstEntry);
            assertThrows(UnsupportedOperationException.class, snapshot::pollLastEntry);
            assertThrows(
                    UnsupportedOperationException.class,
                    () -> snapshot.navigableKeySet().pollFirst());
            assertThrows(UnsupportedOperationException.class, snapshot::clear);
            assertThrows(UnsupportedOperationException.class, () -> snapshot.remove(1));
            assertThrows(
                    UnsupportedOperationException.class,
                    () -> snapshot.headMap(0).put(5, "x"));
        }
    }

    /**
     * First-committer-wins counts every key a transaction wrote, a blind remove included, and
     * vacuum never decides the outcome. Store.install drops a tombstone for a key without a chain
     * but links one onto a chain whose head is an old tombstone, so here the second commit
     * conflicts only if vacuum has not yet unlinked that chain.
     */
    @Test
    void blindRemoveConflictsWithConcurrentWriterWhetherOrNotVacuumRan() {
        for (boolean vacuum : new boolean[] {false, true}) {
            try (Database<Integer, String> db =
                    Database.<Integer, String>builder().open()) {
                db.put(7, "a");
                db.remove(7); // chain 7 now ends in a tombstone
                try (Transaction<Integer, String> remover = db.begin(Isolation.SNAPSHOT);
                        Transaction<Integer, String> writer = db.begin(Isolation.SNAPSHOT)) {
                    if (vacuum) {
                        db.vacuum(); // the tombstone is below every open snapshot: chain unlinked
                    }
                    remover.remove(7);
                    remover.commit();
                    writer.put(7, "b");
                    SerializationFailureException e = assertThrows(
                            SerializationFailureException.class,
                            writer::commit,
                            "writer of key 7 after a concurrent committed remove, vacuum=" + vacuum);
                    assertEquals(SerializationFailureException.Reason.WRITE_WRITE_CONFLICT, e.reason());
                    assertEquals(List.of(7), e.keys());
                }
            }
        }
    }

    private static Transaction<Integer, String> beginAfter(Database<Integer, String> db, int... keys) {
        for (int k : keys) {
            db.put(k, "v" + k);
        }
        return db.begin(Isolation.SNAPSHOT);
    }

    /** The model of one open transaction. */
    private static final class ModelTx {
        final int id;
        final Transaction<Integer, String> tx;
        /** The transaction's snapshot with its own writes applied. */
        final TreeMap<Integer, String> view;
        /** Model commit time of the snapshot: commits at or before it are visible. */
        final long start;
        /** Every key in the transaction's write set (a value or a tombstone). */
        final Set<Integer> written = new TreeSet<>();

        ModelTx(int id, Transaction<Integer, String> tx, TreeMap<Integer, String> view, long start) {
            this.id = id;
            this.tx = tx;
            this.view = view;
            this.start = start;
        }

        @Override
        public String toString() {
            return "tx" + id + "[" + tx.isolation() + "]";
        }
    }

    /** The model of one open snapshot. */
    private static final class ModelSnapshot {
        final int id;
        final Snapshot<Integer, String> snapshot;
        final TreeMap<Integer, String> expected;

        ModelSnapshot(int id, Snapshot<Integer, String> snapshot, TreeMap<Integer, String> expected) {
            this.id = id;
            this.snapshot = snapshot;
            this.expected = expected;
        }

        @Override
        public String toString() {
            return "snapshot" + id;
        }
    }

    /** A map view under test paired with the model's corresponding view. */
    private static final class ViewPair {
        final NavigableMap<Integer, String> actual;
        final NavigableMap<Integer, String> expected;
        final String description;

        ViewPair(NavigableMap<Integer, String> actual, NavigableMap<Integer, String> expected, String description) {
            this.actual = actual;
            this.expected = expected;
            this.description = description;
        }
    }

    /** One round: a fresh database and model, OPS random operations. */
    private static final class Run {
        private final Random random;
        private final long seed;
        private final int round;
        private final Database<Integer, String> db =
                Database.<Integer, String>builder().open();
        private final TreeMap<Integer, String> committed = new TreeMap<>();
        private final Map<Integer, Long> lastWrite = new HashMap<>();
        private long clock;
        private final List<ModelTx> transactions = new ArrayList<>();
        private final List<ModelSnapshot> snapshots = new ArrayList<>();
        private final ArrayDeque<String> history = new ArrayDeque<>();
        private int nextId;
        private int nextValue;
        private int op;
        private final Counters counters;

        Run(Random random, long seed, int round, Counters counters) {
            this.random = random;
            this.seed = seed;
            this.round = round;
            this.counters = counters;
        }

        void execute() {
            try {
                int ops = round % LONG_ROUND_EVERY == LONG_ROUND_EVERY - 1 ? LONG_OPS : OPS;
                for (op = 0; op < ops; op++) {
                    step();
                }
                checkAll();
                for (ModelTx m : new ArrayList<>(transactions)) {
                    commit(m);
                }
                checkAll();
                assertEquals(committed, snapshotContents(), "committed state after the last commit");
            } catch (Throwable t) {
                throw new AssertionError(
                        "seed " + seed + " (rerun with -Dvarve.seed=" + seed + "), round " + round + ", operation " + op
                                + ": " + t + "\nlast operations:\n  " + String.join("\n  ", history),
                        t);
            } finally {
                for (ModelSnapshot s : snapshots) {
                    s.snapshot.close();
                }
                for (ModelTx m : transactions) {
                    m.tx.close();
                }
                db.close();
            }
        }

        private void log(String what) {
            history.addLast(op + ": " + what);
            if (history.size() > 40) {
                history.removeFirst();
            }
        }

        private int key() {
            return random.nextInt(KEYS + 4) - 2;
        }

        private int storedKey() {
            return random.nextInt(KEYS);
        }

        private String value() {
            return "v" + nextValue++;
        }

        private TreeMap<Integer, String> snapshotContents() {
            try (Snapshot<Integer, String> s = db.snapshot()) {
                return new TreeMap<>(s);
            }
        }

        private void step() {
            int dice = random.nextInt(100);
            if (transactions.isEmpty() || (dice < 6 && transactions.size() < MAX_OPEN_TRANSACTIONS)) {
                begin();
                return;
            }
            ModelTx m = transactions.get(random.nextInt(transactions.size()));
            if (dice < 20) {
                pointOperation(m);
            } else if (dice < 40) {
                ViewPair v = view(m.tx.asMap(), m.view, m.toString());
                if (v != null) {
                    query(v);
                }
            } else if (dice < 55) {
                mutateThroughView(m);
            } else if (dice < 62) {
                commit(m);
            } else if (dice < 65) {
                log(m + " rollback");
                m.tx.rollback();
                transactions.remove(m);
                assertThrows(IllegalStateException.class, () -> m.tx.get(0));
            } else if (dice < 80) {
                autocommit();
            } else if (dice < 90) {
                snapshotOperation();
            } else if (dice < 95) {
                log("vacuum");
                db.vacuum();
            } else {
                checkAll();
            }
        }

        // ---- transactions --------------------------------------------------------------------

        private void begin() {
            Isolation isolation = random.nextInt(4) == 0 ? Isolation.SERIALIZABLE : Isolation.SNAPSHOT;
            ModelTx m = new ModelTx(nextId++, db.begin(isolation), new TreeMap<>(committed), clock);
            log("begin " + m + " at model time " + clock);
            transactions.add(m);
        }

        private void pointOperation(ModelTx m) {
            int k = storedKey();
            switch (random.nextInt(6)) {
                case 0:
                case 1:
                    log(m + " get " + k);
                    assertEquals(m.view.get(k), m.tx.get(k), "get " + k);
                    assertEquals(m.view.containsKey(k), m.tx.containsKey(k), "containsKey " + k);
                    break;
                case 2: {
                    String v = value();
                    log(m + " put " + k + "=" + v);
                    m.tx.put(k, v);
                    m.view.put(k, v);
                    m.written.add(k);
                    break;
                }
                case 3: {
                    log(m + " remove " + k + " (blind)");
                    m.tx.remove(k);
                    m.view.remove(k);
                    m.written.add(k);
                    break;
                }
                case 4: {
                    String v = value();
                    log(m + " asMap.put " + k + "=" + v);
                    assertEquals(m.view.put(k, v), m.tx.asMap().put(k, v), "previous value of " + k);
                    m.written.add(k);
                    break;
                }
                default: {
                    log(m + " asMap.remove " + k);
                    String previous = m.view.remove(k);
                    assertEquals(previous, m.tx.asMap().remove(k), "removed value of " + k);
                    if (previous != null) {
                        m.written.add(k);
                    }
                    break;
                }
            }
        }

        private void commit(ModelTx m) {
            transactions.remove(m);
            List<Integer> conflicts = new ArrayList<>();
            for (Integer k : m.written) {
                if (lastWrite.getOrDefault(k, -1L) > m.start) {
                    conflicts.add(k);
                }
            }
            log(m + " commit, writes " + m.written + ", expected conflicts " + conflicts);
            SerializationFailureException failure = null;
            try {
                m.tx.commit();
            } catch (SerializationFailureException e) {
                failure = e;
            }
            assertThrows(IllegalStateException.class, () -> m.tx.get(0), "get after commit");
            if (!conflicts.isEmpty()) {
                if (failure == null) {
                    fail(m + " committed although keys " + conflicts + " it wrote were committed after its snapshot");
                }
                assertEquals(
                        SerializationFailureException.Reason.WRITE_WRITE_CONFLICT,
                        failure.reason(),
                        "reason of " + failure.getMessage());
                assertEquals(conflicts, failure.keys(), "conflicting keys of " + failure.getMessage());
                counters.writeWriteConflicts++;
                return;
            }
            if (failure != null) {
                if (m.tx.isolation() == Isolation.SERIALIZABLE
                        && failure.reason() == SerializationFailureException.Reason.DANGEROUS_STRUCTURE) {
                    log(m + " aborted by SSI: " + failure.getMessage());
                    return;
                }
                throw new AssertionError(m + " refused without a write-write conflict", failure);
            }
            counters.commits++;
            if (!m.written.isEmpty()) {
                clock++;
                for (Integer k : m.written) {
                    String v = m.view.get(k);
                    if (v == null) {
                        committed.remove(k);
                    } else {
                        committed.put(k, v);
                    }
                    lastWrite.put(k, clock);
                }
            }
        }

        // ---- views ---------------------------------------------------------------------------

        /**
         * Derives the same random sub-view (0 to 2 steps of subMap/headMap/tailMap/descendingMap)
         * of both maps; returns null if both refused the bounds (after checking they agree).
         */
        private ViewPair view(
                NavigableMap<Integer, String> actual, NavigableMap<Integer, String> expected, String name) {
            String description = name;
            int steps = random.nextInt(3);
            for (int i = 0; i < steps; i++) {
                int a = key();
                int b = key();
                boolean ai = random.nextBoolean();
                boolean bi = random.nextBoolean();
                Function<NavigableMap<Integer, String>, NavigableMap<Integer, String>> derive;
                String step;
                switch (random.nextInt(4)) {
                    case 0:
                        step = ".descendingMap()";
                        derive = NavigableMap::descendingMap;
                        break;
                    case 1:
                        step = ".subMap(" + a + ", " + ai + ", " + b + ", " + bi + ")";
                        derive = map -> map.subMap(a, ai, b, bi);
                        break;
                    case 2:
                        step = ".headMap(" + b + ", " + bi + ")";
                        derive = map -> map.headMap(b, bi);
                        break;
                    default:
                        step = ".tailMap(" + a + ", " + ai + ")";
                        derive = map -> map.tailMap(a, ai);
                        break;
                }
                description += step;
                NavigableMap<Integer, String> nextActual;
                NavigableMap<Integer, String> nextExpected;
                RuntimeException actualFailure = null;
                RuntimeException expectedFailure = null;
                nextActual = null;
                nextExpected = null;
                try {
                    nextExpected = derive.apply(expected);
                } catch (RuntimeException e) {
                    expectedFailure = e;
                }
                try {
                    nextActual = derive.apply(actual);
                } catch (RuntimeException e) {
                    actualFailure = e;
                }
                sameOutcome(description, nextActual, actualFailure, nextExpected, expectedFailure, false);
                if (expectedFailure != null) {
                    log(description + " refused by both: "
                            + expectedFailure.getClass().getSimpleName());
                    return null;
                }
                actual = nextActual;
                expected = nextExpected;
            }
            return new ViewPair(actual, expected, description);
        }

        private static void sameOutcome(
                String what,
                Object actual,
                RuntimeException actualFailure,
                Object expected,
                RuntimeException expectedFailure,
                boolean compareValues) {
            if (expectedFailure != null || actualFailure != null) {
                if (expectedFailure == null) {
                    throw new AssertionError(
                            what + " threw " + actualFailure + " but the model returned " + expected, actualFailure);
                }
                if (actualFailure == null) {
                    fail(what + " returned " + actual + " but the model threw " + expectedFailure);
                }
                assertEquals(
                        expectedFailure.getClass(),
                        actualFailure.getClass(),
                        what + " threw " + actualFailure + ", the model " + expectedFailure);
                return;
            }
            if (compareValues) {
                assertEquals(expected, actual, what);
            }
        }

        /** Runs {@code call} on both views, asserting equal results or the same exception type. */
        private static <R> R same(String what, ViewPair v, Function<NavigableMap<Integer, String>, R> call) {
            R expected = null;
            R actual = null;
            RuntimeException expectedFailure = null;
            RuntimeException actualFailure = null;
            try {
                expected = call.apply(v.expected);
            } catch (RuntimeException e) {
                expectedFailure = e;
            }
            try {
                actual = call.apply(v.actual);
            } catch (RuntimeException e) {
                actualFailure = e;
            }
            sameOutcome(v.description + what, actual, actualFailure, expected, expectedFailure, true);
            return actual;
        }

        private static List<Map.Entry<Integer, String>> entries(Iterable<Map.Entry<Integer, String>> entries) {
            List<Map.Entry<Integer, String>> list = new ArrayList<>();
            for (Map.Entry<Integer, String> e : entries) {
                list.add(new AbstractMap.SimpleImmutableEntry<>(e));
            }
            return list;
        }

        private static Map.Entry<Integer, String> copy(Map.Entry<Integer, String> e) {
            return e == null ? null : new AbstractMap.SimpleImmutableEntry<>(e);
        }

        /** A random read of {@code v}, compared with the model. */
        private void query(ViewPair v) {
            int k = key();
            int which = random.nextInt(16);
            log(v.description + " query " + which + " key " + k);
            switch (which) {
                case 0:
                    same(".ceilingEntry(" + k + ")", v, m -> copy(m.ceilingEntry(k)));
                    same(".ceilingKey(" + k + ")", v, m -> m.ceilingKey(k));
                    break;
                case 1:
                    same(".floorEntry(" + k + ")", v, m -> copy(m.floorEntry(k)));
                    same(".floorKey(" + k + ")", v, m -> m.floorKey(k));
                    break;
                case 2:
                    same(".higherEntry(" + k + ")", v, m -> copy(m.higherEntry(k)));
                    same(".higherKey(" + k + ")", v, m -> m.higherKey(k));
                    break;
                case 3:
                    same(".lowerEntry(" + k + ")", v, m -> copy(m.lowerEntry(k)));
                    same(".lowerKey(" + k + ")", v, m -> m.lowerKey(k));
                    break;
                case 4:
                    same(".firstEntry()", v, m -> copy(m.firstEntry()));
                    same(".firstKey()", v, NavigableMap::firstKey);
                    break;
                case 5:
                    same(".lastEntry()", v, m -> copy(m.lastEntry()));
                    same(".lastKey()", v, NavigableMap::lastKey);
                    break;
                case 6:
                    same(".get(" + k + ")", v, m -> m.get(k));
                    same(".containsKey(" + k + ")", v, m -> m.containsKey(k));
                    same(
                            ".entrySet().contains(" + k + ")",
                            v,
                            m -> m.entrySet().contains(new AbstractMap.SimpleImmutableEntry<>(k, m.get(k))));
                    break;
                case 7:
                    same(".size()", v, Map::size);
                    same(".isEmpty()", v, Map::isEmpty);
                    break;
                case 8:
                    same(".entrySet()", v, m -> entries(m.entrySet()));
                    break;
                case 9:
                    same(
                            ".descendingMap().entrySet()",
                            v,
                            m -> entries(m.descendingMap().entrySet()));
                    break;
                case 10:
                    same(".keySet()", v, m -> new ArrayList<>(m.keySet()));
                    same(".descendingKeySet()", v, m -> new ArrayList<>(m.descendingKeySet()));
                    break;
                case 11:
                    same(
                            ".navigableKeySet().headSet(" + k + ", true)",
                            v,
                            m -> new ArrayList<>(m.navigableKeySet().headSet(k, true)));
                    same(
                            ".navigableKeySet().tailSet(" + k + ", false)",
                            v,
                            m -> new ArrayList<>(m.navigableKeySet().tailSet(k, false)));
                    break;
                case 12:
                    same(".values()", v, m -> new ArrayList<>(m.values()));
                    break;
                case 13:
                    same(
                            ".equals(model), hashCode",
                            v,
                            m -> m.equals(v.expected) && m.hashCode() == v.expected.hashCode());
                    break;
                case 14:
                    same(
                            ".headMap(" + k + ").entrySet()",
                            v,
                            m -> entries(m.headMap(k).entrySet()));
                    same(
                            ".tailMap(" + k + ").entrySet()",
                            v,
                            m -> entries(m.tailMap(k).entrySet()));
                    break;
                default:
                    same(
                            ".subMap(" + k + ", " + (k + 5) + ").entrySet()",
                            v,
                            m -> entries(m.subMap(k, k + 5).entrySet()));
                    break;
            }
        }

        /** A random write through a (sub-)view of the transaction's map. */
        private void mutateThroughView(ModelTx m) {
            ViewPair v = view(m.tx.asMap(), m.view, m.toString());
            if (v == null) {
                return;
            }
            TreeMap<Integer, String> before = new TreeMap<>(m.view);
            int k = key();
            int which = random.nextInt(8);
            log(v.description + " mutation " + which + " key " + k);
            switch (which) {
                case 0: {
                    String value = value();
                    same(".put(" + k + ", " + value + ")", v, map -> map.put(k, value));
                    break;
                }
                case 1:
                    same(".remove(" + k + ")", v, map -> map.remove(k));
                    break;
                case 2:
                    same(".pollFirstEntry()", v, map -> copy(map.pollFirstEntry()));
                    break;
                case 3:
                    same(".pollLastEntry()", v, map -> copy(map.pollLastEntry()));
                    break;
                case 4:
                case 5:
                    iterateAndModify(v, which == 5);
                    break;
                case 6:
                    same(
                            ".navigableKeySet().pollFirst()",
                            v,
                            map -> map.navigableKeySet().pollFirst());
                    break;
                default:
                    if (v.expected.size() <= 6) {
                        same(".clear()", v, map -> {
                            map.clear();
                            return map.size();
                        });
                    } else {
                        same(
                                ".entrySet().remove(entry " + k + ")",
                                v,
                                map -> map.entrySet().remove(new AbstractMap.SimpleImmutableEntry<>(k, "v" + k)));
                    }
                    break;
            }
            Set<Integer> keys = new TreeSet<>(before.keySet());
            keys.addAll(m.view.keySet());
            for (Integer key : keys) {
                if (!Objects.equals(before.get(key), m.view.get(key))) {
                    m.written.add(key);
                }
            }
            same(" after mutation: entrySet()", v, map -> entries(map.entrySet()));
        }

        /** Walks both iterators in step, removing or updating random entries through them. */
        private void iterateAndModify(ViewPair v, boolean keySet) {
            Iterator<Map.Entry<Integer, String>> actual = v.actual.entrySet().iterator();
            Iterator<Map.Entry<Integer, String>> expected =
                    v.expected.entrySet().iterator();
            Iterator<Integer> actualKeys = v.actual.keySet().iterator();
            Iterator<Integer> expectedKeys = v.expected.keySet().iterator();
            int position = 0;
            while (true) {
                boolean hasNext = keySet ? expectedKeys.hasNext() : expected.hasNext();
                assertEquals(
                        hasNext,
                        keySet ? actualKeys.hasNext() : actual.hasNext(),
                        v.description + " iterator hasNext at " + position);
                if (!hasNext) {
                    assertThrows(java.util.NoSuchElementException.class, keySet ? actualKeys::next : actual::next);
                    return;
                }
                int dice = random.nextInt(10);
                if (keySet) {
                    Integer e = expectedKeys.next();
                    assertEquals(e, actualKeys.next(), v.description + " keySet iterator at " + position);
                    if (dice < 3) {
                        expectedKeys.remove();
                        actualKeys.remove();
                        assertThrows(IllegalStateException.class, actualKeys::remove, "second remove");
                    }
                } else {
                    Map.Entry<Integer, String> e = expected.next();
                    Map.Entry<Integer, String> a = actual.next();
                    assertEquals(e, a, v.description + " entry iterator at " + position);
                    if (dice < 3) {
                        expected.remove();
                        actual.remove();
                    } else if (dice < 5) {
                        String value = value();
                        assertEquals(e.setValue(value), a.setValue(value), "setValue at " + e.getKey());
                        assertEquals(e, a, "entry after setValue");
                    }
                }
                position++;
            }
        }

        // ---- autocommit ----------------------------------------------------------------------

        private void autocommit() {
            int k = storedKey();
            String value = value();
            String current = committed.get(k);
            int which = random.nextInt(7);
            log("autocommit " + which + " key " + k + " value " + value + " (committed " + current + ")");
            String written; // the new committed value, or null if nothing is written
            boolean removes = false;
            switch (which) {
                case 0:
                    assertEquals(current, db.get(k), "db.get " + k);
                    assertEquals(current != null, db.containsKey(k), "db.containsKey " + k);
                    return;
                case 1:
                    assertEquals(current, db.put(k, value), "db.put " + k);
                    written = value;
                    break;
                case 2:
                    assertEquals(current, db.remove(k), "db.remove " + k);
                    written = null;
                    removes = current != null;
                    break;
                case 3:
                    assertEquals(current, db.putIfAbsent(k, value), "db.putIfAbsent " + k);
                    written = current == null ? value : null;
                    break;
                case 4:
                    assertEquals(current, db.replace(k, value), "db.replace " + k);
                    written = current == null ? null : value;
                    break;
                case 5: {
                    String expected = random.nextBoolean() && current != null ? current : "v" + k;
                    boolean replaced = expected.equals(current);
                    assertEquals(replaced, db.replace(k, expected, value), "db.replace(k, expected, new) " + k);
                    written = replaced ? value : null;
                    break;
                }
                default: {
                    String expected = random.nextBoolean() && current != null ? current : "v" + k;
                    boolean remove = expected.equals(current);
                    assertEquals(remove, db.remove(k, expected), "db.remove(k, expected) " + k);
                    written = null;
                    removes = remove;
                    break;
                }
            }
            if (written != null || removes) {
                clock++;
                lastWrite.put(k, clock);
                if (removes) {
                    committed.remove(k);
                } else {
                    committed.put(k, written);
                }
            }
        }

        // ---- snapshots -----------------------------------------------------------------------

        private void snapshotOperation() {
            int dice = random.nextInt(10);
            if (snapshots.isEmpty() || (dice < 3 && snapshots.size() < MAX_OPEN_SNAPSHOTS)) {
                ModelSnapshot s = new ModelSnapshot(nextId++, db.snapshot(), new TreeMap<>(committed));
                log("open " + s);
                snapshots.add(s);
                assertEquals(s.expected, s.snapshot, s + " when taken");
                return;
            }
            ModelSnapshot s = snapshots.get(random.nextInt(snapshots.size()));
            if (dice < 5) {
                log("close " + s);
                snapshots.remove(s);
                s.snapshot.close();
                assertThrows(IllegalStateException.class, () -> s.snapshot.get(0), "read after close");
                s.snapshot.close(); // idempotent
            } else if (dice < 6) {
                log(s + " writes refused");
                int k = storedKey();
                assertThrows(UnsupportedOperationException.class, () -> s.snapshot.put(k, "x"));
                assertThrows(UnsupportedOperationException.class, () -> s.snapshot.remove(k));
                assertThrows(UnsupportedOperationException.class, s.snapshot::pollFirstEntry);
                assertThrows(UnsupportedOperationException.class, s.snapshot::clear);
                Iterator<Map.Entry<Integer, String>> it = s.snapshot.entrySet().iterator();
                if (it.hasNext()) {
                    Map.Entry<Integer, String> e = it.next();
                    assertThrows(UnsupportedOperationException.class, it::remove);
                    assertThrows(UnsupportedOperationException.class, () -> e.setValue("x"));
                }
            } else {
                ViewPair v = view(s.snapshot, s.expected, s.toString());
                if (v != null) {
                    query(v);
                }
            }
        }

        // ---- full comparison -----------------------------------------------------------------

        private void checkAll() {
            log("check all");
            for (ModelTx m : transactions) {
                assertEquals(entries(m.view.entrySet()), entries(m.tx.asMap().entrySet()), m + " contents");
                assertEquals(
                        entries(m.view.descendingMap().entrySet()),
                        entries(m.tx.asMap().descendingMap().entrySet()),
                        m + " descending contents");
                assertEquals(m.view.size(), m.tx.asMap().size(), m + " size");
            }
            for (ModelSnapshot s : snapshots) {
                assertEquals(entries(s.expected.entrySet()), entries(s.snapshot.entrySet()), s + " contents");
            }
            for (int k = 0; k < KEYS; k++) {
                assertEquals(committed.get(k), db.get(k), "db.get " + k);
            }
            assertTrue(db.stats().openSnapshots() >= snapshots.size(), "open snapshots are counted");
        }
    }
}
