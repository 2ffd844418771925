// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import com.google.common.collect.testing.NavigableMapTestSuiteBuilder;
import com.google.common.collect.testing.SampleElements;
import com.google.common.collect.testing.TestSortedMapGenerator;
import com.google.common.collect.testing.features.CollectionFeature;
import com.google.common.collect.testing.features.CollectionSize;
import com.google.common.collect.testing.features.MapFeature;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.SortedMap;
import java.util.function.IntFunction;
import java.util.stream.Stream;
import junit.framework.TestSuite;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestFactory;

/**
 * guava-testlib's {@code NavigableMapTestSuiteBuilder} run against the views of a named map, as
 * {@link ConformanceTest} runs it against the default map's: {@code tx.map(handle)} merging the
 * snapshot with the write set, {@code tx.map(handle)} hiding snapshot entries with tombstones and
 * shadowing stale values, and the read-only {@code snapshot.map(handle)}. The named map has
 * another key type than the database's default map ({@code String} keys) and a custom order, in
 * two schemes: {@code Integer} keys under {@link Comparator#reverseOrder()}, and a wrapped key
 * that is not {@link Comparable} at all, ordered by a comparator on its field. Beside it, the
 * default map and a second named map with the same key type and natural ordering hold the same
 * keys with other values, and get commits after the view's snapshot: nothing of either may show
 * through the view, nor may commits made after its snapshot, nor vacuum. The wrapped-key scheme
 * doubles the case count (about 120,000 per scheme), so it runs only with {@code -Dslow}.
 */
class NamedMapConformanceTest {

    /**
     * A key that is not Comparable: only the map's comparator can order it.
     *
     * @param rank the position it sorts at
     */
    record Label(int rank) {}

    /**
     * How keys of one scheme are made from ranks: {@code key(r1)} sorts before {@code key(r2)} in
     * {@code order} exactly when {@code r1 < r2}.
     */
    private record KeyScheme<K>(String name, IntFunction<K> key, Comparator<? super K> order, IntFunction<K[]> array) {}

    /** Integer keys in descending order: the key of rank r is -r. */
    private static final KeyScheme<Integer> REVERSED_INTEGERS =
            new KeyScheme<>("Integer keys in reverse order", r -> -r, Comparator.reverseOrder(), Integer[]::new);

    /** Wrapped keys ordered by their field. */
    private static final KeyScheme<Label> LABELS =
            new KeyScheme<>("Label keys by rank", Label::new, Comparator.comparingInt(Label::rank), Label[]::new);

    /** Ranks of guava's samples, in order: e0 .. e4. */
    private static final int[] SAMPLE_RANKS = {10, 20, 30, 40, 50};

    /** Ranks of the out-of-range probes: below-lesser, below-greater, above-lesser, above-greater. */
    private static final int[] PROBE_RANKS = {-100, -90, 90, 100};

    /**
     * Ranks that sort among the samples and between them and the probes, never equal to either.
     */
    private static final int[] DECOY_RANKS = {0, 15, 25, 35, 45, 60};

    private static final String[] SAMPLE_VALUES = {"January", "February", "March", "April", "May"};

    /** A generator that opens one database per map and closes them all at tear-down. */
    private abstract static class NamedMapGenerator<K> implements TestSortedMapGenerator<K, String> {
        final KeyScheme<K> scheme;
        private final List<AutoCloseable> open = new ArrayList<>();
        /** The map whose views are tested. */
        NamedMap<K, String> map;
        /** A second named map holding the same keys with other values (natural ordering). */
        NamedMap<Integer, String> shadow;

        NamedMapGenerator(KeyScheme<K> scheme) {
            this.scheme = scheme;
        }

        /**
         * Opens a database, its tested map (with the scheme's comparator) and the shadow map, and
         * fills the default map and the shadow map with the keys of every rank used.
         */
        final Database<String, Long> openDatabase(List<Map.Entry<K, String>> entries) {
            Database<String, Long> db = Database.<String, Long>builder().open();
            open.add(db);
            shadow = db.openMap("shadow");
            map = db.openMap("tested", scheme.order());
            for (int rank : allRanks()) {
                db.put(Integer.toString(rank), (long) rank);
                shadow.put(rank, "shadow " + rank);
            }
            for (Map.Entry<K, String> e : entries) {
                shadow.put(rankOf(e.getKey()), "shadow of " + e.getValue());
            }
            return db;
        }

        final <T extends AutoCloseable> T track(T resource) {
            open.add(resource);
            return resource;
        }

        final void closeAll() {
            // Transactions and snapshots first, then their databases.
            for (int i = open.size() - 1; i >= 0; i--) {
                try {
                    open.get(i).close();
                } catch (Exception e) {
                    throw new AssertionError("closing " + open.get(i), e);
                }
            }
            open.clear();
        }

        final K key(int rank) {
            return scheme.key().apply(rank);
        }

        /** The rank of a key of this scheme (the inverse of {@link KeyScheme#key()}). */
        final int rankOf(K key) {
            return key instanceof Label label ? label.rank() : -(Integer) key;
        }

        static int[] allRanks() {
            int[] all = new int[SAMPLE_RANKS.length + PROBE_RANKS.length + DECOY_RANKS.length];
            System.arraycopy(SAMPLE_RANKS, 0, all, 0, SAMPLE_RANKS.length);
            System.arraycopy(PROBE_RANKS, 0, all, SAMPLE_RANKS.length, PROBE_RANKS.length);
            System.arraycopy(DECOY_RANKS, 0, all, SAMPLE_RANKS.length + PROBE_RANKS.length, DECOY_RANKS.length);
            return all;
        }

        /** The entries as a map would hold them: the last value for a duplicated key wins. */
        static <K> List<Map.Entry<K, String>> distinct(Object[] entries) {
            Map<K, String> m = new LinkedHashMap<>();
            for (Object o : entries) {
                @SuppressWarnings("unchecked")
                Map.Entry<K, String> e = (Map.Entry<K, String>) o;
                m.put(e.getKey(), e.getValue());
            }
            return new ArrayList<>(m.entrySet());
        }

        /**
         * Commits, after the view's snapshot, changes the view must not show: in the tested map,
         * in the shadow map and in the default map, some in autocommits, some in one transaction
         * spanning the three maps.
         */
        final void commitNoise(Database<String, Long> db, List<Map.Entry<K, String>> entries) {
            for (int rank : DECOY_RANKS) {
                map.put(key(rank), "noise");
                shadow.remove(rank);
                db.put(Integer.toString(rank), -1L);
            }
            for (Map.Entry<K, String> e : entries) {
                if (rankOf(e.getKey()) % 20 == 0) {
                    map.remove(e.getKey());
                } else {
                    map.put(e.getKey(), "noise-" + e.getValue());
                }
            }
            try (Transaction<String, Long> other = db.begin(Isolation.SNAPSHOT)) {
                NavigableMap<K, String> view = other.map(map);
                view.put(key(PROBE_RANKS[0]), "noise");
                view.put(key(PROBE_RANKS[3]), "noise");
                other.map(shadow).put(SAMPLE_RANKS[0], "noise");
                other.put("noise", 0L);
                other.commit();
            }
            db.vacuum();
        }

        /** Builds the view under test from guava's entries (duplicates possible). */
        abstract SortedMap<K, String> createView(List<Map.Entry<K, String>> entries);

        @Override
        public SortedMap<K, String> create(Object... entries) {
            return createView(distinct(entries));
        }

        @Override
        public SampleElements<Map.Entry<K, String>> samples() {
            return new SampleElements<>(
                    entry(SAMPLE_RANKS[0], SAMPLE_VALUES[0]),
                    entry(SAMPLE_RANKS[1], SAMPLE_VALUES[1]),
                    entry(SAMPLE_RANKS[2], SAMPLE_VALUES[2]),
                    entry(SAMPLE_RANKS[3], SAMPLE_VALUES[3]),
                    entry(SAMPLE_RANKS[4], SAMPLE_VALUES[4]));
        }

        private Map.Entry<K, String> entry(int rank, String value) {
            return new AbstractMap.SimpleImmutableEntry<>(key(rank), value);
        }

        @Override
        @SuppressWarnings("unchecked")
        public Map.Entry<K, String>[] createArray(int length) {
            return (Map.Entry<K, String>[]) new Map.Entry<?, ?>[length];
        }

        @Override
        public Iterable<Map.Entry<K, String>> order(List<Map.Entry<K, String>> insertionOrder) {
            List<Map.Entry<K, String>> sorted = new ArrayList<>(insertionOrder);
            sorted.sort(Map.Entry.comparingByKey(scheme.order()));
            return sorted;
        }

        @Override
        public K[] createKeyArray(int length) {
            return scheme.array().apply(length);
        }

        @Override
        public String[] createValueArray(int length) {
            return new String[length];
        }

        @Override
        public Map.Entry<K, String> belowSamplesLesser() {
            return entry(PROBE_RANKS[0], "below lesser");
        }

        @Override
        public Map.Entry<K, String> belowSamplesGreater() {
            return entry(PROBE_RANKS[1], "below greater");
        }

        @Override
        public Map.Entry<K, String> aboveSamplesLesser() {
            return entry(PROBE_RANKS[2], "above lesser");
        }

        @Override
        public Map.Entry<K, String> aboveSamplesGreater() {
            return entry(PROBE_RANKS[3], "above greater");
        }
    }

    /**
     * {@code tx.map(handle)}: every other entry committed before {@code begin}, the rest written
     * in the transaction (through the root view, a fresh view, or a sub-map view).
     */
    private static final class MergedTransactionGenerator<K> extends NamedMapGenerator<K> {
        private final Isolation isolation;

        MergedTransactionGenerator(KeyScheme<K> scheme, Isolation isolation) {
            super(scheme);
            this.isolation = isolation;
        }

        @Override
        SortedMap<K, String> createView(List<Map.Entry<K, String>> distinct) {
            Database<String, Long> db = openDatabase(distinct);
            for (int i = 0; i < distinct.size(); i += 2) {
                map.put(distinct.get(i).getKey(), distinct.get(i).getValue());
            }
            Transaction<String, Long> tx = track(db.begin(isolation));
            NavigableMap<K, String> view = tx.map(map);
            for (int i = 1; i < distinct.size(); i += 2) {
                Map.Entry<K, String> e = distinct.get(i);
                if (i % 4 == 1) {
                    view.put(e.getKey(), e.getValue());
                } else {
                    tx.map(map).tailMap(e.getKey(), true).put(e.getKey(), e.getValue());
                }
            }
            tx.map(shadow).put(DECOY_RANKS[0], "written by the transaction in another map");
            tx.put(Integer.toString(SAMPLE_RANKS[0]), 0L);
            commitNoise(db, distinct);
            return view;
        }
    }

    /**
     * {@code tx.map(handle)} over a snapshot holding decoys (removed in the transaction:
     * tombstones), stale values (overwritten in the transaction) and the true values of every
     * other entry.
     */
    private static final class TombstoneTransactionGenerator<K> extends NamedMapGenerator<K> {
        TombstoneTransactionGenerator(KeyScheme<K> scheme) {
            super(scheme);
        }

        @Override
        SortedMap<K, String> createView(List<Map.Entry<K, String>> distinct) {
            Database<String, Long> db = openDatabase(distinct);
            for (int rank : DECOY_RANKS) {
                map.put(key(rank), "decoy");
            }
            for (int i = 0; i < distinct.size(); i++) {
                Map.Entry<K, String> e = distinct.get(i);
                map.put(e.getKey(), i % 2 == 0 ? e.getValue() : "stale-" + e.getValue());
            }
            Transaction<String, Long> tx = track(db.begin(Isolation.SNAPSHOT));
            NavigableMap<K, String> view = tx.map(map);
            for (int i = 0; i < DECOY_RANKS.length; i++) {
                if (i % 2 == 0) {
                    view.remove(key(DECOY_RANKS[i]));
                } else {
                    tx.map(map).navigableKeySet().remove(key(DECOY_RANKS[i]));
                }
            }
            view.put(key(33), "written then removed");
            view.remove(key(33));
            for (int i = 1; i < distinct.size(); i += 2) {
                view.put(distinct.get(i).getKey(), distinct.get(i).getValue());
            }
            tx.map(shadow).remove(SAMPLE_RANKS[1]);
            commitNoise(db, distinct);
            return view;
        }
    }

    /** {@code snapshot.map(handle)} of a database holding the entries, taken before further commits. */
    private static final class SnapshotGenerator<K> extends NamedMapGenerator<K> {
        SnapshotGenerator(KeyScheme<K> scheme) {
            super(scheme);
        }

        @Override
        SortedMap<K, String> createView(List<Map.Entry<K, String>> distinct) {
            Database<String, Long> db = openDatabase(distinct);
            map.put(key(DECOY_RANKS[2]), "removed before the snapshot");
            try (Transaction<String, Long> tx = db.begin()) {
                for (int i = 0; i < distinct.size(); i += 2) {
                    tx.map(map).put(distinct.get(i).getKey(), distinct.get(i).getValue());
                }
                tx.put("spanning", 1L);
                tx.commit();
            }
            for (int i = 1; i < distinct.size(); i += 2) {
                map.put(distinct.get(i).getKey(), distinct.get(i).getValue());
            }
            map.remove(key(DECOY_RANKS[2]));
            Snapshot<String, Long> snapshot = track(db.snapshot());
            commitNoise(db, distinct);
            return snapshot.map(map);
        }
    }

    private static TestSuite readWriteSuite(String name, NamedMapGenerator<?> generator) {
        return NavigableMapTestSuiteBuilder.using(generator)
                .named(name)
                .withFeatures(
                        MapFeature.GENERAL_PURPOSE,
                        CollectionFeature.SUPPORTS_ITERATOR_REMOVE,
                        CollectionFeature.KNOWN_ORDER,
                        CollectionSize.ANY)
                .withTearDown(generator::closeAll)
                .createTestSuite();
    }

    private static TestSuite readOnlySuite(String name, NamedMapGenerator<?> generator) {
        return NavigableMapTestSuiteBuilder.using(generator)
                .named(name)
                .withFeatures(CollectionFeature.KNOWN_ORDER, CollectionSize.ANY)
                .withTearDown(generator::closeAll)
                .createTestSuite();
    }

    /** The suites over one key scheme: tx.map (both isolation levels, tombstones) and snapshot.map. */
    private static Stream<DynamicNode> suites(KeyScheme<?> scheme) {
        return Stream.of(
                DynamicContainer.dynamicContainer(
                        "tx.map merging snapshot and writes",
                        Stream.of(Isolation.SNAPSHOT, Isolation.SERIALIZABLE)
                                .map(isolation -> DynamicContainer.dynamicContainer(
                                        isolation.toString(),
                                        JUnit3Bridge.children(readWriteSuite(
                                                "tx.map " + isolation + " " + scheme.name(),
                                                new MergedTransactionGenerator<>(scheme, isolation)))))),
                DynamicContainer.dynamicContainer(
                        "tx.map hiding removed and shadowed entries",
                        JUnit3Bridge.children(readWriteSuite(
                                "tx.map with tombstones " + scheme.name(),
                                new TombstoneTransactionGenerator<>(scheme)))),
                DynamicContainer.dynamicContainer(
                        "snapshot.map",
                        JUnit3Bridge.children(
                                readOnlySuite("snapshot.map " + scheme.name(), new SnapshotGenerator<>(scheme)))));
    }

    @TestFactory
    Stream<DynamicNode> namedMapViewsWithIntegerKeysInReverseOrderObeyNavigableMapContract() {
        return suites(REVERSED_INTEGERS);
    }

    /** The same suites over keys that are not Comparable (as many cases again: run with -Dslow). */
    @Tag("slow")
    @TestFactory
    Stream<DynamicNode> namedMapViewsWithWrappedKeysOrderedByComparatorObeyNavigableMapContract() {
        return suites(LABELS);
    }
}
