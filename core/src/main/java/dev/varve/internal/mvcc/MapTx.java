// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import dev.varve.internal.index.VersionedIndex;

/**
 * One map's part of a transaction: its read set in that map (SERIALIZABLE only), its buffered
 * writes to it, and the index nodes it read last there. Part of {@link TxState}; same thread
 * rules (the owning thread, then, frozen, later committers under the commit lock).
 *
 * @param <K> the map's key type
 * @param <V> the map's value type
 */
public final class MapTx<K, V> {
    private final MapIndex<K, V> map;
    /** Whether reads are tracked (SERIALIZABLE). */
    private final boolean tracksReads;
    /** Created at the first read tracked; null before, and always when reads are not tracked. */
    private ReadSet<K> readSet;
    /** Created at the first write. */
    private WriteSet<K, V> writeSet;
    /**
     * The index nodes of the last two keys read from the index, so that a commit latches a key
     * read just before without searching for it again.
     */
    private VersionedIndex.Node<K> recentRead0;

    private VersionedIndex.Node<K> recentRead1;
    /** The undo log of writeSet, once a live savepoint saw it (UndoLog U1); null before, and after a discard. */
    private UndoLog<K> undo;

    MapTx(MapIndex<K, V> map, boolean tracksReads) {
        this.map = map;
        this.tracksReads = tracksReads;
    }

    /**
     * The map this part is of.
     *
     * @return the map
     */
    public MapIndex<K, V> map() {
        return map;
    }

    /**
     * The read set in this map.
     *
     * @return the read set, or null if reads are not tracked or nothing was read here yet
     */
    public ReadSet<K> readSet() {
        return readSet;
    }

    /**
     * The read set to record a read in, created at the first one.
     *
     * @return the read set, or null if reads are not tracked
     */
    public ReadSet<K> reads() {
        if (readSet == null && tracksReads) {
            readSet = new ReadSet<>(map.comparator());
        }
        return readSet;
    }

    /** Whether the read set records anything. */
    boolean readsAnything() {
        return readSet != null && !readSet.isEmpty();
    }

    /**
     * The buffered writes.
     *
     * @return the write set, or null before the first write
     */
    public WriteSet<K, V> writeSet() {
        return writeSet;
    }

    /**
     * The buffered writes, created if there are none yet.
     *
     * @return the write set
     */
    public WriteSet<K, V> writes() {
        if (writeSet == null) {
            writeSet = new WriteSet<>(map.comparator());
        }
        return writeSet;
    }

    /**
     * Buffers a write of {@code key}, replacing an earlier one; every write of a transaction goes
     * through here, so that a live savepoint can undo it (UndoLog U1, U2).
     *
     * @param key the key
     * @param valueOrTombstone a value, or {@link WriteSet#TOMBSTONE} for a removal
     */
    public void write(K key, Object valueOrTombstone) {
        WriteSet<K, V> writes = writes();
        if (undo != null) {
            undo.record(writes, key); // U1: nothing else is paid while no savepoint saw this set
        }
        writes.put(key, valueOrTombstone);
    }

    /**
     * Opens an undo level in the write set for a new savepoint (TxState S2). Caller checked the
     * write set exists.
     *
     * @return the level, for {@link #rollbackTo}
     */
    int pushUndoLevel() {
        if (undo == null) {
            undo = new UndoLog<>(map.comparator());
        }
        return undo.push();
    }

    /**
     * Restores the write set as it was when {@code level} was opened (UndoLog U3).
     *
     * @param level a level {@link #pushUndoLevel} returned for the current write set
     */
    void rollbackTo(int level) {
        undo.rollbackTo(writeSet, level);
    }

    /**
     * Drops every buffered write of this map and its undo log (a rollback to a savepoint taken
     * before the write set existed; TxState S3). The next write starts a new write set.
     */
    void discardWrites() {
        writeSet = null;
        undo = null;
    }

    /** Whether nothing is written to this map (so far). */
    boolean writesNothing() {
        return writeSet == null || writeSet.isEmpty();
    }

    /**
     * Remembers the index node of a key just read, as a hint for the commit's latch.
     *
     * @param node the node
     */
    public void readNode(VersionedIndex.Node<K> node) {
        recentRead1 = recentRead0;
        recentRead0 = node;
    }

    /**
     * The index node of {@code key} if it was one of the last two keys read in this map, else
     * null.
     *
     * @param key the key
     * @return the node, or null
     */
    public VersionedIndex.Node<K> recentlyReadNode(K key) {
        VersionedIndex<K> index = map.index;
        if (recentRead0 != null && index.isNodeOf(recentRead0, key)) {
            return recentRead0;
        }
        if (recentRead1 != null && index.isNodeOf(recentRead1, key)) {
            return recentRead1;
        }
        return null;
    }
}
