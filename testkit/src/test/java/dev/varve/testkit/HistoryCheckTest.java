// SPDX-License-Identifier: Apache-2.0
package dev.varve.testkit;

import static dev.varve.testkit.TxnRecord.INITIAL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Hand-built histories, one per kind of dependency and phenomenon, each next to a serializable
 * variant of itself, and the malformed histories the checker refuses.
 */
class HistoryCheckTest {

    private static CheckResult check(TxnRecord... txns) {
        History h = new History();
        for (TxnRecord t : txns) {
            h.add(t);
        }
        return h.check();
    }

    private static void assertCycle(CheckResult r, String cycleText, String phenomenon) {
        assertFalse(r.serializable(), r::toString);
        assertEquals(cycleText, r.cycleText(), r::toString);
        assertEquals(phenomenon, r.cyclePhenomenon(), r::toString);
    }

    // ---- one kind of edge each ------------------------------------------------------------------

    @Test
    void lostUpdateIsAWriteDependencyAndAnAntiDependency() {
        // Both read x's initial version and write x: T2 overwrites T1 without having seen it.
        CheckResult r = check(
                TxnRecord.committed(1, 1, 2).read("x", INITIAL).write("x").build(),
                TxnRecord.committed(2, 1, 3).read("x", INITIAL).write("x").build());
        assertCycle(r, "T1 -ww(key x)-> T2 -rw(key x)-> T1", "G-single");
        assertEquals(Dependency.Kind.WW, r.cycle().get(0).kind());

        // T2 read T1's version: the serial order T1, T2.
        assertTrue(check(
                        TxnRecord.committed(1, 1, 2)
                                .read("x", INITIAL)
                                .write("x")
                                .build(),
                        TxnRecord.committed(2, 2, 3).read("x", 1).write("x").build())
                .serializable());
    }

    @Test
    void readSkewIsAReadDependencyAndAnAntiDependency() {
        // T1 writes x and y; T2 sees T1's x but the initial y.
        CheckResult r = check(
                TxnRecord.committed(1, 1, 2).write("x").write("y").build(),
                TxnRecord.committed(2, 2, 2).read("x", 1).read("y", INITIAL).build());
        assertCycle(r, "T1 -wr(key x)-> T2 -rw(key y)-> T1", "G-single");

        assertTrue(check(
                        TxnRecord.committed(1, 1, 2).write("x").write("y").build(),
                        TxnRecord.committed(2, 2, 2).read("x", 1).read("y", 1).build())
                .serializable());
    }

    @Test
    void writeSkewIsTwoAntiDependencies() {
        CheckResult r = check(
                TxnRecord.committed(1, 1, 2)
                        .read("x", INITIAL)
                        .read("y", INITIAL)
                        .write("x")
                        .build(),
                TxnRecord.committed(2, 1, 3)
                        .read("x", INITIAL)
                        .read("y", INITIAL)
                        .write("y")
                        .build());
        assertCycle(r, "T1 -rw(key y)-> T2 -rw(key x)-> T1", "G2-item");
        assertTrue(
                r.toString()
                        .startsWith("not serializable: a cycle of 2 transactions (G2-item: a cycle of item"
                                + " anti-dependencies)\n  T1 -rw(key y)-> T2 -rw(key x)-> T1\n"
                                + "  T1 (snapshot 1, commit 2): read key x initial, read key y initial, write key x\n"
                                + "  T2 (snapshot 1, commit 3): read key x initial, read key y initial, write key y"),
                r::toString);

        // T2 started after T1 committed and saw its x.
        assertTrue(check(
                        TxnRecord.committed(1, 1, 2)
                                .read("x", INITIAL)
                                .read("y", INITIAL)
                                .write("x")
                                .build(),
                        TxnRecord.committed(2, 2, 3)
                                .read("x", 1)
                                .read("y", INITIAL)
                                .write("y")
                                .build())
                .serializable());
    }

    @Test
    void phantomIsAPredicateAntiDependencyCycle() {
        // Each scans [0, 10), finds it empty, and inserts a key into it.
        CheckResult r = check(
                TxnRecord.committed(1, 1, 2).scan(0, 10).write(3).build(),
                TxnRecord.committed(2, 1, 3).scan(0, 10).write(7).build());
        assertCycle(r, "T1 -predicate rw(key 7, scan [0, 10))-> T2 -predicate rw(key 3, scan [0, 10))-> T1", "G2");
        assertEquals("scan [0, 10)", r.cycle().get(0).predicate());

        // T2's snapshot holds T1's insert, which it returned (so read).
        assertTrue(check(
                        TxnRecord.committed(1, 1, 2).scan(0, 10).write(3).build(),
                        TxnRecord.committed(2, 2, 3)
                                .scan(0, 10)
                                .read(3, 1)
                                .write(7)
                                .build())
                .serializable());
        // Disjoint ranges: no phantom.
        assertTrue(check(
                        TxnRecord.committed(1, 1, 2).scan(0, 5).write(3).build(),
                        TxnRecord.committed(2, 1, 3).scan(5, 10).write(7).build())
                .serializable());
    }

    @Test
    void absentReadsAreSingleKeyPredicates() {
        // Write skew over keys that do not exist yet: each finds the other's key absent.
        CheckResult r = check(
                TxnRecord.committed(1, 1, 2).readAbsent("y").write("x").build(),
                TxnRecord.committed(2, 1, 3).readAbsent("x").write("y").build());
        assertCycle(r, "T1 -predicate rw(key y, read absent)-> T2 -predicate rw(key x, read absent)-> T1", "G2");
    }

    @Test
    void aRemovalSeenAsAbsenceIsAPredicateReadDependency() {
        // T1 removes x and writes y; T2 (snapshot after T1) finds x absent, yet reads y's initial version.
        CheckResult r = check(
                TxnRecord.committed(1, 1, 2).remove("x").write("y").build(),
                TxnRecord.committed(2, 2, 2).readAbsent("x").read("y", INITIAL).build());
        assertCycle(r, "T1 -predicate wr(key x, read absent)-> T2 -rw(key y)-> T1", "G-single");

        assertTrue(check(
                        TxnRecord.committed(1, 1, 2).remove("x").write("y").build(),
                        TxnRecord.committed(2, 2, 2)
                                .readAbsent("x")
                                .read("y", 1)
                                .build())
                .serializable());
    }

    @Test
    void aRemovalOfAnAbsentKeyChangesNoPredicate() {
        // T1 finds k absent and writes j; T2 read j's initial version and "removes" k, which was
        // already absent. T2 then T1 is a serial order (k is absent either way), so no cycle,
        // though an item-read reading of T1's absent read would draw T1 -rw-> T2.
        CheckResult r = check(
                TxnRecord.committed(1, 1, 3).readAbsent("k").write("j").build(),
                TxnRecord.committed(2, 1, 2).read("j", INITIAL).remove("k").build());
        assertTrue(r.serializable(), r::toString);

        // A removal of a present key does change it: T1 -predicate rw-> T2 would close a cycle.
        CheckResult present = check(
                TxnRecord.committed(1, 1, 3).readAbsent("k").write("j").build(),
                TxnRecord.committed(2, 1, 2).read("j", INITIAL).write("k").build());
        assertCycle(present, "T1 -predicate rw(key k, read absent)-> T2 -rw(key j)-> T1", "G2");
    }

    @Test
    void scansFollowTheirMapsOrder() {
        Comparator<Integer> reverse = Comparator.reverseOrder();
        // In reverse order, [9, 3) holds 9 down to 4.
        CheckResult r = check(
                TxnRecord.committed(1, 1, 2)
                        .scan("m", 9, 3, reverse)
                        .write("m", 5)
                        .build(),
                TxnRecord.committed(2, 1, 3)
                        .scan("m", 9, 3, reverse)
                        .write("m", 4)
                        .build());
        assertCycle(
                r,
                "T1 -predicate rw(key 4 in m, scan [9, 3) in m)-> T2 -predicate rw(key 5 in m, scan [9, 3) in m)-> T1",
                "G2");
        assertTrue(check(
                        TxnRecord.committed(1, 1, 2)
                                .scan("m", 9, 3, reverse)
                                .write("m", 5)
                                .build(),
                        TxnRecord.committed(2, 1, 3)
                                .scan("m", 9, 3, reverse)
                                .write("m", 3)
                                .build())
                .serializable());
    }

    @Test
    void openScanBoundsCoverEveryKey() {
        CheckResult r = check(
                TxnRecord.committed(1, 1, 2).scan(null, 5).write(100).build(),
                TxnRecord.committed(2, 1, 3).scan(50, null).write(-100).build());
        assertCycle(
                r,
                "T1 -predicate rw(key -100, scan [start, 5))-> T2 -predicate rw(key 100, scan [50, end))-> T1",
                "G2");
    }

    @Test
    void keysAreQualifiedByTheirMap() {
        // The same key in two maps is two keys: no conflict.
        assertTrue(check(
                        TxnRecord.committed(1, 1, 2)
                                .read("a", 7, INITIAL)
                                .write("b", 7)
                                .build(),
                        TxnRecord.committed(2, 1, 3)
                                .read("b", 7, INITIAL)
                                .write("a", 8)
                                .build())
                .serializable());
        // Write skew across two maps.
        CheckResult r = check(
                TxnRecord.committed(1, 1, 2).read("a", 7, INITIAL).write("b", 7).build(),
                TxnRecord.committed(2, 1, 3).read("b", 7, INITIAL).write("a", 7).build());
        assertCycle(r, "T1 -rw(key 7 in a)-> T2 -rw(key 7 in b)-> T1", "G2-item");
    }

    @Test
    void ownReadsAddNoDependency() {
        // T2 reads x after writing it (its own write), then its own write's writer is itself.
        assertTrue(check(
                        TxnRecord.committed(1, 1, 2).write("x").build(),
                        TxnRecord.committed(2, 1, 3)
                                .write("x")
                                .read("x", INITIAL)
                                .read("x", 2)
                                .readAbsent("x")
                                .build())
                .serializable());
        // A scan after the scanner's own insert does not see that key as a phantom.
        assertTrue(check(
                        TxnRecord.committed(1, 1, 2).write(3).scan(0, 10).build(),
                        TxnRecord.committed(2, 2, 3).read(3, 1).write(3).build())
                .serializable());
    }

    @Test
    void aReadOfAnAbortedWriteIsG1a() {
        CheckResult r = check(
                TxnRecord.aborted(1, 1).write("x").build(),
                TxnRecord.committed(2, 1, 2).read("x", 1).build());
        assertFalse(r.serializable());
        assertTrue(r.cycle().isEmpty());
        assertEquals(1, r.anomalies().size());
        Anomaly a = r.anomalies().get(0);
        assertEquals(Anomaly.Kind.ABORTED_READ, a.kind());
        assertEquals("G1a (aborted read): T2 read key x as written by T1 (snapshot 1, aborted)", a.toString());
        assertEquals(
                "not serializable: 1 anomaly\n  G1a (aborted read): T2 read key x as written by T1 (snapshot 1,"
                        + " aborted)",
                r.toString());
    }

    @Test
    void aReadOfAnOverwrittenWriteIsG1b() {
        CheckResult r = check(
                TxnRecord.committed(1, 1, 2).write("x").write("x").build(),
                TxnRecord.committed(2, 1, 3)
                        .readIntermediate(TxnRecord.DEFAULT_MAP, "x", 1)
                        .build());
        assertEquals(
                List.of(Anomaly.Kind.INTERMEDIATE_READ),
                r.anomalies().stream().map(Anomaly::kind).toList());
        assertFalse(r.serializable());
    }

    @Test
    void theCycleReportedIsTheShortestThroughTheFirstFound() {
        // T1 -> T2 -> T3 -> T4 -> T1 (rw on a, b, c, d), and T1 <-> T2 also directly (rw on e).
        CheckResult r = check(
                TxnRecord.committed(1, 1, 11)
                        .read("a", INITIAL)
                        .write("d2")
                        .write("e")
                        .build(),
                TxnRecord.committed(2, 1, 12)
                        .read("b", INITIAL)
                        .read("e", INITIAL)
                        .write("a")
                        .build(),
                TxnRecord.committed(3, 1, 13).read("c", INITIAL).write("b").build(),
                TxnRecord.committed(4, 1, 14).read("d2", INITIAL).write("c").build());
        assertFalse(r.serializable());
        assertEquals(2, r.cycle().size(), r::toString);
    }

    @Test
    void aLongSerialHistoryIsCheckedWithoutRecursion() {
        History h = new History();
        int n = 50_000;
        for (int i = 1; i <= n; i++) {
            h.add(TxnRecord.committed(i, i, i + 1).read("x", i - 1).write("x").build());
        }
        CheckResult r = h.check();
        assertTrue(r.serializable(), r::toString);
        assertEquals(n, r.committedTransactions());
        // Close the chain into one cycle of n transactions: the first reads the last one's y.
        h = new History();
        h.add(TxnRecord.committed(1, 1, 2).read("x", 0).read("y", n).write("x").build());
        for (int i = 2; i < n; i++) {
            h.add(TxnRecord.committed(i, i, i + 1).read("x", i - 1).write("x").build());
        }
        h.add(TxnRecord.committed(n, n, n + 1).read("x", n - 1).write("y").build());
        r = h.check();
        assertEquals(n, r.cycle().size());
        assertEquals("G1c", r.cyclePhenomenon());
    }

    @Test
    void assertSerializableThrowsTheVerdict() {
        CheckResult ok = check(TxnRecord.committed(1, 0, 1).write("x").build());
        assertEquals(ok, ok.assertSerializable());
        assertEquals(
                "serializable: 1 committed transaction, no cycle in the direct serialization graph", ok.toString());
        CheckResult bad = check(
                TxnRecord.committed(1, 1, 2).readAbsent("y").write("x").build(),
                TxnRecord.committed(2, 1, 3).readAbsent("x").write("y").build());
        AssertionError e = assertThrows(AssertionError.class, bad::assertSerializable);
        assertEquals(bad.toString(), e.getMessage());
    }

    // ---- refused histories ----------------------------------------------------------------------

    @Test
    void malformedHistoriesAreRefusedWithMessagesNamingTheTransactions() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> check(TxnRecord.committed(2, 1, 2).read("x", 9).build()));
        assertEquals(
                "T2 (snapshot 1, commit 2) reads key x as written by T9, which is not in the history", e.getMessage());

        e = assertThrows(
                IllegalArgumentException.class,
                () -> check(
                        TxnRecord.committed(1, 1, 2).write("y").build(),
                        TxnRecord.committed(2, 2, 3).read("x", 1).build()));
        assertEquals(
                "T2 (snapshot 2, commit 3) reads key x as written by T1 (snapshot 1, commit 2), which did not write it",
                e.getMessage());

        e = assertThrows(
                IllegalArgumentException.class,
                () -> check(
                        TxnRecord.committed(1, 1, 2).remove("x").build(),
                        TxnRecord.committed(2, 2, 3).read("x", 1).build()));
        assertTrue(e.getMessage().contains("which removed it"), e::getMessage);

        e = assertThrows(
                IllegalArgumentException.class,
                () -> check(
                        TxnRecord.committed(1, 1, 5).write("x").build(),
                        TxnRecord.committed(2, 1, 5).write("x").build()));
        assertEquals(
                "T1 (snapshot 1, commit 5) and T2 (snapshot 1, commit 5) both wrote key x with commit timestamp 5:"
                        + " the version order is undefined",
                e.getMessage());

        History h = new History().add(TxnRecord.committed(1, 0, 1).build());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> h.add(TxnRecord.aborted(1, 0).build()));
        assertEquals(
                "the history already holds a transaction T1: T1 (snapshot 0, commit 1); ids must be unique",
                e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> TxnRecord.committed(0, 0, 0));
        assertTrue(e.getMessage().startsWith("transaction id 0 must be positive"), e::getMessage);
        e = assertThrows(IllegalArgumentException.class, () -> TxnRecord.committed(1, 5, 4));
        assertEquals("T1: commit timestamp 4 is below its snapshot timestamp 5", e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> TxnRecord.committed(1, 0, 1).scan(5, 3));
        assertEquals("T1: scan from 5 to 3: from is after to", e.getMessage());
        assertThrows(
                NullPointerException.class, () -> TxnRecord.committed(1, 0, 1).read(null, 0));

        e = assertThrows(
                IllegalArgumentException.class,
                () -> check(
                        TxnRecord.committed(1, 1, 2).write("m", "text").build(),
                        TxnRecord.committed(2, 1, 3).scan("m", 0, 5).build()));
        assertEquals(
                "the bounds of scan [0, 5) in m cannot be compared with the keys of its map: "
                        + e.getCause().getMessage(),
                e.getMessage());
    }

    @Test
    void describeListsTheOperationsInOrder() {
        TxnRecord t = TxnRecord.committed(3, 4, 6)
                .read("x", INITIAL)
                .readAbsent("orders", 7L)
                .scan("orders", 1L, 9L)
                .write("x")
                .remove("orders", 8L)
                .build();
        assertEquals(
                "T3 (snapshot 4, commit 6): read key x initial, read key 7 in orders absent, scan [1, 9) in orders,"
                        + " write key x, remove key 8 in orders",
                t.describe());
        assertEquals("T3 (snapshot 4, commit 6)", t.toString());
        assertEquals(
                "T4 (snapshot 0, aborted): nothing",
                TxnRecord.aborted(4, 0).build().describe());
        assertThrows(
                IllegalStateException.class,
                () -> TxnRecord.aborted(4, 0).build().commitTimestamp());
        assertEquals("key [1, 2] in blobs", new TxnRecord.Slot("blobs", new byte[] {1, 2}).toString());
    }
}
