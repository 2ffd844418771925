// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A {@link TestHook} that holds the first thread to reach one point until the test releases it,
 * so the test can run other steps while that thread is known to stand exactly there.
 */
final class PauseHook implements TestHook {
    private final Point point;
    private final CountDownLatch reached = new CountDownLatch(1);
    private final CountDownLatch released = new CountDownLatch(1);
    private volatile Thread paused;

    PauseHook(Point point) {
        this.point = point;
    }

    @Override
    public void at(Point p) {
        if (p != point || paused != null && paused != Thread.currentThread()) {
            return;
        }
        synchronized (this) {
            if (paused != null) {
                return; // only the first thread to reach the point is held, and only once
            }
            paused = Thread.currentThread();
        }
        reached.countDown();
        try {
            if (!released.await(60, TimeUnit.SECONDS)) {
                throw new AssertionError("the test never released the thread held at " + point);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while held at " + point, e);
        }
    }

    /** Waits until a thread stands at the point. */
    void awaitReached() throws InterruptedException {
        if (!reached.await(30, TimeUnit.SECONDS)) {
            throw new AssertionError("no thread reached " + point);
        }
    }

    /** Lets the held thread go on. */
    void release() {
        released.countDown();
    }
}
