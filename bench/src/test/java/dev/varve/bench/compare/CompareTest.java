// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every peer runs every comparison workload briefly and keeps its bank totals. */
class CompareTest {

    @Test
    void everyPeerRunsEveryWorkloadAndConservesTheBankTotals() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int status = Compare.main(
                List.of(
                        "--keys",
                        "2000",
                        "--accounts",
                        "200",
                        "--hot",
                        "10",
                        "--threads",
                        "2",
                        "--duration",
                        "100ms",
                        "--warmup",
                        "0",
                        "--large-tx",
                        "300,1000"),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        String report = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, report);
        for (String peer : List.of("Varve", "CSLM", "CSLM+lock", "H2-MVStore", "SQLite", "RocksDB-OCC")) {
            assertTrue(
                    report.contains("[ ok ] " + String.format("%-12s", peer) + " bank totals"), peer + "\n" + report);
        }
        assertTrue(report.contains("large tx 300") && report.contains("large tx 1,000"), report);
        for (String workload : Compare.WORKLOADS) {
            assertTrue(report.contains(workload + " / 2"), workload + "\n" + report);
        }
    }

    @Test
    void rejectsUnknownPeersAndOptions() {
        assertEquals(
                "--peers mysql is not one of [varve, cslm, cslm-lock, h2, sqlite, rocksdb]",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> Compare.main(List.of("--peers", "mysql"), System.out, System.err))
                        .getMessage());
        assertEquals(
                "unknown compare option --fast (see compare --help)",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> Compare.main(List.of("--fast"), System.out, System.err))
                        .getMessage());
    }
}
