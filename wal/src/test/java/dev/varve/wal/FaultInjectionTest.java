// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static dev.varve.wal.WalTestSupport.builder;
import static dev.varve.wal.WalTestSupport.commit;
import static dev.varve.wal.WalTestSupport.open;
import static dev.varve.wal.WalTestSupport.walThreads;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fails or tears the N-th write or force of a concurrent FULL workload, for N across the whole
 * workload; after each, reopens with the real file system and checks the recovered state is a
 * prefix of the commit order that holds every acknowledged commit.
 */
class FaultInjectionTest {

    private static final int THREADS = 4;
    private static final int COMMITS = 80;

    @TempDir
    Path tmp;

    /** Result of one workload run. */
    record Run(List<Rec<String, Long>> order, Set<Long> acked, FaultyIo io) {}

    private Run workload(Path dir, FaultyIo io, boolean checkpointMidway) throws Exception {
        return workload(dir, io, checkpointMidway, Wal.Sync.FULL);
    }

    private Run workload(Path dir, FaultyIo io, boolean checkpointMidway, Wal.Sync sync) throws Exception {
        FakeStore<String, Long> live = new FakeStore<>();
        List<Rec<String, Long>> order = new ArrayList<>();
        Set<Long> acked = ConcurrentHashMap.newKeySet();
        Object criticalSection = new Object();
        WalLog<String, Long> log = open(
                builder(dir, sync, io)
                        .segmentSize(1024)
                        .flushInterval(Duration.ofMillis(sync == Wal.Sync.FULL ? 0 : 2))
                        .flushRecords(7),
                live);
        List<Thread> threads = new ArrayList<>();
        List<Throwable> unexpected = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            Thread th = new Thread(() -> {
                try {
                    while (true) {
                        CompletableFuture<Void> f;
                        long ts;
                        synchronized (criticalSection) { // the core's commit critical section
                            if (order.size() >= COMMITS) {
                                return;
                            }
                            ts = order.size() + 1;
                            Rec<String, Long> r = commit(ts, 9);
                            try {
                                f = log.append(r);
                            } catch (IllegalStateException refused) {
                                return; // the log failed: the database would refuse writes now
                            }
                            live.apply(r);
                            order.add(r);
                        }
                        if (checkpointMidway && ts == COMMITS / 2) {
                            try {
                                log.checkpoint();
                            } catch (UncheckedIOException | IllegalStateException failedCheckpoint) {
                                // the injected fault may hit the checkpoint's own writes
                            }
                        }
                        try {
                            f.get(30, TimeUnit.SECONDS);
                            acked.add(ts);
                        } catch (java.util.concurrent.ExecutionException failed) {
                            assertTrue(failed.getCause() instanceof UncheckedIOException, failed.toString());
                        }
                    }
                } catch (Throwable e) {
                    unexpected.add(e);
                }
            });
            threads.add(th);
            th.start();
        }
        for (Thread th : threads) {
            th.join(60_000);
        }
        try {
            log.close();
        } catch (UncheckedIOException failedWhileClosing) {
            // the fault hit the final flush; the futures said so
        }
        assertTrue(unexpected.isEmpty(), unexpected.toString());
        assertTrue(walThreads().isEmpty(), "writer threads left: " + walThreads());
        return new Run(order, acked, io);
    }

    private static void checkRecovered(Run run, Path dir, String label) {
        checkRecovered(run, dir, label, true);
    }

    private static void checkRecovered(Run run, Path dir, String label, boolean ackedMustSurvive) {
        FakeStore<String, Long> recovered = new FakeStore<>();
        open(builder(dir, Wal.Sync.FULL, FileIo.REAL), recovered).close();
        long last = recovered.lastTs();
        // the state after commits 1..last, computed from the commit order
        TreeMap<String, Long> expected = new TreeMap<>();
        for (Rec<String, Long> r : run.order()) {
            if (r.ts > last) {
                break;
            }
            for (int i = 0; i < r.size(); i++) {
                if (r.value(i) == null) {
                    expected.remove(r.key(i));
                } else {
                    expected.put(r.key(i), r.value(i));
                }
            }
        }
        assertTrue(last <= run.order().size(), label + ": recovered commit " + last + " was never made");
        assertEquals(expected, recovered.map, label + ": recovered state is not the prefix up to commit " + last);
        for (long a : ackedMustSurvive ? run.acked() : Set.<Long>of()) {
            assertTrue(a <= last, label + ": acknowledged commit " + a + " lost; recovered up to " + last);
        }
        // the recovered log must take new commits and recover again (segment chaining after a crash)
        try (WalLog<String, Long> log = open(builder(dir, Wal.Sync.FULL, FileIo.REAL), new FakeStore<>())) {
            log.append(Rec.of(last + 1, "after", 1L)).get(10, TimeUnit.SECONDS); // the clock the core rebuilds
        } catch (Exception e) {
            throw new AssertionError(label + ": appending after recovery failed", e);
        }
        FakeStore<String, Long> again = new FakeStore<>();
        open(builder(dir, Wal.Sync.FULL, FileIo.REAL), again).close();
        assertEquals(1L, again.map.get("after"), label);
    }

    private void sweep(FaultyIo.Op op, FaultyIo.Mode mode, boolean checkpoint, int stride) throws Exception {
        Run clean =
                workload(tmp.resolve("clean-" + op + "-" + mode + "-" + checkpoint), FaultyIo.counting(), checkpoint);
        int total = op == FaultyIo.Op.WRITE
                ? clean.io().writes.get()
                : clean.io().forces.get();
        Map<String, Integer> outcomes = new HashMap<>();
        for (int n = 1; n <= total + 1; n += stride) {
            Path dir = tmp.resolve(op + "-" + mode + "-" + checkpoint + "-" + n);
            FaultyIo io = FaultyIo.failing(op, n, mode);
            Run run = workload(dir, io, checkpoint);
            String label = mode + " of " + op + " #" + n + " of " + total + (checkpoint ? " with checkpoint" : "");
            checkRecovered(run, dir, label);
            outcomes.merge(io.crashed() ? "faulted" : "no fault reached", 1, Integer::sum);
        }
        System.out.println(
                "sweep " + op + "/" + mode + (checkpoint ? "/checkpoint" : "") + ": " + total + " ops, " + outcomes);
    }

    @Test
    void failingEachWriteKeepsAPrefixWithEveryAcknowledgedCommit() throws Exception {
        sweep(FaultyIo.Op.WRITE, FaultyIo.Mode.FAIL, false, 3);
    }

    @Test
    void tearingEachWriteKeepsAPrefixWithEveryAcknowledgedCommit() throws Exception {
        sweep(FaultyIo.Op.WRITE, FaultyIo.Mode.TEAR, false, 3);
    }

    @Test
    void failingEachForceKeepsAPrefixWithEveryAcknowledgedCommit() throws Exception {
        sweep(FaultyIo.Op.FORCE, FaultyIo.Mode.FAIL, false, 3);
    }

    @Test
    void faultsAroundACheckpointKeepAPrefix() throws Exception {
        sweep(FaultyIo.Op.WRITE, FaultyIo.Mode.TEAR, true, 5);
        sweep(FaultyIo.Op.FORCE, FaultyIo.Mode.FAIL, true, 5);
    }

    /**
     * Power loss at a random write or force: the files keep only what was forced (plus a random
     * part of the rest); FULL keeps every acknowledged commit, RELAXED a prefix.
     */
    private void powerLoss(Wal.Sync sync, int rounds) throws Exception {
        long seed = System.nanoTime();
        System.out.println("powerLoss " + sync + " seed=" + seed);
        java.util.Random rnd = new java.util.Random(seed);
        int lostAcks = 0;
        for (int round = 0; round < rounds; round++) {
            Path dir = tmp.resolve("power-" + sync + "-" + round);
            boolean checkpoint = rnd.nextBoolean();
            FaultyIo.Op op = rnd.nextBoolean() ? FaultyIo.Op.WRITE : FaultyIo.Op.FORCE;
            FaultyIo io = FaultyIo.failing(op, 1 + rnd.nextInt(40), FaultyIo.Mode.TEAR);
            Run run = workload(dir, io, checkpoint, sync);
            String damage = io.powerLoss(rnd);
            String label = "seed=" + seed + " round=" + round + " " + sync + " power loss at " + op
                    + (checkpoint ? " with checkpoint" : "") + ":" + damage;
            checkRecovered(run, dir, label, sync == Wal.Sync.FULL);
            FakeStore<String, Long> s = new FakeStore<>();
            open(builder(dir, sync, FileIo.REAL), s).close();
            lostAcks += (int) run.acked().stream().filter(a -> a > s.lastTs()).count();
        }
        System.out.println("powerLoss " + sync + ": " + rounds + " rounds, acknowledged commits lost: " + lostAcks);
    }

    @Test
    void powerLossKeepsEveryAcknowledgedCommitUnderFull() throws Exception {
        powerLoss(Wal.Sync.FULL, 25);
    }

    @Test
    void powerLossKeepsAPrefixUnderRelaxed() throws Exception {
        powerLoss(Wal.Sync.RELAXED, 25);
    }

    @Test
    @Tag("slow")
    void powerLossLongSweep() throws Exception {
        powerLoss(Wal.Sync.FULL, 300);
        powerLoss(Wal.Sync.RELAXED, 300);
    }

    @Test
    @Tag("slow")
    void fullSweepOfEveryWriteAndForce() throws Exception {
        for (boolean checkpoint : new boolean[] {false, true}) {
            sweep(FaultyIo.Op.WRITE, FaultyIo.Mode.FAIL, checkpoint, 1);
            sweep(FaultyIo.Op.WRITE, FaultyIo.Mode.TEAR, checkpoint, 1);
            sweep(FaultyIo.Op.FORCE, FaultyIo.Mode.FAIL, checkpoint, 1);
        }
    }
}
