// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import dev.varve.SerializationFailureException;
import dev.varve.internal.index.KeyRange;
import dev.varve.internal.index.VersionedIndex;
import dev.varve.internal.ssi.ConflictGraph;
import dev.varve.internal.ssi.DangerousStructure;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Finds a committing SERIALIZABLE transaction's rw-antidependencies with committed concurrent
 * transactions and asks the {@link ConflictGraph} whether it completes a dangerous structure.
 *
 * <p>Not thread-safe. {@link #scanOutEdges} runs without the store's commit lock, on the
 * committing thread, and reads only the index, the committer's own sets, {@code visibleTs} and
 * one racy hint from the ring of recent write sets; every other method runs under the commit
 * lock, which guards the conflict graph and the ring.
 */
public final class ConflictFinder<K, V> {
    /** The store's visible timestamp (a volatile read). */
    private final LongSupplier visible;
    /** The store's commit clock; read under the commit lock. */
    private final LongSupplier lastCommit;

    private final StoreCounters counters;
    /** Each record's payload is its transaction's frozen reads (TxState#frozenReads). */
    private final ConflictGraph<Object> graph;

    /**
     * A conflict finder for one store.
     *
     * @param visible reads the store's visible timestamp
     * @param lastCommit reads the store's commit clock (called under the commit lock)
     * @param counters where dangerous-structure aborts are counted
     * @param maxRetainedRecords the most committed-transaction records the conflict graph keeps
     */
    public ConflictFinder(
            LongSupplier visible, LongSupplier lastCommit, StoreCounters counters, int maxRetainedRecords) {
        this.visible = visible;
        this.lastCommit = lastCommit;
        this.counters = counters;
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
     * transactions; the commit lock orders committers, so no two can miss each other. Out-edges
     * are found without traversing the index under the lock (see scanOutEdges).
     *
     * Maps. A transaction's reads and writes are kept per map (TxState X1), and every key is
     * compared only with keys of its own map (MapIndex M2): each map's read set is scanned in that
     * map's index, the ring holds a commit's keys grouped by map (MapsWritten; an autocommit's
     * single named key as a MapKey), and a read set covers only keys of its map. So an edge arises exactly where the same (map, key) is read by one transaction and
     * written by another, and the graph, which knows only transactions, finds dangerous
     * structures whose edges sit in different maps.
     */

    /**
     * Edges found for one committer, with the keys that produced them (for messages).
     *
     * @param out commit timestamps of the transactions this one has rw-antidependencies to
     * @param in commit timestamps of the transactions with rw-antidependencies to this one
     * @param outKeys keys that produced out-edges (at most 16)
     * @param inKeys keys that produced in-edges (at most 16)
     */
    public record Edges(long[] out, long[] in, List<Object> outKeys, List<Object> inKeys) {}

    /**
     * Out-edges a committer found before taking the commit lock: every committed version above
     * its snapshot and at or below {@link #scannedThrough} in what it read.
     */
    public static final class OutEdges {
        final LongList targets = new LongList();
        /** Up to 16 keys that produced the edges, for messages. */
        final KeyList keys = new KeyList();
        /** visibleTs when the scan began: every commit at or below it was fully installed. */
        final long scannedThrough;

        OutEdges(long scannedThrough) {
            this.scannedThrough = scannedThrough;
        }

        /**
         * The visible timestamp the scan covered.
         *
         * @return every commit at or below it was looked at
         */
        public long scannedThrough() {
            return scannedThrough;
        }

        /**
         * The commit timestamps of the edges found so far.
         *
         * @return a copy of them, in the order found
         */
        public long[] targets() {
            return targets.toArray();
        }
    }

    /*
     * Out-edges (versions committed after T's snapshot s in what T read) come from two sources:
     *  - the index, scanned without the commit lock (scanOutEdges): with v = visibleTs read
     *    first, walk every key and range T read and collect versions with s < commitTs <= v.
     *    Every commit <= v stamped and linked its versions before publishing v, and vacuum cuts
     *    nothing above s, so all of them are found;
     *  - the ring of recent write sets, under the lock (validate): every commit records the keys
     *    it wrote, so the commits in (v, lastCommitTs] that wrote a key T's frozen read set covers
     *    are exactly the rest. If the ring no longer holds all of them, the index is scanned
     *    again under the lock.
     * When the commits in (s, v] wrote few keys compared with what T read, the scan is skipped
     * (v = s) and the ring alone covers (s, lastCommitTs]: a binary search in T's read set per
     * key written, instead of a skiplist traversal per key read. Either way the edges are exactly
     * those a scan under the lock would find.
     */

    /**
     * The index part of out-edge finding (see above); runs without the commit lock.
     *
     * @param tx a SERIALIZABLE committer; its read set is frozen here
     * @return the out-edges found
     */
    public OutEdges scanOutEdges(TxState<K, V> tx) {
        long through = visible.getAsLong();
        long s = tx.snapshotTs();
        long readCost = 0;
        for (int m = 0; m < tx.partBound(); m++) {
            MapTx<?, ?> part = tx.partOrNull(m);
            if (part != null && part.readSet() != null) {
                ReadSet<?> reads = part.readSet();
                reads.freeze();
                readCost += reads.keyCount()
                        + (long) KEYS_PER_RANGE * reads.ranges().size();
            }
        }
        long written = ring.keysWrittenHint(s, through);
        if (written >= 0 && written <= RING_KEYS_PER_READ * readCost) {
            return new OutEdges(s); // the ring covers everything after the snapshot
        }
        OutEdges found = new OutEdges(through);
        collectOutEdges(tx, through, found);
        return found;
    }

    /** How many ring keys to test (binary searches) rather than traverse the index once per key read. */
    private static final int RING_KEYS_PER_READ = 8;
    /** What a scanned range is taken to cost, in keys, for that choice. */
    private static final int KEYS_PER_RANGE = 64;

    private void collectOutEdges(TxState<K, V> tx, long through, OutEdges found) {
        for (int m = 0; m < tx.partBound(); m++) {
            MapTx<?, ?> part = tx.partOrNull(m);
            if (part != null && part.readsAnything()) {
                collectOutEdges(part, tx.snapshotTs(), through, found);
            }
        }
    }

    /** Out-edges from one map's reads, scanned in that map's index. */
    private static <K2> void collectOutEdges(MapTx<K2, ?> part, long s, long through, OutEdges found) {
        VersionedIndex<K2> index = part.map().index();
        ReadSet<K2> reads = part.readSet();
        reads.freeze();
        WriteSet<K2, ?> ownWrites = part.writeSet();
        for (int i = 0; i < reads.keyCount(); i++) {
            K2 key = reads.key(i);
            if (ownWrites != null && ownWrites.get(key) != null) {
                continue; // written too: the write-write check already proved no newer version
            }
            collectWritersAfter(part.map(), key, index.get(key), s, through, found);
        }
        for (KeyRange<K2> range : reads.ranges()) {
            for (VersionedIndex.Cursor<K2> c = index.cursor(range, false); c.next(); ) {
                collectWritersAfter(part.map(), c.key(), c.entry(), s, through, found);
            }
        }
    }

    /**
     * Validates a read-write committer whose own versions are already linked as write latches
     * (PENDING), given the out-edges it found before the lock; throws if it would complete a
     * dangerous structure. Caller holds the commit lock.
     *
     * @param tx the committer
     * @param scanned what {@link #scanOutEdges} found for it
     * @return its edges, to {@link #record} once it commits
     * @throws SerializationFailureException if it would complete a dangerous structure
     */
    public Edges validate(TxState<K, V> tx, OutEdges scanned) {
        return validate(tx, false, scanned);
    }

    private Edges validate(TxState<K, V> tx, boolean readOnly, OutEdges scanned) {
        long s = tx.snapshotTs();
        OutEdges found = scanned;
        if (!addRecentWriters(tx, scanned)) {
            found = new OutEdges(lastCommit.getAsLong()); // the ring lost some: scan again, all of it
            collectOutEdges(tx, found.scannedThrough, found);
        }
        LongList in = new LongList();
        KeyList inKeys = new KeyList();
        if (!readOnly) {
            graph.forEachOverlapping(s, reader -> {
                Object theirs = reader.payload();
                for (int m = 0; m < tx.partBound(); m++) {
                    MapTx<?, ?> part = tx.partOrNull(m);
                    if (part == null || part.writesNothing()) {
                        continue;
                    }
                    WriteSet<?, ?> writes = part.writeSet();
                    for (int i = 0; i < writes.size(); i++) {
                        if (TxState.covers(theirs, m, writes.key(i))) {
                            in.add(reader.commitTimestamp());
                            inKeys.add(messageKey(part.map(), writes.key(i)));
                            return;
                        }
                    }
                }
            });
        }
        Edges edges = new Edges(found.targets.toArray(), in.toArray(), found.keys.list(), inKeys.list());
        DangerousStructure danger = graph.check(s, readOnly, edges.out, edges.in);
        if (danger != null) {
            counters.dangerousStructureAbort();
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

    // ---- the ring of recent write sets -------------------------------------------------------

    private final RecentWrites ring = new RecentWrites();

    /** The most keys the ring of recent write sets keeps reachable at once (RecentWrites W3). */
    public static final int MAX_RING_KEYS = 1 << 18;

    /**
     * Lets go of ring entries no open snapshot can need (RecentWrites W4); caller holds the
     * commit lock.
     *
     * @param watermark the prunable watermark
     */
    public void releaseRecentWrites(long watermark) {
        ring.release(watermark);
    }

    /**
     * Remembers what the commit at {@code commitTs} wrote; caller holds the commit lock.
     *
     * @param commitTs the commit timestamp
     * @param writes its (frozen) write set
     */
    public void recordWrites(long commitTs, WriteSet<K, V> writes) {
        Object[] keys = writes.frozenKeys(); // the keys only: overwritten values may be reclaimed
        ring.record(commitTs, keys, keys.length);
    }

    /**
     * Remembers what a commit that wrote several maps, or a named one, wrote; caller holds the
     * commit lock. The keys are held grouped by map ({@link MapsWritten}), bare, so recording costs
     * no object per key and validation skips a map its committer did not read.
     *
     * @param commitTs the commit timestamp
     * @param tx the committer
     * @param count the number of keys it wrote, over every map
     */
    public void recordWrites(long commitTs, TxState<K, V> tx, int count) {
        int groups = 0;
        for (int m = 0; m < tx.partBound(); m++) {
            MapTx<?, ?> part = tx.partOrNull(m);
            if (part != null && !part.writesNothing()) {
                groups++;
            }
        }
        MapIndex<?, ?>[] maps = new MapIndex<?, ?>[groups];
        int[] ends = new int[groups];
        Object[] keys = new Object[count];
        int k = 0;
        int g = 0;
        for (int m = 0; m < tx.partBound(); m++) {
            MapTx<?, ?> part = tx.partOrNull(m);
            if (part == null || part.writesNothing()) {
                continue;
            }
            WriteSet<?, ?> writes = part.writeSet();
            for (int i = 0; i < writes.size(); i++) {
                keys[k++] = writes.key(i);
            }
            maps[g] = part.map();
            ends[g++] = k;
        }
        ring.record(commitTs, new MapsWritten(maps, ends, keys), k);
    }

    /**
     * What a commit wrote in named maps, as a ring slot holds it: the keys of map {@code maps[g]}
     * are {@code keys[ends[g - 1] .. ends[g])} (from 0 for g = 0).
     */
    record MapsWritten(MapIndex<?, ?>[] maps, int[] ends, Object[] keys) {}

    /**
     * Remembers a single-key commit (autocommit) to {@code map}; caller holds the commit lock.
     *
     * @param commitTs the commit timestamp
     * @param map the key's map
     * @param key the key it wrote
     * @param <K2> the map's key type
     */
    public <K2> void recordWrite(long commitTs, MapIndex<K2, ?> map, K2 key) {
        if (map.id() == MapIndex.DEFAULT) {
            ring.record(commitTs, key instanceof Object[] ? new Object[] {key} : key, 1);
        } else {
            ring.record(commitTs, new MapKey(map, key), 1);
        }
    }

    /**
     * Adds the out-edges to commits after {@code scanned.scannedThrough}, from the ring; caller
     * holds the commit lock.
     *
     * @return false if the ring no longer holds every such commit
     */
    private boolean addRecentWriters(TxState<K, V> tx, OutEdges scanned) {
        long last = lastCommit.getAsLong();
        if (last - scanned.scannedThrough > RecentWrites.RECENT) {
            return false;
        }
        for (long c = scanned.scannedThrough + 1; c <= last; c++) {
            int slot = (int) c & (RecentWrites.RECENT - 1);
            if (ring.commitTs[slot] != c) {
                return false; // not recorded: committed while the database was being opened
            }
            Object keys = ring.keys[slot];
            if (keys == RecentWrites.FORGOTTEN) {
                return false; // let go (W2): the index must be scanned
            }
            if (keys == null) {
                continue; // a read-only SERIALIZABLE commit: it wrote nothing
            }
            if (keys instanceof MapsWritten written) {
                addIfRead(tx, written, c, scanned);
            } else if (!(keys instanceof Object[])) {
                addIfRead(tx, keys, c, scanned);
            } else {
                for (Object key : (Object[]) keys) {
                    if (addIfRead(tx, key, c, scanned)) {
                        break; // one edge per writer is enough
                    }
                }
            }
        }
        return true;
    }

    /** Adds an edge to commit {@code commitTs} if {@code ringKey} (bare or a MapKey) was read. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static boolean addIfRead(TxState<?, ?> tx, Object ringKey, long commitTs, OutEdges found) {
        MapTx<?, ?> part;
        Object key;
        if (ringKey instanceof MapKey mk) {
            part = tx.partOrNull(mk.map().id());
            key = mk.key();
        } else {
            part = tx.partOrNull(MapIndex.DEFAULT);
            key = ringKey;
        }
        ReadSet reads = part == null ? null : part.readSet();
        if (reads == null || reads.isEmpty() || !reads.covers(key)) {
            return false;
        }
        found.targets.add(commitTs);
        found.keys.add(ringKey);
        return true;
    }

    /** Adds an edge to commit {@code commitTs} if a key of {@code written} was read, map by map. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static void addIfRead(TxState<?, ?> tx, MapsWritten written, long commitTs, OutEdges found) {
        int from = 0;
        for (int g = 0; g < written.maps().length; g++) {
            int to = written.ends()[g];
            MapIndex<?, ?> map = written.maps()[g];
            MapTx<?, ?> part = tx.partOrNull(map.id());
            ReadSet reads = part == null ? null : part.readSet();
            if (reads != null && !reads.isEmpty()) {
                for (int i = from; i < to; i++) {
                    Object key = written.keys()[i];
                    if (reads.covers(key)) {
                        found.targets.add(commitTs);
                        found.keys.add(messageKey(map, key));
                        return; // one edge per writer is enough
                    }
                }
            }
            from = to;
        }
    }

    /** A key as messages show it: bare for the default map, with its map's name otherwise. */
    private static Object messageKey(MapIndex<?, ?> map, Object key) {
        return map.id() == MapIndex.DEFAULT ? key : new MapKey(map, key);
    }

    private static <K> void collectWritersAfter(
            MapIndex<K, ?> map, K key, Object head, long s, long through, OutEdges found) {
        if (VersionChain.forEachCommittedBetween(head, s, through, found.targets)) {
            found.keys.add(messageKey(map, key));
        }
    }

    /**
     * Records a committed read-write transaction that passed {@link #validate}; caller holds the
     * commit lock.
     *
     * @param tx the committer
     * @param commitTs its commit timestamp
     * @param edges what {@link #validate} returned
     */
    public void record(TxState<K, V> tx, long commitTs, Edges edges) {
        graph.recordCommit(commitTs, tx.snapshotTs(), false, edges.out, tx.frozenReads());
    }

    /**
     * Validates a read-only committer as the first edge of a dangerous structure, given the
     * out-edges it found before the lock, and returns its edges; the store then records it under
     * a commit timestamp of its own (and records no writes for it). Caller holds the commit lock.
     *
     * @param tx the read-only committer
     * @param scanned what {@link #scanOutEdges} found for it
     * @return its edges, to {@link #recordReadOnly}
     * @throws SerializationFailureException if it would complete a dangerous structure
     */
    public Edges validateReadOnly(TxState<K, V> tx, OutEdges scanned) {
        return validate(tx, true, scanned);
    }

    /**
     * Records a read-only committer under its identity timestamp; caller holds the commit lock.
     *
     * @param tx the read-only committer
     * @param commitTs its identity timestamp (no version carries it)
     * @param edges what {@link #validateReadOnly} returned
     */
    public void recordReadOnly(TxState<K, V> tx, long commitTs, Edges edges) {
        ring.record(commitTs, null, 0);
        graph.recordCommit(commitTs, tx.snapshotTs(), true, edges.out, tx.frozenReads());
    }

    /**
     * Drops the records no open snapshot overlaps; caller holds the commit lock.
     *
     * @param watermark the oldest pinned snapshot
     * @return the records the graph keeps
     */
    public int prune(long watermark) {
        return graph.prune(watermark);
    }

    /**
     * The records the graph keeps (full records plus the summary, if any); caller holds the
     * commit lock.
     *
     * @return the count
     */
    public int retainedRecords() {
        return graph.retainedRecords();
    }

    /** A growable array of longs. */
    static final class LongList implements java.util.function.LongConsumer {
        private static final long[] NONE = {};
        private long[] values = NONE; // allocated at the first edge: most commits have none
        private int size;

        @Override
        public void accept(long v) {
            add(v);
        }

        void add(long v) {
            if (size == values.length) {
                values = Arrays.copyOf(values, Math.max(4, size * 2));
            }
            values[size++] = v;
        }

        long[] toArray() {
            return size == 0 ? NONE : Arrays.copyOf(values, size);
        }
    }

    /** Up to 16 keys, for messages; allocated at the first key. */
    static final class KeyList {
        private List<Object> keys;

        void add(Object key) {
            if (keys == null) {
                keys = new ArrayList<>(4);
            }
            if (keys.size() < 16) {
                keys.add(key);
            }
        }

        List<Object> list() {
            return keys == null ? List.of() : keys;
        }
    }
}
