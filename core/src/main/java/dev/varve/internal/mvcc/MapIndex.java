// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import dev.varve.internal.index.VersionedIndex;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * One map of a {@link Store}: its id, its name, its key order and its own versioned index. The
 * default map (the database's own keys) has id 0 and no name; named maps get ids 1, 2, ... in the
 * order they are first opened. Every map shares the store's commit clock, visible timestamp,
 * commit lock, snapshot pins, conflict graph and log: a commit spans maps, a snapshot reads every
 * map at one timestamp.
 *
 * <p>Thread-safe: immutable but for {@link #dropped}, which only rises, under the commit lock.
 *
 * @param <K> key type
 * @param <V> value type
 */
public final class MapIndex<K, V> {

    /*
     * Implementation notes.
     *
     * M1. An id names one map for the life of the store: a dropped map's id is never reused, so
     *     a write recorded under an id (the ring of recent writes, vacuum's dirty keys, a read
     *     set) can never be mistaken for a write to another map.
     * M2. Keys of different maps never compare: every structure that holds keys of several maps
     *     holds them per map (TxState's parts, ConflictFinder.MapsWritten) or wrapped with their
     *     map (MapKey).
     * M3. dropped is set under the commit lock; a commit that writes a map checks it under the
     *     same lock, so no commit installs into a map after its drop.
     * M4. The map's version and live-key counts are exact whenever no commit is in its stamp
     *     step: a version counts +1 when it is stamped (or installed by recovery) and -1 when a
     *     cut takes the link to it (VersionChain#cutBelow: each link is taken once) or vacuum
     *     removes its key; a settled value is one version. A key is live while its newest
     *     committed version is not a tombstone, so only commits change the live count (vacuum
     *     drops tombstones only). heldByWriters changes only under the commit lock (or on the
     *     recovering thread), as does liveKeys; vacuum's cuts go to vacuumed, from any thread.
     */

    /** The default map's id. */
    public static final int DEFAULT = 0;

    /** The store this map belongs to (a handle of another database is refused by it). */
    final Object owner;

    private final int id;
    private final String name;
    /** The comparator the user gave, or null for natural ordering (what SortedMap reports). */
    private final Comparator<? super K> userComparator;
    /** The total order the engine uses: the user's comparator, or natural ordering. */
    private final Comparator<? super K> comparator;

    final VersionedIndex<K> index;

    private final String keyCodecId;
    private final String valueCodecId;

    private volatile boolean dropped;

    /** Versions stamped or recovered, minus those committers cut (M4); commit lock holder only. */
    private final AtomicLong heldByWriters = new AtomicLong();
    /** Keys whose newest committed version is a value (M4); commit lock holder only. */
    private final AtomicLong liveKeys = new AtomicLong();
    /** Versions vacuum unlinked or removed with their key (M4); any thread. */
    private final LongAdder vacuumed = new LongAdder();

    /**
     * An empty map.
     *
     * @param owner the store it belongs to
     * @param id its id (M1)
     * @param name its name, or null for the default map
     * @param userComparator the key order, or null for the keys' natural order
     * @param keyCodecId the id of the key codec it was opened with ("" for none)
     * @param valueCodecId the id of the value codec it was opened with ("" for none)
     */
    @SuppressWarnings("unchecked")
    public MapIndex(
            Object owner,
            int id,
            String name,
            Comparator<? super K> userComparator,
            String keyCodecId,
            String valueCodecId) {
        this.keyCodecId = keyCodecId;
        this.valueCodecId = valueCodecId;
        this.owner = owner;
        this.id = id;
        this.name = name;
        this.userComparator = userComparator;
        this.comparator = userComparator != null
                ? userComparator
                : (Comparator<? super K>) (Comparator<?>) Comparator.naturalOrder();
        this.index = new VersionedIndex<>(userComparator);
    }

    /**
     * The map's id.
     *
     * @return 0 for the default map, positive for a named one
     */
    public int id() {
        return id;
    }

    /**
     * The map's name.
     *
     * @return the name, or null for the default map
     */
    public String name() {
        return name;
    }

    /**
     * The versioned index.
     *
     * @return the index
     */
    public VersionedIndex<K> index() {
        return index;
    }

    /**
     * The comparator the user gave.
     *
     * @return it, or null for natural ordering
     */
    public Comparator<? super K> userComparator() {
        return userComparator;
    }

    /**
     * The total key order (never null).
     *
     * @return the comparator
     */
    public Comparator<? super K> comparator() {
        return comparator;
    }

    /**
     * The id of the key codec the map was created with.
     *
     * @return the id, "" if it was opened without codecs or with an undeclared one
     */
    public String keyCodecId() {
        return keyCodecId;
    }

    /**
     * The id of the value codec the map was created with.
     *
     * @return the id, "" if it was opened without codecs or with an undeclared one
     */
    public String valueCodecId() {
        return valueCodecId;
    }

    /**
     * Whether the map was dropped (M3).
     *
     * @return true once dropped
     */
    public boolean isDropped() {
        return dropped;
    }

    /** Marks the map dropped; caller holds the commit lock (M3). */
    void markDropped() {
        dropped = true;
    }

    /**
     * Refuses use of a dropped map.
     *
     * @throws IllegalStateException if the map was dropped
     */
    public void checkNotDropped() {
        if (dropped) {
            throw new IllegalStateException("map '" + name + "' was dropped: its handle cannot be used any more");
        }
    }

    /**
     * Counts what a writer did to this map (M4): versions linked minus versions it cut, and the
     * change in live keys. Caller holds the commit lock, or is the recovering thread before the
     * map is readable; a release store, so a reader sees a recent count without a fence here.
     *
     * @param versions versions added (negative if more were cut)
     * @param live the change in live keys
     */
    void countWritten(long versions, long live) {
        if (versions != 0) {
            heldByWriters.lazySet(heldByWriters.get() + versions);
        }
        if (live != 0) {
            liveKeys.lazySet(liveKeys.get() + live);
        }
    }

    /**
     * Counts versions vacuum unlinked, or removed with their key (M4); any thread.
     *
     * @param versions versions reclaimed
     */
    void countVacuumed(long versions) {
        if (versions != 0) {
            vacuumed.add(versions);
        }
    }

    /**
     * The versions this map's chains hold, settled values and tombstones included (M4).
     *
     * @return the count; exact between commits, off by the writes of commits in flight
     */
    public long versions() {
        return heldByWriters.get() - vacuumed.sum();
    }

    /**
     * The keys whose newest committed version is a value, not a tombstone (M4).
     *
     * @return the count; exact between commits, off by the writes of commits in flight
     */
    public long liveKeys() {
        return liveKeys.get();
    }

    /**
     * How messages name the map.
     *
     * @return "the default map" or "map 'name'"
     */
    public String describe() {
        return name == null ? "the default map" : "map '" + name + "'";
    }

    @Override
    public String toString() {
        return "MapIndex[" + id + (name == null ? "" : ", " + name) + "]";
    }
}
