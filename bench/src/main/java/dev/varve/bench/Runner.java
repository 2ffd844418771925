// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;

/**
 * Runs a {@link Workload}: loads it, starts the worker threads, warms up, measures, prints a
 * progress line about once a second, stops the workers, and runs the after-run checks.
 *
 * <p>Workers run until a volatile stop flag is set; the measured interval starts when the monitor
 * thread resets every latency recorder and snapshots the counters, so a transaction in flight at
 * the boundary is counted in the interval it ends in. The background load of the measured
 * interval starts with it and stops with the workers: the change-feed subscribers of {@code
 * --watchers} ({@link FeedWatchers}) and the backups of {@code --backup-every} ({@link
 * BackupLoop}); a failure of either fails the run, as a worker's does.
 */
public final class Runner {
    private final Options options;
    private final PrintStream progress;
    private volatile boolean stop;

    /**
     * A runner for {@code options}.
     *
     * @param options the settings
     * @param progress where progress lines go (standard error in the driver), or null for none
     */
    public Runner(Options options, PrintStream progress) {
        this.options = options;
        this.progress = progress;
    }

    /**
     * Loads, runs and checks {@code workload}; closes it afterwards.
     *
     * @param workload the workload
     * @return the result
     */
    public Result run(Workload workload) {
        try (workload) {
            double loadSeconds = load(workload);
            Measurement m = new Measurement(workload);
            try {
                m.startWorkers();
                m.warmUpAndMeasure();
                m.stopWorkers();
            } finally {
                stop = true;
                m.stopBackground(); // before the workload closes its database
            }
            Totals totals = m.totals();
            List<Workload.Check> checks = m.checks();
            return result(workload, m.types(), totals, loadSeconds, checks, m.watchStats(), m.backupStats());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stop = true;
            throw new IllegalStateException("interrupted", e);
        } finally {
            stop = true;
        }
    }

    /** Step 1: loads the workload and prints how long it took; returns that time in seconds. */
    private double load(Workload workload) {
        long loadStart = System.nanoTime();
        workload.load();
        double loadSeconds = (System.nanoTime() - loadStart) / 1e9;
        print(String.format("loaded %s in %.1f s", workload.describe(), loadSeconds));
        return loadSeconds;
    }

    /** Last step: the result of the run, with the database's statistics after it. */
    private Result result(
            Workload workload,
            List<String> types,
            Totals totals,
            double loadSeconds,
            List<Workload.Check> checks,
            FeedWatchers.Stats watching,
            BackupLoop.Stats backups) {
        var stats = workload.database().stats();
        return new Result(
                options,
                workload.describe(),
                workload.database().durability(),
                types,
                totals.committedByType(),
                totals.rollbacksByType(),
                totals.writeWriteAborts(),
                totals.dangerousStructureAborts(),
                totals.seconds(),
                loadSeconds,
                totals.latency(),
                totals.latencyByType(),
                checks,
                stats,
                watching,
                backups);
    }

    /**
     * What the measured interval counted: the counters at its end minus their baseline at its start.
     *
     * @param committedByType commits per type
     * @param rollbacksByType rollbacks the workload asked for, per type
     * @param writeWriteAborts serialization failures by first-committer-wins
     * @param dangerousStructureAborts serialization failures by SSI
     * @param latency latencies recorded since the measured interval began, in ns
     * @param seconds the measured interval's length
     */
    private record Totals(
            long[] committedByType,
            long[] rollbacksByType,
            long writeWriteAborts,
            long dangerousStructureAborts,
            Histogram latency,
            Histogram[] latencyByType,
            double seconds) {}

    /**
     * One run's worker threads, their counters, and the monitor's state; used by the thread that
     * called {@link #run} only (the workers touch nothing here but their own {@link Counters}, the
     * failure slot and {@link #stop}).
     */
    private final class Measurement {
        private final Workload workload;
        private final List<String> types;
        private final Counters[] counters;
        private final Thread[] workers;
        private final AtomicReference<Throwable> failure = new AtomicReference<>();
        private final long measureNanos = options.duration().toNanos();
        private final boolean checksDuring;
        private long start;
        /** When measuring begins (planned until then, actual afterwards) and ends. */
        private long measureStart;

        private long end;
        /** The counters when measuring began; null during warm-up. */
        private long[] base;

        private long[] baseAborts;
        private long[] baseRollbacks;
        private long lastCommitted;
        private long lastTick;
        private long snapshotChecks;
        private long snapshotViolations;
        private long stopAt;
        /** The --watchers subscribers, or null for none; started when measuring begins. */
        private final FeedWatchers watchers;
        /** The --backup-every loop, or null for none; started when measuring begins. */
        private final BackupLoop backupLoop;

        private FeedWatchers.Stats watchStats;
        private BackupLoop.Stats backupStats;

        /** Step 2: one {@link Workload.Worker} per thread, each with its own counters; not started. */
        Measurement(Workload workload) {
            this.workload = workload;
            this.types = workload.transactionTypes();
            this.checksDuring = workload.duringRunDescription() != null;
            int threads = options.threads();
            counters = new Counters[threads];
            workers = new Thread[threads];
            for (int i = 0; i < threads; i++) {
                counters[i] = new Counters(types.size());
                Workload.Worker worker = workload.worker(i, options.seed() + i, counters[i]);
                workers[i] = new Thread(
                        () -> {
                            try {
                                while (!stop) {
                                    worker.runOne();
                                }
                            } catch (Throwable t) {
                                failure.compareAndSet(null, t);
                                stop = true;
                            }
                        },
                        "varve-bench-worker-" + i);
                workers[i].setDaemon(true);
            }
            watchers = options.watchers() > 0
                    ? new FeedWatchers(workload.database(), workload.watchedRanges(), options.watchers())
                    : null;
            backupLoop = options.backupEvery().isZero() ? null : new BackupLoop(workload, options.backupEvery());
        }

        /** The workload's transaction types, as counted. */
        List<String> types() {
            return types;
        }

        /** Step 3: starts the workers; the warm-up begins now. */
        void startWorkers() {
            start = System.nanoTime();
            for (Thread t : workers) {
                t.start();
            }
            long warmupNanos = options.warmup().toNanos();
            measureStart = start + warmupNanos;
            end = measureStart + measureNanos;
            lastTick = start;
        }

        /**
         * Step 4: the monitor loop, until the measured interval ends or a worker fails: waits for
         * the next event (a progress tick, the end of the warm-up, the end of the run), takes the
         * baseline when the warm-up ends, and prints a progress line about once a second.
         */
        void warmUpAndMeasure() throws InterruptedException {
            while (!stop) {
                long now = awaitNextEvent();
                if (base == null && now >= measureStart) {
                    beginMeasuring(now);
                }
                if (now >= end) {
                    break;
                }
                if (now - lastTick >= TimeUnit.MILLISECONDS.toNanos(990)) {
                    printProgress(now);
                }
            }
        }

        /**
         * Sleeps until the next tick or phase boundary, running the workload's during-run check
         * first if it has one; returns the time after the wait.
         */
        private long awaitNextEvent() throws InterruptedException {
            long now = System.nanoTime();
            long next = Math.min(lastTick + TimeUnit.SECONDS.toNanos(1), base == null ? measureStart : end);
            if (now < next) {
                long wait = next - now;
                if (checksDuring) {
                    long t0 = System.nanoTime();
                    snapshotViolations += workload.checkDuringRun();
                    snapshotChecks++;
                    wait -= System.nanoTime() - t0;
                }
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
                now = System.nanoTime();
            }
            return now;
        }

        /** Ends the warm-up at {@code now}: snapshots the counters and restarts the latency and check counts. */
        private void beginMeasuring(long now) {
            base = new long[types.size()];
            baseAborts = new long[2];
            baseRollbacks = new long[types.size()];
            for (Counters c : counters) {
                c.intervalLatency(); // discard warm-up latencies
                for (int t = 0; t < types.size(); t++) {
                    c.intervalLatency(t);
                    base[t] += c.committed.get(t);
                    baseRollbacks[t] += c.rollbacks.get(t);
                }
                baseAborts[0] += c.aborts.get(0);
                baseAborts[1] += c.aborts.get(1);
            }
            measureStart = now;
            end = now + measureNanos;
            snapshotChecks = 0;
            snapshotViolations = 0;
            if (watchers != null) {
                watchers.start();
            }
            if (backupLoop != null) {
                backupLoop.start();
            }
        }

        private void printProgress(long now) {
            long committed = 0;
            long aborts = 0;
            for (Counters c : counters) {
                committed += c.committedTotal();
                aborts += c.abortsTotal();
            }
            double rate = (committed - lastCommitted) / ((now - lastTick) / 1e9);
            print(String.format(
                    "[%5.1f s] %-8s %,12.0f txn/s  commits %,d  aborts %,d%s",
                    (now - start) / 1e9,
                    base == null ? "warm-up" : "measure",
                    rate,
                    committed,
                    aborts,
                    checksDuring ? "  snapshot checks " + snapshotChecks + " violations " + snapshotViolations : ""));
            lastCommitted = committed;
            lastTick = now;
        }

        /**
         * Step 5: stops the workers and waits for them (up to 30 s each), takes the watchers'
         * counts as of the stop, then stops the background load.
         *
         * @throws IllegalStateException if a worker, a watcher or a backup failed, or the run
         *     stopped before measuring began
         */
        void stopWorkers() throws InterruptedException {
            stopAt = System.nanoTime();
            stop = true;
            if (watchers != null && base != null) {
                watchStats = watchers.stats((stopAt - measureStart) / 1e9);
            }
            try {
                for (Thread t : workers) {
                    t.join(TimeUnit.SECONDS.toMillis(30));
                }
            } finally {
                stopBackground();
            }
            if (failure.get() != null) {
                throw new IllegalStateException("a worker failed: " + failure.get(), failure.get());
            }
            if (base == null) {
                throw new IllegalStateException("stopped before measuring began");
            }
            Throwable f = watchers != null ? watchers.failure() : null;
            if (f != null) {
                throw new IllegalStateException("a change-feed watcher failed: " + f, f);
            }
            f = backupLoop != null ? backupLoop.failure() : null;
            if (f != null) {
                throw new IllegalStateException("a backup failed: " + f, f);
            }
        }

        /** Stops the backups (waiting for one in flight) and the watchers; idempotent. */
        void stopBackground() {
            if (backupLoop != null) {
                backupLoop.close();
                backupStats = backupLoop.stats();
            }
            if (watchers != null) {
                watchers.close();
            }
        }

        /** The watchers' counts as of the stop, or null without --watchers. */
        FeedWatchers.Stats watchStats() {
            return watchStats;
        }

        /** What the backups wrote, or null without --backup-every. */
        BackupLoop.Stats backupStats() {
            return backupStats;
        }

        /** Step 6: what the measured interval counted, from the stopped workers' counters. */
        Totals totals() {
            long[] committedByType = new long[types.size()];
            long[] rollbacksByType = new long[types.size()];
            long[] aborts = new long[2];
            Histogram latency = new Histogram(3);
            Histogram[] latencyByType = new Histogram[types.size()];
            for (int t = 0; t < types.size(); t++) {
                latencyByType[t] = new Histogram(3);
            }
            for (Counters c : counters) {
                for (int t = 0; t < types.size(); t++) {
                    committedByType[t] += c.committed.get(t);
                    rollbacksByType[t] += c.rollbacks.get(t);
                    latencyByType[t].add(c.intervalLatency(t));
                }
                aborts[0] += c.aborts.get(0);
                aborts[1] += c.aborts.get(1);
                latency.add(c.intervalLatency());
            }
            for (int t = 0; t < types.size(); t++) {
                committedByType[t] -= base[t];
                rollbacksByType[t] -= baseRollbacks[t];
            }
            aborts[0] -= baseAborts[0];
            aborts[1] -= baseAborts[1];
            double seconds = (stopAt - measureStart) / 1e9;
            return new Totals(committedByType, rollbacksByType, aborts[0], aborts[1], latency, latencyByType, seconds);
        }

        /** Step 7: the during-run check's outcome (if any), then the after-run checks, timed. */
        List<Workload.Check> checks() {
            List<Workload.Check> checks = new ArrayList<>();
            if (checksDuring) {
                checks.add(new Workload.Check(
                        workload.duringRunDescription(),
                        snapshotViolations == 0,
                        snapshotChecks + " checks during the measured run, " + snapshotViolations + " violations"));
            }
            long checkStart = System.nanoTime();
            checks.addAll(workload.checkAfterRun());
            print(String.format("checked in %.1f s", (System.nanoTime() - checkStart) / 1e9));
            return checks;
        }
    }

    private void print(String line) {
        if (progress != null) {
            progress.println(line);
            progress.flush();
        }
    }
}
