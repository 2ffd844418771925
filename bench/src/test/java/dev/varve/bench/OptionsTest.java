// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Isolation;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class OptionsTest {

    @Test
    void defaultsRunTpccInMemoryShortlyOnTwoThreads() {
        Options o = Options.parse(List.of());
        assertEquals("tpcc", o.workload());
        assertEquals(2, o.threads());
        assertEquals(Duration.ofSeconds(10), o.duration());
        assertEquals(Duration.ofSeconds(2), o.warmup());
        assertEquals(Isolation.SERIALIZABLE, o.isolation());
        assertEquals(DurabilityMode.MEMORY, o.durability());
        assertEquals(2, o.effectiveWarehouses());
        assertEquals(Options.Format.TEXT, o.format());
        assertEquals(0, o.watchers());
        assertEquals(Duration.ZERO, o.backupEvery());
    }

    @Test
    void parsesEveryOption() {
        Options o = Options.parse(List.of(
                "--workload",
                "bank-hot",
                "--threads",
                "1",
                "--duration",
                "500ms",
                "--warmup=0",
                "--isolation",
                "snapshot",
                "--durability",
                "full",
                "--dir",
                "/tmp/x",
                "--keys",
                "50",
                "--warehouses",
                "3",
                "--seed",
                "7",
                "--value-size",
                "16",
                "--autocommit",
                "--vacuum",
                "0",
                "--tpcc-scale",
                "10",
                "--watchers",
                "3",
                "--backup-every=2s",
                "--json"));
        assertEquals("bank-hot", o.workload());
        assertEquals(1, o.threads());
        assertEquals(Duration.ofMillis(500), o.duration());
        assertEquals(Duration.ZERO, o.warmup());
        assertEquals(Isolation.SNAPSHOT, o.isolation());
        assertEquals(DurabilityMode.FULL, o.durability());
        assertEquals(Path.of("/tmp/x"), o.dir());
        assertEquals(50, o.effectiveKeys());
        assertEquals(3, o.effectiveWarehouses());
        assertEquals(7, o.seed());
        assertEquals(16, o.valueSize());
        assertTrue(o.autocommit());
        assertTrue(o.vacuum().isZero());
        assertEquals(10, o.tpccScale());
        assertEquals(3, o.watchers());
        assertEquals(Duration.ofSeconds(2), o.backupEvery());
        assertEquals(Options.Format.JSON, o.format());
        assertEquals(Options.Format.CSV, Options.parse(List.of("--csv")).format());
    }

    @Test
    void workloadDefaultsAndAliases() {
        assertEquals(100, Options.parse(List.of("--workload", "bank-hot")).effectiveKeys());
        assertEquals(100_000, Options.parse(List.of("--workload", "bank")).effectiveKeys());
        assertEquals("ycsb-a", Options.parse(List.of("--workload", "YCSB")).workload());
        assertEquals(
                Duration.ofMinutes(2),
                Options.parse(List.of("--duration", "2m")).duration());
        assertEquals(
                Duration.ofMillis(1500),
                Options.parse(List.of("--duration", "1.5")).duration());
    }

    @Test
    void badOptionsNameTheOptionAndValue() {
        assertEquals(
                "unknown option --thread (see --help)",
                assertThrows(IllegalArgumentException.class, () -> Options.parse(List.of("--thread", "2")))
                        .getMessage());
        assertEquals(
                "--threads 0 is out of range [1, 1024]",
                assertThrows(IllegalArgumentException.class, () -> Options.parse(List.of("--threads", "0")))
                        .getMessage());
        assertEquals(
                "--workload tpch is not one of " + Options.WORKLOADS,
                assertThrows(IllegalArgumentException.class, () -> Options.parse(List.of("--workload", "tpch")))
                        .getMessage());
        assertEquals(
                "--durability disk is not memory, relaxed, full or full-deferred",
                assertThrows(IllegalArgumentException.class, () -> Options.parse(List.of("--durability", "disk")))
                        .getMessage());
        assertEquals(
                "--isolation rc is not serializable or snapshot",
                assertThrows(IllegalArgumentException.class, () -> Options.parse(List.of("--isolation", "rc")))
                        .getMessage());
        assertEquals(
                "--duration soon is not a duration such as 10s, 500ms or 2m",
                assertThrows(IllegalArgumentException.class, () -> Options.parse(List.of("--duration", "soon")))
                        .getMessage());
        assertEquals(
                "--duration 0 must be positive",
                assertThrows(IllegalArgumentException.class, () -> Options.parse(List.of("--duration", "0")))
                        .getMessage());
        assertEquals(
                "option --seed needs a value",
                assertThrows(IllegalArgumentException.class, () -> Options.parse(List.of("--seed")))
                        .getMessage());
        assertEquals(
                "--keys 1: a bank needs at least 2 accounts",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> Options.parse(List.of("--workload", "bank", "--keys", "1")))
                        .getMessage());
    }

    @Test
    void watchersAndBackupEveryTakeTheirRangesAndDurations() {
        assertEquals(0, Options.parse(List.of("--watchers", "0")).watchers());
        assertEquals(
                Options.MAX_WATCHERS,
                Options.parse(List.of("--watchers", "" + Options.MAX_WATCHERS)).watchers());
        assertEquals(
                Duration.ofMillis(200),
                Options.parse(List.of("--backup-every", "200ms")).backupEvery());
        assertEquals(
                Duration.ofMinutes(1),
                Options.parse(List.of("--backup-every", "1m")).backupEvery());
        assertEquals(
                Duration.ZERO, Options.parse(List.of("--backup-every", "0")).backupEvery());
    }

    @Test
    void badWatchersAndBackupEveryNameTheOptionAndValue() {
        assertEquals(
                "--watchers -1 is out of range [0, 64]",
                assertThrows(IllegalArgumentException.class, () -> Options.parse(List.of("--watchers", "-1")))
                        .getMessage());
        assertEquals(
                "--watchers 65 is out of range [0, 64]",
                assertThrows(IllegalArgumentException.class, () -> Options.parse(List.of("--watchers", "65")))
                        .getMessage());
        assertEquals(
                "--watchers many is not a number",
                assertThrows(IllegalArgumentException.class, () -> Options.parse(List.of("--watchers", "many")))
                        .getMessage());
        assertEquals(
                "option --watchers needs a value",
                assertThrows(IllegalArgumentException.class, () -> Options.parse(List.of("--watchers")))
                        .getMessage());
        assertEquals(
                "--backup-every often is not a duration such as 10s, 500ms or 2m",
                assertThrows(IllegalArgumentException.class, () -> Options.parse(List.of("--backup-every", "often")))
                        .getMessage());
        assertEquals(
                "--backup-every -2s must be at least 0",
                assertThrows(IllegalArgumentException.class, () -> Options.parse(List.of("--backup-every", "-2s")))
                        .getMessage());
        assertEquals(
                "option --backup-every needs a value",
                assertThrows(IllegalArgumentException.class, () -> Options.parse(List.of("--backup-every")))
                        .getMessage());
    }

    @Test
    void backupsOfTpccInMemoryUseTheSingleMapLayoutAndRefuseTheNamedMaps() {
        assertEquals(
                "single",
                Options.parse(List.of("--workload", "tpcc", "--backup-every", "1s"))
                        .tpccLayout());
        assertEquals(null, Options.parse(List.of("--workload", "tpcc")).tpccLayout());
        assertEquals(
                "--backup-every with --tpcc-layout maps: the TPC-C tables' named maps have no codecs, so they"
                        + " cannot be backed up; use --tpcc-layout single",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> Options.parse(
                                        List.of("--workload", "tpcc", "--tpcc-layout", "maps", "--backup-every", "1s")))
                        .getMessage());
    }

    @Test
    void helpListsEveryOption() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int status = Driver.run(List.of("--help"), new PrintStream(out, true, StandardCharsets.UTF_8), System.err);
        assertEquals(0, status);
        String help = out.toString(StandardCharsets.UTF_8);
        for (String option : List.of(
                "--workload",
                "--threads",
                "--duration",
                "--warmup",
                "--isolation",
                "--durability",
                "--dir",
                "--keys",
                "--warehouses",
                "--seed",
                "--value-size",
                "--autocommit",
                "--vacuum",
                "--tpcc-scale",
                "--tpcc-layout",
                "--watchers",
                "--backup-every",
                "--csv",
                "--json",
                "--help",
                "compare",
                "jmh")) {
            assertTrue(help.contains(option), option + " missing from --help");
        }
        for (String workload : Options.WORKLOADS) {
            assertTrue(help.contains(workload), workload + " missing from --help");
        }
    }

    @Test
    void badUsageExitsWithTwoAndSaysWhy() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status =
                Driver.run(List.of("--threads", "x"), System.out, new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(2, status);
        assertEquals(
                "varve-bench: --threads x is not a number",
                err.toString(StandardCharsets.UTF_8).trim());
        assertEquals(
                2,
                Driver.run(
                        List.of("frobnicate"),
                        System.out,
                        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)));
    }
}
