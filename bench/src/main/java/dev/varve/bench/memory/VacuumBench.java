// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench.memory;

import dev.varve.Database;
import dev.varve.Isolation;
import dev.varve.Snapshot;
import dev.varve.Transaction;
import dev.varve.VacuumResult;

/**
 * Vacuum throughput: versions reclaimed per second by one {@code db.vacuum()} pass over {@code
 * --keys} keys (default 1,000,000) that each carry {@code --versions} extra versions (default 3)
 * left behind by a snapshot that was open while they were written. Three rounds; prints each.
 *
 * <p>Run: {@code java -cp bench/target/varve-bench.jar dev.varve.bench.memory.VacuumBench}.
 */
public final class VacuumBench {
    private VacuumBench() {}

    public static void main(String[] args) {
        int keys = 1_000_000;
        int versions = 3;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--keys" -> keys = Integer.parseInt(args[i + 1]);
                case "--versions" -> versions = Integer.parseInt(args[i + 1]);
                default ->
                    throw new IllegalArgumentException("unknown option " + args[i] + " (--keys N, --versions N)");
            }
        }
        System.out.printf(
                "vacuum throughput: %,d keys x %d extra versions, JDK %s, %d cores%n",
                keys, versions, Runtime.version(), Runtime.getRuntime().availableProcessors());
        for (int round = 1; round <= 3; round++) {
            try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
                load(db, keys, 0);
                Snapshot<Long, Long> pin = db.snapshot(); // keeps every version from here on
                for (int v = 1; v <= versions; v++) {
                    load(db, keys, v);
                }
                pin.close();
                long start = System.nanoTime();
                VacuumResult r = db.vacuum();
                long nanos = System.nanoTime() - start;
                System.out.printf(
                        "round %d: reclaimed %,d versions in %.1f ms = %,.0f versions/s"
                                + " (%,d retained, %,d live keys)%n",
                        round,
                        r.versions(),
                        nanos / 1e6,
                        r.versions() / (nanos / 1e9),
                        r.retainedVersions(),
                        r.liveKeys());
            }
        }
    }

    private static void load(Database<Long, Long> db, int keys, long value) {
        for (long from = 0; from < keys; from += 1000) {
            try (Transaction<Long, Long> tx = db.begin(Isolation.SNAPSHOT)) {
                for (long k = from; k < Math.min(keys, from + 1000); k++) {
                    tx.put(k, value);
                }
                tx.commit();
            }
        }
    }
}
