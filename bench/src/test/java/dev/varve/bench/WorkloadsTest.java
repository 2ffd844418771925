// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.bench.tpcc.TpccWorkload;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Each workload runs briefly on two threads and its consistency checks pass. */
class WorkloadsTest {

    private static Result run(String... args) {
        List<String> all = new ArrayList<>(List.of("--threads", "2", "--duration", "1s", "--warmup", "200ms"));
        all.addAll(List.of(args));
        Options options = Options.parse(all);
        return new Runner(options, null).run(Driver.workload(options));
    }

    private static void assertHealthy(Result r) {
        assertTrue(r.passed(), r::text);
        assertTrue(r.committed() > 0, r::text);
        assertTrue(r.latency().getTotalCount() > 0, r::text);
        for (int t = 0; t < r.types().size(); t++) {
            // Not equal to the commits: the warm-up's end and the workers' recording race.
            assertEquals(
                    r.committedByType()[t] + r.rollbacksByType()[t] > 0,
                    r.latencyByType()[t].getTotalCount() > 0,
                    r.types().get(t) + ": a type with commits has latencies, and only then");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"bank", "bank-hot"})
    void bankConservesTheTotalDuringAndAfterTheRun(String workload) {
        Result r = run("--workload", workload, "--keys", workload.equals("bank") ? "10000" : "100");
        assertHealthy(r);
        assertEquals(3, r.checks().size(), r::text);
        assertTrue(
                r.checks().get(0).detail().matches("[1-9]\\d* checks during the measured run, 0 violations"), r::text);
    }

    @Test
    void bankUnderSnapshotIsolationConservesTheTotal() {
        assertHealthy(run("--workload", "bank-hot", "--isolation", "snapshot"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"ycsb-a", "ycsb-b", "ycsb-c", "ycsb-d", "ycsb-e", "ycsb-f"})
    void ycsbWorkloadsRunAndKeepEveryRecord(String workload) {
        Result r = run("--workload", workload, "--keys", "5000", "--duration", "500ms");
        assertHealthy(r);
    }

    @Test
    void ycsbAutocommitRuns() {
        assertHealthy(run("--workload", "ycsb-a", "--keys", "5000", "--duration", "500ms", "--autocommit"));
    }

    @Test
    void tpccRunsTheFullMixAndMeetsConsistencyConditionsOneToFour() {
        Result r = run("--workload", "tpcc", "--tpcc-scale", "20", "--duration", "1500ms");
        assertHealthy(r);
        assertEquals(4, r.checks().size());
        assertTrue(r.workload().endsWith(", a named map per table"), r.workload());
        for (int t = 0; t < TpccWorkload.TYPES.size(); t++) {
            assertTrue(r.committedByType()[t] > 0, TpccWorkload.TYPES.get(t) + " never committed\n" + r.text());
        }
    }

    @Test
    void tpccWithMoreThreadsThanWarehousesConflictsButStaysConsistent() {
        assertHealthy(run("--workload", "tpcc", "--tpcc-scale", "20", "--warehouses", "1", "--duration", "700ms"));
    }

    @Test
    void durableRunLogsToTheDirectory(@TempDir Path dir) {
        Result r = run(
                "--workload",
                "bank",
                "--keys",
                "1000",
                "--durability",
                "relaxed",
                "--dir",
                dir.resolve("log").toString(),
                "--duration",
                "500ms");
        assertHealthy(r);
        assertTrue(r.durability().contains("relaxed"), r.durability());
    }

    @Test
    void durableTpccRoundTripsRowsThroughTheLogInOneTaggedMap(@TempDir Path dir) {
        Result r = run(
                "--workload",
                "tpcc",
                "--tpcc-scale",
                "50",
                "--durability",
                "full",
                "--dir",
                dir.resolve("log").toString(),
                "--duration",
                "500ms");
        assertHealthy(r);
        assertEquals(4, r.checks().size());
        assertTrue(r.workload().endsWith(", one map, keys tagged by table"), r.workload());
    }

    /**
     * Bank for 1 s with two watchers and a backup every 200 ms: both watchers are given every
     * transfer's event (two changes each: a bank commit that writes moves money between two
     * accounts), at most one per commit each, and the backups are real images of the bank.
     */
    @Test
    void bankWithWatchersAndBackupsDeliversEventsAndWritesBackups() {
        Result r = run("--workload", "bank", "--keys", "10000", "--watchers", "2", "--backup-every", "200ms");
        assertHealthy(r);
        FeedWatchers.Stats w = r.watching();
        assertEquals(2, w.watchers(), r::text);
        assertTrue(w.events() > 0, r::text);
        // Exactly two each: a transfer writes two accounts. (One run saw 16 changes too many: the
        // watchers' counts were read apart while events were still given; FeedWatchersTest.)
        assertEquals(2 * w.events(), w.changes(), r::text);
        assertTrue(w.events() <= 2 * r.committed(), r::text);
        assertTrue(w.gaps() <= w.fellBehind(), r::text);
        assertEquals(w.events() / r.seconds(), w.eventsPerSecond(), 1e-6 * w.eventsPerSecond(), r::text);
        BackupLoop.Stats b = r.backups();
        assertTrue(b.backups() >= 2 && b.backups() <= 10, r::text); // 1 s at 200 ms, plus one in flight
        // Each backup holds 10,000 accounts of an 8-byte key and an 8-byte value at least.
        assertTrue(b.bytes() >= b.backups() * 10_000L * 16, r::text);
        assertTrue(b.seconds() > 0 && b.megabytesPerSecond() > 0, r::text);
        assertTrue(r.text().contains("  watchers       2: "), r::text);
        assertTrue(r.text().contains("  backups        " + b.backups() + " every 200 ms: "), r::text);
    }

    /** The same on a durable YCSB database: watchers and backups through the log. */
    @Test
    void durableYcsbWithAWatcherAndBackupsThroughTheLog(@TempDir Path dir) {
        Result r = run(
                "--workload",
                "ycsb-a",
                "--keys",
                "2000",
                "--durability",
                "full",
                "--dir",
                dir.resolve("log").toString(),
                "--watchers",
                "1",
                "--backup-every",
                "200ms");
        assertHealthy(r);
        assertTrue(r.watching().events() > 0, r::text);
        assertEquals(r.watching().events(), r.watching().changes(), r::text); // one update per commit
        assertTrue(r.backups().backups() >= 2, r::text);
        assertTrue(r.backups().bytes() >= r.backups().backups() * 2_000L * 100, r::text); // 100-byte values
    }

    /** TPC-C in memory lives in named maps: a watcher of the whole database sees its commits. */
    @Test
    void tpccWatchersSeeTheNamedMapTables() {
        Result r = run("--workload", "tpcc", "--tpcc-scale", "20", "--duration", "700ms", "--watchers", "1");
        assertHealthy(r);
        assertTrue(r.workload().endsWith(", a named map per table"), r.workload());
        assertTrue(r.watching().events() > 0, r::text);
        assertTrue(r.watching().changes() > r.watching().events(), r::text); // NewOrder writes many rows
        assertEquals(null, r.backups());
    }

    @Test
    void driverPrintsJsonAndCsvReports() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int status = Driver.run(
                List.of("--workload", "bank-hot", "--duration", "300ms", "--warmup", "0", "--json"),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        String json = out.toString(StandardCharsets.UTF_8).trim();
        assertEquals(0, status, json);
        assertTrue(json.startsWith("{\"workload\":\"bank-hot\"") && json.endsWith("\"passed\":true}"), json);

        out.reset();
        status = Driver.run(
                List.of("--workload", "bank-hot", "--duration", "300ms", "--warmup", "0", "--csv"),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        String[] lines = out.toString(StandardCharsets.UTF_8).trim().split("\n");
        assertEquals(0, status);
        assertEquals(2, lines.length);
        assertEquals(lines[0].split(",").length, lines[1].split(",").length);
        assertTrue(lines[1].startsWith("bank-hot,2,SERIALIZABLE,memory,"), lines[1]);
    }
}
