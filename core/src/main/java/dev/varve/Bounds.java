package dev.varve;

import java.util.Comparator;

/**
 * Natural-order bounds of a map view: each end unbounded, inclusive or exclusive. Immutable.
 */
final class Bounds<K> {
    private static final Bounds<Object> ALL = new Bounds<>(null, false, true, null, false, true);

    final K low;
    final boolean lowInclusive;
    final boolean lowUnbounded;
    final K high;
    final boolean highInclusive;
    final boolean highUnbounded;

    Bounds(K low, boolean lowInclusive, boolean lowUnbounded, K high, boolean highInclusive, boolean highUnbounded) {
        this.low = low;
        this.lowInclusive = lowInclusive;
        this.lowUnbounded = lowUnbounded;
        this.high = high;
        this.highInclusive = highInclusive;
        this.highUnbounded = highUnbounded;
    }

    @SuppressWarnings("unchecked")
    static <K> Bounds<K> all() {
        return (Bounds<K>) ALL;
    }

    boolean tooLow(Comparator<? super K> cmp, K key) {
        if (lowUnbounded) {
            return false;
        }
        int c = cmp.compare(key, low);
        return c < 0 || (c == 0 && !lowInclusive);
    }

    boolean tooHigh(Comparator<? super K> cmp, K key) {
        if (highUnbounded) {
            return false;
        }
        int c = cmp.compare(key, high);
        return c > 0 || (c == 0 && !highInclusive);
    }

    boolean inRange(Comparator<? super K> cmp, K key) {
        return !tooLow(cmp, key) && !tooHigh(cmp, key);
    }

    /** Whether {@code key} lies within the closed range (ignoring exclusivity of the ends). */
    boolean inClosedRange(Comparator<? super K> cmp, K key) {
        return (lowUnbounded || cmp.compare(key, low) >= 0) && (highUnbounded || cmp.compare(key, high) <= 0);
    }

    /** These bounds with the low end replaced. */
    Bounds<K> withLow(K key, boolean inclusive) {
        return new Bounds<>(key, inclusive, false, high, highInclusive, highUnbounded);
    }

    /** These bounds with the high end replaced. */
    Bounds<K> withHigh(K key, boolean inclusive) {
        return new Bounds<>(low, lowInclusive, lowUnbounded, key, inclusive, false);
    }

    /** Whether no key can lie within these bounds. */
    boolean isEmpty(Comparator<? super K> cmp) {
        if (lowUnbounded || highUnbounded) {
            return false;
        }
        int c = cmp.compare(low, high);
        return c > 0 || (c == 0 && !(lowInclusive && highInclusive));
    }
}
