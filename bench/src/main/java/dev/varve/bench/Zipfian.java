// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench;

import java.util.SplittableRandom;

/**
 * YCSB's key choosers, re-implemented over a seedable {@link SplittableRandom}: the Zipfian
 * generator of Gray et al. ("Quickly generating billion-record synthetic databases", SIGMOD
 * 1994) as YCSB's {@code ZipfianGenerator} computes it, its scrambled variant (popular items
 * spread over the key space by an FNV-1a hash, as {@code ScrambledZipfianGenerator}) and the
 * "latest" variant (popular items are the newest, as {@code SkewedLatestGenerator}).
 *
 * <p>Not thread-safe: one per worker thread.
 */
public final class Zipfian {
    /** YCSB's default Zipfian constant. */
    public static final double THETA = 0.99;
    /** The item space YCSB's scrambled generator draws from before hashing. */
    private static final long SCRAMBLED_ITEMS = 10_000_000_000L;
    /** zeta(SCRAMBLED_ITEMS, 0.99), the constant YCSB hard-codes for that space. */
    private static final double SCRAMBLED_ZETAN = 26.46902820178302;

    private final SplittableRandom random;
    private final double theta;
    private final double alpha;
    private final double zeta2;
    private long items;
    private double zetan;
    private double eta;

    private Zipfian(SplittableRandom random, long items, double zetan) {
        this.random = random;
        this.theta = THETA;
        this.alpha = 1.0 / (1.0 - theta);
        this.zeta2 = zeta(0, 2, theta, 0);
        this.items = items;
        this.zetan = zetan;
        this.eta = eta();
    }

    /**
     * A Zipfian chooser over {@code [0, items)} in which item 0 is the most popular.
     *
     * @param random the random source
     * @param items item count, at least 1
     * @return the chooser
     */
    public static Zipfian over(SplittableRandom random, long items) {
        return new Zipfian(random, items, zeta(0, items, THETA, 0));
    }

    /**
     * Scrambled Zipfian over {@code [0, items)}: the popularity of a Zipfian over ten billion
     * items, hashed onto the key space (YCSB's default request distribution).
     *
     * @param random the random source
     * @return the chooser; call {@link #nextScrambled}
     */
    public static Zipfian scrambled(SplittableRandom random) {
        return new Zipfian(random, SCRAMBLED_ITEMS, SCRAMBLED_ZETAN);
    }

    /** The next item of a chooser made by {@link #over}, in {@code [0, items)}. */
    public long next() {
        double u = random.nextDouble();
        double uz = u * zetan;
        if (uz < 1.0) {
            return 0;
        }
        if (uz < 1.0 + Math.pow(0.5, theta)) {
            return 1;
        }
        long v = (long) (items * Math.pow(eta * u - eta + 1, alpha));
        return Math.min(v, items - 1);
    }

    /** The next key in {@code [0, keys)} of a chooser made by {@link #scrambled}. */
    public long nextScrambled(long keys) {
        return Long.remainderUnsigned(fnv64(next()), keys);
    }

    /**
     * The next key of YCSB's "latest" distribution: {@code newest - z} for a Zipfian {@code z}
     * over the {@code count} keys inserted so far, so recent inserts are the most popular. The
     * item count grows with {@code count} (zeta updated incrementally).
     *
     * @param count keys inserted so far; the newest is {@code count - 1}
     * @return a key in {@code [0, count)}
     */
    public long nextLatest(long count) {
        if (count > items) {
            zetan = zeta(items, count, theta, zetan);
            items = count;
            eta = eta();
        }
        return count - 1 - Math.min(next(), count - 1);
    }

    private double eta() {
        return (1 - Math.pow(2.0 / items, 1 - theta)) / (1 - zeta2 / zetan);
    }

    /** zeta(n) computed from zeta(start) = {@code initial}: the sum of 1/i^theta for i in (start, n]. */
    private static double zeta(long start, long n, double theta, double initial) {
        double sum = initial;
        for (long i = start; i < n; i++) {
            sum += 1 / Math.pow(i + 1, theta);
        }
        return sum;
    }

    /** YCSB's {@code Utils.fnvhash64}: FNV-1a over the eight bytes of {@code value}, made non-negative. */
    static long fnv64(long value) {
        long hash = 0xCBF29CE484222325L;
        long v = value;
        for (int i = 0; i < 8; i++) {
            long octet = v & 0xff;
            v >>= 8;
            hash ^= octet;
            hash *= 1099511628211L;
        }
        return Math.abs(hash);
    }
}
