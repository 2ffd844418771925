package dev.varve;

import dev.varve.internal.ssi.ConflictGraph;
import dev.varve.internal.ssi.DangerousStructure;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Finds a committing SERIALIZABLE transaction's rw-antidependencies with committed concurrent
 * transactions and asks the {@link ConflictGraph} whether it completes a dangerous structure.
 *
 * <p>Not thread-safe: every method runs under the store's commit lock.
 */
final class SsiValidator<K, V> {
    private final Store<K, V> store;
    private final ConflictGraph<ReadSet<K>> graph;

    SsiValidator(Store<K, V> store, int maxRetainedRecords) {
        this.store = store;
        this.graph = new ConflictGraph<>(maxRetainedRecords);
    }

    /*
     * Implementation notes.
     *
     * Edge finding (DESIGN.md "How a transaction works", step 2). For committer T with snapshot s:
     *  - out-edges T ->rw W: every version with commitTs > s in the chain of a key T read, or of
     *    any key inside a range T's scans traversed (which is how inserts and deletes into a
     *    scanned range — phantoms — are found, including in ranges that were empty). Each such
     *    version was written by the committed transaction whose commit timestamp it carries.
     *    PENDING versions (write latches, T's own among them) are not committed and are skipped.
     *    The committed part of each chain is stable here: versions are stamped only under the
     *    commit lock, and vacuum never cuts a version above the watermark, which is at most s.
     *  - in-edges R ->rw T: every committed SERIALIZABLE transaction R with c(R) > s whose frozen
     *    read set covers a key T writes. R's record (and read set) is kept by the graph while any
     *    active transaction overlaps it; once summarized, the graph itself assumes an in-edge.
     * The later committer records every edge, so the graph only joins T to committed
     * transactions; the commit lock orders committers, so no two can miss each other.
     */

    /** Edges found for one committer, with the keys that produced them (for messages). */
    record Edges(long[] out, long[] in, List<Object> outKeys, List<Object> inKeys) {}

    /**
     * Validates a read-write committer whose own versions are already linked as write latches
     * (PENDING); throws if it would complete a dangerous structure.
     */
    Edges validate(Transaction<K, V> tx) {
        return validate(tx, false);
    }

    private Edges validate(Transaction<K, V> tx, boolean readOnly) {
        long s = tx.snapshotTimestamp();
        ReadSet<K> reads = tx.readSet();
        reads.freeze();
        LongList out = new LongList();
        List<Object> outKeys = new ArrayList<>();
        WriteSet<K, V> ownWrites = tx.writeSet();
        for (int i = 0; i < reads.keyCount(); i++) {
            K key = reads.key(i);
            if (ownWrites != null && ownWrites.get(key) != null) {
                continue; // written too: the write-write check already proved no newer version
            }
            collectWritersAfter(key, store.index.get(key), s, out, outKeys);
        }
        for (KeyRange<K> range : reads.ranges()) {
            Bounds<K> b = new Bounds<>(range.low, range.lowInclusive, range.lowUnbounded,
                    range.high, range.highInclusive, range.highUnbounded);
            for (Map.Entry<K, Object> e : b.of(store.index).entrySet()) {
                collectWritersAfter(e.getKey(), e.getValue(), s, out, outKeys);
            }
        }
        LongList in = new LongList();
        List<Object> inKeys = new ArrayList<>();
        if (!readOnly) {
            WriteSet<K, V> writes = tx.writeSet();
            graph.forEachOverlapping(s, reader -> {
                ReadSet<K> theirs = reader.payload();
                for (int i = 0; i < writes.size(); i++) {
                    if (theirs.covers(writes.key(i))) {
                        in.add(reader.commitTimestamp());
                        inKeys.add(writes.key(i));
                        return;
                    }
                }
            });
        }
        Edges edges = new Edges(out.toArray(), in.toArray(), outKeys, inKeys);
        DangerousStructure danger = graph.check(s, readOnly, edges.out, edges.in);
        if (danger != null) {
            store.dangerousStructureAborts.increment();
            List<Object> keys = new ArrayList<>(edges.inKeys);
            keys.addAll(edges.outKeys);
            throw new SerializationFailureException(
                    SerializationFailureException.Reason.DANGEROUS_STRUCTURE,
                    keys,
                    "serialization failure: " + danger.describe()
                            + "; keys this transaction read that others overwrote: " + edges.outKeys
                            + "; keys it writes that others read: " + edges.inKeys
                            + (danger.role() == DangerousStructure.Role.PIVOT
                                    ? " (this transaction is the pivot)"
                                    : " (this transaction is the first edge into a committed pivot)"));
        }
        return edges;
    }

    private void collectWritersAfter(K key, Object head, long s, LongList out, List<Object> outKeys) {
        if (!(head instanceof Version)) {
            return; // absent, or a settled value older than every snapshot
        }
        boolean any = false;
        for (Version<?> v = (Version<?>) head; v != null && v.commitTs > s; v = v.getOlderAcquire()) {
            if (v.commitTs != Version.PENDING) { // a latch: not committed (ours, or a later committer's)
                out.add(v.commitTs);
                any = true;
            }
        }
        if (any && outKeys.size() < 16) {
            outKeys.add(key);
        }
    }

    /** Records a committed read-write transaction that passed {@link #validate}. */
    void record(Transaction<K, V> tx, long commitTs, Edges edges) {
        graph.recordCommit(commitTs, tx.snapshotTimestamp(), false, edges.out, tx.readSet());
    }

    /**
     * Validates a read-only committer as the first edge of a dangerous structure and returns its
     * edges; the store then records it under a commit timestamp of its own.
     */
    Edges validateReadOnly(Transaction<K, V> tx) {
        return validate(tx, true);
    }

    void recordReadOnly(Transaction<K, V> tx, long commitTs, Edges edges) {
        graph.recordCommit(commitTs, tx.snapshotTimestamp(), true, edges.out, tx.readSet());
    }

    int prune(long watermark) {
        return graph.prune(watermark);
    }

    int retainedRecords() {
        return graph.retainedRecords();
    }

    /** A growable array of longs. */
    private static final class LongList {
        private long[] values = new long[4];
        private int size;

        void add(long v) {
            if (size == values.length) {
                values = Arrays.copyOf(values, size * 2);
            }
            values[size++] = v;
        }

        long[] toArray() {
            return Arrays.copyOf(values, size);
        }
    }
}
