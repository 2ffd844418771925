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
 * the boundary is counted in the interval it ends in.
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
            long loadStart = System.nanoTime();
            workload.load();
            double loadSeconds = (System.nanoTime() - loadStart) / 1e9;
            print(String.format("loaded %s in %.1f s", workload.describe(), loadSeconds));

            int threads = options.threads();
            List<String> types = workload.transactionTypes();
            Counters[] counters = new Counters[threads];
            Thread[] workers = new Thread[threads];
            AtomicReference<Throwable> failure = new AtomicReference<>();
            for (int i = 0; i < threads; i++) {
                counters[i] = new Counters(types.size());
                Workload.Worker worker = workload.worker(i, options.seed() + i, counters[i]);
                workers[i] = new Thread(() -> {
                    try {
                        while (!stop) {
                            worker.runOne();
                        }
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                        stop = true;
                    }
                }, "varve-bench-worker-" + i);
                workers[i].setDaemon(true);
            }
            long start = System.nanoTime();
            for (Thread t : workers) {
                t.start();
            }
            long warmupNanos = options.warmup().toNanos();
            long measureNanos = options.duration().toNanos();
            long measureStart = start + warmupNanos;
            long end = measureStart + measureNanos;
            long[] base = null;
            long[] baseAborts = null;
            long[] baseRollbacks = null;
            long lastCommitted = 0;
            long lastTick = start;
            long snapshotChecks = 0;
            long snapshotViolations = 0;
            boolean checksDuring = workload.duringRunDescription() != null;
            while (!stop) {
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
                if (base == null && now >= measureStart) {
                    base = new long[types.size()];
                    baseAborts = new long[2];
                    baseRollbacks = new long[types.size()];
                    for (Counters c : counters) {
                        c.intervalLatency(); // discard warm-up latencies
                        for (int t = 0; t < types.size(); t++) {
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
                }
                if (now >= end) {
                    break;
                }
                if (now - lastTick >= TimeUnit.MILLISECONDS.toNanos(990)) {
                    long committed = 0;
                    long aborts = 0;
                    for (Counters c : counters) {
                        committed += c.committedTotal();
                        aborts += c.abortsTotal();
                    }
                    double rate = (committed - lastCommitted) / ((now - lastTick) / 1e9);
                    print(String.format("[%5.1f s] %-8s %,12.0f txn/s  commits %,d  aborts %,d%s",
                            (now - start) / 1e9, base == null ? "warm-up" : "measure", rate, committed, aborts,
                            checksDuring ? "  snapshot checks " + snapshotChecks + " violations " + snapshotViolations : ""));
                    lastCommitted = committed;
                    lastTick = now;
                }
            }
            long stopAt = System.nanoTime();
            stop = true;
            for (Thread t : workers) {
                t.join(TimeUnit.SECONDS.toMillis(30));
            }
            if (failure.get() != null) {
                throw new IllegalStateException("a worker failed: " + failure.get(), failure.get());
            }
            if (base == null) {
                throw new IllegalStateException("stopped before measuring began");
            }
            long[] committedByType = new long[types.size()];
            long[] rollbacksByType = new long[types.size()];
            long[] aborts = new long[2];
            Histogram latency = new Histogram(3);
            for (Counters c : counters) {
                for (int t = 0; t < types.size(); t++) {
                    committedByType[t] += c.committed.get(t);
                    rollbacksByType[t] += c.rollbacks.get(t);
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

            List<Workload.Check> checks = new ArrayList<>();
            if (checksDuring) {
                checks.add(new Workload.Check(workload.duringRunDescription(), snapshotViolations == 0,
                        snapshotChecks + " checks during the measured run, " + snapshotViolations + " violations"));
            }
            long checkStart = System.nanoTime();
            checks.addAll(workload.checkAfterRun());
            print(String.format("checked in %.1f s", (System.nanoTime() - checkStart) / 1e9));
            var stats = workload.database().stats();
            return new Result(options, workload.describe(), workload.database().durability(), types, committedByType,
                    rollbacksByType, aborts[0], aborts[1], seconds, loadSeconds, latency, checks, stats);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stop = true;
            throw new IllegalStateException("interrupted", e);
        } finally {
            stop = true;
        }
    }

    private void print(String line) {
        if (progress != null) {
            progress.println(line);
            progress.flush();
        }
    }
}
