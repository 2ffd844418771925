package dev.varve.internal.mvcc;

import dev.varve.internal.index.VersionedIndex;
import java.util.Comparator;

/**
 * What the engine knows of one transaction: its pinned snapshot, its read set (SERIALIZABLE
 * only), its buffered writes, the index nodes it read last, and its commit timestamp once it has
 * one. The commit protocol and conflict finding work on this, never on the public transaction.
 *
 * <p>Not thread-safe: used by the transaction's thread (a commit runs on it too); the frozen read
 * and write sets are then read by later committers under the commit lock (see ReadSet, WriteSet).
 *
 * <p>It is its transaction's snapshot pin (one object per transaction, not two). As a snapshot
 * view's cleaner action it must never reference the public transaction or a view (SnapshotMap's
 * notes): it holds the comparator, the read and write sets and index nodes only; a snapshot view
 * records no index nodes.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
public final class TxState<K, V> extends SnapshotPins.Pin {
    private final Comparator<? super K> comparator;
    /** Non-null only for SERIALIZABLE transactions, which track what they read. */
    private final ReadSet<K> readSet;
    /** Created at the first write. */
    private WriteSet<K, V> writeSet;

    private long commitTs = -1;
    /**
     * The index nodes of the last two keys read from the index, so that a commit latches a key
     * read just before without searching for it again.
     */
    private VersionedIndex.Node<K> recentRead0;

    private VersionedIndex.Node<K> recentRead1;

    /**
     * The state of a transaction that just pinned its snapshot.
     *
     * @param comparator the key order (never null)
     * @param pins where it pins its snapshot (at the visible timestamp): this state is the pin
     * @param tracksReads whether to keep a read set (SERIALIZABLE)
     */
    public TxState(Comparator<? super K> comparator, SnapshotPins pins, boolean tracksReads) {
        super(pins);
        this.comparator = comparator;
        this.readSet = tracksReads ? new ReadSet<>(comparator) : null;
    }

    /**
     * The snapshot pin (its release is the cleaner action of a snapshot view).
     *
     * @return the pin
     */
    public SnapshotPins.Pin pin() {
        return this;
    }

    /**
     * The read set.
     *
     * @return the read set, or null if reads are not tracked
     */
    public ReadSet<K> readSet() {
        return readSet;
    }

    /**
     * Whether commit must look for conflicts with what was read: a read set that is not empty.
     *
     * @return true if the read set records anything
     */
    public boolean tracksReads() {
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
            writeSet = new WriteSet<>(comparator);
        }
        return writeSet;
    }

    /**
     * Whether nothing is written (so far).
     *
     * @return true while the write set is empty
     */
    public boolean writesNothing() {
        return writeSet == null || writeSet.isEmpty();
    }

    /**
     * The commit timestamp.
     *
     * @return the timestamp, or -1 before the commit has one
     */
    public long commitTs() {
        return commitTs;
    }

    /**
     * Records the commit timestamp (the commit is visible, or will be once durable).
     *
     * @param ts the commit timestamp
     */
    public void committedAt(long ts) {
        commitTs = ts;
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
     * The index node of {@code key} if it was one of the last two keys read, else null.
     *
     * @param index the index the nodes belong to
     * @param key the key
     * @return the node, or null
     */
    public VersionedIndex.Node<K> recentlyReadNode(VersionedIndex<K> index, K key) {
        if (recentRead0 != null && index.isNodeOf(recentRead0, key)) {
            return recentRead0;
        }
        if (recentRead1 != null && index.isNodeOf(recentRead1, key)) {
            return recentRead1;
        }
        return null;
    }
}
