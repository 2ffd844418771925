// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import java.util.Comparator;

/**
 * A natural-order comparator that counts its calls and fails the caller once they pass a budget,
 * so that a complexity guard stops at the first sign of super-linear work instead of running
 * the old quadratic code to its end. Not thread-safe (one test thread).
 */
public final class CountingComparator<K extends Comparable<? super K>> implements Comparator<K> {
    /** Thrown from {@link #compare} once the budget is spent. */
    public static final class BudgetExceeded extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BudgetExceeded(String message) {
            super(message);
        }
    }

    private long calls;
    private long budget = Long.MAX_VALUE;
    private String phase = "";

    public CountingComparator() {}

    @Override
    public int compare(K a, K b) {
        if (++calls > budget) {
            throw new BudgetExceeded("more than " + budget + " comparator calls " + phase);
        }
        return a.compareTo(b);
    }

    public long calls() {
        return calls;
    }

    /** Starts counting from zero with a budget of {@code budget} calls, named {@code phase} in the failure. */
    public void reset(long budget, String phase) {
        this.calls = 0;
        this.budget = budget;
        this.phase = phase;
    }

    /** n log2 n, at least n. */
    public static long nLogN(long n) {
        return (long) (n * Math.max(1.0, Math.log(n) / Math.log(2)));
    }
}
