// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.index;

import java.util.Comparator;

/**
 * A range of keys in ascending comparator order, each end unbounded, inclusive or exclusive: the
 * bounds of a map view or cursor, and the predicate a scan read. Immutable; an unbounded end's key
 * is ignored (and is null by convention).
 *
 * @param <K> the key type
 * @param low the low end's key
 * @param lowInclusive whether the low end's key is in the range
 * @param lowUnbounded whether the range has no low end
 * @param high the high end's key
 * @param highInclusive whether the high end's key is in the range
 * @param highUnbounded whether the range has no high end
 */
public record KeyRange<K>(
        K low, boolean lowInclusive, boolean lowUnbounded, K high, boolean highInclusive, boolean highUnbounded) {
    private static final KeyRange<Object> ALL = new KeyRange<>(null, false, true, null, false, true);

    /**
     * The range of every key.
     *
     * @param <K> the key type
     * @return the unbounded range
     */
    @SuppressWarnings("unchecked")
    public static <K> KeyRange<K> all() {
        return (KeyRange<K>) ALL;
    }

    /**
     * Whether {@code key} lies below the low end.
     *
     * @param cmp the order
     * @param key the key
     * @return true if the key is below the range
     */
    public boolean tooLow(Comparator<? super K> cmp, K key) {
        if (lowUnbounded) {
            return false;
        }
        int c = cmp.compare(key, low);
        return c < 0 || (c == 0 && !lowInclusive);
    }

    /**
     * Whether {@code key} lies above the high end.
     *
     * @param cmp the order
     * @param key the key
     * @return true if the key is above the range
     */
    public boolean tooHigh(Comparator<? super K> cmp, K key) {
        if (highUnbounded) {
            return false;
        }
        int c = cmp.compare(key, high);
        return c > 0 || (c == 0 && !highInclusive);
    }

    /**
     * Whether {@code key} lies within the range.
     *
     * @param cmp the order
     * @param key the key
     * @return true if the key is in the range
     */
    public boolean contains(Comparator<? super K> cmp, K key) {
        return !tooLow(cmp, key) && !tooHigh(cmp, key);
    }

    /**
     * Whether {@code key} lies within the closed range (ignoring exclusivity of the ends).
     *
     * @param cmp the order
     * @param key the key
     * @return true if the key is in the range or at an excluded end
     */
    public boolean inClosedRange(Comparator<? super K> cmp, K key) {
        return (lowUnbounded || cmp.compare(key, low) >= 0) && (highUnbounded || cmp.compare(key, high) <= 0);
    }

    /**
     * This range with the low end replaced.
     *
     * @param key the new low end's key
     * @param inclusive whether it is in the range
     * @return the new range
     */
    public KeyRange<K> withLow(K key, boolean inclusive) {
        return new KeyRange<>(key, inclusive, false, high, highInclusive, highUnbounded);
    }

    /**
     * This range with the high end replaced.
     *
     * @param key the new high end's key
     * @param inclusive whether it is in the range
     * @return the new range
     */
    public KeyRange<K> withHigh(K key, boolean inclusive) {
        return new KeyRange<>(low, lowInclusive, lowUnbounded, key, inclusive, false);
    }

    /**
     * This range with the high end made unbounded.
     *
     * @return the new range
     */
    public KeyRange<K> withoutHigh() {
        return new KeyRange<>(low, lowInclusive, lowUnbounded, null, false, true);
    }

    /**
     * This range with the high end taken from {@code other}.
     *
     * @param other the range whose high end to take
     * @return the new range
     */
    public KeyRange<K> withHighOf(KeyRange<K> other) {
        return new KeyRange<>(low, lowInclusive, lowUnbounded, other.high, other.highInclusive, other.highUnbounded);
    }

    /**
     * Whether no key can lie within the range (e.g. (a, a)).
     *
     * @param cmp the order
     * @return true if the range is empty
     */
    public boolean isEmpty(Comparator<? super K> cmp) {
        if (lowUnbounded || highUnbounded) {
            return false;
        }
        int c = cmp.compare(low, high);
        return c > 0 || (c == 0 && !(lowInclusive && highInclusive));
    }

    @Override
    public String toString() {
        return (lowUnbounded ? "(-inf" : (lowInclusive ? "[" : "(") + low)
                + ", "
                + (highUnbounded ? "+inf)" : high + (highInclusive ? "]" : ")"));
    }
}
