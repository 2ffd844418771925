// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static dev.varve.wal.WalTestSupport.builder;
import static dev.varve.wal.WalTestSupport.commit;
import static dev.varve.wal.WalTestSupport.files;
import static dev.varve.wal.WalTestSupport.open;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint taken while commits are visible but their records are unforced (or not yet
 * written), then a power loss: the recovered state is still a prefix of the commit order holding
 * every acknowledged FULL commit (the argument is in Checkpoints' implementation notes).
 */
class CheckpointOfUnloggedCommitsTest {

    @TempDir
    Path root;

    /** The map after commits 1..n of {@link WalTestSupport#commit}. */
    private static TreeMap<String, Long> stateAfter(long n) {
        FakeStore<String, Long> m = new FakeStore<>();
        for (long ts = 1; ts <= n; ts++) {
            m.apply(commit(ts, 13));
        }
        return m.map;
    }

    @Test
    void checkpointOfVisibleUnforcedCommitsThenPowerLossRecoversAPrefixWithEveryAcknowledgedCommit() throws Exception {
        long seed = System.nanoTime();
        Random rnd = new Random(seed);
        for (int round = 0; round < 20; round++) {
            String label = "seed=" + seed + " round=" + round;
            Path dir = root.resolve("r" + round);
            FaultyIo.Disk disk = new FaultyIo.Disk();
            FaultyIo io = FaultyIo.counting(disk);
            FakeStore<String, Long> live = new FakeStore<>();
            WalLog<String, Long> log = open(builder(dir, Wal.Sync.FULL, io).segmentSize(1024), live);
            int acked = 3 + rnd.nextInt(60); // up to about four segments, sealed ones deleted by the checkpoint
            for (long ts = 1; ts <= acked; ts++) {
                live.apply(commit(ts, 13));
                log.append(commit(ts, 13)).get(10, TimeUnit.SECONDS); // acknowledged: forced
            }
            // the next force of the log blocks: what is appended now is visible, written or still
            // queued, and never forced
            WalTestSupport.Gate gate = new WalTestSupport.Gate(FaultyIo.Op.FORCE, ".seg");
            io.pauseAt(gate);
            int unforced = 1 + rnd.nextInt(6);
            List<CompletableFuture<Void>> pending = new ArrayList<>();
            long ts = acked;
            for (int i = 0; i < unforced; i++) {
                ts++;
                live.apply(commit(ts, 13));
                pending.add(log.append(commit(ts, 13)));
            }
            gate.awaitEntered();
            int unlogged = rnd.nextInt(3); // visible, not even handed to the log (a committer in between)
            for (int i = 0; i < unlogged; i++) {
                live.apply(commit(++ts, 13));
            }
            long snapshot = ts;
            log.checkpoint(); // on this thread: its own forces are not held by the gate
            assertEquals(snapshot, log.checkpointTimestamp(), label);
            io.crash(); // kill -9 while the force is held
            gate.release.countDown();
            try {
                log.close();
            } catch (RuntimeException deadProcess) {
                // the final force of a dead process
            }
            for (CompletableFuture<Void> f : pending) {
                assertTrue(f.isCompletedExceptionally(), label + ": a commit was acknowledged without its force");
            }
            String damage = disk.powerLoss(rnd);
            label += " power loss:" + damage;

            FakeStore<String, Long> recovered = new FakeStore<>();
            FaultyIo second = FaultyIo.counting(disk);
            WalLog<String, Long> again =
                    open(builder(dir, Wal.Sync.FULL, second).segmentSize(1024), recovered);
            // the checkpoint is durable and holds every commit up to the snapshot; the log holds
            // no more than that: the prefix is exactly 1..snapshot
            assertEquals(snapshot, recovered.lastTs(), label);
            assertEquals(stateAfter(snapshot), recovered.map, label);
            // a new lifetime builds on it; its acknowledged commit survives the next power loss
            long next = snapshot + 1;
            recovered.apply(commit(next, 13));
            again.append(commit(next, 13)).get(10, TimeUnit.SECONDS);
            second.crash();
            try {
                again.close();
            } catch (RuntimeException deadProcess) {
                // as above
            }
            label += " then:" + disk.powerLoss(rnd);
            FakeStore<String, Long> third = new FakeStore<>();
            open(builder(dir, Wal.Sync.FULL, FaultyIo.counting(disk)).segmentSize(1024), third)
                    .close();
            assertEquals(next, third.lastTs(), label);
            assertEquals(stateAfter(next), third.map, label);
            assertFalse(files(dir, ".ckp").isEmpty(), label);
        }
    }
}
