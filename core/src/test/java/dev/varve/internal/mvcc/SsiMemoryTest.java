// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Database;
import dev.varve.Isolation;
import dev.varve.SerializationFailureException;
import dev.varve.Transaction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The SSI bookkeeping stays bounded while one SERIALIZABLE transaction is held open for the whole
 * run (pinning the watermark) and two writers commit SERIALIZABLE read-write transactions: the
 * conflict graph folds its oldest records into a summary instead of growing.
 */
class SsiMemoryTest {
    private static final int CAP = 500;

    static int run(Duration duration) throws Exception {
        try (Database<Integer, Long> db = Database.<Integer, Long>builder()
                .maxRetainedSsiRecords(CAP)
                .autoVacuum(Duration.ofMillis(50))
                .open()) {
            for (int k = 0; k < 1000; k++) {
                db.put(k, 0L);
            }
            Transaction<Integer, Long> longReader = db.begin(Isolation.SERIALIZABLE);
            longReader.get(1); // it read something, so it is a real SSI participant
            AtomicInteger peak = new AtomicInteger();
            AtomicLong commits = new AtomicLong();
            long deadline = System.nanoTime() + duration.toNanos();
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                List<Future<?>> writers = new ArrayList<>();
                for (int w = 0; w < 2; w++) {
                    SplittableRandom rnd = new SplittableRandom(w);
                    writers.add(pool.submit(() -> {
                        int i = 0;
                        while (System.nanoTime() < deadline) {
                            try (Transaction<Integer, Long> tx = db.begin()) {
                                int a = rnd.nextInt(1000);
                                int b = rnd.nextInt(1000);
                                tx.put(b, tx.get(a) + 1);
                                tx.commit();
                                commits.incrementAndGet();
                            } catch (SerializationFailureException ignored) {
                                // a retryable abort; the run counts commits only
                            }
                            if (++i % 256 == 0) {
                                peak.accumulateAndGet(db.stats().ssiRecords(), Math::max);
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : writers) {
                    f.get(duration.toSeconds() + 60, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
                assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
            }
            peak.accumulateAndGet(db.stats().ssiRecords(), Math::max);
            assertTrue(commits.get() > 5L * CAP, "too few commits to fill the graph: " + commits);
            assertTrue(peak.get() <= CAP + 1, "SSI records grew past the cap: " + peak);
            longReader.commit();
            db.vacuum();
            assertEquals(0, db.stats().ssiRecords(), "records should go once the long reader finished");
            System.out.printf(
                    "SSI memory: %s run, %d commits, peak %d retained SSI records (cap %d)%n",
                    duration, commits.get(), peak.get(), CAP);
            return peak.get();
        }
    }

    @Test
    void conflictGraphStaysBoundedUnderALongRunningTransaction() throws Exception {
        run(Duration.ofSeconds(2));
    }

    @Test
    @Tag("slow")
    void conflictGraphStaysBoundedForSixtySeconds() throws Exception {
        run(Duration.ofSeconds(60));
    }
}
