// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import dev.varve.internal.index.KeyRange;
import dev.varve.internal.index.VersionedIndex;
import dev.varve.internal.mvcc.ReadSet;
import dev.varve.internal.mvcc.VersionChain;
import dev.varve.internal.mvcc.WriteSet;
import java.util.Comparator;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * An iterator over a transaction's view of a key range, in ascending or descending order: the
 * snapshot's live versions merged with the transaction's write set (own writes win, own removals
 * hide). Extends the transaction's read set with the range it has traversed so far.
 */
final class MergeCursor<K, V> implements Iterator<Map.Entry<K, V>> {
    private final TxMap<K, V> tx;
    private final Comparator<? super K> cmp;
    private final KeyRange<K> bounds;
    private final boolean descending;
    private final long snapshotTs;
    private final VersionedIndex.Cursor<K> snapshotCursor;

    /** Next live snapshot entry not yet merged, or null. */
    private K snapshotKey;

    private V snapshotValue;
    /** Position in the write set: writes at or before it (in iteration order) are consumed. */
    private K writePosition;

    private boolean writePositionSet;

    private Map.Entry<K, V> next;
    private boolean exhausted;
    private K lastReturned;
    private boolean canRemove;

    /** The range read so far, registered in the read set at its first extension; or null. */
    private ReadSet.LiveRange<K> traversed;

    /*
     * Implementation notes.
     *
     * The snapshot side is a VersionedIndex cursor: weakly consistent, but every
     * chain it may miss or see twice belongs to a commit above our snapshot (invisible anyway) or
     * to a tombstone that vacuum removed below every pinned snapshot, so filtering by
     * valueAt(snapshotTs) gives exactly the snapshot. The write-set side is not an iterator but a
     * seek (ceiling/higher from the last consumed position) on every step, so puts and removes
     * made while the cursor is open are seen and no ConcurrentModificationException can arise.
     * The same holds for Transaction#rollbackTo, which edits the write set or drops it (TxState
     * S4): the cursor never keeps a WriteSet, it asks its TxMap for the current one at each
     * step. The entry already looked ahead to (next) is returned as it was, after a write or a
     * rollback alike.
     *
     * Read tracking: whenever the cursor looks at a key (peeks it for hasNext, or finds the end),
     * everything between the start bound and that key has been read; the traversed range grows
     * to it. An exhausted cursor has read its whole range, which is what makes an empty scan
     * conflict with a later insert into it (phantom protection).
     */

    MergeCursor(TxMap<K, V> tx, KeyRange<K> bounds, boolean descending) {
        this.tx = tx;
        this.cmp = tx.comparator();
        this.bounds = bounds;
        this.descending = descending;
        this.snapshotTs = tx.snapshotTimestamp();
        this.snapshotCursor = tx.index().cursor(bounds, descending);
        advanceSnapshot();
    }

    private void advanceSnapshot() {
        snapshotKey = null;
        snapshotValue = null;
        try {
            while (snapshotCursor.next()) {
                V value = VersionChain.valueAt(snapshotCursor.entry(), snapshotTs);
                tx.checkNotExpired(); // the age bound may have released the pin during the walk
                if (value != null) {
                    snapshotKey = snapshotCursor.key();
                    snapshotValue = value;
                    tx.countRead();
                    return;
                }
            }
            tx.checkNotExpired(); // the end of the range too: vacuum may have removed what followed
        } finally {
            java.lang.ref.Reference.reachabilityFence(tx.owner()); // its pin keeps the chains walked here
        }
    }

    /** The next write-set entry after the consumed position, within bounds, or null. */
    private Map.Entry<K, Object> peekWrite() {
        WriteSet<K, V> ws = tx.writeSet();
        if (ws == null || ws.isEmpty()) {
            return null;
        }
        Map.Entry<K, Object> w;
        if (writePositionSet) {
            w = ws.next(writePosition, false, descending);
        } else if (descending ? bounds.highUnbounded() : bounds.lowUnbounded()) {
            w = ws.first(descending);
        } else {
            w = descending
                    ? ws.next(bounds.high(), bounds.highInclusive(), true)
                    : ws.next(bounds.low(), bounds.lowInclusive(), false);
        }
        if (w == null || (descending ? bounds.tooLow(cmp, w.getKey()) : bounds.tooHigh(cmp, w.getKey()))) {
            return null;
        }
        return w;
    }

    /** Compare in iteration order. */
    private int order(K a, K b) {
        int c = cmp.compare(a, b);
        return descending ? -c : c;
    }

    @SuppressWarnings("unchecked")
    private Map.Entry<K, V> computeNext() {
        while (true) {
            Map.Entry<K, Object> w = peekWrite();
            if (w == null && snapshotKey == null) {
                return null;
            }
            int c = w == null ? 1 : snapshotKey == null ? -1 : order(w.getKey(), snapshotKey);
            if (c > 0) { // snapshot entry comes first and no own write shadows it
                K key = snapshotKey;
                V value = snapshotValue;
                advanceSnapshot();
                // Consumed up to key on the write side too: a write made to key later (setValue,
                // put through the map) must not make the cursor return key a second time.
                writePosition = key;
                writePositionSet = true;
                return new WritableEntry(key, value);
            }
            writePosition = w.getKey();
            writePositionSet = true;
            if (c == 0) {
                advanceSnapshot(); // own write shadows the snapshot's version
            }
            if (w.getValue() != WriteSet.TOMBSTONE) {
                return new WritableEntry(w.getKey(), (V) w.getValue());
            }
        }
    }

    @Override
    public boolean hasNext() {
        tx.checkActive(); // first: a looked-ahead entry of a finished transaction or dropped map is not returned
        if (next != null) {
            return true;
        }
        if (exhausted) {
            return false;
        }
        next = computeNext();
        if (next == null) {
            exhausted = true;
            recordToEnd();
            return false;
        }
        recordTo(next.getKey());
        return true;
    }

    @Override
    public Map.Entry<K, V> next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        Map.Entry<K, V> result = next;
        next = null;
        lastReturned = result.getKey();
        canRemove = true;
        return result;
    }

    /** Removes the last returned key in the transaction (buffered like every write). */
    @Override
    public void remove() {
        if (!canRemove) {
            throw new IllegalStateException("next() has not been called, or remove() was already called");
        }
        canRemove = false;
        tx.writeThrough(lastReturned, WriteSet.TOMBSTONE);
    }

    /** The next entry without consuming it (null at the end). */
    Map.Entry<K, V> peek() {
        return hasNext() ? next : null;
    }

    // ---- read tracking ----------------------------------------------------------------------

    private void recordTo(K key) {
        ReadSet<K> rs = tx.reads();
        if (rs == null) {
            return;
        }
        if (traversed == null) {
            traversed = rs.addRange(startRange(key, true));
        } else if (descending) {
            traversed.lowTo(key);
        } else {
            traversed.highTo(key);
        }
    }

    private void recordToEnd() {
        ReadSet<K> rs = tx.reads();
        if (rs == null) {
            return;
        }
        if (traversed == null) {
            traversed = rs.addRange(bounds);
        } else if (descending) {
            traversed.lowToEndOf(bounds);
        } else {
            traversed.highToEndOf(bounds);
        }
    }

    /** The range from the start bound to {@code key} inclusive. */
    private KeyRange<K> startRange(K key, boolean inclusive) {
        if (descending) {
            return bounds.withLow(key, inclusive);
        }
        return bounds.withHigh(key, inclusive);
    }

    /** An iterator entry whose {@code setValue} writes through to the transaction. */
    private final class WritableEntry extends java.util.AbstractMap.SimpleEntry<K, V> {
        private static final long serialVersionUID = 1L;

        WritableEntry(K key, V value) {
            super(key, value);
        }

        @Override
        public V setValue(V value) {
            java.util.Objects.requireNonNull(value, "value");
            tx.writeThrough(getKey(), value);
            return super.setValue(value);
        }
    }
}
