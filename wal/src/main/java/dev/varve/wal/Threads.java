// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import java.util.concurrent.TimeUnit;

/** Bounded waits for the log's own threads. */
final class Threads {

    private Threads() {}

    /**
     * Waits until {@code t} has exited or the deadline passes; an interrupt meanwhile does not end
     * the wait and is restored on return.
     *
     * @param deadlineNanos a {@link System#nanoTime} value
     */
    static void join(Thread t, long deadlineNanos) {
        boolean interrupted = false;
        try {
            while (t.isAlive()) {
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                try {
                    t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
