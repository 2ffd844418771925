// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.CountingComparator;
import dev.varve.Database;
import dev.varve.Isolation;
import dev.varve.Transaction;
import dev.varve.internal.index.KeyRange;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The frozen read set against a brute-force model (any key equal, any range containing), its
 * coalesced intervals, the copy made at freeze, the conservative summary of huge read sets, and
 * a guard on the comparator calls of {@code covers}.
 */
class ReadSetTest {
    private static final Comparator<Integer> NATURAL = Comparator.naturalOrder();

    private static KeyRange<Integer> range(SplittableRandom rnd, int domain) {
        int a = rnd.nextInt(domain);
        int b = a + rnd.nextInt(Math.max(1, domain / 3));
        return new KeyRange<>(a, rnd.nextBoolean(), rnd.nextInt(8) == 0, b, rnd.nextBoolean(), rnd.nextInt(8) == 0);
    }

    /** What the read set read, by brute force over what was added. */
    private static boolean read(List<Integer> keys, List<KeyRange<Integer>> ranges, int key) {
        if (keys.contains(key)) {
            return true;
        }
        for (KeyRange<Integer> r : ranges) {
            if (r.contains(NATURAL, key)) {
                return true;
            }
        }
        return false;
    }

    /** Whether the frozen form's own keys and ranges (what the out-edge scan iterates) hold {@code key}. */
    private static boolean listed(ReadSet<Integer> rs, int key) {
        for (int i = 0; i < rs.keyCount(); i++) {
            if (rs.key(i) == key) {
                return true;
            }
        }
        for (KeyRange<Integer> r : rs.ranges()) {
            if (r.contains(NATURAL, key)) {
                return true;
            }
        }
        return false;
    }

    @Test
    void coversAgreesWithBruteForceOverRandomKeysAndRanges() {
        long seed = Long.getLong("varve.seed", System.nanoTime());
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int round = 0; round < 3000; round++) {
            int domain = 2 + rnd.nextInt(round % 3 == 0 ? 8 : 60);
            ReadSet<Integer> rs = new ReadSet<>(NATURAL);
            List<Integer> keys = new ArrayList<>();
            List<KeyRange<Integer>> ranges = new ArrayList<>();
            List<ReadSet.LiveRange<Integer>> live = new ArrayList<>();
            for (int i = rnd.nextInt(12); i > 0; i--) {
                int k = rnd.nextInt(domain);
                keys.add(k);
                rs.addKey(k);
            }
            for (int i = rnd.nextInt(round % 2 == 0 ? 6 : 40); i > 0; i--) {
                KeyRange<Integer> r = range(rnd, domain);
                ranges.add(r);
                live.add(rs.addRange(r));
            }
            rs.freeze();
            for (ReadSet.LiveRange<Integer> r : live) { // cursors keep extending their ranges after freeze
                r.lowUnbounded = true;
                r.highUnbounded = true;
            }
            rs.addKey(domain + 5); // nothing added after freeze counts (a committing transaction reads no more)
            String where = "seed " + seed + " round " + round + " keys " + keys + " ranges " + ranges + " frozen "
                    + rs.ranges();
            for (int k = -2; k <= domain + 2; k++) {
                boolean expected = read(keys, ranges, k);
                assertEquals(expected, rs.covers(k), where + " key " + k);
                assertEquals(expected, listed(rs, k), where + " key " + k + " (keys and ranges listed)");
            }
            assertDisjointAndSorted(rs, where);
        }
    }

    private static void assertDisjointAndSorted(ReadSet<Integer> rs, String where) {
        List<KeyRange<Integer>> rl = rs.ranges();
        for (int i = 0; i < rl.size(); i++) {
            assertFalse(rl.get(i).isEmpty(NATURAL), where + " empty interval " + rl.get(i));
            if (i > 0) {
                KeyRange<Integer> a = rl.get(i - 1);
                KeyRange<Integer> b = rl.get(i);
                assertFalse(a.highUnbounded() || b.lowUnbounded(), where);
                int c = a.high().compareTo(b.low());
                assertTrue(
                        c < 0 || (c == 0 && !a.highInclusive() && !b.lowInclusive()),
                        where + ": " + a + " and " + b + " overlap or touch, so they should have been coalesced");
            }
        }
        for (int i = 1; i < rs.keyCount(); i++) {
            assertTrue(rs.key(i - 1) < rs.key(i), where + " keys not sorted and distinct");
        }
    }

    @Test
    void coalescesAdjacentRangesOnlyWhenTheyShareTheBoundaryKey() {
        ReadSet<Integer> touching = new ReadSet<>(NATURAL);
        touching.addRange(new KeyRange<>(5, true, false, 9, true, false)); // [5, 9]
        touching.addRange(new KeyRange<>(1, true, false, 5, false, false)); // [1, 5)
        touching.addRange(new KeyRange<>(9, false, false, 12, false, false)); // (9, 12)
        touching.addKey(3);
        touching.addKey(12);
        touching.freeze();
        assertEquals("[[1, 12)]", touching.ranges().toString());
        assertEquals(1, touching.keyCount(), "3 is inside [1, 12): only 12 stays a key");
        assertTrue(touching.covers(5) && touching.covers(9) && touching.covers(1) && touching.covers(12));
        assertFalse(touching.covers(0) || touching.covers(13));

        ReadSet<Integer> apart = new ReadSet<>(NATURAL);
        apart.addRange(new KeyRange<>(5, false, false, 9, false, false)); // (5, 9)
        apart.addRange(new KeyRange<>(1, false, false, 5, false, false)); // (1, 5)
        apart.addRange(new KeyRange<>(null, false, true, 0, false, false)); // (-inf, 0)
        apart.addRange(new KeyRange<>(9, false, false, null, false, true)); // (9, +inf)
        apart.addRange(new KeyRange<>(7, false, false, 7, false, false)); // (7, 7): empty
        apart.freeze();
        assertEquals("[(-inf, 0), (1, 5), (5, 9), (9, +inf)]", apart.ranges().toString());
        for (int k : new int[] {0, 1, 5, 9}) {
            assertFalse(apart.covers(k), "the excluded end " + k);
        }
        for (int k : new int[] {-100, 2, 4, 6, 8, 10, 1000}) {
            assertTrue(apart.covers(k), "inside " + k);
        }
    }

    /**
     * 100 k recorded ranges (a reader's floorKey calls) and 100 k keys, then 20 k covers() calls
     * (later committers' writes): within 40 (n log2 n + q log2 n) comparator calls for n = keys +
     * ranges, freeze included; exact when never summarized, at least a superset with the default
     * bounds.
     */
    @Test
    void coversCostsLogarithmicComparisonsInTheRecordedRanges() {
        for (boolean summarized : new boolean[] {false, true}) {
            int r = 100_000;
            int q = 20_000;
            long seed = Long.getLong("varve.seed", System.nanoTime());
            SplittableRandom rnd = new SplittableRandom(seed);
            CountingComparator<Integer> cmp = new CountingComparator<>();
            ReadSet<Integer> rs = summarized ? new ReadSet<>(cmp) : new ReadSet<>(cmp, Integer.MAX_VALUE, 1);
            List<KeyRange<Integer>> ranges = new ArrayList<>();
            java.util.Set<Integer> keys = new java.util.HashSet<>();
            for (int i = 0; i < r; i++) {
                int a = rnd.nextInt(100_000_000);
                KeyRange<Integer> range =
                        new KeyRange<>(a, true, false, a + 1 + rnd.nextInt(10), rnd.nextBoolean(), false);
                ranges.add(range);
                rs.addRange(range);
                int k = rnd.nextInt(100_000_000);
                keys.add(k);
                rs.addKey(k);
            }
            long n = 2L * r;
            int log = (int) Math.ceil(Math.log(n) / Math.log(2));
            String where = (summarized ? "default" : "never summarized") + " read set (seed " + seed + ")";
            cmp.reset(
                    40L * (CountingComparator.nLogN(n) + (long) q * log),
                    "for freezing " + r + " ranges and " + r + " keys and " + q + " covers() calls, " + where);
            rs.freeze();
            int[] probes = new int[q];
            for (int i = 0; i < q; i++) {
                // Half at the boundaries of a recorded range or key, half anywhere.
                KeyRange<Integer> near = ranges.get(rnd.nextInt(r));
                probes[i] = rnd.nextBoolean() ? near.low() - 1 + rnd.nextInt(13) : rnd.nextInt(100_000_000);
                rs.covers(probes[i]);
            }
            long calls = cmp.calls();
            cmp.reset(Long.MAX_VALUE, "");
            for (int i = 0; i < 300; i++) {
                int p = probes[i];
                boolean expected = keys.contains(p);
                for (KeyRange<Integer> range : ranges) {
                    expected |= range.contains(NATURAL, p);
                }
                if (summarized) {
                    assertTrue(!expected || rs.covers(p), where + " lost probe " + p);
                } else {
                    assertEquals(expected, rs.covers(p), where + " probe " + p);
                }
            }
            System.out.printf(
                    "ReadSet (%s): %d ranges + %d keys, freeze and %d covers() calls: %d comparator calls%n",
                    summarized ? "default bounds" : "never summarized", r, r, q, calls);
        }
    }

    /**
     * A read set past the summary threshold keeps at most the target number of intervals and no
     * keys, and still covers (and lists, for the out-edge scan) every key read.
     */
    @Test
    void summaryIsBoundedAndASupersetOfWhatWasRead() {
        long seed = Long.getLong("varve.seed", System.nanoTime());
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int round = 0; round < 500; round++) {
            int domain = 2 + rnd.nextInt(200);
            int target = 1 + rnd.nextInt(6);
            int threshold = target + rnd.nextInt(10);
            ReadSet<Integer> rs = new ReadSet<>(NATURAL, threshold, target);
            List<Integer> keys = new ArrayList<>();
            List<KeyRange<Integer>> ranges = new ArrayList<>();
            for (int i = rnd.nextInt(40); i > 0; i--) {
                int k = rnd.nextInt(domain);
                keys.add(k);
                rs.addKey(k);
            }
            for (int i = rnd.nextInt(40); i > 0; i--) {
                KeyRange<Integer> r = range(rnd, domain);
                ranges.add(r);
                rs.addRange(r);
            }
            rs.freeze();
            String where = "seed " + seed + " round " + round + " keys " + keys + " ranges " + ranges + " frozen "
                    + rs.ranges() + " + " + rs.keyCount() + " keys";
            for (int k = -2; k <= domain + 2; k++) {
                if (read(keys, ranges, k)) {
                    assertTrue(rs.covers(k), where + " lost key " + k);
                    assertTrue(listed(rs, k), where + " does not list key " + k);
                }
            }
            assertDisjointAndSorted(rs, where);
            assertTrue(
                    rs.keyCount() + rs.ranges().size() <= threshold, where + ": more than the threshold " + threshold);
        }
    }

    /**
     * The price of the summary: the share of keys not read that a summarized read set still
     * covers (each a possible false rw-antidependency), for scattered point reads and for short
     * scans (floorKey-like ranges) over a domain of 10 M keys, printed for the benchmark notes.
     * Bounds scaled down 64-fold from the defaults (the same 16 items per interval).
     */
    @Test
    void measuresTheFalsePositivesOfTheSummary() {
        int domain = 10_000_000;
        int threshold = ReadSet.SUMMARY_THRESHOLD / 64;
        int target = ReadSet.SUMMARY_TARGET / 64;
        for (int reads : new int[] {10_000, 20_000, 100_000}) {
            for (boolean scans : new boolean[] {false, true}) {
                SplittableRandom rnd = new SplittableRandom(reads * 31L + (scans ? 1 : 0));
                ReadSet<Integer> exact = new ReadSet<>(NATURAL, Integer.MAX_VALUE, 1);
                ReadSet<Integer> summary = new ReadSet<>(NATURAL, threshold, target);
                for (int i = 0; i < reads; i++) {
                    int a = rnd.nextInt(domain);
                    if (scans) {
                        int b = a + rnd.nextInt(20);
                        exact.addRange(new KeyRange<>(a, true, false, b, true, false));
                        summary.addRange(new KeyRange<>(a, true, false, b, true, false));
                    } else {
                        exact.addKey(a);
                        summary.addKey(a);
                    }
                }
                exact.freeze();
                summary.freeze();
                int probes = 200_000;
                int read = 0;
                int falsePositive = 0;
                for (int i = 0; i < probes; i++) {
                    int k = rnd.nextInt(domain);
                    boolean e = exact.covers(k);
                    boolean s = summary.covers(k);
                    assertTrue(!e || s, "summary lost " + k);
                    read += e ? 1 : 0;
                    falsePositive += !e && s ? 1 : 0;
                }
                int items = exact.keyCount() + exact.ranges().size();
                boolean summarized = summary.keyCount() == 0 && summary.ranges().size() <= target;
                assertEquals(items > threshold, summarized, reads + " reads, " + items + " distinct items");
                System.out.printf(
                        "ReadSet summary (threshold %d, target %d): %,d %s over %,d keys -> %,d items -> %s;"
                                + " a random write hits a key read %.2f %%, a false positive %.2f %%%n",
                        threshold,
                        target,
                        reads,
                        scans ? "short scans" : "point reads",
                        domain,
                        items,
                        summarized ? summary.ranges().size() + " intervals" : "exact",
                        100.0 * read / probes,
                        100.0 * falsePositive / probes);
            }
        }
    }

    /**
     * The scenario of the issue through the public API: a recorded reader makes 20 k floorKey
     * calls (20 k ranges); then 50 transactions whose snapshots overlap it each read and write 5
     * keys it read (no conflict). Their commits, the test of each written key against the reader's
     * read set included, stay within 40 (log2 n + writers) comparator calls per written key.
     */
    @Test
    void commitsOverlappingAReaderOfManyRangesCostLogarithmicComparisonsPerKey() {
        int n = 40_000;
        int floorCalls = 20_000;
        int writers = 50;
        CountingComparator<Long> cmp = new CountingComparator<>();
        try (Database<Long, Long> db = Database.<Long, Long>builder(cmp).open()) {
            for (long from = 0; from < n; from += 1000) {
                try (Transaction<Long, Long> tx = db.begin()) {
                    for (long k = from; k < from + 1000; k += 2) {
                        tx.put(k, k); // even keys
                    }
                    tx.commit();
                }
            }
            List<Transaction<Long, Long>> overlapping = new ArrayList<>();
            for (int i = 0; i < writers; i++) {
                overlapping.add(db.begin(Isolation.SERIALIZABLE));
            }
            SplittableRandom rnd = new SplittableRandom(42);
            try (Transaction<Long, Long> reader = db.begin(Isolation.SERIALIZABLE)) {
                java.util.NavigableMap<Long, Long> view = reader.asMap();
                for (int i = 0; i < floorCalls; i++) {
                    view.floorKey(1L + 2 * rnd.nextInt(n / 2)); // an odd key: records [floor, key]
                }
                reader.put(-1L, 0L); // a read-write transaction: recorded for overlapping committers
                reader.commit();
            }
            int log = (int) Math.ceil(Math.log(n + floorCalls) / Math.log(2));
            // Each writer also tests its 5 keys against the read sets of the writers before it (all
            // overlap): the writers * writers term, a few comparisons per small read set.
            cmp.reset(
                    40L * writers * 5 * (log + writers),
                    "for " + writers + " commits of 5 keys overlapping a reader of " + floorCalls + " ranges");
            for (int i = 0; i < writers; i++) {
                Transaction<Long, Long> w = overlapping.get(i);
                for (int j = 0; j < 5; j++) {
                    long k = (long) (i * 5 + j) * 2;
                    w.put(k, -w.get(k) - 1); // read-modify-write: validated (a blind write would not be)
                }
                w.commit();
                w.close();
            }
            long calls = cmp.calls();
            cmp.reset(Long.MAX_VALUE, "");
            assertEquals(-1L, db.get(0L));
            assertEquals(-3L, db.get(2L));
            System.out.printf(
                    "ReadSet: %d commits of 5 keys overlapping a reader of %d floorKey ranges: %d comparator"
                            + " calls%n",
                    writers, floorCalls, calls);
        }
    }
}
