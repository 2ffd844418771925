// SPDX-License-Identifier: Apache-2.0
package dev.varve.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Runs the tasks of a concurrency test on threads of their own, started together, bounded in
 * time, and reports the threads it could not stop (with their stacks) instead of leaking them.
 */
public final class TestThreads {
    /** How long all tasks together may run before the test fails as a livelock. */
    private static final long JOIN_MILLIS = 120_000;

    private TestThreads() {}

    /**
     * Runs each task on its own thread until all return; rethrows the first failure.
     *
     * @param tasks the tasks
     * @param <T> result type
     * @return the results, in the order of {@code tasks}
     * @throws Exception the first task's failure (the others suppressed)
     */
    public static <T> List<T> runAll(List<Callable<T>> tasks) throws Exception {
        return runAll("task", tasks, new AtomicBoolean());
    }

    /**
     * Runs each task on a thread named {@code name-i}, all started together; when one fails, sets
     * {@code stop} (which tasks may poll) and, once all have ended, throws an AssertionError
     * whose cause is the first failure (the others suppressed). Sets {@code stop} at the end in
     * any case, and fails if a thread is still running after the deadline.
     *
     * @param name thread name prefix
     * @param tasks the tasks
     * @param stop set on the first failure, and at the end
     * @param <T> result type
     * @return the results, in the order of {@code tasks}
     * @throws InterruptedException if interrupted while joining
     */
    public static <T> List<T> runAll(String name, List<Callable<T>> tasks, AtomicBoolean stop)
            throws InterruptedException {
        CountDownLatch start = new CountDownLatch(1);
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        AtomicReferenceArray<T> results = new AtomicReferenceArray<>(tasks.size());
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < tasks.size(); i++) {
            Callable<T> task = tasks.get(i);
            int slot = i;
            Thread t = new Thread(
                    () -> {
                        try {
                            if (!start.await(10, TimeUnit.SECONDS)) {
                                throw new IllegalStateException("not started");
                            }
                            results.set(slot, task.call());
                        } catch (Throwable e) {
                            failures.add(e);
                            stop.set(true);
                        }
                    },
                    name + "-" + i);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        start.countDown();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(JOIN_MILLIS);
        for (Thread t : threads) {
            t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        }
        List<String> alive = new ArrayList<>();
        for (Thread t : threads) {
            if (t.isAlive()) {
                StringBuilder sb = new StringBuilder(t.getName());
                for (StackTraceElement e : t.getStackTrace()) {
                    sb.append("\n    at ").append(e);
                }
                alive.add(sb.toString());
                t.interrupt();
            }
        }
        stop.set(true);
        if (!failures.isEmpty()) {
            Iterator<Throwable> it = failures.iterator();
            Throwable first = it.next();
            AssertionError e =
                    new AssertionError(name + ": " + failures.size() + " thread(s) failed; first: " + first, first);
            it.forEachRemaining(e::addSuppressed);
            throw e;
        }
        if (!alive.isEmpty()) {
            fail(name + ": threads still running after " + JOIN_MILLIS + " ms (livelock?):\n"
                    + String.join("\n", alive));
        }
        List<T> out = new ArrayList<>(tasks.size());
        for (int i = 0; i < tasks.size(); i++) {
            out.add(results.get(i));
        }
        return out;
    }
}
