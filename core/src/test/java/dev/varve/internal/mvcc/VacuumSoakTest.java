// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Database;
import dev.varve.Isolation;
import dev.varve.SerializationFailureException;
import dev.varve.Snapshot;
import dev.varve.VacuumResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Memory under a steady workload with background vacuum: two threads update a 100k-key working
 * set; total versions stay at most twice the live keys at every vacuum pass, and the heap after GC
 * at the end is within 10% of the heap after the warm-up. A reader holding a snapshot makes
 * versions pile up; they fall back within a vacuum period or two after it closes.
 */
class VacuumSoakTest {
    private static final int KEYS = 100_000;
    private static final Duration VACUUM_PERIOD = Duration.ofMillis(100);

    record Sample(long retainedVersions, long liveKeys) {}

    static void soak(Duration total, Duration warmup, Duration readerHold) throws Exception {
        try (Database<Integer, Long> db =
                Database.<Integer, Long>builder().autoVacuum(VACUUM_PERIOD).open()) {
            for (int from = 0; from < KEYS; from += 1000) {
                int start = from;
                db.transact(Isolation.SNAPSHOT, tx -> {
                    for (int k = start; k < start + 1000; k++) {
                        tx.put(k, 0L);
                    }
                    return null;
                });
            }
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong commits = new AtomicLong();
            List<Sample> samples = new ArrayList<>();
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                List<Future<?>> writers = new ArrayList<>();
                for (int w = 0; w < 2; w++) {
                    SplittableRandom rnd = new SplittableRandom(w);
                    writers.add(pool.submit(() -> {
                        while (!stop.get()) {
                            int a = rnd.nextInt(KEYS);
                            int b = rnd.nextInt(KEYS);
                            try {
                                db.transact(tx -> {
                                    tx.put(a, tx.get(a) + 1);
                                    tx.put(b, tx.get(b) - 1);
                                    return null;
                                });
                                commits.incrementAndGet();
                            } catch (SerializationFailureException ignored) {
                                // gave up after retries: counts as no commit
                            }
                        }
                        return null;
                    }));
                }
                long start = System.nanoTime();
                long heapAfterWarmup = -1;
                long lastRuns = db.stats().vacuumRuns();
                while (System.nanoTime() - start < total.toNanos()) {
                    long runs = lastRuns;
                    await().atMost(Duration.ofSeconds(10))
                            .until(() -> db.stats().vacuumRuns() > runs);
                    VacuumResult s = db.vacuum(); // a full pass: counts every version
                    lastRuns = db.stats().vacuumRuns();
                    samples.add(new Sample(s.retainedVersions(), s.liveKeys()));
                    assertTrue(
                            s.retainedVersions() <= 2 * s.liveKeys(),
                            "versions " + s.retainedVersions() + " > 2x live keys " + s.liveKeys());
                    if (heapAfterWarmup < 0 && System.nanoTime() - start > warmup.toNanos()) {
                        heapAfterWarmup = heapAfterGc();
                    }
                }
                long heapAtEnd = heapAfterGc();
                System.out.printf(
                        "vacuum soak %s: %d commits, %d vacuum passes, heap after GC %d MiB after"
                                + " warm-up, %d MiB at the end, peak versions/live %.3f%n",
                        total,
                        commits.get(),
                        samples.size(),
                        heapAfterWarmup >> 20,
                        heapAtEnd >> 20,
                        samples.stream()
                                .mapToDouble(x -> x.retainedVersions() / (double) x.liveKeys())
                                .max()
                                .orElse(0));
                assertTrue(
                        heapAtEnd <= heapAfterWarmup * 1.10 + (4L << 20),
                        "heap grew: " + heapAfterWarmup + " -> " + heapAtEnd);

                // A reader pins its snapshot: versions pile up while it is open ...
                Snapshot<Integer, Long> reader = db.snapshot();
                long pinnedAt = System.nanoTime();
                long peak = 0;
                while (System.nanoTime() - pinnedAt < readerHold.toNanos()) {
                    long runs = lastRuns;
                    await().atMost(Duration.ofSeconds(10))
                            .until(() -> db.stats().vacuumRuns() > runs);
                    VacuumResult s = db.vacuum();
                    lastRuns = db.stats().vacuumRuns();
                    peak = Math.max(peak, s.retainedVersions());
                    assertTrue(s.watermark() == reader.snapshotTimestamp());
                }
                long peakVersions = peak;
                assertTrue(peakVersions > KEYS + KEYS / 10, "versions did not grow under a pinned snapshot: " + peak);
                assertTrue(
                        db.stats().oldestSnapshotAge().compareTo(readerHold.dividedBy(2)) >= 0,
                        "age of the pinned snapshot: " + db.stats().oldestSnapshotAge());
                reader.close();
                // ... and fall back once it closes: the background passes reclaim them (the
                // keys written while it was open stay on their pending list until they can).
                long closedAt = System.nanoTime();
                long runsAtClose = db.stats().vacuumRuns();
                await().atMost(Duration.ofSeconds(10)).until(() -> db.stats().vacuumRuns() >= runsAtClose + 2);
                VacuumResult after = db.vacuum();
                assertTrue(
                        after.retainedVersions() <= 2 * after.liveKeys() && after.retainedVersions() < peakVersions,
                        "after the reader closed: " + after);
                System.out.printf(
                        "pinned snapshot held %s: versions peaked at %d (%.2fx live keys),"
                                + " back under 2x %d ms after close%n",
                        readerHold,
                        peakVersions,
                        peakVersions / (double) KEYS,
                        (System.nanoTime() - closedAt) / 1_000_000);
            } finally {
                stop.set(true);
                pool.shutdown();
                assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
            }
        }
    }

    private static long heapAfterGc() {
        System.gc();
        System.gc();
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }

    @Test
    void versionsAndHeapStayBoundedUnderASteadyWorkload() throws Exception {
        soak(Duration.ofSeconds(6), Duration.ofSeconds(2), Duration.ofSeconds(2));
    }

    @Test
    @Tag("slow")
    void versionsAndHeapStayBoundedForSixtySeconds() throws Exception {
        soak(Duration.ofSeconds(60), Duration.ofSeconds(10), Duration.ofSeconds(30));
    }
}
