// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Codec;
import dev.varve.Database;
import dev.varve.Snapshot;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real crashes: a child JVM runs concurrent bank transfers and prints each acknowledged commit;
 * it is killed with {@code destroyForcibly()} at a random moment, the directory is reopened, and
 * every acknowledged transfer must be there, with the bank's total intact. Several rounds share
 * one directory, so recovery of recovered logs is exercised too. A process kill keeps what was
 * written, so RELAXED must also hold every acknowledged commit here.
 */
class CrashTest {

    private static final int ACCOUNTS = 20;
    private static final int THREADS = 8;

    @TempDir
    Path dir;

    @Test
    void killedChildLosesNoAcknowledgedCommitFull() throws Exception {
        rounds(Wal.Sync.FULL, 1);
    }

    @Test
    void killedChildLosesNoAcknowledgedCommitRelaxed() throws Exception {
        rounds(Wal.Sync.RELAXED, 1);
    }

    @Test
    @Tag("slow")
    void manyKillsFull() throws Exception {
        rounds(Wal.Sync.FULL, 12);
    }

    @Test
    @Tag("slow")
    void manyKillsRelaxed() throws Exception {
        rounds(Wal.Sync.RELAXED, 12);
    }

    private void rounds(Wal.Sync sync, int rounds) throws Exception {
        long seed = System.nanoTime();
        System.out.println("CrashTest " + sync + " seed=" + seed);
        Random rnd = new Random(seed);
        Set<String> acked = ConcurrentHashMap.newKeySet();
        for (int round = 0; round < rounds; round++) {
            int killAfter = 1 + rnd.nextInt(400);
            runAndKill(sync, "r" + round, killAfter, acked);
            check(sync, acked, "seed=" + seed + " round=" + round + " killAfter=" + killAfter);
        }
    }

    private void runAndKill(Wal.Sync sync, String run, int killAfterAcks, Set<String> acked) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(
                java,
                "-Xmx256m",
                "-cp",
                System.getProperty("java.class.path"),
                BankCrashChild.class.getName(),
                dir.toString(),
                sync.name(),
                Integer.toString(ACCOUNTS),
                Integer.toString(THREADS),
                run));
        Process p = new ProcessBuilder(cmd)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        AtomicBoolean ready = new AtomicBoolean();
        List<String> roundAcks = Collections.synchronizedList(new ArrayList<>());
        Thread reader = new Thread(() -> {
            try (BufferedReader r =
                    new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.equals("READY")) {
                        ready.set(true);
                    } else if (line.startsWith("ACK m:") && line.split(":").length == 4) {
                        roundAcks.add(line.substring(4));
                    }
                }
            } catch (IOException e) {
                // the pipe closes when the child dies
            }
        });
        reader.start();
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> roundAcks.size() >= killAfterAcks || !p.isAlive());
            assertTrue(p.isAlive(), "child died on its own (exit " + (p.isAlive() ? "" : p.exitValue()) + ")");
        } finally {
            p.destroyForcibly();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "child did not die");
            reader.join(30_000);
        }
        acked.addAll(roundAcks); // read after death: every line the child printed before the kill
        System.out.println("round " + run + ": killed after " + roundAcks.size() + " acknowledged transfers");
    }

    private void check(Wal.Sync sync, Set<String> acked, String label) throws Exception {
        try (Database<String, Long> db = Database.<String, Long>builder()
                        .durability(Wal.builder(dir, Codec.STRING, Codec.LONG)
                                .sync(sync)
                                .build())
                        .open();
                Snapshot<String, Long> s = db.snapshot()) {
            long total = 0;
            int accounts = 0;
            long markerSum = 0;
            for (Map.Entry<String, Long> e : s.entrySet()) {
                if (e.getKey().startsWith("acct:")) {
                    total += e.getValue();
                    accounts++;
                } else {
                    markerSum++;
                }
            }
            assertEquals(ACCOUNTS, accounts, label);
            assertEquals(ACCOUNTS * BankCrashChild.INITIAL, total, label + ": the bank's total changed");
            for (String m : acked) {
                assertTrue(s.containsKey(m), label + ": acknowledged transfer " + m + " was lost");
            }
            assertTrue(markerSum >= acked.size(), label);
        }
        assertTrue(new File(dir.toFile(), DirectoryLock.LOCK_FILE).exists());
    }
}
