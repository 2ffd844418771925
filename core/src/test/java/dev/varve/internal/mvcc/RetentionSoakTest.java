// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Database;
import dev.varve.Internals;
import dev.varve.NamedMap;
import dev.varve.Snapshot;
import dev.varve.SnapshotTooOldException;
import dev.varve.Transaction;
import dev.varve.TransactionException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * History retention holds memory to its window: with a fixed window and writers that never stop
 * for long, the versions held stay within the stated bound, phase after phase.
 *
 * <p>The bound, checked at every quiescent point T (all writers parked at a barrier, then a full
 * vacuum): {@code versions - indexedKeys <= writes committed after T - window}, where a write
 * counts as "after" unless its commit had returned before {@code T - window} (so it was stamped
 * before it, and the retention horizon is at or above it: CommitTimes C1, C3). Each key keeps at
 * most one version at or below the horizon (its newest there); every other version it holds is
 * one of those later writes. The commit clock keeps at most one entry per millisecond of the window,
 * plus the one older entry that answers for the window's start (C3).
 */
class RetentionSoakTest {
    private static final long WINDOW_MS = 40;
    private static final int WRITERS = 2;
    private static final int KEYS = 64;
    private static final int COMMITS_PER_PHASE = 1500;

    @Test
    void versionsStayWithinTheWindowsWritesForAFewPhases() throws Exception {
        soak(Duration.ofSeconds(2));
    }

    @Test
    @Tag("slow")
    void versionsStayWithinTheWindowsWritesForAMinute() throws Exception {
        soak(Duration.ofSeconds(60));
    }

    /** One writer's commits: when each returned (System.currentTimeMillis) and the writes so far. */
    private static final class WriterLog {
        long[] returnedAt = new long[1024];
        long[] writesThrough = new long[1024];
        int size;
        long writes;
        /** The writes of the commits forgotten, all of which returned before any instant asked about. */
        long forgottenThrough;

        void add(long millis, int n) {
            if (size == returnedAt.length) {
                returnedAt = Arrays.copyOf(returnedAt, size * 2);
                writesThrough = Arrays.copyOf(writesThrough, size * 2);
            }
            writes += n;
            returnedAt[size] = millis;
            writesThrough[size] = writes;
            size++;
        }

        /** Writes whose commit had returned at or before {@code millis} (not before a forgotten one). */
        long writesReturnedBy(long millis) {
            long n = forgottenThrough;
            for (int i = 0; i < size && returnedAt[i] <= millis; i++) {
                n = writesThrough[i];
            }
            return n;
        }

        /** Forgets commits that returned before {@code millis}: later queries ask about later instants. */
        void forgetBefore(long millis) {
            int drop = 0;
            while (drop < size && returnedAt[drop] < millis) {
                forgottenThrough = writesThrough[drop];
                drop++;
            }
            System.arraycopy(returnedAt, drop, returnedAt, 0, size - drop);
            System.arraycopy(writesThrough, drop, writesThrough, 0, size - drop);
            size -= drop;
        }
    }

    private static void soak(Duration duration) throws Exception {
        long seed = System.nanoTime();
        try (Database<Integer, Long> db = Database.<Integer, Long>builder()
                .retainHistory(Duration.ofMillis(WINDOW_MS))
                .autoVacuum(Duration.ofMillis(5))
                .open()) {
            NamedMap<Integer, String> named = db.openMap("named");
            Store<Integer, Long> store = Internals.store(db);
            CyclicBarrier phaseEnd = new CyclicBarrier(WRITERS + 1);
            CyclicBarrier phaseStart = new CyclicBarrier(WRITERS + 1);
            WriterLog[] logs = new WriterLog[WRITERS];
            AtomicReference<Throwable> failure = new AtomicReference<>();
            long deadline = System.nanoTime() + duration.toNanos();
            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> writers = new ArrayList<>();
            for (int w = 0; w < WRITERS; w++) {
                WriterLog log = logs[w] = new WriterLog();
                SplittableRandom rnd = new SplittableRandom(seed + w);
                Thread t = new Thread(
                        () -> {
                            try {
                                while (true) {
                                    phaseStart.await(30, TimeUnit.SECONDS);
                                    if (stop.get()) { // set by the checker before this barrier
                                        return;
                                    }
                                    for (int i = 0; i < COMMITS_PER_PHASE; i++) {
                                        int n = commitSome(db, named, rnd);
                                        log.add(System.currentTimeMillis(), n);
                                    }
                                    phaseEnd.await(30, TimeUnit.SECONDS);
                                }
                            } catch (InterruptedException | BrokenBarrierException | TimeoutException e) {
                                failure.compareAndSet(null, e);
                            } catch (RuntimeException | Error e) {
                                failure.compareAndSet(null, e);
                                phaseEnd.reset();
                            }
                        },
                        "retention-writer-" + w);
                t.start();
                writers.add(t);
            }
            int phases = 0;
            long peakOlder = 0;
            long peakBound = 0;
            while (true) {
                stop.set(System.nanoTime() - deadline > 0);
                phaseStart.await(30, TimeUnit.SECONDS);
                if (stop.get()) {
                    break;
                }
                phaseEnd.await(60, TimeUnit.SECONDS);
                phases++;
                long t = System.currentTimeMillis();
                db.vacuum();
                Database.Gauges g = db.gauges();
                long total = 0;
                long old = 0;
                for (WriterLog log : logs) {
                    total += log.writes;
                    old += log.writesReturnedBy(t - WINDOW_MS);
                    log.forgetBefore(t - 10 * WINDOW_MS);
                }
                long bound = total - old;
                String where = "seed " + seed + ", phase " + phases + ": " + g;
                assertTrue(
                        g.olderVersions() <= bound, where + " holds more than the " + bound + " writes of its window");
                assertTrue(g.versions() <= KEYS * 2 + bound, where);
                int entries = store.pins.history().entries();
                assertTrue(entries <= WINDOW_MS + 2, where + ": the commit clock keeps " + entries + " entries");
                peakOlder = Math.max(peakOlder, g.olderVersions());
                peakBound = Math.max(peakBound, bound);
                checkTheHorizonIsReadable(db, where);
            }
            for (Thread w : writers) {
                w.join(TimeUnit.SECONDS.toMillis(30));
            }
            if (failure.get() != null) {
                throw new AssertionError("seed " + seed, failure.get());
            }
            assertTrue(phases > 0, "no phase ran");
            System.out.printf(
                    "retention soak: %d phases, peak older versions %d, peak bound %d (window %d ms)%n",
                    phases, peakOlder, peakBound, WINDOW_MS);
        }
    }

    /** One transaction of 1 to 3 writes over both maps (puts and removes); returns the writes. */
    private static int commitSome(Database<Integer, Long> db, NamedMap<Integer, String> named, SplittableRandom rnd) {
        int n = rnd.nextInt(3) + 1;
        while (true) {
            try (Transaction<Integer, Long> tx = db.begin()) {
                for (int i = 0; i < n; i++) {
                    int k = rnd.nextInt(KEYS / 2);
                    if (rnd.nextInt(5) == 0) {
                        tx.remove(k);
                    } else if (rnd.nextBoolean()) {
                        tx.put(k, rnd.nextLong());
                    } else {
                        tx.map(named).put(k, "v" + rnd.nextInt(100));
                    }
                }
                tx.commit();
                return n;
            } catch (TransactionException retry) {
                // first-committer-wins between the two writers: a write that never committed holds no version
            }
        }
    }

    /** The retained horizon is readable: a snapshot there reads what its timestamp committed. */
    private static void checkTheHorizonIsReadable(Database<Integer, Long> db, String where) {
        long horizon = db.gauges().oldestReadableTimestamp();
        try (Snapshot<Integer, Long> s = db.snapshotAt(horizon)) {
            assertEquals(horizon, s.snapshotTimestamp(), where);
        } catch (SnapshotTooOldException e) {
            // autovacuum raised the horizon meanwhile: it only rises, and names the new one
            assertTrue(e.oldestAvailableTimestamp() > horizon, where + ": " + e.getMessage());
        }
    }
}
