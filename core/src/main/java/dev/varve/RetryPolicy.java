// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How {@link Database#transact(RetryPolicy, Isolation, java.util.function.Function)} retries a
 * transaction that failed with a {@link SerializationFailureException}: at most {@link
 * #maxAttempts()} attempts, and before attempt n + 1 a pause drawn uniformly from [0, min(max,
 * initial × 2^(n-1))] ("full jitter", as in AWS's "Exponential Backoff and Jitter", 2015). A
 * database's own policy is set with {@link Database.Builder#maxAttempts} and {@link
 * Database.Builder#retryBackoff}; this one overrides it for one call.
 *
 * <p>Immutable and thread-safe.
 *
 * @param maxAttempts attempts, at least 1 (1 means no retry)
 * @param initialBackoff the pause bound before the second attempt, not negative
 * @param maxBackoff the largest pause bound, at least {@code initialBackoff}
 */
public record RetryPolicy(int maxAttempts, Duration initialBackoff, Duration maxBackoff) {
    /** The pause bound before the second attempt unless configured: 50 µs. */
    public static final Duration DEFAULT_INITIAL_BACKOFF = Duration.ofNanos(50_000);
    /** The largest pause bound unless configured: 20 ms. */
    public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofMillis(20);

    /**
     * Validates the policy.
     *
     * @param maxAttempts attempts, at least 1 (1 means no retry)
     * @param initialBackoff the pause bound before the second attempt, not negative
     * @param maxBackoff the largest pause bound, at least {@code initialBackoff}
     * @throws NullPointerException if a duration is null
     * @throws IllegalArgumentException if {@code maxAttempts} is below 1, {@code initialBackoff}
     *     is negative, or {@code maxBackoff} is below {@code initialBackoff}
     */
    public RetryPolicy {
        Objects.requireNonNull(initialBackoff, "initialBackoff");
        Objects.requireNonNull(maxBackoff, "maxBackoff");
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1, was " + maxAttempts);
        }
        if (initialBackoff.isNegative()) {
            throw new IllegalArgumentException("initialBackoff must not be negative, was " + initialBackoff);
        }
        if (maxBackoff.compareTo(initialBackoff) < 0) {
            throw new IllegalArgumentException(
                    "maxBackoff (" + maxBackoff + ") must be at least initialBackoff (" + initialBackoff + ")");
        }
    }

    /**
     * One attempt: a serialization failure is thrown to the caller at once.
     *
     * @return the policy
     */
    public static RetryPolicy noRetry() {
        return new RetryPolicy(1, Duration.ZERO, Duration.ZERO);
    }

    /**
     * Up to {@code maxAttempts} attempts with the default backoff (50 µs doubling up to 20 ms).
     *
     * @param maxAttempts attempts, at least 1
     * @return the policy
     * @throws IllegalArgumentException if {@code maxAttempts} is below 1
     */
    public static RetryPolicy attempts(int maxAttempts) {
        return new RetryPolicy(maxAttempts, DEFAULT_INITIAL_BACKOFF, DEFAULT_MAX_BACKOFF);
    }

    /** The pause before attempt {@code attempt + 1}, in ns (random, see the class comment). */
    long backoffNanos(int attempt) {
        long bound = Database.backoffBound(initialBackoff.toNanos(), maxBackoff.toNanos(), attempt);
        return bound == 0 ? 0 : ThreadLocalRandom.current().nextLong(bound + 1);
    }
}
