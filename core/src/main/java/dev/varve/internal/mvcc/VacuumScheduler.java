// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The background vacuum: one daemon thread that runs {@link Store#vacuumIncremental()} at a fixed
 * delay (from the end of one pass to the start of the next) until {@link #close()}.
 *
 * <p>Thread-safe. Implementation notes.
 *  S1. A pass that throws does not stop the schedule: its failure is kept (lastFailure) for the
 *      database's statistics and the next pass tries again, so no error is lost in this thread.
 *  S2. A pass checks that the store is open before it starts; close() interrupts a running pass
 *      and waits for it, so after close() returns no pass touches the store (unless the wait of
 *      at most CLOSE_WAIT_SECONDS ran out).
 */
public final class VacuumScheduler {
    private static final AtomicInteger THREADS = new AtomicInteger();
    private static final long CLOSE_WAIT_SECONDS = 10;

    private final Store<?, ?> store;
    private final ScheduledThreadPoolExecutor executor;
    private volatile Throwable lastFailure;
    /** Where failures are reported (System.Logger: the application chooses the backend). */
    private static final System.Logger LOG = System.getLogger("dev.varve");

    /**
     * Starts the background vacuum of {@code store}.
     *
     * @param store the store to vacuum
     * @param periodNanos the delay between the end of one pass and the start of the next, in ns
     * @throws IllegalArgumentException if {@code periodNanos} is not positive
     */
    public VacuumScheduler(Store<?, ?> store, long periodNanos) {
        if (periodNanos <= 0) {
            throw new IllegalArgumentException("vacuum period must be positive, was " + periodNanos + " ns");
        }
        this.store = store;
        this.executor = new ScheduledThreadPoolExecutor(1, runnable -> {
            Thread t = new Thread(runnable, "varve-vacuum-" + THREADS.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
        executor.scheduleWithFixedDelay(this::pass, periodNanos, periodNanos, TimeUnit.NANOSECONDS);
    }

    private void pass() {
        if (store.isClosed()) { // S2
            return;
        }
        try {
            store.vacuumIncremental();
        } catch (RuntimeException | Error e) {
            lastFailure = e; // S1
            LOG.log(System.Logger.Level.WARNING, "background vacuum pass failed (the schedule goes on): " + e, e);
            store.backgroundFailure(dev.varve.Database.FailureKind.VACUUM, e);
        }
    }

    /**
     * The last exception a background pass threw, or null if none did.
     *
     * @return the failure, or null
     */
    public Throwable lastFailure() {
        return lastFailure;
    }

    /**
     * Stops the schedule, interrupts a running pass and waits for it (at most 10 s). Idempotent.
     * If the calling thread is interrupted while waiting, it stops waiting and keeps its interrupt
     * status.
     */
    public void close() {
        executor.shutdownNow();
        try {
            executor.awaitTermination(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
