// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench;

import dev.varve.Backup;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The {@code --backup-every} loop: one background thread backs the workload's database up at a
 * fixed rate ({@link Workload#backup}) into a new temporary directory each time, deleted right
 * after, and counts the backups, their bytes and the time spent in the backup calls. A backup
 * that takes longer than the period delays the next one (they never overlap). The first failure
 * stops the loop and fails the run ({@link #failure()}).
 *
 * <p>Started and stopped by the runner's monitor thread; the counters are written by the backup
 * thread (atomics).
 */
public final class BackupLoop implements AutoCloseable {
    private final Workload workload;
    private final Duration every;
    private final ScheduledExecutorService scheduler;
    private final AtomicLong backups = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong nanos = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    /**
     * What the loop wrote.
     *
     * @param every the period
     * @param backups backups completed
     * @param bytes their size together, in bytes ({@link Backup#bytes()})
     * @param seconds time spent in the backup calls
     */
    public record Stats(Duration every, long backups, long bytes, double seconds) {
        /** The bytes in MB (10^6 bytes). */
        public double megabytes() {
            return bytes / 1e6;
        }

        /** MB written per second spent in backup calls. */
        public double megabytesPerSecond() {
            return seconds > 0 ? megabytes() / seconds : 0;
        }
    }

    BackupLoop(Workload workload, Duration every) {
        this.workload = workload;
        this.every = every;
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "varve-bench-backup");
            t.setDaemon(true);
            return t;
        });
    }

    /** Schedules the first backup one period from now, and the others every period after it. */
    void start() {
        long period = every.toNanos();
        scheduler.scheduleAtFixedRate(this::backupOnce, period, period, TimeUnit.NANOSECONDS);
    }

    private void backupOnce() {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("varve-bench-backup-");
            long t0 = System.nanoTime();
            Backup b = workload.backup(dir);
            nanos.addAndGet(System.nanoTime() - t0);
            bytes.addAndGet(b.bytes());
            backups.incrementAndGet();
        } catch (IOException e) {
            fail(new UncheckedIOException("cannot create a backup directory: " + e, e));
        } catch (RuntimeException | Error e) {
            fail(e);
        } finally {
            DurabilityMode.deleteTree(dir);
        }
    }

    /** Records the first failure and stops scheduling: a run with failing backups is not measured. */
    private void fail(Throwable t) {
        failure.compareAndSet(null, t);
        scheduler.shutdown();
    }

    /** What the loop has written so far. */
    Stats stats() {
        return new Stats(every, backups.get(), bytes.get(), nanos.get() / 1e9);
    }

    /** The first failed backup's exception, or null. */
    Throwable failure() {
        return failure.get();
    }

    /** Stops scheduling and waits (up to 60 s) for a backup in flight to end. */
    @Override
    public void close() {
        scheduler.shutdown();
        try {
            if (!scheduler.awaitTermination(60, TimeUnit.SECONDS)) {
                scheduler.shutdownNow();
            }
        } catch (InterruptedException e) {
            scheduler.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
