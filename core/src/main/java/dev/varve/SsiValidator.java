package dev.varve;

import dev.varve.internal.index.KeyRange;
import dev.varve.internal.index.VersionedIndex;
import dev.varve.internal.mvcc.ReadSet;
import dev.varve.internal.mvcc.TxState;
import dev.varve.internal.mvcc.VersionChain;
import dev.varve.internal.mvcc.WriteSet;
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
 * <p>Not thread-safe. {@link #scanOutEdges} runs without the store's commit lock, on the
 * committing thread, and reads only the index, the committer's own sets, {@code visibleTs} and
 * one racy hint from the ring of recent write sets; every other method runs under the commit
 * lock, which guards the conflict graph and the ring.
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
     * transactions; the commit lock orders committers, so no two can miss each other. Out-edges
     * are found without traversing the index under the lock (see scanOutEdges).
     */

    /** Edges found for one committer, with the keys that produced them (for messages). */
    record Edges(long[] out, long[] in, List<Object> outKeys, List<Object> inKeys) {}

    /**
     * Out-edges a committer found before taking the commit lock: every committed version above
     * its snapshot and at or below {@link #scannedThrough} in what it read.
     */
    static final class OutEdges {
        final LongList targets = new LongList();
        /** Up to 16 keys that produced the edges, for messages. */
        final KeyList keys = new KeyList();
        /** visibleTs when the scan began: every commit at or below it was fully installed. */
        final long scannedThrough;

        OutEdges(long scannedThrough) {
            this.scannedThrough = scannedThrough;
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

    /** The index part of out-edge finding (see above); runs without the commit lock. */
    OutEdges scanOutEdges(TxState<K, V> tx) {
        long through = store.visibleTs();
        long s = tx.snapshotTs();
        ReadSet<K> reads = tx.readSet();
        reads.freeze();
        long written = ring.keysWrittenHint(s, through);
        if (written >= 0 && written <= RING_KEYS_PER_READ * (reads.keyCount() + KEYS_PER_RANGE * reads.ranges().size())) {
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
        long s = tx.snapshotTs();
        ReadSet<K> reads = tx.readSet();
        reads.freeze();
        WriteSet<K, V> ownWrites = tx.writeSet();
        for (int i = 0; i < reads.keyCount(); i++) {
            K key = reads.key(i);
            if (ownWrites != null && ownWrites.get(key) != null) {
                continue; // written too: the write-write check already proved no newer version
            }
            collectWritersAfter(key, store.index.get(key), s, through, found);
        }
        for (KeyRange<K> range : reads.ranges()) {
            for (VersionedIndex.Cursor<K> c = store.index.cursor(range, false); c.next(); ) {
                collectWritersAfter(c.key(), c.entry(), s, through, found);
            }
        }
    }

    /**
     * Validates a read-write committer whose own versions are already linked as write latches
     * (PENDING), given the out-edges it found before the lock; throws if it would complete a
     * dangerous structure. Caller holds the commit lock.
     */
    Edges validate(TxState<K, V> tx, OutEdges scanned) {
        return validate(tx, false, scanned);
    }

    private Edges validate(TxState<K, V> tx, boolean readOnly, OutEdges scanned) {
        long s = tx.snapshotTs();
        OutEdges found = scanned;
        if (!addRecentWriters(tx.readSet(), scanned)) {
            found = new OutEdges(store.lastCommitTs()); // the ring lost some: scan again, all of it
            collectOutEdges(tx, found.scannedThrough, found);
        }
        LongList in = new LongList();
        KeyList inKeys = new KeyList();
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
        Edges edges = new Edges(found.targets.toArray(), in.toArray(), found.keys.list(), inKeys.list());
        DangerousStructure danger = graph.check(s, readOnly, edges.out, edges.in);
        if (danger != null) {
            store.counters.dangerousStructureAbort();
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

    /** The most keys the ring of recent write sets keeps reachable at once. */
    static final int MAX_RING_KEYS = 1 << 18;

    /** What a slot holds once its keys were let go (validation then scans the index). */
    private static final Object FORGOTTEN = new Object();

    /**
     * The keys written by the last {@link #RECENT} commits, by commit timestamp. Written under the
     * commit lock; read under it, except {@link #keysWrittenHint}, a racy read used as a hint.
     *
     * <p>Invariants: (W1) slot c & (RECENT - 1) describes commit c iff commitTs[slot] == c;
     * (W2) it holds c's keys, or FORGOTTEN, and validation treats FORGOTTEN as "not recorded"
     * (a scan of the index instead); (W3) at most MAX_RING_KEYS keys are held: a larger commit
     * is recorded FORGOTTEN, and the oldest slots are forgotten to make room; (W4) slots of
     * commits at or below the watermark are forgotten (release), since every validating
     * transaction is pinned at a snapshot at or above the watermark and only reads commits after
     * its snapshot; so a key deleted and vacuumed is not kept alive here.
     */
    private static final class RecentWrites {
        private static final int RECENT = 1024; // a power of two
        /** The commit timestamp each slot describes (slot = commitTs & (RECENT - 1)), or 0. */
        private final long[] commitTs = new long[RECENT];
        /** What that commit wrote: an Object[] of keys, a single key, null (nothing) or FORGOTTEN. */
        private final Object[] keys = new Object[RECENT];
        /** How many keys the slot holds (0 once forgotten). */
        private final int[] held = new int[RECENT];
        /** Keys written by all recorded commits up to and including that one. */
        private final long[] keysWrittenThrough = new long[RECENT];
        private long keysWritten;
        /** Keys the slots hold now (W3). */
        private long keysHeld;
        /** The oldest commit whose slot may still hold keys. */
        private long oldestHeld = 1;
        /** The newest commit recorded. */
        private long newest;

        void record(long ts, Object written, int count) {
            int slot = (int) ts & (RECENT - 1);
            forget(slot); // its previous occupant, ts - RECENT, is out of the window
            if (count > MAX_RING_KEYS) {
                written = FORGOTTEN;
                count = 0;
            }
            while (keysHeld + count > MAX_RING_KEYS && oldestHeld < ts) {
                forget((int) oldestHeld++ & (RECENT - 1));
            }
            keysWritten += count;
            keys[slot] = written;
            held[slot] = count;
            keysHeld += count;
            keysWrittenThrough[slot] = keysWritten;
            commitTs[slot] = ts;
            newest = ts;
        }

        private void forget(int slot) {
            if (held[slot] > 0 || keys[slot] != null) {
                keysHeld -= held[slot];
                held[slot] = 0;
                keys[slot] = FORGOTTEN;
            }
        }

        /** Forgets the slots of commits at or below {@code watermark} (W4); amortized O(1). */
        void release(long watermark) {
            oldestHeld = Math.max(oldestHeld, newest - RECENT + 1);
            while (oldestHeld <= Math.min(watermark, newest)) {
                int slot = (int) oldestHeld & (RECENT - 1);
                if (commitTs[slot] == oldestHeld) {
                    forget(slot);
                }
                oldestHeld++;
            }
        }

        /** The keys written by the commits in (from, to], or -1 if unknown; may be stale. */
        long keysWrittenHint(long from, long to) {
            if (to <= from) {
                return 0;
            }
            if (to - from >= RECENT) {
                return -1;
            }
            int a = (int) from & (RECENT - 1);
            int b = (int) to & (RECENT - 1);
            if (commitTs[a] != from || commitTs[b] != to) {
                return -1;
            }
            return Math.max(0, keysWrittenThrough[b] - keysWrittenThrough[a]);
        }
    }

    /** Lets go of ring entries no open snapshot can need (W4); caller holds the commit lock. */
    void releaseRecentWrites(long watermark) {
        ring.release(watermark);
    }

    /** Remembers what the commit at {@code commitTs} wrote; caller holds the commit lock. */
    void recordWrites(long commitTs, WriteSet<K, V> writes) {
        Object[] keys = writes.frozenKeys(); // the keys only: overwritten values may be reclaimed
        ring.record(commitTs, keys, keys.length);
    }

    /** Remembers a single-key commit (autocommit); caller holds the commit lock. */
    void recordWrite(long commitTs, K key) {
        ring.record(commitTs, key instanceof Object[] ? new Object[] {key} : key, 1);
    }

    /**
     * Adds the out-edges to commits after {@code scanned.scannedThrough}, from the ring; caller
     * holds the commit lock.
     *
     * @return false if the ring no longer holds every such commit
     */
    @SuppressWarnings("unchecked")
    private boolean addRecentWriters(ReadSet<K> reads, OutEdges scanned) {
        long last = store.lastCommitTs();
        if (last - scanned.scannedThrough > RecentWrites.RECENT) {
            return false;
        }
        for (long c = scanned.scannedThrough + 1; c <= last; c++) {
            int slot = (int) c & (RecentWrites.RECENT - 1);
            if (ring.commitTs[slot] != c) {
                return false; // not recorded: committed while the database was being opened
            }
            Object keys = ring.keys[slot];
            if (keys == FORGOTTEN) {
                return false; // let go (W2): the index must be scanned
            }
            if (keys == null) {
                continue; // a read-only SERIALIZABLE commit: it wrote nothing
            }
            if (!(keys instanceof Object[])) {
                addIfRead(reads, (K) keys, c, scanned);
            } else {
                for (Object key : (Object[]) keys) {
                    if (addIfRead(reads, (K) key, c, scanned)) {
                        break; // one edge per writer is enough
                    }
                }
            }
        }
        return true;
    }

    private static <K> boolean addIfRead(ReadSet<K> reads, K key, long commitTs, OutEdges found) {
        if (!reads.covers(key)) {
            return false;
        }
        found.targets.add(commitTs);
        found.keys.add(key);
        return true;
    }

    private void collectWritersAfter(K key, Object head, long s, long through, OutEdges found) {
        if (VersionChain.forEachCommittedBetween(head, s, through, found.targets)) {
            found.keys.add(key);
        }
    }

    /** Records a committed read-write transaction that passed {@link #validate}. */
    void record(TxState<K, V> tx, long commitTs, Edges edges) {
        graph.recordCommit(commitTs, tx.snapshotTs(), false, edges.out, tx.readSet());
    }

    /**
     * Validates a read-only committer as the first edge of a dangerous structure, given the
     * out-edges it found before the lock, and returns its edges; the store then records it under
     * a commit timestamp of its own (and records no writes for it). Caller holds the commit lock.
     */
    Edges validateReadOnly(TxState<K, V> tx, OutEdges scanned) {
        return validate(tx, true, scanned);
    }

    void recordReadOnly(TxState<K, V> tx, long commitTs, Edges edges) {
        ring.record(commitTs, null, 0);
        graph.recordCommit(commitTs, tx.snapshotTs(), true, edges.out, tx.readSet());
    }

    int prune(long watermark) {
        return graph.prune(watermark);
    }

    int retainedRecords() {
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
