// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import dev.varve.internal.index.VersionedIndex;

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
    /** The default map. */
    private final MapIndex<K, V> defaultMap;
    /**
     * The default map's part (id 0), for the fast path of single-map transactions; created at
     * the first use (an empty transaction needs none).
     */
    private MapTx<K, V> main;

    private final boolean tracksReads;
    /**
     * Every part by map id, [0] being {@link #main}; null while the transaction used only the
     * default map.
     */
    private MapTx<?, ?>[] parts;

    private long commitTs = -1;
    /** The savepoints (S1); null until the first (one field: it fits this object's padding). */
    private Savepoints savepoints;

    /**
     * The state of a transaction that just pinned its snapshot.
     *
     * @param main the store's default map
     * @param pins where it pins its snapshot (at the visible timestamp): this state is the pin
     * @param tracksReads whether to keep read sets (SERIALIZABLE)
     */
    public TxState(MapIndex<K, V> main, SnapshotPins pins, boolean tracksReads) {
        this(main, pins, tracksReads, null, false, false);
    }

    /**
     * The state of a transaction that just pinned its snapshot, watched for {@code owner}
     * (SnapshotPins P5).
     *
     * @param main the store's default map
     * @param pins where it pins its snapshot (at the visible timestamp): this state is the pin
     * @param tracksReads whether to keep read sets (SERIALIZABLE)
     * @param owner the public transaction, weakly referenced (its pin is released if it becomes
     *     unreachable unclosed); null for none
     * @param trackAge whether to record when it began
     * @param trackSite whether to record where it began
     */
    public TxState(
            MapIndex<K, V> main,
            SnapshotPins pins,
            boolean tracksReads,
            Object owner,
            boolean trackAge,
            boolean trackSite) {
        super(pins, owner, trackAge, trackSite, tracksReads); // SERIALIZABLE: a possible pivot (P9)
        this.tracksReads = tracksReads;
        this.defaultMap = main;
    }

    /**
     * The state of a read-only view as of the past commit timestamp {@code ts} (SnapshotPins P7).
     *
     * @param main the store's default map
     * @param pins where it pins its snapshot
     * @param ts the commit timestamp to read at, at most the visible timestamp
     * @throws dev.varve.SnapshotTooOldException if versions it would read may have been reclaimed
     */
    public TxState(MapIndex<K, V> main, SnapshotPins pins, long ts) {
        super(pins, ts);
        this.tracksReads = false;
        this.defaultMap = main;
    }

    /*
     * Implementation notes.
     *
     * X1. One part per map the transaction used, found by map id (the default map's in main, and
     *     in parts[0] once parts exists). Parts are only added, never removed, so a view's part
     *     stays this transaction's. A part may be created by several threads reading a snapshot
     *     (its state then tracks nothing): the copies are equivalent, and MapTx's final fields
     *     make each safe to publish without a lock.
     * X2. Iterating parts by ascending id (parts(), partCount()) is the order in which a commit
     *     latches its writes: map by map, each map's keys ascending (CommitProtocol L1).
     *
     * Savepoints: an undo log per write set (UndoLog U1-U4, held by its MapTx), recorded only
     * once a savepoint saw that set; the write sets stay the one truth for reads, scans, commit.
     *  S1. savepoints.live lists the live marks oldest first; mark.depth is its index there. A
     *      mark is live iff savepoints.live.get(mark.depth) == mark.
     *  S2. A mark remembers, by map id, the write set each part had when it was taken (null for
     *      none) and the undo level savepoint() opened in it. Every write made since is in that
     *      level or a later one of the same set, or in a set the mark does not name.
     *  S3. For every live mark, each write set it names is still its part's write set: sets are
     *      replaced only by rollbackTo(m) discarding a set m does not name, which was created
     *      after m, so every mark naming it is newer than m and is invalidated by that rollback.
     *      A set created after the newest savepoint records no undo (U1): a rollback to any
     *      live mark discards it whole.
     *  S4. rollbackTo(m) restores every set m names to its state at m (U3), discards the others,
     *      and invalidates the marks after m; m stays live (SQL's ROLLBACK TO keeps it). Reads
     *      are not undone: the read sets keep whatever was read after m.
     */

    /**
     * The snapshot pin (its release is the cleaner action of a snapshot view).
     *
     * @return the pin
     */
    public SnapshotPins.Pin pin() {
        return this;
    }

    /**
     * The default map's part, created at the first use (X1).
     *
     * @return the part (never null)
     */
    public MapTx<K, V> main() {
        MapTx<K, V> m = main;
        if (m == null) {
            m = new MapTx<>(defaultMap, tracksReads);
            main = m;
            if (parts != null) {
                parts[0] = m;
            }
        }
        return m;
    }

    /**
     * This transaction's part of {@code map}, created at the first use (X1).
     *
     * @param map a map of the same store
     * @param <K2> the map's key type
     * @param <V2> the map's value type
     * @return the part
     */
    @SuppressWarnings("unchecked")
    public <K2, V2> MapTx<K2, V2> part(MapIndex<K2, V2> map) {
        int id = map.id();
        if (id == MapIndex.DEFAULT) {
            return (MapTx<K2, V2>) main();
        }
        MapTx<?, ?>[] p = parts;
        if (p == null) {
            p = new MapTx<?, ?>[Math.max(8, id + 1)]; // 8: a few named maps before the first regrowth
            p[0] = main;
            parts = p;
        } else if (id >= p.length) {
            p = java.util.Arrays.copyOf(p, Math.max(id + 1, p.length * 2));
            parts = p;
        }
        MapTx<K2, V2> part = (MapTx<K2, V2>) p[id];
        if (part == null) {
            part = new MapTx<>(map, tracksReads);
            p[id] = part;
        }
        return part;
    }

    /**
     * A part of {@code map} that belongs to no transaction and tracks nothing: what a read-only
     * snapshot view reads through (it records no reads, writes or nodes).
     *
     * @param map a map
     * @param <K2> the map's key type
     * @param <V2> the map's value type
     * @return a new untracked part
     */
    public static <K2, V2> MapTx<K2, V2> untrackedPart(MapIndex<K2, V2> map) {
        return new MapTx<>(map, false);
    }

    /**
     * The part of the map with id {@code id} if this transaction used it.
     *
     * @param id a map id
     * @return the part, or null
     */
    public MapTx<?, ?> partOrNull(int id) {
        if (id == MapIndex.DEFAULT) {
            return main;
        }
        MapTx<?, ?>[] p = parts;
        return p == null || id >= p.length ? null : p[id];
    }

    /**
     * One more than the largest map id this transaction may have a part of (X2).
     *
     * @return the bound for {@link #partOrNull}
     */
    public int partBound() {
        MapTx<?, ?>[] p = parts;
        return p == null ? 1 : p.length;
    }

    /**
     * Whether the transaction used maps other than the default one.
     *
     * @return true if it has parts beyond the default map's
     */
    public boolean spansMaps() {
        return parts != null;
    }

    /**
     * Whether commit must look for conflicts with what was read: a read set that is not empty,
     * in any map.
     *
     * @return true if a read set records anything
     */
    public boolean tracksReads() {
        if (!tracksReads) {
            return false;
        }
        if (main != null && main.readsAnything()) {
            return true;
        }
        MapTx<?, ?>[] p = parts;
        if (p != null) {
            for (int i = 1; i < p.length; i++) {
                if (p[i] != null && p[i].readsAnything()) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * The default map's buffered writes.
     *
     * @return the write set, or null before the first write
     */
    public WriteSet<K, V> writeSet() {
        return main == null ? null : main.writeSet();
    }

    /**
     * The default map's buffered writes, created if there are none yet.
     *
     * @return the write set
     */
    public WriteSet<K, V> writes() {
        return main().writes();
    }

    /**
     * Whether nothing is written (so far), in any map.
     *
     * @return true while every write set is empty
     */
    public boolean writesNothing() {
        if (main != null && !main.writesNothing()) {
            return false;
        }
        MapTx<?, ?>[] p = parts;
        if (p != null) {
            for (int i = 1; i < p.length; i++) {
                if (p[i] != null && !p[i].writesNothing()) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * The number of keys written, over every map.
     *
     * @return the count
     */
    public int writeCount() {
        int n = main == null || main.writesNothing() ? 0 : main.writeSet().size();
        MapTx<?, ?>[] p = parts;
        if (p != null) {
            for (int i = 1; i < p.length; i++) {
                if (p[i] != null && !p[i].writesNothing()) {
                    n += p[i].writeSet().size();
                }
            }
        }
        return n;
    }

    /**
     * The number of maps written (so far).
     *
     * @return the count, 0 while nothing is written
     */
    public int mapsWritten() {
        int n = main != null && !main.writesNothing() ? 1 : 0;
        MapTx<?, ?>[] p = parts;
        if (p != null) {
            for (int i = 1; i < p.length; i++) {
                if (p[i] != null && !p[i].writesNothing()) {
                    n++;
                }
            }
        }
        return n;
    }

    /**
     * Takes a savepoint: the point {@link #rollbackTo} returns every map's writes to (S2). Costs
     * O(maps used) and, from then on, O(log m) per write (UndoLog U2).
     *
     * @return the new live mark
     */
    public Mark savepoint() {
        int bound = partBound();
        WriteSet<?, ?>[] sets = new WriteSet<?, ?>[bound];
        int[] levels = new int[bound];
        for (int id = 0; id < bound; id++) {
            MapTx<?, ?> part = partOrNull(id);
            WriteSet<?, ?> writes = part == null ? null : part.writeSet();
            if (writes != null) {
                sets[id] = writes;
                levels[id] = part.pushUndoLevel();
            }
        }
        Savepoints s = savepoints;
        if (s == null) {
            s = new Savepoints();
            savepoints = s;
        }
        Mark mark = new Mark(this, s.live.size(), ++s.taken, sets, levels);
        s.live.add(mark);
        return mark;
    }

    /**
     * Undoes every write made after {@code mark}, in every map, and invalidates the savepoints
     * taken after it; {@code mark} stays live (S4). Reads are not undone.
     *
     * @param mark a live mark of this transaction (see {@link #isLive})
     * @throws IllegalArgumentException if it is not
     */
    public void rollbackTo(Mark mark) {
        if (!isLive(mark)) {
            throw new IllegalArgumentException("savepoint #" + mark.number + " is not live in this transaction");
        }
        int bound = partBound();
        for (int id = 0; id < bound; id++) {
            MapTx<?, ?> part = partOrNull(id);
            WriteSet<?, ?> writes = part == null ? null : part.writeSet();
            if (writes == null) {
                continue;
            }
            if (id < mark.sets.length && mark.sets[id] == writes) {
                part.rollbackTo(mark.levels[id]); // S3: the set mark saw
            } else {
                part.discardWrites(); // created after mark: every write in it is later
            }
        }
        java.util.ArrayList<Mark> live = savepoints.live;
        for (int i = live.size() - 1; i > mark.depth; i--) {
            live.remove(i).invalidatedBy = mark;
        }
    }

    /**
     * Whether {@code mark} is a live savepoint of this transaction (S1).
     *
     * @param mark a mark of any transaction
     * @return true if it is this transaction's and no rollback invalidated it
     */
    public boolean isLive(Mark mark) {
        return mark.owner == this
                && savepoints != null
                && mark.depth < savepoints.live.size()
                && savepoints.live.get(mark.depth) == mark;
    }

    /** A transaction's savepoints (S1): the live ones and how many were taken. */
    private static final class Savepoints {
        final java.util.ArrayList<Mark> live = new java.util.ArrayList<>(4);
        /** Savepoints taken so far, live or not: the number of the last one. */
        int taken;
    }

    /**
     * A savepoint of one transaction: what {@link #rollbackTo} needs to return to it (S2).
     * Immutable but for {@link #invalidatedBy}, which only the owning thread sets.
     */
    public static final class Mark {
        private final TxState<?, ?> owner;
        private final int depth;
        private final int number;
        private final WriteSet<?, ?>[] sets;
        private final int[] levels;
        private Mark invalidatedBy;

        Mark(TxState<?, ?> owner, int depth, int number, WriteSet<?, ?>[] sets, int[] levels) {
            this.owner = owner;
            this.depth = depth;
            this.number = number;
            this.sets = sets;
            this.levels = levels;
        }

        /**
         * Whether {@code tx} took this savepoint.
         *
         * @param tx a transaction's state
         * @return true if it is the owner
         */
        public boolean ownedBy(TxState<?, ?> tx) {
            return owner == tx;
        }

        /**
         * The savepoint's number in its transaction: 1 for the first taken, and so on.
         *
         * @return the number
         */
        public int number() {
            return number;
        }

        /**
         * The savepoint whose rollback invalidated this one.
         *
         * @return that mark, or null while this one has not been invalidated
         */
        public Mark invalidatedBy() {
            return invalidatedBy;
        }
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
     * Remembers the index node of a default-map key just read, as a hint for the commit's latch.
     *
     * @param node the node
     */
    public void readNode(VersionedIndex.Node<K> node) {
        main().readNode(node);
    }

    /**
     * The index node of default-map {@code key} if it was one of the last two keys read, else
     * null.
     *
     * @param key the key
     * @return the node, or null
     */
    public VersionedIndex.Node<K> recentlyReadNode(K key) {
        return main == null ? null : main.recentlyReadNode(key);
    }

    /**
     * What the conflict graph keeps of this transaction's reads (frozen read sets): the default
     * map's read set alone, or, when the transaction spans maps, an array of read sets by map id.
     *
     * @return the reads, for {@link #covers}
     */
    Object frozenReads() {
        MapTx<?, ?>[] p = parts;
        if (p == null) {
            return main == null ? null : main.readSet();
        }
        ReadSet<?>[] reads = new ReadSet<?>[p.length];
        for (int i = 0; i < p.length; i++) {
            if (p[i] != null && p[i].readsAnything()) {
                reads[i] = p[i].readSet();
            }
        }
        return reads;
    }

    /**
     * Whether frozen reads (see {@link #frozenReads}) cover {@code key} of map {@code mapId}.
     *
     * @param reads what {@link #frozenReads} returned
     * @param mapId the key's map
     * @param key the key
     * @return true if a read of that map covers the key
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static boolean covers(Object reads, int mapId, Object key) {
        if (reads instanceof ReadSet<?> single) {
            return mapId == MapIndex.DEFAULT && ((ReadSet) single).covers(key);
        }
        ReadSet<?>[] byMap = (ReadSet<?>[]) reads;
        if (byMap == null || mapId >= byMap.length) {
            return false;
        }
        ReadSet rs = byMap[mapId];
        return rs != null && rs.covers(key);
    }
}
