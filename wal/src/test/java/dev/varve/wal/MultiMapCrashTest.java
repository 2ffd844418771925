// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static dev.varve.wal.MultiMapCrashChild.ACCOUNTS;
import static dev.varve.wal.MultiMapCrashChild.INITIAL;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Codec;
import dev.varve.Database;
import dev.varve.NamedMap;
import dev.varve.Snapshot;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real crashes of a database with several maps: a child JVM ({@link MultiMapCrashChild}) runs
 * concurrent transfers between accounts in the default map and two named maps, each transfer
 * journaled under a unique id in a third map in the same transaction, and is killed with {@code
 * destroyForcibly()} at a random moment. After each kill the directory is reopened: every
 * acknowledged transfer's id is in the journal, and every account in every map holds exactly its
 * initial balance plus what the journal's entries moved (so no commit is in one map and missing
 * from another, and the total is conserved). Several rounds share one directory, some with
 * checkpoints now and then, some without opening one of the maps. A process kill keeps what was
 * written, so RELAXED must also hold every acknowledged commit here. Also: a drop is durable
 * when {@code dropMap} returns.
 */
class MultiMapCrashTest {

    @TempDir
    Path dir;

    /** How one child run behaves. */
    record Round(boolean checkpoints, boolean skipLoans) {}

    private static final Round PLAIN = new Round(false, false);
    private static final Round CHECKPOINTS = new Round(true, false);
    private static final Round CHECKPOINTS_WITHOUT_LOANS = new Round(true, true);
    private static final List<Round> CYCLE = List.of(PLAIN, CHECKPOINTS, CHECKPOINTS_WITHOUT_LOANS);

    @Test
    void killedChildLosesNoAcknowledgedTransferInAnyMapFull() throws Exception {
        rounds(Wal.Sync.FULL, List.of(PLAIN, CHECKPOINTS));
    }

    @Test
    void killedChildLosesNoAcknowledgedTransferInAnyMapRelaxed() throws Exception {
        rounds(Wal.Sync.RELAXED, List.of(CHECKPOINTS));
    }

    @Test
    @Tag("slow")
    void manyKillsAcrossMapsFull() throws Exception {
        rounds(Wal.Sync.FULL, cycle(12));
    }

    @Test
    @Tag("slow")
    void manyKillsAcrossMapsRelaxed() throws Exception {
        rounds(Wal.Sync.RELAXED, cycle(8));
    }

    private static List<Round> cycle(int n) {
        List<Round> rounds = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            rounds.add(CYCLE.get(i % CYCLE.size())); // the first round opens every map (it creates them)
        }
        return rounds;
    }

    private void rounds(Wal.Sync sync, List<Round> rounds) throws Exception {
        long seed = System.nanoTime();
        System.out.println("MultiMapCrashTest " + sync + " seed=" + seed);
        Random rnd = new Random(seed);
        Set<String> acked = new HashSet<>();
        for (int i = 0; i < rounds.size(); i++) {
            Round round = rounds.get(i);
            int killAfter = 1 + rnd.nextInt(300);
            List<String> lines = runAndKill(
                    List.of(
                            "bank",
                            dir.toString(),
                            sync.name(),
                            "r" + i,
                            round.checkpoints() ? "20" : "0",
                            Boolean.toString(round.skipLoans()),
                            Long.toString(rnd.nextLong())),
                    ls -> ls.stream().filter(l -> l.startsWith("ACK ")).count() >= killAfter);
            int before = acked.size();
            for (String line : lines) {
                if (line.startsWith("ACK ") && line.endsWith(" .")) {
                    acked.add(line.substring(4, line.length() - 2));
                }
            }
            System.out.println("round r" + i + " " + round + ": killed after " + (acked.size() - before)
                    + " acknowledged transfers");
            checkBank(sync, acked, "seed=" + seed + " round=" + i + " " + round + " killAfter=" + killAfter);
        }
    }

    /**
     * Starts a child with {@code args}, waits (at most 60 s) until its output satisfies {@code
     * killWhen}, kills it and returns every complete line it printed.
     */
    private static List<String> runAndKill(List<String> args, Predicate<List<String>> killWhen) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(
                java, "-Xmx256m", "-cp", System.getProperty("java.class.path"), MultiMapCrashChild.class.getName()));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        List<String> lines = Collections.synchronizedList(new ArrayList<>());
        Thread reader = new Thread(() -> {
            try (BufferedReader r =
                    new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.add(line);
                }
            } catch (IOException e) {
                // the pipe closes when the child dies
            }
        });
        reader.start();
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                synchronized (lines) {
                    return killWhen.test(lines) || !p.isAlive();
                }
            });
            assertTrue(p.isAlive(), "child died on its own (exit " + (p.isAlive() ? "" : p.exitValue()) + ")");
        } finally {
            p.destroyForcibly();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "child did not die");
            reader.join(30_000);
        }
        synchronized (lines) {
            return new ArrayList<>(lines); // read after death: every line printed before the kill
        }
    }

    private void checkBank(Wal.Sync sync, Set<String> acked, String label) {
        try (Database<String, Long> db = Database.<String, Long>builder()
                .durability(MultiMapCrashChild.durability(dir, sync, false))
                .open()) {
            NamedMap<Integer, Long> savings = MultiMapCrashChild.savings(db);
            NamedMap<Long, Long> loans = MultiMapCrashChild.loans(db);
            NamedMap<String, String> journal = MultiMapCrashChild.journal(db);
            try (Snapshot<String, Long> s = db.snapshot()) {
                NavigableMap<String, String> entries = s.map(journal);
                for (String id : acked) {
                    assertNotNull(entries.get(id), label + ": acknowledged transfer " + id + " is not in the journal");
                }
                // every account = its initial balance + what the journal's transfers moved
                Map<Character, TreeMap<Integer, Long>> expected = new HashMap<>();
                for (char m : new char[] {'D', 'S', 'L'}) {
                    TreeMap<Integer, Long> balances = new TreeMap<>();
                    for (int i = 0; i < ACCOUNTS; i++) {
                        balances.put(i, INITIAL);
                    }
                    expected.put(m, balances);
                }
                for (Map.Entry<String, String> e : entries.entrySet()) {
                    String[] t = e.getValue().split(":");
                    assertEquals(5, t.length, label + ": journal entry " + e);
                    long amount = Long.parseLong(t[4]);
                    expected.get(t[0].charAt(0)).merge(Integer.parseInt(t[1]), -amount, Long::sum);
                    expected.get(t[2].charAt(0)).merge(Integer.parseInt(t[3]), amount, Long::sum);
                }
                TreeMap<Integer, Long> inDefault = new TreeMap<>();
                for (Map.Entry<String, Long> e : s.entrySet()) {
                    assertTrue(e.getKey().startsWith("acct:"), label + ": unexpected key in the default map " + e);
                    inDefault.put(Integer.parseInt(e.getKey().substring(5)), e.getValue());
                }
                TreeMap<Integer, Long> inLoans = new TreeMap<>();
                s.map(loans).forEach((k, v) -> inLoans.put(k.intValue(), v));
                assertEquals(expected.get('D'), inDefault, label + ": default map vs the journal");
                assertEquals(expected.get('S'), new TreeMap<>(s.map(savings)), label + ": savings vs the journal");
                assertEquals(expected.get('L'), inLoans, label + ": loans vs the journal");
                List<Long> descending = new ArrayList<>();
                for (long k = ACCOUNTS - 1; k >= 0; k--) {
                    descending.add(k);
                }
                assertEquals(
                        descending,
                        new ArrayList<>(s.map(loans).keySet()),
                        label + ": loans in their descending order");
                long total = 0;
                for (TreeMap<Integer, Long> balances : List.of(inDefault, new TreeMap<>(s.map(savings)), inLoans)) {
                    for (long v : balances.values()) {
                        total += v;
                    }
                }
                assertEquals(3 * ACCOUNTS * INITIAL, total, label + ": the bank's total across maps changed");
                assertTrue(entries.size() >= acked.size(), label);
            }
        }
    }

    private TreeMap<Integer, Long> droppedRun(boolean recreate) throws Exception {
        runAndKill(List.of("drop", dir.toString(), Boolean.toString(recreate)), ls -> ls.contains("DONE ."));
        try (Database<String, Long> db = Database.<String, Long>builder()
                .durability(MultiMapCrashChild.durability(dir, Wal.Sync.FULL, false))
                .open()) {
            assertEquals(1L, db.get("kept"), "the commit before the drop");
            NamedMap<Integer, Long> x = db.openMap("x", Codec.INT, Codec.LONG);
            try (Snapshot<String, Long> s = db.snapshot()) {
                return new TreeMap<>(s.map(x));
            }
        }
    }

    @Test
    void dropIsDurableWhenDropMapReturns() throws Exception {
        assertEquals(Map.of(), droppedRun(false), "the dropped map's data came back after a kill");
    }

    @Test
    void mapCreatedAgainAfterADropHoldsOnlyItsNewDataAfterAKill() throws Exception {
        assertEquals(Map.of(1000, 7L), droppedRun(true));
    }
}
