// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.internal.mvcc.TestHook;
import dev.varve.testing.TestThreads;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NavigableSet;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Attempts to break named maps: commits spanning maps in every program order, conflicts that
 * exist only if (map, key) pairs are confused, drops racing commits and views, handles used where
 * they do not belong or after the end, atomic visibility across maps, vacuum over every map, and
 * lost updates between autocommits and transactions on one named map. The default map has the
 * same key type as the named maps ({@code Integer}), so that the default map's bare keys and the
 * named maps' keys meet in the same structures (the ring of recent writes, vacuum's key lists).
 */
class NamedMapAdversaryTest {
    private static final String DROPPED_A = "map 'a' was dropped: its handle cannot be used any more";

    private final Database<Integer, Long> db = Database.<Integer, Long>builder().open();
    private final NamedMap<Integer, Long> a = db.openMap("a"); // id 1
    private final NamedMap<Integer, Long> b = db.openMap("b"); // id 2

    @AfterEach
    void tearDown() {
        db.close();
    }

    // ---- helpers ------------------------------------------------------------------------------

    /**
     * A hook that holds the {@code nth} arrival (over all threads) at one point until released,
     * and notes any arrival at a second point.
     */
    private static final class Schedule implements TestHook {
        private final Point holdAt;
        private final int nth;
        private final Point watch;
        private final AtomicInteger arrivals = new AtomicInteger();
        private final CountDownLatch held = new CountDownLatch(1);
        private final CountDownLatch released = new CountDownLatch(1);
        private final CountDownLatch watched = new CountDownLatch(1);

        Schedule(Point holdAt, int nth, Point watch) {
            this.holdAt = holdAt;
            this.nth = nth;
            this.watch = watch;
        }

        @Override
        public void at(Point p) {
            if (p == watch) {
                watched.countDown();
            }
            if (p != holdAt || arrivals.incrementAndGet() != nth) {
                return;
            }
            held.countDown();
            try {
                if (!released.await(30, TimeUnit.SECONDS)) {
                    throw new AssertionError("the test never released the thread held at " + holdAt);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while held at " + holdAt, e);
            }
        }

        void awaitHeld() throws InterruptedException {
            assertTrue(held.await(30, TimeUnit.SECONDS), "no thread reached " + holdAt + " #" + nth);
        }

        void awaitWatched() throws InterruptedException {
            assertTrue(watched.await(30, TimeUnit.SECONDS), "no thread reached " + watch);
        }

        void release() {
            released.countDown();
        }
    }

    /** Runs {@code work} on a new daemon thread; its start publishes a hook set before it (TestHook). */
    private static <T> FutureTask<T> start(String name, Callable<T> work) {
        FutureTask<T> task = new FutureTask<>(work);
        Thread t = new Thread(task, name);
        t.setDaemon(true);
        t.start();
        return task;
    }

    /** The failure {@code task} ended with. */
    private static Throwable failureOf(FutureTask<?> task) throws Exception {
        ExecutionException e = assertThrows(ExecutionException.class, () -> task.get(30, TimeUnit.SECONDS));
        return e.getCause();
    }

    private static List<String> keyNames(SerializationFailureException e) {
        return e.keys().stream().map(String::valueOf).collect(Collectors.toList());
    }

    /** Commits {@code n} autocommit writes to a map nobody reads, so validation has to look further back. */
    private void commitNoise(int n) {
        if (n == 0) {
            return;
        }
        NamedMap<Integer, Long> noise = db.openMap("noise");
        for (int i = 0; i < n; i++) {
            noise.put(i, (long) i);
        }
    }

    private static long sum(Iterable<Long> values) {
        long s = 0;
        for (long v : values) {
            s += v;
        }
        return s;
    }

    // ---- latch order across maps --------------------------------------------------------------

    @Test
    void transactionsWritingTwoMapsInOppositeOrderFromFourThreadsNeverDeadlock() {
        a.put(1, 0L);
        b.put(1, 0L);
        a.put(2, 0L);
        b.put(2, 0L);
        int perThread = 1_500;
        AtomicInteger committed = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        List<Callable<Void>> tasks = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            boolean aFirst = t % 2 == 0;
            Isolation isolation = t < 2 ? Isolation.SERIALIZABLE : Isolation.SNAPSHOT;
            tasks.add(() -> {
                for (int i = 0; i < perThread; i++) {
                    try (Transaction<Integer, Long> tx = db.begin(isolation)) {
                        NavigableMap<Integer, Long> first = tx.map(aFirst ? a : b);
                        NavigableMap<Integer, Long> second = tx.map(aFirst ? b : a);
                        // Keys in descending program order too: latches go by map id, then key.
                        first.put(2, first.get(2) + 1);
                        first.put(1, first.get(1) + 1);
                        second.put(2, second.get(2) + 1);
                        second.put(1, second.get(1) + 1);
                        tx.commit();
                        committed.incrementAndGet();
                    } catch (SerializationFailureException e) {
                        refused.incrementAndGet(); // the only failure allowed
                    }
                }
                return null;
            });
        }
        assertTimeoutPreemptively(
                Duration.ofSeconds(30),
                () -> TestThreads.runAll("opposite-order", tasks, new AtomicBoolean()),
                "commits spanning maps in opposite program order deadlocked");
        assertEquals(4 * perThread, committed.get() + refused.get());
        assertTrue(committed.get() > 0, "nothing committed");
        long n = committed.get();
        assertEquals(Map.of(1, n, 2, n), new TreeMap<>(snapshotOf(a)), "map a");
        assertEquals(Map.of(1, n, 2, n), new TreeMap<>(snapshotOf(b)), "map b");
    }

    private Map<Integer, Long> snapshotOf(NamedMap<Integer, Long> map) {
        try (Snapshot<Integer, Long> s = db.snapshot()) {
            return new TreeMap<>(s.map(map));
        }
    }

    /**
     * tx1 (program order a, b) is held after latching a:1; tx2 (program order b, a) must then wait
     * for a:1 holding nothing, because every commit latches map by map in id order. Latching in
     * program order would let tx2 take b:1 first, and the two would wait for each other forever.
     */
    @Test
    void aCommitWaitingForALatchOfOneMapHoldsNoLatchOfALaterMap() throws Exception {
        a.put(1, 0L);
        b.put(1, 0L);
        Transaction<Integer, Long> tx1 = db.begin();
        tx1.map(a).put(1, 1L);
        tx1.map(b).put(1, 1L);
        Transaction<Integer, Long> tx2 = db.begin();
        tx2.map(b).put(1, 2L);
        tx2.map(a).put(1, 2L);
        Schedule schedule = new Schedule(TestHook.Point.AFTER_LATCH, 1, TestHook.Point.LATCH_BUSY);
        Internals.store(db).hook(schedule);
        FutureTask<Void> first = start("tx1", () -> {
            tx1.commit();
            return null;
        });
        schedule.awaitHeld(); // tx1 holds a:1 and not yet b:1
        FutureTask<Void> second = start("tx2", () -> {
            tx2.commit();
            return null;
        });
        schedule.awaitWatched(); // tx2 waits for a latch
        schedule.release();
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> first.get(), "tx1 never finished: deadlock");
        SerializationFailureException refused = assertInstanceOf(
                SerializationFailureException.class,
                assertTimeoutPreemptively(Duration.ofSeconds(10), () -> failureOf(second)));
        assertEquals(SerializationFailureException.Reason.WRITE_WRITE_CONFLICT, refused.reason());
        assertEquals(List.of("a:1", "b:1"), keyNames(refused));
        assertEquals(1L, a.get(1));
        assertEquals(1L, b.get(1));
    }

    // ---- conflicts only on (map, key) ---------------------------------------------------------

    @Test
    void theSameKeyInDifferentMapsNeverConflicts() {
        db.put(1, 10L);
        a.put(1, 10L);
        b.put(1, 10L);
        for (Isolation isolation : Isolation.values()) {
            Transaction<Integer, Long> onDefault = db.begin(isolation);
            Transaction<Integer, Long> onA = db.begin(isolation);
            Transaction<Integer, Long> onB = db.begin(isolation);
            onDefault.asMap().put(1, onDefault.get(1) + 1);
            onA.map(a).put(1, onA.map(a).get(1) + 1);
            onB.map(b).put(1, onB.map(b).get(1) + 1);
            onB.commit();
            onA.commit();
            onDefault.commit();
        }
        assertEquals(12L, db.get(1));
        assertEquals(12L, a.get(1));
        assertEquals(12L, b.get(1));
        assertEquals(0, db.stats().writeWriteAborts() + db.stats().dangerousStructureAborts());
    }

    /**
     * Each pair reads and writes the same key numbers as a write skew would, but in different
     * maps, so confusing maps would close a cycle T1 ->rw T2 ->rw T1 and abort T2, while in truth
     * there is at most one edge:
     *  P1: T1 reads a:1, writes a:2; T2 reads b:2, writes b:1 (no edge; both directions confusable);
     *  P2: the same between map a and the default map's bare keys;
     *  P3: T1 reads a:31, writes b:33; T2 reads b:33 (a true out-edge T2 -> T1) and writes the
     *      default map's 31 (an in-edge only if read sets were not kept per map);
     *  P4: T1 reads b:43, writes a:42; T2 writes b:43 (a true in-edge T1 -> T2) and reads the
     *      default map's 42 (an out-edge only if the recent writes were not kept per map).
     * With noise, the out-edges come from an index scan instead of the ring of recent writes.
     */
    @ParameterizedTest(name = "noise commits {0}")
    @ValueSource(ints = {0, 600})
    void readsAndWritesOfTheSameKeysInDifferentMapsMakeNoDangerousStructure(int noise) {
        for (int k : new int[] {1, 2, 11, 12, 31, 33, 42, 43}) {
            db.put(k, 0L);
            a.put(k, 0L);
            b.put(k, 0L);
        }
        List<Transaction<Integer, Long>> first = new ArrayList<>();
        List<Transaction<Integer, Long>> second = new ArrayList<>();
        for (int p = 0; p < 4; p++) {
            first.add(db.begin());
            second.add(db.begin());
        }
        first.get(0).map(a).put(2, first.get(0).map(a).get(1) + 1);
        second.get(0).map(b).put(1, second.get(0).map(b).get(2) + 1);
        first.get(1).map(a).put(12, first.get(1).map(a).get(11) + 1);
        second.get(1).put(11, second.get(1).get(12) + 1);
        first.get(2).map(b).put(33, first.get(2).map(a).get(31) + 1);
        second.get(2).put(31, second.get(2).map(b).get(33) + 1);
        first.get(3).map(a).put(42, first.get(3).map(b).get(43) + 1);
        second.get(3).map(b).put(43, second.get(3).get(42) + 1);
        commitNoise(noise);
        for (Transaction<Integer, Long> t : first) {
            t.commit();
        }
        for (int p = 0; p < 4; p++) {
            Transaction<Integer, Long> t = second.get(p);
            try {
                t.commit();
            } catch (SerializationFailureException e) {
                throw new AssertionError("pair P" + (p + 1) + " aborted: " + e.getMessage(), e);
            }
        }
        assertEquals(Map.of(1, 0L, 2, 1L, 11, 0L, 12, 1L, 31, 0L, 33, 0L, 42, 1L, 43, 0L), snapshotOf(a));
        assertEquals(Map.of(1, 1L, 2, 0L, 11, 0L, 12, 0L, 31, 0L, 33, 1L, 42, 0L, 43, 1L), snapshotOf(b));
        assertEquals(1L, db.get(11));
        assertEquals(1L, db.get(31));
        assertEquals(0, db.stats().dangerousStructureAborts());
    }

    /**
     * A true write skew across maps, T1 reads a:1 and writes b:2, T2 reads b:2 and writes a:1
     * (and again between the default map and map a), while both also read the same key numbers
     * in the other maps: the second committer of each pair must abort, naming exactly the
     * (map, key) pairs of its edges.
     */
    @ParameterizedTest(name = "noise commits {0}")
    @ValueSource(ints = {0, 600})
    void aWriteSkewAcrossMapsIsAbortedWhateverTheSameKeysDoInOtherMaps(int noise) {
        for (int k : new int[] {1, 2, 21, 22}) {
            db.put(k, 0L);
            a.put(k, 0L);
            b.put(k, 0L);
        }
        Transaction<Integer, Long> t1 = db.begin();
        Transaction<Integer, Long> t2 = db.begin();
        Transaction<Integer, Long> t3 = db.begin();
        Transaction<Integer, Long> t4 = db.begin();
        // Decoy reads: the same key numbers in the maps the other side does not write.
        t1.get(1);
        t1.map(b).get(1);
        t2.get(2);
        t2.map(a).get(2);
        t1.map(b).put(2, t1.map(a).get(1) + 1);
        t2.map(a).put(1, t2.map(b).get(2) + 1);
        t3.map(a).put(22, t3.get(21) + 1);
        t4.put(21, t4.map(a).get(22) + 1);
        commitNoise(noise);
        t1.commit();
        t3.commit();
        SerializationFailureException skew = assertThrows(SerializationFailureException.class, t2::commit);
        assertEquals(SerializationFailureException.Reason.DANGEROUS_STRUCTURE, skew.reason());
        assertEquals(List.of("a:1", "b:2"), keyNames(skew), skew.getMessage());
        SerializationFailureException skewWithDefault = assertThrows(SerializationFailureException.class, t4::commit);
        assertEquals(SerializationFailureException.Reason.DANGEROUS_STRUCTURE, skewWithDefault.reason());
        assertEquals(List.of("21", "a:22"), keyNames(skewWithDefault), skewWithDefault.getMessage());
        assertEquals(0L, a.get(1));
        assertEquals(1L, b.get(2));
        assertEquals(1L, a.get(22));
        assertEquals(0L, db.get(21));
    }

    /**
     * Phantoms across maps: T1 scans a[0, 10) (empty) and inserts b:5, T2 scans b[0, 10) (empty)
     * and inserts a:5, a true cycle (T2 aborts). T3 and T4 do the same within their own maps
     * (a[20, 30) and a:25; b[20, 30) and b:25), and T5 and T6 between the default map and map a:
     * no edge, both commit.
     */
    @ParameterizedTest(name = "noise commits {0}")
    @ValueSource(ints = {0, 600})
    void rangeReadsConflictOnlyWithInsertsIntoTheSameMap(int noise) {
        Transaction<Integer, Long> t1 = db.begin();
        Transaction<Integer, Long> t2 = db.begin();
        Transaction<Integer, Long> t3 = db.begin();
        Transaction<Integer, Long> t4 = db.begin();
        Transaction<Integer, Long> t5 = db.begin();
        Transaction<Integer, Long> t6 = db.begin();
        assertTrue(t1.map(a).subMap(0, 10).isEmpty());
        t1.map(b).put(5, 1L);
        assertTrue(t2.map(b).subMap(0, 10).isEmpty());
        t2.map(a).put(5, 2L);
        assertTrue(t3.map(a).subMap(20, 30).isEmpty());
        t3.map(a).put(25, 3L);
        assertTrue(t4.map(b).subMap(20, 30).isEmpty());
        t4.map(b).put(25, 4L);
        assertTrue(t5.asMap().subMap(40, 50).isEmpty());
        t5.put(45, 5L);
        assertTrue(t6.map(a).subMap(40, 50).isEmpty());
        t6.map(a).put(45, 6L);
        commitNoise(noise);
        t1.commit();
        t3.commit();
        t4.commit();
        t5.commit();
        t6.commit();
        SerializationFailureException phantom = assertThrows(SerializationFailureException.class, t2::commit);
        assertEquals(SerializationFailureException.Reason.DANGEROUS_STRUCTURE, phantom.reason());
        assertEquals(List.of("a:5", "b:5"), keyNames(phantom), phantom.getMessage());
        assertEquals(Map.of(25, 3L, 45, 6L), snapshotOf(a));
        assertEquals(Map.of(5, 1L, 25, 4L), snapshotOf(b));
        assertEquals(5L, db.get(45));
    }

    /**
     * Ports and Grittner's receipts/report anomaly (VLDB 2012, §2.2) with the control row and
     * the receipts in two named maps: the read-only report R is the first edge of R ->rw T2 ->rw
     * T3, and the pivot T2 must abort, which needs R's reads kept per map in the conflict graph.
     */
    @Test
    void aReadOnlyTransactionOverTwoMapsIsTheFirstEdgeOfADangerousStructure() {
        NamedMap<String, Long> control = db.openMap("control");
        NamedMap<Integer, Long> receipts = db.openMap("receipts");
        control.put("batch", 1L);
        Transaction<Integer, Long> newReceipt = db.begin(); // T2
        assertEquals(1L, newReceipt.map(control).get("batch"));
        db.transact(tx -> tx.map(control).put("batch", tx.map(control).get("batch") + 1)); // T3
        try (Transaction<Integer, Long> report = db.begin()) { // R: batch 2, so batch 1 is closed
            assertEquals(2L, report.map(control).get("batch"));
            assertTrue(report.map(receipts).subMap(100, 200).isEmpty());
            report.commit();
        }
        newReceipt.map(receipts).put(101, 42L); // a receipt into batch 1, which R reported empty
        SerializationFailureException pivot = assertThrows(SerializationFailureException.class, newReceipt::commit);
        assertEquals(SerializationFailureException.Reason.DANGEROUS_STRUCTURE, pivot.reason());
        assertEquals(List.of("receipts:101", "control:batch"), keyNames(pivot), pivot.getMessage());
        assertNull(receipts.get(101));
    }

    // ---- dropMap against commits ---------------------------------------------------------------

    @Test
    void droppingAMapFailsTheCommitOfATransactionThatWroteItAndCommitsNothingInAnyMap() throws Exception {
        db.put(1, 10L);
        a.put(1, 10L);
        b.put(1, 10L);
        long commits = db.stats().commits();
        Transaction<Integer, Long> tx = db.begin();
        tx.put(1, 11L);
        tx.map(a).put(1, 11L);
        tx.map(b).put(1, 11L);
        tx.map(b).put(2, 12L);
        assertTrue(db.dropMap("a"));
        IllegalStateException e = assertThrows(IllegalStateException.class, tx::commit);
        assertEquals(DROPPED_A, e.getMessage());
        assertFalse(tx.isActive());
        assertThrows(IllegalStateException.class, tx::commitTimestamp);
        tx.close();
        assertNothingOfTheFailedCommit(commits);
    }

    /** Nothing of the failed commit of 1 -> 11 in the default map and in b is visible, and its latches are gone. */
    private void assertNothingOfTheFailedCommit(long commitsBefore) {
        assertEquals(commitsBefore, db.stats().commits());
        assertEquals(10L, db.get(1));
        assertEquals(10L, b.get(1));
        assertNull(b.get(2));
        try (Snapshot<Integer, Long> s = db.snapshot()) {
            assertEquals(Map.of(1, 10L), new TreeMap<>(s));
            assertEquals(Map.of(1, 10L), new TreeMap<>(s.map(b)));
        }
        // The latches were released: writes of every key it latched go through at once.
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            db.put(1, 20L);
            b.put(1, 20L);
            b.put(2, 20L);
        });
        assertEquals(20L, db.get(1));
        assertEquals(20L, b.get(1));
    }

    /**
     * The drop lands after the commit latched every key (default 1, a:1, b:1, in that order) and
     * before it takes the commit lock: the check under the lock refuses the whole commit.
     */
    @Test
    void droppingAMapBetweenTheLatchesAndTheCommitLockFailsTheCommitWhole() throws Exception {
        db.put(1, 10L);
        a.put(1, 10L);
        b.put(1, 10L);
        long commits = db.stats().commits();
        Transaction<Integer, Long> tx = db.begin();
        tx.map(b).put(1, 11L);
        tx.map(b).put(2, 12L);
        tx.map(a).put(1, 11L);
        tx.put(1, 11L);
        Schedule schedule = new Schedule(TestHook.Point.AFTER_LATCH, 4, null);
        Internals.store(db).hook(schedule);
        FutureTask<Void> commit = start("committer", () -> {
            tx.commit();
            return null;
        });
        schedule.awaitHeld(); // all four keys latched, the commit lock not taken
        assertEquals(10L, db.get(1), "a latch is invisible");
        assertEquals(10L, a.get(1));
        assertTrue(assertTimeoutPreemptively(Duration.ofSeconds(5), () -> db.dropMap("a")));
        schedule.release();
        IllegalStateException e = assertInstanceOf(IllegalStateException.class, failureOf(commit));
        assertEquals(DROPPED_A, e.getMessage());
        assertFalse(tx.isActive());
        assertNothingOfTheFailedCommit(commits);
    }

    @Test
    void droppingAMapWhileAnAutocommitHoldsItsLatchFailsTheAutocommit() throws Exception {
        a.put(1, 10L);
        long commits = db.stats().commits();
        Schedule schedule = new Schedule(TestHook.Point.AFTER_LATCH, 1, null);
        Internals.store(db).hook(schedule);
        FutureTask<Long> put = start("autocommit", () -> a.put(1, 20L));
        schedule.awaitHeld();
        assertTrue(db.dropMap("a"));
        schedule.release();
        IllegalStateException e = assertInstanceOf(IllegalStateException.class, failureOf(put));
        assertEquals(DROPPED_A, e.getMessage());
        assertEquals(commits, db.stats().commits());
        NamedMap<Integer, Long> reopened = db.openMap("a");
        assertNull(reopened.get(1));
    }

    @Test
    void aTransactionThatOnlyReadADroppedMapCommitsItsOtherWrites() {
        a.put(1, 10L);
        Transaction<Integer, Long> tx = db.begin();
        assertEquals(10L, tx.map(a).get(1));
        tx.map(b).put(1, 11L);
        tx.put(1, 11L);
        assertTrue(db.dropMap("a"));
        tx.commit();
        assertEquals(11L, b.get(1));
        assertEquals(11L, db.get(1));
    }

    @Test
    void aCommitToADroppedMapFailsEvenOnceItsNameIsReopened() {
        b.put(1, 10L);
        Transaction<Integer, Long> tx = db.begin();
        tx.map(a).put(1, 11L);
        tx.map(b).put(1, 11L);
        assertTrue(db.dropMap("a"));
        NamedMap<Integer, Long> reopened = db.openMap("a");
        reopened.put(2, 2L);
        IllegalStateException e = assertThrows(IllegalStateException.class, tx::commit);
        assertEquals(DROPPED_A, e.getMessage());
        assertEquals(Map.of(2, 2L), snapshotOf(reopened));
        assertEquals(10L, b.get(1));
    }

    // ---- views and handles of a dropped map --------------------------------------------------

    @Test
    void viewsAndIteratorsOfADroppedMapThrowAtTheirNextUse() {
        a.put(1, 1L);
        a.put(2, 2L);
        a.put(3, 3L);
        Transaction<Integer, Long> tx = db.begin();
        NavigableMap<Integer, Long> view = tx.map(a);
        NavigableMap<Integer, Long> head = view.headMap(3, false);
        NavigableMap<Integer, Long> descending = view.descendingMap();
        NavigableSet<Integer> keys = view.navigableKeySet();
        Iterator<Map.Entry<Integer, Long>> it = view.entrySet().iterator();
        Map.Entry<Integer, Long> entry = it.next();
        Snapshot<Integer, Long> snapshot = db.snapshot();
        NavigableMap<Integer, Long> snapView = snapshot.map(a);
        Iterator<Integer> snapKeys = snapView.keySet().iterator();
        assertEquals(1, snapKeys.next());

        assertTrue(db.dropMap("a"));

        List<Executable> uses = List.of(
                () -> view.get(1),
                () -> view.containsKey(2),
                () -> view.put(4, 4L),
                () -> view.remove(1),
                () -> view.firstKey(),
                () -> view.ceilingEntry(2),
                () -> view.size(),
                () -> view.isEmpty(),
                () -> view.pollFirstEntry(),
                () -> view.clear(),
                () -> head.lastEntry(),
                () -> descending.firstKey(),
                () -> keys.contains(2),
                () -> keys.first(),
                () -> it.hasNext(),
                () -> it.next(),
                () -> it.remove(),
                () -> entry.setValue(5L),
                () -> tx.map(a),
                () -> snapView.get(1),
                () -> snapView.firstKey(),
                () -> snapView.entrySet().iterator().hasNext(),
                () -> snapKeys.hasNext(),
                () -> snapshot.map(a));
        for (int i = 0; i < uses.size(); i++) {
            IllegalStateException e =
                    assertThrows(IllegalStateException.class, uses.get(i), "use #" + i + " of a dropped map's view");
            assertEquals(DROPPED_A, e.getMessage(), "use #" + i);
        }
        // The transaction and the snapshot themselves go on.
        tx.put(1, 7L);
        tx.commit();
        assertEquals(7L, db.get(1));
        assertEquals(Map.of(), new TreeMap<>(snapshot));
        snapshot.close();
    }

    @Test
    void anIteratorThatLookedAheadBeforeTheDropThrowsAtItsNextUse() {
        a.put(1, 1L);
        try (Transaction<Integer, Long> tx = db.begin()) {
            Iterator<Map.Entry<Integer, Long>> peeked = tx.map(a).entrySet().iterator();
            assertTrue(peeked.hasNext());
            Iterator<Integer> exhausted = tx.map(a).tailMap(2, true).keySet().iterator();
            assertFalse(exhausted.hasNext());
            assertTrue(db.dropMap("a"));
            IllegalStateException next = assertThrows(IllegalStateException.class, peeked::next);
            assertEquals(DROPPED_A, next.getMessage());
            IllegalStateException hasNext = assertThrows(IllegalStateException.class, exhausted::hasNext);
            assertEquals(DROPPED_A, hasNext.getMessage());
        }
    }

    @Test
    void autocommitOnADroppedHandleThrowsAndReopeningTheNameGivesANewEmptyMap() {
        a.put(1, 1L);
        assertEquals(Set.of("a", "b"), db.mapNames());
        assertTrue(db.dropMap("a"));
        assertFalse(db.dropMap("a"));
        assertFalse(db.dropMap("never opened"));
        assertEquals(new TreeSet<>(Set.of("b")), db.mapNames());
        assertTrue(a.isDropped());
        assertEquals("a", a.name());
        assertEquals("NamedMap[a, dropped]", a.toString());
        List<Executable> uses = List.of(
                () -> a.get(1),
                () -> a.containsKey(1),
                () -> a.put(1, 2L),
                () -> a.put(9, 2L),
                () -> a.remove(1),
                () -> a.remove(1, 1L),
                () -> a.putIfAbsent(9, 1L),
                () -> a.replace(1, 3L),
                () -> a.replace(1, 1L, 3L),
                () -> a.compute(1, v -> v == null ? 1L : v + 1));
        for (int i = 0; i < uses.size(); i++) {
            IllegalStateException e =
                    assertThrows(IllegalStateException.class, uses.get(i), "use #" + i + " of a dropped handle");
            assertEquals(DROPPED_A, e.getMessage(), "use #" + i);
        }

        NamedMap<String, String> reopened = db.openMap("a"); // a new map: its types are its own
        assertFalse(reopened.isDropped());
        assertNotEquals(a, reopened);
        assertEquals(new TreeSet<>(Set.of("a", "b")), db.mapNames());
        try (Snapshot<Integer, Long> s = db.snapshot()) {
            assertTrue(s.map(reopened).isEmpty());
            assertThrows(IllegalStateException.class, () -> s.map(a));
        }
        reopened.put("x", "y");
        assertEquals("y", reopened.get("x"));
        assertTrue(a.isDropped(), "the old handle stays dropped");
        assertEquals(
                DROPPED_A,
                assertThrows(IllegalStateException.class, () -> a.get(1)).getMessage());
        try (Transaction<Integer, Long> tx = db.begin()) {
            assertThrows(IllegalStateException.class, () -> tx.map(a));
            assertEquals("y", tx.map(reopened).get("x"));
        }
        assertEquals(db.openMap("a"), reopened);
    }

    // ---- misuse --------------------------------------------------------------------------------

    @Test
    void handlesOfAnotherDatabaseAndNullHandlesAreRefused() {
        try (Database<Integer, Long> other = Database.<Integer, Long>builder().open()) {
            NamedMap<Integer, Long> foreign = other.openMap("a");
            foreign.put(1, 5L);
            assertNull(a.get(1), "a map of the same name in another database is another map");
            assertNotEquals(a, foreign);
            String expected = "map 'a' belongs to another database than this transaction's";
            try (Transaction<Integer, Long> tx = db.begin()) {
                assertEquals(
                        expected,
                        assertThrows(IllegalArgumentException.class, () -> tx.map(foreign))
                                .getMessage());
                assertThrows(NullPointerException.class, () -> tx.map(null));
            }
            try (Snapshot<Integer, Long> s = db.snapshot()) {
                assertEquals(
                        expected,
                        assertThrows(IllegalArgumentException.class, () -> s.map(foreign))
                                .getMessage());
                assertThrows(NullPointerException.class, () -> s.map(null));
            }
        }
    }

    /** A comparator of its own class, for the order checks. */
    private static final class ByLastDigit implements Comparator<Integer> {
        @Override
        public int compare(Integer x, Integer y) {
            int c = Integer.compare(Math.floorMod(x, 10), Math.floorMod(y, 10));
            return c != 0 ? c : Integer.compare(x, y);
        }
    }

    @Test
    void openMapValidatesTheNameAndRefusesAnotherOrderNamingTheMapAndBothOrders() {
        assertThrows(NullPointerException.class, () -> db.openMap(null));
        assertThrows(NullPointerException.class, () -> db.openMap(null, Comparator.<Integer>naturalOrder()));
        assertThrows(NullPointerException.class, () -> db.openMap("c", null));
        assertEquals(
                "a map name must not be empty",
                assertThrows(IllegalArgumentException.class, () -> db.openMap(""))
                        .getMessage());
        assertEquals(
                "a map name must not be empty",
                assertThrows(IllegalArgumentException.class, () -> db.openMap("", new ByLastDigit()))
                        .getMessage());

        a.put(1, 1L);
        Comparator<Integer> reversed = Comparator.reverseOrder();
        String reverseName = reversed.getClass().getName();
        String byLastDigitName = ByLastDigit.class.getName();
        IllegalArgumentException naturalThenComparator =
                assertThrows(IllegalArgumentException.class, () -> db.openMap("a", reversed));
        assertEquals(
                "map 'a' exists with natural ordering; it cannot be opened with comparator " + reverseName,
                naturalThenComparator.getMessage());

        NamedMap<Integer, Long> r = db.openMap("r", reversed);
        r.put(1, 1L);
        IllegalArgumentException comparatorThenNatural =
                assertThrows(IllegalArgumentException.class, () -> db.openMap("r"));
        assertEquals(
                "map 'r' exists with comparator " + reverseName + "; it cannot be opened with natural ordering",
                comparatorThenNatural.getMessage());
        IllegalArgumentException otherComparator =
                assertThrows(IllegalArgumentException.class, () -> db.openMap("r", new ByLastDigit()));
        assertEquals(
                "map 'r' exists with comparator " + reverseName + "; it cannot be opened with comparator "
                        + byLastDigitName,
                otherComparator.getMessage());

        // Refused opens change nothing; the same order opens the same map.
        assertEquals(new TreeSet<>(Set.of("a", "b", "r")), db.mapNames());
        NamedMap<Integer, Long> again = db.openMap("r", Comparator.reverseOrder());
        assertEquals(r, again);
        assertSame(reversed, again.comparator());
        assertEquals(1L, again.get(1));
        assertEquals(1L, db.<Integer, Long>openMap("a").get(1));
        assertNull(a.comparator());
    }

    /** Two orders by different fields, built by the same JDK factory. */
    private record Pair(int left, int right) {}

    @Test
    void reopeningWithAComparatorOfTheSameFactoryButAnotherKeyIsRefused() {
        db.openMap("pairs", Comparator.comparingInt(Pair::left));
        assertThrows(IllegalArgumentException.class, () -> db.openMap("pairs", Comparator.comparingInt(Pair::right)));
    }

    @Test
    void afterCloseHandlesAndMapOperationsThrow() {
        a.put(1, 1L);
        Transaction<Integer, Long> tx = db.begin();
        NavigableMap<Integer, Long> view = tx.map(a);
        db.close();
        List<Executable> uses = List.of(
                () -> a.get(1),
                () -> a.containsKey(1),
                () -> a.put(1, 2L),
                () -> a.remove(1),
                () -> a.putIfAbsent(2, 1L),
                () -> a.replace(1, 1L, 2L),
                () -> a.compute(1, v -> v + 1),
                () -> db.openMap("a"),
                () -> db.openMap("new"),
                () -> db.mapNames(),
                () -> db.dropMap("a"),
                () -> tx.map(a),
                () -> view.get(1));
        for (int i = 0; i < uses.size(); i++) {
            IllegalStateException e =
                    assertThrows(IllegalStateException.class, uses.get(i), "use #" + i + " after close");
            assertEquals("database is closed", e.getMessage(), "use #" + i);
        }
        assertEquals("a", a.name());
        assertFalse(a.isDropped());
        tx.close();
    }

    // ---- atomic visibility across maps --------------------------------------------------------

    /**
     * A commit spanning three maps is held after stamping its versions and before it publishes
     * its timestamp: a snapshot taken then, and autocommit reads, see none of it in any map;
     * once published, a new snapshot sees all of it, and the old one still none.
     */
    @Test
    void aSnapshotTakenWhileACommitSpanningMapsIsStampedSeesNoneOfIt() throws Exception {
        db.put(1, 100L);
        a.put(1, 100L);
        b.put(1, 100L);
        Snapshot<Integer, Long> before = db.snapshot();
        Transaction<Integer, Long> tx = db.begin();
        tx.put(1, 50L);
        tx.map(a).put(1, 150L);
        tx.map(b).remove(1);
        tx.map(b).put(2, 100L);
        Schedule schedule = new Schedule(TestHook.Point.AFTER_STAMP, 1, null);
        Internals.store(db).hook(schedule);
        FutureTask<Void> commit = start("committer", () -> {
            tx.commit();
            return null;
        });
        schedule.awaitHeld();
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            try (Snapshot<Integer, Long> during = db.snapshot()) {
                assertEquals(Map.of(1, 100L), new TreeMap<>(during));
                assertEquals(Map.of(1, 100L), new TreeMap<>(during.map(a)));
                assertEquals(Map.of(1, 100L), new TreeMap<>(during.map(b)));
            }
            assertEquals(100L, db.get(1));
            assertEquals(100L, a.get(1));
            assertEquals(100L, b.get(1));
            assertNull(b.get(2));
        });
        schedule.release();
        commit.get(30, TimeUnit.SECONDS);
        try (Snapshot<Integer, Long> after = db.snapshot()) {
            assertEquals(Map.of(1, 50L), new TreeMap<>(after));
            assertEquals(Map.of(1, 150L), new TreeMap<>(after.map(a)));
            assertEquals(Map.of(2, 100L), new TreeMap<>(after.map(b)));
        }
        assertEquals(Map.of(1, 100L), new TreeMap<>(before.map(a)));
        assertEquals(Map.of(1, 100L), new TreeMap<>(before.map(b)));
        assertEquals(Map.of(1, 100L), new TreeMap<>(before));
        before.close();
    }

    /**
     * Writers move amounts between twelve cells in three maps (the default map, a, b); readers
     * take snapshots and transactions and sum every map: the total never changes.
     */
    @Test
    void everySnapshotSeesTransfersAcrossMapsWholeOrNotAtAll() throws Exception {
        int cells = 4;
        long initial = 100;
        db.transact(tx -> {
            for (int k = 0; k < cells; k++) {
                tx.put(k, initial);
                tx.map(a).put(k, initial);
                tx.map(b).put(k, initial);
            }
            return null;
        });
        long total = 3 * cells * initial;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1_500);
        AtomicLong transfers = new AtomicLong();
        AtomicLong audits = new AtomicLong();
        Set<Long> seenTimestamps = java.util.concurrent.ConcurrentHashMap.newKeySet();
        List<Callable<Void>> tasks = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            long seed = 7 + w;
            Isolation isolation = w == 0 ? Isolation.SERIALIZABLE : Isolation.SNAPSHOT;
            tasks.add(() -> {
                SplittableRandom rnd = new SplittableRandom(seed);
                while (System.nanoTime() < deadline) {
                    int fromMap = rnd.nextInt(3);
                    int toMap = rnd.nextInt(3);
                    int from = rnd.nextInt(cells);
                    int to = rnd.nextInt(cells);
                    long amount = rnd.nextInt(50);
                    try (Transaction<Integer, Long> tx = db.begin(isolation)) {
                        NavigableMap<Integer, Long> source = cellMap(tx, fromMap);
                        NavigableMap<Integer, Long> target = cellMap(tx, toMap);
                        source.put(from, source.get(from) - amount);
                        target.put(to, target.get(to) + amount);
                        tx.commit();
                        transfers.incrementAndGet();
                    } catch (SerializationFailureException e) {
                        // retried with other cells
                    }
                }
                return null;
            });
        }
        for (int r = 0; r < 2; r++) {
            boolean viaTransaction = r == 1;
            tasks.add(() -> {
                while (System.nanoTime() < deadline) {
                    if (viaTransaction) {
                        try (Transaction<Integer, Long> tx = db.begin()) {
                            long sum = sum(tx.asMap().values())
                                    + sum(tx.map(a).values())
                                    + sum(tx.map(b).values());
                            assertEquals(total, sum, "transaction at " + tx.snapshotTimestamp());
                            seenTimestamps.add(tx.snapshotTimestamp());
                            tx.commit();
                        } catch (SerializationFailureException e) {
                            // a read-only SERIALIZABLE commit may be refused; its reads were still consistent
                        }
                    } else {
                        try (Snapshot<Integer, Long> s = db.snapshot()) {
                            long sum = sum(s.values())
                                    + sum(s.map(a).descendingMap().values())
                                    + sum(s.map(b).values());
                            long pointSum = 0;
                            for (int k = 0; k < cells; k++) {
                                pointSum +=
                                        s.get(k) + s.map(a).get(k) + s.map(b).get(k);
                            }
                            assertEquals(total, sum, "snapshot at " + s.snapshotTimestamp());
                            assertEquals(total, pointSum, "point reads of the snapshot at " + s.snapshotTimestamp());
                            seenTimestamps.add(s.snapshotTimestamp());
                        }
                    }
                    audits.incrementAndGet();
                }
                return null;
            });
        }
        TestThreads.runAll("transfers", tasks, new AtomicBoolean());
        assertTrue(transfers.get() > 100, "transfers: " + transfers);
        assertTrue(seenTimestamps.size() > 10, "readers saw too few distinct snapshots: " + seenTimestamps.size());
        try (Snapshot<Integer, Long> s = db.snapshot()) {
            assertEquals(
                    total,
                    sum(s.values()) + sum(s.map(a).values()) + sum(s.map(b).values()));
        }
    }

    private NavigableMap<Integer, Long> cellMap(Transaction<Integer, Long> tx, int which) {
        return which == 0 ? tx.asMap() : tx.map(which == 1 ? a : b);
    }

    // ---- vacuum over every map ---------------------------------------------------------------

    /**
     * Garbage with exact counts in three maps, kept while a snapshot pins it and reclaimed once it
     * is closed: default map keys 0..9 overwritten 3 times; a's keys 0..99 overwritten 5 times,
     * then 50..99 removed; b's keys 0..19 removed. Then a dropped map is no longer visited.
     */
    @Test
    void vacuumReclaimsOverwrittenVersionsAndRemovedKeysOfEveryNamedMap() {
        for (int k = 0; k < 10; k++) {
            db.put(k, 0L);
        }
        for (int k = 0; k < 100; k++) {
            a.put(k, 0L);
        }
        for (int k = 0; k < 20; k++) {
            b.put(k, 0L);
        }
        Snapshot<Integer, Long> old = db.snapshot();
        for (long round = 1; round <= 5; round++) {
            for (int k = 0; k < 100; k++) {
                a.put(k, round);
            }
            if (round <= 3) {
                for (int k = 0; k < 10; k++) {
                    db.put(k, round);
                }
            }
        }
        for (int k = 50; k < 100; k++) {
            a.remove(k);
        }
        for (int k = 0; k < 20; k++) {
            b.remove(k);
        }

        VacuumResult pinned = db.vacuum();
        assertEquals(old.snapshotTimestamp(), pinned.watermark());
        assertEquals(0, pinned.versions(), "everything is readable by the open snapshot: " + pinned);
        assertEquals(0, pinned.keys(), pinned.toString());
        // default 10 x 4, a 50 x 6 + 50 x 7 (with the tombstones), b 20 x 2
        assertEquals(10 * 4 + 50 * 6 + 50 * 7 + 20 * 2, pinned.retainedVersions(), pinned.toString());
        assertEquals(10 + 50, pinned.liveKeys(), pinned.toString());
        assertEquals(100, old.map(a).size());
        assertEquals(0L, old.map(a).get(99));
        assertEquals(20, old.map(b).size());
        old.close();

        VacuumResult free = db.vacuum();
        assertEquals(db.stats().visibleTimestamp(), free.watermark());
        // default 10 x 3, a 50 x 5 + 50 x (6 + the tombstone), b 20 x (1 + the tombstone)
        assertEquals(10 * 3 + 50 * 5 + 50 * 7 + 20 * 2, free.versions(), free.toString());
        assertEquals(50 + 20, free.keys(), free.toString());
        assertEquals(10 + 50, free.retainedVersions(), free.toString());
        assertEquals(10 + 50, free.liveKeys(), free.toString());

        Map<Integer, Long> expectedA = new TreeMap<>();
        for (int k = 0; k < 50; k++) {
            expectedA.put(k, 5L);
        }
        assertEquals(expectedA, snapshotOf(a));
        assertEquals(Map.of(), snapshotOf(b));
        for (int k = 0; k < 10; k++) {
            assertEquals(3L, db.get(k));
        }
        assertNull(a.get(77));

        VacuumResult again = db.vacuum();
        assertEquals(0, again.versions(), again.toString());
        assertEquals(0, again.keys(), again.toString());
        assertEquals(10 + 50, again.retainedVersions(), again.toString());
        assertEquals(10 + 50, again.liveKeys(), again.toString());

        assertTrue(db.dropMap("a"));
        VacuumResult afterDrop = db.vacuum();
        assertEquals(10, afterDrop.retainedVersions(), "a dropped map is not visited: " + afterDrop);
        assertEquals(10, afterDrop.liveKeys(), afterDrop.toString());
        assertEquals(0, afterDrop.versions(), afterDrop.toString());
    }

    /** Committers vacuum the named maps too: removed keys of a named map go without db.vacuum(). */
    @Test
    void committersVacuumRemovedKeysOfNamedMaps() {
        for (int round = 0; round < 4; round++) {
            for (int k = 0; k < 300; k++) {
                a.put(k, (long) round);
                b.put(k, (long) round);
            }
            for (int k = 0; k < 300; k++) {
                a.remove(k);
            }
        }
        long reclaimedKeys = db.stats().reclaimedKeys();
        assertTrue(reclaimedKeys > 0, "no named map's removed key was reclaimed by committers: " + db.stats());
        VacuumResult full = db.vacuum();
        assertEquals(300, full.liveKeys(), full.toString());
        assertEquals(300, full.retainedVersions(), full.toString());
        assertTrue(snapshotOf(a).isEmpty());
        assertEquals(300, snapshotOf(b).size());
    }

    // ---- lost updates --------------------------------------------------------------------------

    @Test
    void autocommitComputeAndTransactionsOnANamedMapLoseNoUpdate() throws Exception {
        int computesPerThread = 3_000;
        int incrementsPerThread = 300;
        AtomicLong attempts = new AtomicLong();
        List<Callable<Void>> tasks = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            tasks.add(() -> {
                for (int i = 0; i < computesPerThread; i++) {
                    a.compute(1, v -> v == null ? 1L : v + 1);
                }
                return null;
            });
        }
        for (int t = 0; t < 2; t++) {
            Isolation isolation = t == 0 ? Isolation.SERIALIZABLE : Isolation.SNAPSHOT;
            tasks.add(() -> {
                for (int i = 0; i < incrementsPerThread; ) {
                    attempts.incrementAndGet();
                    try (Transaction<Integer, Long> tx = db.begin(isolation)) {
                        NavigableMap<Integer, Long> counters = tx.map(a);
                        Long v = counters.get(1);
                        counters.put(1, v == null ? 1L : v + 1);
                        NavigableMap<Integer, Long> other = tx.map(b);
                        other.merge(1, 1L, Long::sum);
                        tx.put(1, tx.get(1) == null ? 1L : tx.get(1) + 1);
                        tx.commit();
                        i++;
                    } catch (SerializationFailureException e) {
                        // retried
                    }
                }
                return null;
            });
        }
        assertTimeoutPreemptively(
                Duration.ofSeconds(30), () -> TestThreads.runAll("counters", tasks, new AtomicBoolean()));
        long txIncrements = 2L * incrementsPerThread;
        assertEquals(2L * computesPerThread + txIncrements, a.get(1), "attempts: " + attempts);
        assertEquals(txIncrements, b.get(1));
        assertEquals(txIncrements, db.get(1));
    }

    // ---- maps created and spanned in any order -------------------------------------------------

    @Test
    void aSnapshotOrTransactionOlderThanAMapSeesItEmptyAndTheTransactionCanWriteIt() {
        Snapshot<Integer, Long> early = db.snapshot();
        Transaction<Integer, Long> tx = db.begin();
        NamedMap<Integer, Long> late = db.openMap("late");
        late.put(1, 1L);
        assertTrue(early.map(late).isEmpty());
        assertNull(early.map(late).get(1));
        assertNull(tx.map(late).get(1));
        tx.map(late).put(2, 2L);
        tx.commit();
        assertEquals(Map.of(1, 1L, 2, 2L), snapshotOf(late));
        assertTrue(early.map(late).isEmpty());
        early.close();
    }

    @Test
    void transactionsWritingManyMapsInAnyOrderCommitThemAll() {
        List<NamedMap<Integer, Long>> maps = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            maps.add(db.openMap("m" + i));
        }
        try (Transaction<Integer, Long> tx = db.begin()) { // ascending ids: the parts grow
            for (int i = 0; i < maps.size(); i++) {
                tx.map(maps.get(i)).put(1, (long) i);
            }
            tx.put(1, -1L);
            tx.commit();
        }
        try (Transaction<Integer, Long> tx = db.begin()) { // descending ids
            for (int i = maps.size() - 1; i >= 0; i--) {
                NavigableMap<Integer, Long> m = tx.map(maps.get(i));
                m.put(2, m.get(1) * 10);
            }
            tx.commit();
        }
        try (Snapshot<Integer, Long> s = db.snapshot()) {
            for (int i = 0; i < maps.size(); i++) {
                assertEquals(Map.of(1, (long) i, 2, i * 10L), new TreeMap<>(s.map(maps.get(i))), "m" + i);
            }
            assertEquals(Map.of(1, -1L), new TreeMap<>(s));
        }
    }
}
