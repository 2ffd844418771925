// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.internal.mvcc.Store;
import java.lang.reflect.Field;
import java.util.concurrent.ConcurrentSkipListMap;
import org.junit.jupiter.api.Test;
import org.openjdk.jol.info.GraphLayout;

/**
 * Heap bytes per entry of {@code Long -> Long} entries with one version each, measured with JOL
 * against a {@link ConcurrentSkipListMap} holding the same data (same key and value objects
 * excluded from neither side). Target (issue: memory that stays bounded): at most 1.5x the
 * skiplist's bytes per entry. {@code -Dvarve.footprint.entries=1000000} for the BENCHMARKS.md
 * figure.
 */
class FootprintTest {
    private static final int ENTRIES = Integer.getInteger("varve.footprint.entries", 100_000);

    private static Object storeOf(Database<?, ?> db) throws ReflectiveOperationException {
        Field f = Database.class.getDeclaredField("store");
        f.setAccessible(true);
        return ((Store<?, ?>) f.get(db)).index();
    }

    @Test
    void bytesPerEntryStayWithinOneAndAHalfTimesTheSkipList() throws Exception {
        ConcurrentSkipListMap<Long, Long> baseline = new ConcurrentSkipListMap<>();
        try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
            for (long i = 0; i < ENTRIES; i += 1000) {
                long end = Math.min(ENTRIES, i + 1000);
                long from = i;
                db.transact(
                        Isolation.SNAPSHOT,
                        tx -> { // bulk load, 1,000 puts per transaction
                            for (long k = from; k < end; k++) {
                                tx.put(k, k);
                            }
                            return null;
                        });
            }
            for (long k = 0; k < ENTRIES; k++) {
                baseline.put(k, k);
            }
            long freshBytes = GraphLayout.parseInstance(storeOf(db)).totalSize();
            db.vacuum(); // settles every key: no snapshot is open
            long settledBytes = GraphLayout.parseInstance(storeOf(db)).totalSize();
            long baselineBytes = GraphLayout.parseInstance(baseline).totalSize();
            double fresh = freshBytes / (double) ENTRIES;
            double settled = settledBytes / (double) ENTRIES;
            double base = baselineBytes / (double) ENTRIES;
            System.out.printf(
                    "footprint, %d Long->Long entries: ConcurrentSkipListMap %.1f B/entry;"
                            + " Varve just committed %.1f B/entry (%.2fx), after vacuum %.1f B/entry (%.2fx)%n",
                    ENTRIES, base, fresh, fresh / base, settled, settled / base);
            assertEquals(ENTRIES, db.snapshot().size());
            assertTrue(fresh <= 1.5 * base, "fresh versions: " + fresh + " vs " + base);
            // Settled, an entry costs what the skip list's own entry costs plus the abbreviated
            // sort keys (8 B per node and per index node, fewer index nodes): about 1.08x. A
            // vacuum that settled nothing would leave the fresh figure.
            assertTrue(settled <= 1.12 * base, "settled values: " + settled + " vs " + base);
        }
    }
}
