package dev.varve;

import java.util.Comparator;

/**
 * A range of keys in natural (ascending) order, each end unbounded, inclusive or exclusive: the
 * predicate a scan read, kept in a transaction's read set so that a later insert or delete inside
 * it (a phantom) is found at commit.
 */
final class KeyRange<K> {
    K low;
    boolean lowInclusive;
    boolean lowUnbounded;
    K high;
    boolean highInclusive;
    boolean highUnbounded;

    KeyRange(K low, boolean lowInclusive, boolean lowUnbounded, K high, boolean highInclusive, boolean highUnbounded) {
        this.low = low;
        this.lowInclusive = lowInclusive;
        this.lowUnbounded = lowUnbounded;
        this.high = high;
        this.highInclusive = highInclusive;
        this.highUnbounded = highUnbounded;
    }

    boolean contains(Comparator<? super K> cmp, K key) {
        if (!lowUnbounded) {
            int c = cmp.compare(key, low);
            if (c < 0 || (c == 0 && !lowInclusive)) {
                return false;
            }
        }
        if (!highUnbounded) {
            int c = cmp.compare(key, high);
            return c < 0 || (c == 0 && highInclusive);
        }
        return true;
    }

    /** Whether the range holds no key at all (e.g. (a, a)). */
    boolean isEmpty(Comparator<? super K> cmp) {
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
