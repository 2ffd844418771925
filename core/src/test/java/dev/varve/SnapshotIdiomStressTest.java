// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.testing.TestThreads;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The everyday idiom {@code for (var e : db.snapshot().entrySet()) sum += ...} — a snapshot never
 * closed and unreachable while its iterator runs — under concurrent transfers and a vacuum every
 * millisecond: every total must be the conserved one.
 */
class SnapshotIdiomStressTest {
    private static final int ACCOUNTS = 20_000;
    private static final long BALANCE = 1_000;

    static long[] run(Duration duration) throws Exception {
        try (Database<Integer, Long> db = Database.<Integer, Long>builder().open()) {
            for (int a = 0; a < ACCOUNTS; a++) {
                db.put(a, BALANCE);
            }
            long deadline = System.nanoTime() + duration.toNanos();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong sums = new AtomicLong();
            AtomicLong wrong = new AtomicLong();
            List<Callable<Void>> tasks = new ArrayList<>();
            for (int w = 0; w < 2; w++) {
                long seed = w;
                tasks.add(() -> {
                    SplittableRandom random = new SplittableRandom(seed);
                    while (!stop.get()) {
                        int from = random.nextInt(ACCOUNTS);
                        int to = random.nextInt(ACCOUNTS);
                        db.transact(Isolation.SNAPSHOT, tx -> {
                            tx.put(from, tx.get(from) - 1);
                            tx.put(to, tx.get(to) + 1);
                            return null;
                        });
                    }
                    return null;
                });
            }
            tasks.add(() -> {
                while (!stop.get()) {
                    db.vacuum();
                    java.util.concurrent.locks.LockSupport.parkNanos(1_000_000); // the vacuum period under test
                }
                return null;
            });
            tasks.add(
                    () -> { // collections while iterators run: what lets an unreachable snapshot go
                        while (!stop.get()) {
                            System.gc();
                            java.util.concurrent.locks.LockSupport.parkNanos(2_000_000);
                        }
                        return null;
                    });
            tasks.add(() -> {
                while (System.nanoTime() < deadline) {
                    long sum = 0;
                    for (var e : db.snapshot().entrySet()) { // never closed, on purpose
                        sum += e.getValue();
                    }
                    sums.incrementAndGet();
                    if (sum != ACCOUNTS * BALANCE) {
                        wrong.incrementAndGet();
                    }
                }
                stop.set(true);
                return null;
            });
            TestThreads.runAll(tasks);
            return new long[] {sums.get(), wrong.get()};
        }
    }

    @Test
    void unclosedSnapshotsReadConservedTotalsUnderTransfersAndVacuum() throws Exception {
        long[] r = run(Duration.ofSeconds(2));
        System.out.println("snapshot idiom 2 s: " + r[0] + " totals, " + r[1] + " wrong");
        assertTrue(r[0] > 0);
        assertEquals(0, r[1], r[1] + " of " + r[0] + " totals were wrong");
    }

    @Test
    @Tag("slow")
    void unclosedSnapshotsReadConservedTotalsForAMinute() throws Exception {
        long[] r = run(Duration.ofSeconds(60));
        System.out.println("snapshot idiom 60 s: " + r[0] + " totals, " + r[1] + " wrong");
        assertEquals(0, r[1], r[1] + " of " + r[0] + " totals were wrong");
    }
}
