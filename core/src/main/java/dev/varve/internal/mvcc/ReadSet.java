// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import dev.varve.internal.index.KeyRange;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;

/**
 * What a SERIALIZABLE transaction read from its snapshot: the keys it looked up (present or
 * absent) and the key ranges its scans traversed. While the transaction runs it only grows; at
 * commit it is frozen (sorted, coalesced, and for a huge read set summarized) so that later
 * committers can test their writes against it in O(log n).
 */
public final class ReadSet<K> {
    private final Comparator<? super K> comparator;
    private static final Object[] NO_KEYS = {};
    private static final KeyRange<?>[] NO_INTERVALS = {};
    private Object[] keys = NO_KEYS;
    private int keyCount;
    /** The live ranges, still extended by open cursors; emptied at freeze. */
    private final List<LiveRange<K>> ranges = new ArrayList<>(0);
    /** After freeze: disjoint, non-empty intervals in ascending order, copied from the live ranges. */
    private KeyRange<K>[] intervals;

    private List<KeyRange<K>> intervalList;
    private boolean frozen;
    /** Above this many keys plus intervals, freeze summarizes the read set... */
    private final int summaryThreshold;
    /** ...into at most this many intervals. */
    private final int summaryTarget;

    /** Keys plus intervals above which a frozen read set is summarized: a bound on memory only (I3). */
    static final int SUMMARY_THRESHOLD = 1 << 20;
    /** The most intervals a summarized read set keeps. */
    static final int SUMMARY_TARGET = 1 << 16;

    /**
     * An empty read set with the default summary bounds.
     *
     * @param comparator the key order, or null for natural ordering
     */
    public ReadSet(Comparator<? super K> comparator) {
        this(comparator, SUMMARY_THRESHOLD, SUMMARY_TARGET);
    }

    /**
     * A read set with its own summary bounds (tests).
     *
     * @param comparator the key order, or null for natural ordering
     * @param summaryThreshold keys plus intervals above which freeze summarizes (I3)
     * @param summaryTarget the most intervals a summary keeps, in [1, summaryThreshold]
     * @throws IllegalArgumentException if the bounds are out of range
     */
    public ReadSet(Comparator<? super K> comparator, int summaryThreshold, int summaryTarget) {
        if (summaryTarget < 1 || summaryThreshold < summaryTarget) {
            throw new IllegalArgumentException(
                    "summary target " + summaryTarget + " must be in [1, threshold " + summaryThreshold + "]");
        }
        this.comparator = comparator;
        this.summaryThreshold = summaryThreshold;
        this.summaryTarget = summaryTarget;
    }

    /*
     * Implementation notes.
     *
     * Before freeze: keys in arrival order (duplicates allowed) and the LiveRange holders,
     * which MergeCursor keeps extending while the transaction runs. freeze() runs once, when the
     * transaction commits and reads no more; it builds the frozen form:
     *  I1. keys[0, keyCount) are distinct and ascending, and none lies inside an interval.
     *  I2. intervals are copies (later changes to the live ranges do not reach them), non-empty,
     *      pairwise disjoint and not touching, in ascending order: for neighbours a, b,
     *      a.high < b.low, or a.high == b.low with both ends exclusive ((1, 5) and (5, 9) stay
     *      apart: neither holds 5). Ranges that overlap or share a boundary key held by either
     *      ([1, 5) and [5, 9]) are coalesced.
     *  I3. Exact: keys and intervals together hold exactly the keys read; or, when there were more
     *      than summaryThreshold of them, summarized: consecutive items (a key k counts as [k, k])
     *      are replaced in groups by the interval from the first one's low end to the last one's
     *      high end, at most summaryTarget intervals and no keys. That holds every key read and the
     *      gaps inside each group: a superset, which can only add rw-antidependencies (extra
     *      aborts), never lose one; the same conservative trade as PostgreSQL's promotion of
     *      predicate locks from tuples to pages to relations (Ports & Grittner, VLDB 2012, 6.2).
     *      Groups go by count (a comparator gives no distance), so scattered point reads summarize
     *      into intervals that span nearly everything between them: the threshold is set high, as
     *      a bound on the memory a retained read set holds, not as a speed-up (covers is already
     *      logarithmic). When a group starts with an item touching the previous group (a key at
     *      its excluded end), it joins that group instead, which keeps I2.
     * covers(key) is two binary searches: keys for equality, intervals for the last one starting
     * at or before key (by I2 the only one that can hold it). Costs, for k keys and r ranges read:
     * freeze O((k + r) log(k + r)) comparisons, covers O(log k + log r). ConflictFinder iterates
     * keyCount()/key(i) and ranges() of the frozen form, which by I3 hold every key read.
     * Not thread-safe while growing (one transaction thread); frozen, it is read-only and is
     * published to other committers under the commit lock.
     */

    /**
     * Records a read of {@code key}, present or absent; ignored once frozen.
     *
     * @param key the key read
     */
    public void addKey(K key) {
        if (frozen) {
            return; // a committing transaction reads no more; ignore a late read (I3 stays exact)
        }
        if (keyCount == keys.length) {
            keys = Arrays.copyOf(keys, Math.max(4, keyCount * 2));
        }
        keys[keyCount++] = key;
    }

    /**
     * Registers a range whose high end (or low end, for descending scans) grows as it is read:
     * the caller grows the returned holder; freeze copies what it holds then (I2).
     *
     * @param range the range read so far
     * @return the holder to grow (registered only if the set is not frozen)
     */
    public LiveRange<K> addRange(KeyRange<K> range) {
        LiveRange<K> live = new LiveRange<>(range);
        if (!frozen) {
            ranges.add(live);
        }
        return live;
    }

    /**
     * Whether nothing was read.
     *
     * @return true if no key and no range is recorded
     */
    public boolean isEmpty() {
        return frozen ? keyCount == 0 && intervals.length == 0 : keyCount == 0 && ranges.isEmpty();
    }

    /**
     * The number of keys read (distinct and outside every interval once frozen: I1).
     *
     * @return the number of keys
     */
    public int keyCount() {
        return keyCount;
    }

    /**
     * The {@code i}-th key read (in ascending order once frozen: I1).
     *
     * @param i the index, in [0, keyCount())
     * @return the key
     */
    @SuppressWarnings("unchecked")
    public K key(int i) {
        return (K) keys[i];
    }

    /**
     * Copies of the live ranges before freeze; after it, the frozen intervals (I2), unmodifiable.
     *
     * @return the ranges
     */
    public List<KeyRange<K>> ranges() {
        if (frozen) {
            return intervalList;
        }
        List<KeyRange<K>> copies = new ArrayList<>(ranges.size());
        for (LiveRange<K> r : ranges) {
            copies.add(r.toKeyRange());
        }
        return copies;
    }

    /** Builds the frozen form (I1–I3); later calls do nothing. */
    @SuppressWarnings({"unchecked", "rawtypes"}) // the generic array of intervals
    public void freeze() {
        if (frozen) {
            return;
        }
        // Copy now: the live ranges stop changing only once the transaction commits.
        List<KeyRange<K>> merged = Collections.emptyList();
        if (!ranges.isEmpty()) {
            List<KeyRange<K>> copies = new ArrayList<>(ranges.size());
            for (LiveRange<K> live : ranges) {
                KeyRange<K> r = live.toKeyRange();
                if (!r.isEmpty(comparator)) {
                    copies.add(r);
                }
            }
            ranges.clear();
            copies.sort(this::compareLowEnds);
            merged = coalesce(copies);
        }

        int sorted = SortedKeys.sortDistinct(keys, keyCount, comparator);
        int distinct = 0;
        int iv = 0;
        for (int i = 0; i < sorted; i++) {
            K key = (K) keys[i];
            while (iv < merged.size() && endsBefore(merged.get(iv), key)) {
                iv++;
            }
            if (iv < merged.size() && startsAtOrBefore(merged.get(iv), key)) {
                continue; // inside an interval (I1)
            }
            keys[distinct++] = key;
        }
        Arrays.fill(keys, distinct, keyCount, null);
        keyCount = distinct;
        if (keyCount + merged.size() > summaryThreshold) {
            merged = summarize(merged);
        }
        if (keys.length > 64 && keyCount < keys.length / 2) { // retained by the conflict graph: trim
            keys = keyCount == 0 ? NO_KEYS : Arrays.copyOf(keys, keyCount);
        }
        if (merged.isEmpty()) {
            intervals = (KeyRange<K>[]) NO_INTERVALS;
            intervalList = Collections.emptyList();
        } else {
            intervals = merged.toArray(new KeyRange[0]);
            intervalList = Collections.unmodifiableList(Arrays.asList(intervals));
        }
        frozen = true;
    }

    /** Orders ranges by low end: unbounded first, then by key, inclusive before exclusive. */
    private int compareLowEnds(KeyRange<K> a, KeyRange<K> b) {
        if (a.lowUnbounded() || b.lowUnbounded()) {
            return a.lowUnbounded() == b.lowUnbounded() ? 0 : a.lowUnbounded() ? -1 : 1;
        }
        int c = comparator.compare(a.low(), b.low());
        if (c != 0 || a.lowInclusive() == b.lowInclusive()) {
            return c;
        }
        return a.lowInclusive() ? -1 : 1;
    }

    /** Merges ranges sorted by low end into disjoint, non-touching intervals (I2). */
    private List<KeyRange<K>> coalesce(List<KeyRange<K>> sorted) {
        List<KeyRange<K>> out = new ArrayList<>();
        for (KeyRange<K> r : sorted) {
            int last = out.size() - 1;
            if (last >= 0 && reaches(out.get(last), r)) {
                out.set(last, extendHigh(out.get(last), r));
            } else {
                out.add(r);
            }
        }
        return out;
    }

    /** Whether {@code r}, starting at or after {@code cur}, overlaps {@code cur} or shares its high boundary key. */
    private boolean reaches(KeyRange<K> cur, KeyRange<K> r) {
        if (cur.highUnbounded() || r.lowUnbounded()) {
            return true; // r.lowUnbounded: both start at -inf
        }
        int c = comparator.compare(r.low(), cur.high());
        return c < 0 || (c == 0 && (r.lowInclusive() || cur.highInclusive()));
    }

    /** {@code cur} with its high end the greater of its own and {@code r}'s. */
    private KeyRange<K> extendHigh(KeyRange<K> cur, KeyRange<K> r) {
        if (cur.highUnbounded()) {
            return cur;
        }
        if (r.highUnbounded()) {
            return cur.withoutHigh();
        }
        int c = comparator.compare(r.high(), cur.high());
        if (c > 0) {
            return cur.withHighOf(r);
        } else if (c == 0 && r.highInclusive() && !cur.highInclusive()) {
            return cur.withHigh(cur.high(), true);
        }
        return cur;
    }

    private boolean startsAtOrBefore(KeyRange<K> r, K key) {
        if (r.lowUnbounded()) {
            return true;
        }
        int c = comparator.compare(key, r.low());
        return c > 0 || (c == 0 && r.lowInclusive());
    }

    private boolean endsBefore(KeyRange<K> r, K key) {
        if (r.highUnbounded()) {
            return false;
        }
        int c = comparator.compare(key, r.high());
        return c > 0 || (c == 0 && !r.highInclusive());
    }

    /**
     * Replaces keys and intervals, merged in key order, by at most summaryTarget intervals, each
     * spanning a run of consecutive items (I3); clears the keys.
     */
    @SuppressWarnings("unchecked")
    private List<KeyRange<K>> summarize(List<KeyRange<K>> merged) {
        int items = keyCount + merged.size();
        int group = (items + summaryTarget - 1) / summaryTarget;
        List<KeyRange<K>> out = new ArrayList<>(summaryTarget);
        int k = 0;
        int iv = 0;
        boolean open = false; // whether out's last interval is the current group
        int inGroup = 0;
        while (k < keyCount || iv < merged.size()) {
            // By I1 a key is either before or after each interval, never inside.
            KeyRange<K> item;
            if (iv >= merged.size() || (k < keyCount && !startsAtOrBefore(merged.get(iv), (K) keys[k]))) {
                K key = (K) keys[k++];
                item = new KeyRange<>(key, true, false, key, true, false);
            } else {
                item = merged.get(iv++);
            }
            if (!open && !out.isEmpty() && reaches(out.get(out.size() - 1), item)) {
                open = true; // a key at the excluded end of the previous group: keep I2
            }
            if (!open) {
                out.add(item);
                open = true;
            } else {
                int last = out.size() - 1;
                out.set(last, out.get(last).withHighOf(item));
            }
            if (++inGroup == group) {
                open = false;
                inGroup = 0;
            }
        }
        Arrays.fill(keys, 0, keyCount, null);
        keyCount = 0;
        return out;
    }

    /**
     * Whether a frozen read set read {@code key}, directly or through a scanned range (or, if
     * summarized, may have: I3). Freezes first if needed.
     *
     * @param key the key
     * @return true if the key was (or may have been) read
     */
    @SuppressWarnings("unchecked")
    public boolean covers(K key) {
        if (!frozen) {
            freeze();
        }
        int lo = 0;
        int hi = keyCount - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int c = comparator.compare((K) keys[mid], key);
            if (c < 0) {
                lo = mid + 1;
            } else if (c > 0) {
                hi = mid - 1;
            } else {
                return true;
            }
        }
        // The last interval starting at or before key: the only one that can hold it (I2).
        lo = 0;
        hi = intervals.length - 1;
        int candidate = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (startsAtOrBefore(intervals[mid], key)) {
                candidate = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return candidate >= 0 && !endsBefore(intervals[candidate], key);
    }

    /**
     * A range a scan is still traversing: its far end moves as the cursor advances, without an
     * allocation per step. Registered with {@link #addRange}; freeze copies it into a
     * {@link KeyRange} (I2). Not thread-safe (the transaction's thread).
     *
     * @param <K> the key type
     */
    public static final class LiveRange<K> {
        K low;
        boolean lowInclusive;
        boolean lowUnbounded;
        K high;
        boolean highInclusive;
        boolean highUnbounded;

        LiveRange(KeyRange<K> r) {
            low = r.low();
            lowInclusive = r.lowInclusive();
            lowUnbounded = r.lowUnbounded();
            high = r.high();
            highInclusive = r.highInclusive();
            highUnbounded = r.highUnbounded();
        }

        /**
         * Moves the low end to {@code key}, inclusive.
         *
         * @param key the new low end
         */
        public void lowTo(K key) {
            low = key;
            lowInclusive = true;
            lowUnbounded = false;
        }

        /**
         * Moves the high end to {@code key}, inclusive.
         *
         * @param key the new high end
         */
        public void highTo(K key) {
            high = key;
            highInclusive = true;
            highUnbounded = false;
        }

        /**
         * Moves the low end to {@code bounds}' low end.
         *
         * @param bounds the range whose low end to take
         */
        public void lowToEndOf(KeyRange<K> bounds) {
            low = bounds.low();
            lowInclusive = bounds.lowInclusive();
            lowUnbounded = bounds.lowUnbounded();
        }

        /**
         * Moves the high end to {@code bounds}' high end.
         *
         * @param bounds the range whose high end to take
         */
        public void highToEndOf(KeyRange<K> bounds) {
            high = bounds.high();
            highInclusive = bounds.highInclusive();
            highUnbounded = bounds.highUnbounded();
        }

        KeyRange<K> toKeyRange() {
            return new KeyRange<>(low, lowInclusive, lowUnbounded, high, highInclusive, highUnbounded);
        }

        @Override
        public String toString() {
            return toKeyRange().toString();
        }
    }
}
