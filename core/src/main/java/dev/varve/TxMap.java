// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import dev.varve.internal.index.KeyRange;
import dev.varve.internal.index.VersionedIndex;
import dev.varve.internal.mvcc.MapIndex;
import dev.varve.internal.mvcc.MapTx;
import dev.varve.internal.mvcc.ReadSet;
import dev.varve.internal.mvcc.VersionChain;
import dev.varve.internal.mvcc.WriteSet;
import java.util.Comparator;

/**
 * One map as one transaction (or snapshot) sees it: the reads, writes and scans its views
 * ({@link TransactionMap}, {@link MergeCursor}) and {@link Transaction}'s own methods go
 * through. Same thread rules as its transaction.
 *
 * <p>Implementation notes. (1) It holds its transaction, so a view that reads the snapshot keeps
 * the transaction, whose pin a snapshot's cleaner watches, reachable (SnapshotMap's notes). (2)
 * Every use checks the transaction is active, then that the map was not dropped (MapIndex M3),
 * so a view of a dropped map throws IllegalStateException at its next use.
 *
 * @param <K> the map's key type
 * @param <V> the map's value type
 */
final class TxMap<K, V> {
    private final Transaction<?, ?> tx;
    private final MapTx<K, V> part;
    private final MapIndex<K, V> map;
    private final VersionedIndex<K> index;
    private final boolean named;
    private final boolean readOnlyView;

    TxMap(Transaction<?, ?> tx, MapTx<K, V> part, boolean readOnlyView) {
        this.tx = tx;
        this.part = part;
        this.map = part.map();
        this.index = map.index();
        this.named = map.id() != MapIndex.DEFAULT;
        this.readOnlyView = readOnlyView;
    }

    /** Refuses use after the transaction finished, of a closed database, or of a dropped map. */
    void checkActive() {
        tx.checkActive();
        if (named) {
            map.checkNotDropped();
        }
    }

    /** Refuses writes on a snapshot, then as {@link #checkActive}. */
    void checkWritable() {
        if (readOnlyView) {
            throw new UnsupportedOperationException("a snapshot is read-only");
        }
        checkActive();
    }

    /** Rejects a key the map's index cannot order, before it is buffered. */
    void checkKey(K key) {
        index.checkKey(key);
    }

    /** Reads {@code key} through the write set, recording a snapshot read. Caller checked state. */
    @SuppressWarnings("unchecked")
    V read(K key) {
        WriteSet<K, V> writeSet = part.writeSet();
        if (writeSet != null) {
            Object own = writeSet.get(key);
            if (own != null) {
                return own == WriteSet.TOMBSTONE ? null : (V) own;
            }
        }
        VersionedIndex.Node<K> node = index.node(key);
        long snapshotTs = tx.snapshotTimestamp();
        V value = node == null ? null : VersionChain.valueAt(node.entry(), snapshotTs); // null: removed since
        if (node != null && !readOnlyView) {
            part.readNode(node);
        }
        ReadSet<K> readSet = part.reads();
        if (readSet != null) {
            readSet.addKey(key);
        }
        tx.checkNotExpired(); // the age bound may have released the pin during the walk
        tx.countRead();
        java.lang.ref.Reference.reachabilityFence(tx); // keeps the pin until the chain walk is done
        return value;
    }

    /** Buffers a blind write (no read). Caller checked state and key. */
    void write(K key, Object valueOrTombstone) {
        part.write(key, valueOrTombstone);
    }

    /** Buffers a write from a view; returns the previous value as this transaction sees it. */
    V writeThrough(K key, Object valueOrTombstone) {
        checkWritable();
        V previous = read(key);
        part.write(key, valueOrTombstone);
        return previous;
    }

    /** A merged cursor over the snapshot and the write set, in natural-order bounds. */
    MergeCursor<K, V> cursor(KeyRange<K> bounds, boolean descending) {
        checkActive();
        return new MergeCursor<>(this, bounds, descending);
    }

    WriteSet<K, V> writeSet() {
        return part.writeSet();
    }

    /** The read set to record reads in (created at the first), or null if reads are not tracked. */
    ReadSet<K> reads() {
        return part.reads();
    }

    VersionedIndex<K> index() {
        return index;
    }

    MapIndex<K, V> map() {
        return map;
    }

    /** The total key order (never null). */
    Comparator<? super K> comparator() {
        return map.comparator();
    }

    /** The comparator the map was opened with, or null for natural ordering. */
    Comparator<? super K> userComparator() {
        return map.userComparator();
    }

    long snapshotTimestamp() {
        return tx.snapshotTimestamp();
    }

    boolean isReadOnlyView() {
        return readOnlyView;
    }

    /** Counts a scanned entry for the statistics. */
    void countRead() {
        tx.countRead();
    }

    /** Refuses to go on if the age bound released the pin (after a chain walk). */
    void checkNotExpired() {
        tx.checkNotExpired();
    }

    /** The transaction, for reachability fences. */
    Object owner() {
        return tx;
    }
}
