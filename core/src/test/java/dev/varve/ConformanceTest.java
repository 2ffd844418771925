// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import com.google.common.collect.testing.NavigableMapTestSuiteBuilder;
import com.google.common.collect.testing.TestStringSortedMapGenerator;
import com.google.common.collect.testing.features.CollectionFeature;
import com.google.common.collect.testing.features.CollectionSize;
import com.google.common.collect.testing.features.MapFeature;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.stream.Stream;
import junit.framework.TestSuite;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;

/**
 * guava-testlib's {@code NavigableMapTestSuiteBuilder} (with its derived sub-map, descending,
 * key-set and entry-set suites) run against every map view Varve hands out: {@code tx.asMap()}
 * where the entries come partly from the snapshot and partly from the write set, {@code
 * tx.asMap()} whose write set hides snapshot entries with tombstones and shadows stale values,
 * and the read-only {@code db.snapshot()}. Commits made after the view's snapshot, and vacuum,
 * must not show through any of them.
 */
class ConformanceTest {

    /**
     * Keys that sort among guava's string samples ("five" &lt; "four" &lt; "one" &lt; "three" &lt;
     * "two") and between them and the out-of-range probes ("!! a", "~~ a"), never equal to either.
     */
    private static final List<String> DECOYS = List.of("e", "fo", "n", "p", "thx", "u");

    /** A generator that opens one database per map and closes them all at tear-down. */
    private abstract static class VarveGenerator extends TestStringSortedMapGenerator {
        private final List<AutoCloseable> open = new ArrayList<>();

        final Database<String, String> openDatabase() {
            Database<String, String> db = Database.<String, String>builder().open();
            open.add(db);
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

        /** The entries as a map would hold them: the last value for a duplicated key wins. */
        static List<Map.Entry<String, String>> distinct(Map.Entry<String, String>[] entries) {
            Map<String, String> m = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : entries) {
                m.put(e.getKey(), e.getValue());
            }
            return new ArrayList<>(m.entrySet());
        }

        /** Commits, after the view's snapshot, changes the view must not show. */
        static void commitNoise(Database<String, String> db, List<Map.Entry<String, String>> entries) {
            for (String decoy : DECOYS) {
                db.put(decoy, "noise");
            }
            for (Map.Entry<String, String> e : entries) {
                if (e.getKey().hashCode() % 2 == 0) {
                    db.remove(e.getKey());
                } else {
                    db.put(e.getKey(), "noise-" + e.getValue());
                }
            }
            try (Transaction<String, String> other = db.begin(Isolation.SNAPSHOT)) {
                other.put("!! a", "noise");
                other.put("~~ b", "noise");
                other.commit();
            }
            db.vacuum();
        }
    }

    /** {@code tx.asMap()}: every other entry committed before {@code begin}, the rest written in the transaction. */
    private static final class MergedTransactionGenerator extends VarveGenerator {
        private final Isolation isolation;

        MergedTransactionGenerator(Isolation isolation) {
            this.isolation = isolation;
        }

        @Override
        protected SortedMap<String, String> create(Map.Entry<String, String>[] entries) {
            List<Map.Entry<String, String>> distinct = distinct(entries);
            Database<String, String> db = openDatabase();
            for (int i = 0; i < distinct.size(); i += 2) {
                db.put(distinct.get(i).getKey(), distinct.get(i).getValue());
            }
            Transaction<String, String> tx = track(db.begin(isolation));
            for (int i = 1; i < distinct.size(); i += 2) {
                Map.Entry<String, String> e = distinct.get(i);
                if (i % 4 == 1) {
                    tx.put(e.getKey(), e.getValue());
                } else {
                    tx.asMap().put(e.getKey(), e.getValue());
                }
            }
            commitNoise(db, distinct);
            return tx.asMap();
        }
    }

    /**
     * {@code tx.asMap()} over a snapshot holding decoys (removed in the transaction: tombstones),
     * stale values (overwritten in the transaction) and the true values of every other entry.
     */
    private static final class TombstoneTransactionGenerator extends VarveGenerator {
        @Override
        protected SortedMap<String, String> create(Map.Entry<String, String>[] entries) {
            List<Map.Entry<String, String>> distinct = distinct(entries);
            Database<String, String> db = openDatabase();
            for (String decoy : DECOYS) {
                db.put(decoy, "decoy");
            }
            for (int i = 0; i < distinct.size(); i++) {
                Map.Entry<String, String> e = distinct.get(i);
                db.put(e.getKey(), i % 2 == 0 ? e.getValue() : "stale-" + e.getValue());
            }
            Transaction<String, String> tx = track(db.begin(Isolation.SNAPSHOT));
            for (int i = 0; i < DECOYS.size(); i++) {
                if (i % 2 == 0) {
                    tx.remove(DECOYS.get(i));
                } else {
                    tx.asMap().remove(DECOYS.get(i));
                }
            }
            tx.put("q", "written then removed");
            tx.remove("q");
            for (int i = 1; i < distinct.size(); i += 2) {
                tx.put(distinct.get(i).getKey(), distinct.get(i).getValue());
            }
            commitNoise(db, distinct);
            return tx.asMap();
        }
    }

    /** {@code db.snapshot()} of a database holding the entries, taken before further commits. */
    private static final class SnapshotGenerator extends VarveGenerator {
        @Override
        protected SortedMap<String, String> create(Map.Entry<String, String>[] entries) {
            List<Map.Entry<String, String>> distinct = distinct(entries);
            Database<String, String> db = openDatabase();
            db.put("n", "removed before the snapshot");
            try (Transaction<String, String> tx = db.begin()) {
                for (int i = 0; i < distinct.size(); i += 2) {
                    tx.put(distinct.get(i).getKey(), distinct.get(i).getValue());
                }
                tx.commit();
            }
            for (int i = 1; i < distinct.size(); i += 2) {
                db.put(distinct.get(i).getKey(), distinct.get(i).getValue());
            }
            db.remove("n");
            Snapshot<String, String> snapshot = track(db.snapshot());
            commitNoise(db, distinct);
            return snapshot;
        }
    }

    private static TestSuite readWriteSuite(String name, VarveGenerator generator) {
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

    private static TestSuite readOnlySuite(String name, VarveGenerator generator) {
        return NavigableMapTestSuiteBuilder.using(generator)
                .named(name)
                .withFeatures(CollectionFeature.KNOWN_ORDER, CollectionSize.ANY)
                .withTearDown(generator::closeAll)
                .createTestSuite();
    }

    @TestFactory
    Stream<DynamicNode> transactionMapMergingSnapshotAndWritesObeysNavigableMapContract() {
        return Stream.of(Isolation.SNAPSHOT, Isolation.SERIALIZABLE)
                .map(isolation -> DynamicContainer.dynamicContainer(
                        isolation.toString(),
                        JUnit3Bridge.children(
                                readWriteSuite("tx.asMap " + isolation, new MergedTransactionGenerator(isolation)))));
    }

    @TestFactory
    Stream<DynamicNode> transactionMapHidingRemovedAndShadowedEntriesObeysNavigableMapContract() {
        return JUnit3Bridge.children(readWriteSuite("tx.asMap with tombstones", new TombstoneTransactionGenerator()));
    }

    @TestFactory
    Stream<DynamicNode> snapshotObeysReadOnlyNavigableMapContract() {
        return JUnit3Bridge.children(readOnlySuite("db.snapshot", new SnapshotGenerator()));
    }
}
