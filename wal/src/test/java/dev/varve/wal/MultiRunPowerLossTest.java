// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static dev.varve.wal.WalTestSupport.builder;
import static dev.varve.wal.WalTestSupport.commit;
import static dev.varve.wal.WalTestSupport.open;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several process lifetimes on one directory, each killed at a random file operation (sometimes
 * tearing the write in flight), then a power loss, then a reopen: through the real Wal, WalLog
 * and Recovery code over {@link FaultyIo}'s page-cache model, where a lifetime's unforced bytes
 * survive its crash but not the power loss. Every round must reopen, hold every commit
 * acknowledged under FULL, and recover a prefix of the commit order (under RELAXED too); between
 * lifetimes (a process crash only) every acknowledged commit of either mode must be there.
 */
class MultiRunPowerLossTest {

    @TempDir
    Path tmp;

    /** What the rounds found. */
    private static final class Tally {
        int rounds;
        int lifetimes;
        int crashesInRecovery;
        int unopenable;
        int lostFull;
        int notPrefix;
        final List<String> failures = new ArrayList<>();
    }

    private void sweep(int rounds) throws Exception {
        long seed = System.nanoTime();
        System.out.println("MultiRunPowerLossTest seed=" + seed);
        Random rnd = new Random(seed);
        Tally t = new Tally();
        for (int round = 0; round < rounds; round++) {
            Wal.Sync sync = round % 2 == 0 ? Wal.Sync.FULL : Wal.Sync.RELAXED;
            round(
                    t,
                    tmp.resolve("r" + round),
                    sync,
                    new Random(rnd.nextLong()),
                    "seed=" + seed + " round=" + round + " " + sync);
            t.rounds++;
        }
        System.out.println("MultiRunPowerLossTest: " + t.rounds + " rounds, " + t.lifetimes + " lifetimes ("
                + t.crashesInRecovery + " crashed during recovery), " + t.unopenable + " unopenable logs, "
                + t.lostFull + " rounds lost acknowledged FULL commits, " + t.notPrefix
                + " rounds recovered a non-prefix");
        assertTrue(
                t.failures.isEmpty(),
                t.failures.size() + " of " + rounds + " rounds failed, first: "
                        + t.failures.subList(0, Math.min(3, t.failures.size())));
    }

    private static void round(Tally t, Path dir, Wal.Sync sync, Random rnd, String label) throws Exception {
        FaultyIo.Disk disk = new FaultyIo.Disk();
        List<Rec<String, Long>> history = new ArrayList<>(); // history.get(i) is commit i + 1
        TreeSet<Long> acked = new TreeSet<>();
        int lifetimes = 2 + rnd.nextInt(3);
        long segmentSize = 1024L * (1 + rnd.nextInt(3));
        Duration interval = sync == Wal.Sync.FULL
                ? Duration.ofMillis(rnd.nextInt(2))
                : rnd.nextBoolean() ? Duration.ofMillis(2) : Duration.ofHours(1);
        StringBuilder trace = new StringBuilder(label)
                .append(" segment=")
                .append(segmentSize)
                .append(" interval=")
                .append(interval);
        for (int life = 0; life < lifetimes; life++) {
            t.lifetimes++;
            FaultyIo io = FaultyIo.crashingAt(
                    disk,
                    1 + rnd.nextInt(120),
                    rnd.nextBoolean() ? FaultyIo.Mode.TEAR : FaultyIo.Mode.FAIL,
                    new Random(rnd.nextLong()));
            boolean background = rnd.nextInt(3) == 0;
            FakeStore<String, Long> live = new FakeStore<>();
            WalLog<String, Long> log;
            try {
                log = open(
                        builder(dir, sync, io)
                                .segmentSize(segmentSize)
                                .flushInterval(interval)
                                .checkpointEvery(background ? 2048 : 0),
                        live);
            } catch (RuntimeException e) {
                if (io.crashed()) {
                    t.crashesInRecovery++;
                    trace.append(" | life ")
                            .append(life)
                            .append(": crashed in recovery at ")
                            .append(io.crashedAt());
                    continue;
                }
                t.unopenable++;
                t.failures.add(trace + " | life " + life + " cannot open: " + e);
                return;
            }
            String bad = check(live, history, acked, true);
            if (bad != null) {
                t.notPrefix += bad.startsWith("lost") ? 0 : 1;
                t.lostFull += bad.startsWith("lost") ? 1 : 0;
                t.failures.add(trace + " | life " + life + " after a process crash: " + bad);
                log.close();
                return;
            }
            truncate(history, acked, live.lastTs());
            trace.append(" | life ").append(life).append(": recovered ").append(live.lastTs());
            Map<Long, CompletableFuture<Void>> futures = new HashMap<>();
            int commits = 5 + rnd.nextInt(40);
            for (int i = 0; i < commits; i++) {
                long ts = history.size() + 1;
                Rec<String, Long> r = commit(ts, 9);
                CompletableFuture<Void> f;
                try {
                    f = log.append(r);
                } catch (IllegalStateException refused) {
                    break; // the log failed: the database refuses writes now
                }
                live.apply(r); // visible, as the core makes it
                history.add(r);
                futures.put(ts, f);
                if (rnd.nextInt(4) == 0) {
                    try {
                        f.get(30, TimeUnit.SECONDS);
                    } catch (ExecutionException failed) {
                        // the crash came first
                    }
                }
                if (rnd.nextInt(15) == 0) {
                    try {
                        log.checkpoint();
                        trace.append(" ckp@").append(ts);
                    } catch (UncheckedIOException | IllegalStateException failed) {
                        // the crash hit the checkpoint
                    }
                }
            }
            io.crash(); // kill -9 at the crash point or now: nothing later reaches the files
            trace.append(" wrote to ")
                    .append(history.size())
                    .append(", crash at ")
                    .append(io.crashedAt());
            try {
                log.close();
            } catch (RuntimeException failedAtClose) {
                // the final force of a dead process
            }
            for (Map.Entry<Long, CompletableFuture<Void>> e : futures.entrySet()) {
                CompletableFuture<Void> f = e.getValue();
                if (f.isDone() && !f.isCompletedExceptionally()) {
                    acked.add(e.getKey());
                }
            }
            trace.append(" acked ").append(acked.isEmpty() ? "-" : acked.first() + ".." + acked.last());
        }
        String damage = disk.powerLoss(rnd);
        trace.append(" | power loss:").append(damage);
        FakeStore<String, Long> recovered = new FakeStore<>();
        try {
            open(builder(dir, sync, FaultyIo.counting(disk)).segmentSize(segmentSize), recovered)
                    .close();
        } catch (RuntimeException e) {
            t.unopenable++;
            t.failures.add(trace + " | cannot open after the power loss: " + e);
            return;
        }
        String bad = check(recovered, history, acked, sync == Wal.Sync.FULL);
        if (bad != null) {
            t.notPrefix += bad.startsWith("lost") ? 0 : 1;
            t.lostFull += bad.startsWith("lost") ? 1 : 0;
            t.failures.add(trace + " | after the power loss: " + bad);
        }
    }

    /** Null if {@code s} holds exactly commits 1..s.lastTs() of {@code history} (and every acknowledged one, if asked). */
    private static String check(
            FakeStore<String, Long> s, List<Rec<String, Long>> history, TreeSet<Long> acked, boolean ackedMustSurvive) {
        long last = s.lastTs();
        if (last > history.size()) {
            return "recovered commit " + last + ", never made (history ends at " + history.size() + ")";
        }
        TreeMap<String, Long> expected = new TreeMap<>();
        for (Rec<String, Long> r : history.subList(0, (int) last)) {
            for (int i = 0; i < r.size(); i++) {
                if (r.value(i) == null) {
                    expected.remove(r.key(i));
                } else {
                    expected.put(r.key(i), r.value(i));
                }
            }
        }
        if (!expected.equals(s.map)) {
            return "state is not the prefix up to commit " + last + ": expected " + expected + ", recovered " + s.map;
        }
        if (ackedMustSurvive && !acked.isEmpty() && acked.last() > last) {
            return "lost acknowledged commits " + acked.tailSet(last, false) + "; recovered up to " + last;
        }
        return null;
    }

    private static void truncate(List<Rec<String, Long>> history, TreeSet<Long> acked, long last) {
        while (history.size() > last) {
            history.remove(history.size() - 1);
        }
        acked.tailSet(last, false).clear(); // only reachable for RELAXED after a power loss, which comes last
    }

    @Test
    void crashesThenPowerLossKeepEveryAcknowledgedFullCommitAndAPrefix() throws Exception {
        sweep(40);
    }

    @Test
    @Tag("slow")
    void crashesThenPowerLossLongSweep() throws Exception {
        sweep(600);
    }

    @Test
    void theModelLosesUnforcedBytesOfEarlierLifetimes() throws Exception {
        // the double itself: bytes written in lifetime 1 and never forced are read in lifetime 2,
        // and gone after the power loss
        Path dir = tmp.resolve("model");
        java.nio.file.Files.createDirectories(dir);
        FaultyIo.Disk disk = new FaultyIo.Disk();
        Path f = dir.resolve("f");
        FaultyIo first = FaultyIo.counting(disk);
        try (FileIo.Channel ch = first.create(f)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {1, 2}), 0);
            ch.force();
            first.forceDirectory(dir);
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {3, 4}), 2);
        }
        first.crash();
        FaultyIo second = FaultyIo.counting(disk);
        try (FileIo.Channel ch = second.openExisting(f)) {
            assertEquals(4, ch.size(), "the page cache survives the process");
        }
        second.create(dir.resolve("g")).close();
        second.crash();
        String what = disk.powerLoss(new Random(1));
        assertTrue(java.nio.file.Files.notExists(dir.resolve("g")), what);
        long size = java.nio.file.Files.size(f);
        assertTrue(size >= 2 && size <= 4, what);
        assertEquals(List.of((byte) 1, (byte) 2), toList(java.nio.file.Files.readAllBytes(f), 2), what);
    }

    private static List<Byte> toList(byte[] b, int n) {
        List<Byte> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(b[i]);
        }
        return out;
    }
}
