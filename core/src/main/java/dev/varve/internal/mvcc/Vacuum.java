// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import dev.varve.VacuumResult;
import dev.varve.internal.events.VacuumEvent;
import dev.varve.internal.index.VersionedIndex;
import java.util.ArrayList;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Vacuum of a store: the keys committers hand it (dirty keys) and those a pass could not finish
 * (pending keys), full and incremental passes (which is which: {@link VacuumPolicy}), and the
 * small passes committers run when no background vacuum does. Passes run concurrently with
 * readers and committers; they serialize among themselves on their own lock.
 *
 * <p>Implementation notes. What a pass may cut or remove, and why that is safe, is the version
 * chain's business (Version V1-V4, A1-A3) and the pin handshake's (SnapshotPins P1-P3): a pass
 * works against a watermark computed with the handshake, below which no pinned snapshot reads.
 *  U1. The dirty keys are guarded by the store's commit lock (committers mark them under it);
 *      a pass takes them whole, then computes its watermark, so every key taken was written at
 *      or below that watermark unless a snapshot older than its write is still open (then the
 *      key stays pending).
 *  U2. Pending keys, the pass counts and the policy's inputs are guarded by vacuumLock.
 *  U3. The conflict graph and the ring of recent write sets are touched only under the commit
 *      lock (ConflictFinder).
 *  U4. Keys of named maps are held as MapKeys in the dirty and pending lists (MapIndex M2) and
 *      visited in their own map's index; a dropped map's keys are let go, and a full pass visits
 *      every map that is not dropped.
 */
public final class Vacuum<K, V> {
    /** The default map. */
    private final MapIndex<K, V> main;
    /** Every map not dropped, by id (null where dropped), read when a pass starts. */
    private final Supplier<MapIndex<?, ?>[]> maps;

    private final SnapshotPins pins;
    private final StoreCounters counters;
    private final ConflictFinder<K, V> ssi;
    /** The store's commit lock (U1, U3). */
    private final ReentrantLock commitLock;
    /** Reads the store's count of versions written; called under the commit lock. */
    private final LongSupplier versionsWritten;
    /** Told of a committer's failed pass (the failure listener). */
    private final java.util.function.Consumer<Throwable> committerPassFailed;
    /** Forced-schedule tests pause passes here (set with the store's hook); {@link TestHook#NONE} otherwise. */
    TestHook hook = TestHook.NONE;

    Vacuum(
            MapIndex<K, V> main,
            Supplier<MapIndex<?, ?>[]> maps,
            SnapshotPins pins,
            StoreCounters counters,
            ConflictFinder<K, V> ssi,
            ReentrantLock commitLock,
            LongSupplier versionsWritten,
            java.util.function.Consumer<Throwable> committerPassFailed) {
        this.main = main;
        this.maps = maps;
        this.pins = pins;
        this.counters = counters;
        this.ssi = ssi;
        this.commitLock = commitLock;
        this.versionsWritten = versionsWritten;
        this.committerPassFailed = committerPassFailed;
    }

    /**
     * After a committer refreshed the watermark: runs a committer's pass if committers vacuum and
     * keys are marked.
     */
    void afterRefresh(long watermark) {
        if (committersVacuum && (dirtyCount > 0 || dirtyOverflow)) { // NOTE: racy reads, a hint
            committerVacuum(watermark);
        }
    }

    /**
     * Whether committers vacuum the keys they hand to vacuum themselves (set when the database
     * runs no background vacuum), so memory and the cost of scans stay bounded under a steady
     * workload with the default settings. Written once, before recovery.
     */
    private boolean committersVacuum;

    /**
     * Makes committers vacuum (see committersVacuum); called before recovery, so the tombstones
     * it replays are marked for the first pass instead of making that pass a full one.
     */
    void byCommitters() {
        committersVacuum = true;
        dirtyOverflow = false;
    }

    /**
     * A small vacuum pass run by a committer after its commit, every Store.REFRESH_EVERY_COMMITS
     * commits, when no background vacuum runs: it visits the keys committers marked since the
     * last pass (removed keys, and chains that outgrew committer pruning) and at most as many of
     * the keys earlier passes could not finish, so its cost is proportional to the writes since
     * the last pass. Never a full pass, unless the dirty-key list overflowed (a single commit
     * removed more than MAX_DIRTY_KEYS keys, whose own cost was of that order). Skipped if a pass
     * is already running.
     */
    private void committerVacuum(long watermark) {
        if (!vacuumLock.tryLock()) {
            return;
        }
        ArrayList<Object> dirty = null;
        try {
            if (dirtyOverflow) { // NOTE: racy read; a stale false only delays the full pass
                vacuumPass(true);
                return;
            }
            dirty = takeDirtyKeys();
            if (dirty == null) {
                return; // overflowed meanwhile: the next pass (background, on demand or ours) is full
            }
            PassCounts counts = new PassCounts();
            ArrayList<Object> unfinished = new ArrayList<>();
            visitKeys(dirty, watermark, counts, unfinished);
            int retry = Math.min(pendingKeys.size(), Math.max(dirty.size(), 16));
            visitKeys(new ArrayList<>(pendingKeys.subList(0, retry)), watermark, counts, unfinished);
            unfinished.addAll(pendingKeys.subList(retry, pendingKeys.size())); // rotated: retried later
            pendingKeys = distinct(unfinished);
            counters.vacuumed(counts.versions, counts.keys);
        } catch (RuntimeException e) {
            // The commit that ran this pass is done: a failure here (a throwing comparator) is a
            // vacuum failure, reported by stats(), and the keys taken are kept for the next pass.
            counters.committerVacuumFailed(e);
            committerPassFailed.accept(e);
            if (dirty != null) {
                pendingKeys.addAll(dirty);
            }
        } finally {
            vacuumLock.unlock();
        }
    }

    /** Counts of one vacuum pass; filled by {@link #vacuumKey}. */
    private static final class PassCounts {
        long versions;
        long keys;
        long retained;
        long live;
    }

    /**
     * Vacuums one index entry against {@code watermark}.
     *
     * @return true if the key still holds versions a later pass must look at again (its chain is
     *     not yet a single settled value, and not removed)
     */
    private static <K> boolean vacuumKey(
            VersionedIndex<K> index,
            K key,
            Object entry,
            long watermark,
            PassCounts counts,
            boolean settle,
            TestHook hook) {
        if (VersionChain.isAborted(entry)) { // a latch whose committer failed to restore the entry (A3)
            Object older = VersionChain.live(entry);
            if (older == null ? !index.remove(key, entry) : !index.replace(key, entry, older)) {
                return true; // a writer replaced it meanwhile: look again next pass
            }
            if (older == null) {
                return false;
            }
            entry = older;
        }
        Version<?> head = VersionChain.chainOrNull(entry);
        if (head == null) {
            if (entry != null) {
                counts.retained++; // already settled: one version, live
                counts.live++;
            }
            return false;
        }
        // One walk finds the keeper and counts what is above it: a committer may cut this chain
        // meanwhile (below a version above our keeper, when its watermark is newer than ours), so
        // a second walk from the head might never reach the keeper again.
        Version<?> keeper = head;
        while (keeper != null && keeper.commitTs > watermark) {
            counts.retained++; // newer than the watermark: a pinned snapshot may read it
            keeper = keeper.getOlderAcquire();
        }
        hook.at(TestHook.Point.VACUUM_AFTER_KEEPER);
        if (!head.isTombstone()) {
            counts.live++;
        }
        if (keeper == null) {
            return true;
        }
        counts.versions += VersionChain.cutBelow(keeper); // exact even if a committer cuts too
        counts.retained++;
        if (keeper != head) {
            return true;
        }
        // The head is the only version and every snapshot sees it. Both CASes fail if a committer
        // linked a newer version since we read the head (and that committer marked it dirty).
        if (keeper.isTombstone()) {
            if (index.remove(key, head)) {
                counts.retained--;
                counts.versions++;
                counts.keys++;
            }
        } else if (settle) {
            index.replace(key, head, head.value); // fails if a committer linked a newer version
        }
        return false;
    }

    /**
     * A full pass: visits every key. Unlinks every version no pinned snapshot can read, drops keys
     * whose only version is a tombstone below the watermark, settles keys whose only version is
     * below it, and prunes the SSI graph. Runs concurrently with readers and committers.
     *
     * @return what was reclaimed, and what is left
     */
    VacuumResult full() {
        return vacuum(true);
    }

    /**
     * A pass that visits only the keys committers marked since the last pass (removed keys, and
     * keys whose chains a pinned snapshot keeps long; plus those an earlier pass could not
     * finish), unless {@link VacuumPolicy} asks for a full pass (the dirty-key list overflowed,
     * the pass is the first or a periodic one, or the index went quiet after a burst of writes),
     * when it visits every key. Background vacuum uses it, so its
     * cost follows the write rate rather than the size of the index. Only full passes settle
     * values: settling a key that is still being written would only be undone by its next write.
     */
    VacuumResult incremental() {
        return vacuum(false);
    }

    /** Which passes are full. */
    private static final VacuumPolicy VACUUM_POLICY = VacuumPolicy.DEFAULT;
    /** Versions written when the last full pass started; guarded by vacuumLock. */
    private long versionsWrittenAtFullPass;
    /** Passes since the last full one; guarded by vacuumLock. */
    private int passesSinceFull;
    /** Versions written when the previous pass started; guarded by vacuumLock. */
    private long versionsWrittenAtLastPass;

    /** Serializes vacuum passes (background and on demand); never taken by readers or writers. */
    private final ReentrantLock vacuumLock = new ReentrantLock();

    private VacuumResult vacuum(boolean full) {
        vacuumLock.lock();
        try {
            VacuumEvent event = new VacuumEvent();
            event.begin();
            VacuumResult result = vacuumPass(full);
            if (event.shouldCommit()) {
                event.versions = result.versions();
                event.keys = result.keys();
                event.watermark = result.watermark();
                event.full = full;
                event.commit();
            }
            return result;
        } finally {
            vacuumLock.unlock();
        }
    }

    private VacuumResult vacuumPass(boolean full) {
        // Dirty keys first, then the watermark: every key taken was written at or below the
        // watermark unless a snapshot older than its write is still open.
        ArrayList<Object> dirty = takeDirtyKeys();
        long watermark = pins.reapAndRefresh();
        long written;
        commitLock.lock(); // a plain counter the committers bump under the lock
        try {
            written = versionsWritten.getAsLong();
        } finally {
            commitLock.unlock();
        }
        full |= VACUUM_POLICY.fullPass(
                dirty == null,
                counters.vacuumRuns(),
                passesSinceFull,
                written - versionsWrittenAtLastPass,
                written - versionsWrittenAtFullPass,
                counters.lastVacuumLiveKeys());
        versionsWrittenAtLastPass = written;
        if (full) {
            versionsWrittenAtFullPass = written;
            passesSinceFull = 0;
        } else {
            passesSinceFull++;
        }
        PassCounts counts = new PassCounts();
        ArrayList<Object> unfinished = new ArrayList<>();
        if (full) {
            for (MapIndex<?, ?> map : maps.get()) {
                if (map != null) {
                    fullPass(map, watermark, counts, unfinished);
                }
            }
        } else {
            // Each occurrence is visited (a key written twice is looked at twice: vacuumKey is
            // idempotent, and a second lookup costs less than sorting to deduplicate).
            visitKeys(dirty, watermark, counts, unfinished);
            visitKeys(pendingKeys, watermark, counts, unfinished);
        }
        pendingKeys = distinct(unfinished);
        int ssiRecords;
        commitLock.lock(); // the conflict graph is only ever touched under the commit lock
        try {
            ssiRecords = ssi.prune(watermark);
            ssi.releaseRecentWrites(watermark);
        } finally {
            commitLock.unlock();
        }
        counters.vacuumRun();
        counters.vacuumed(counts.versions, counts.keys);
        if (full) {
            counters.fullPass(counts.retained, counts.live);
        }
        return new VacuumResult(
                counts.versions,
                counts.keys,
                ssiRecords,
                watermark,
                full ? counts.retained : -1,
                full ? counts.live : -1);
    }

    /** Visits every key of {@code map}; keys to look at again go to {@code unfinished} (U4). */
    private <K2> void fullPass(MapIndex<K2, ?> map, long watermark, PassCounts counts, ArrayList<Object> unfinished) {
        VersionedIndex<K2> index = map.index();
        boolean named = map.id() != MapIndex.DEFAULT;
        for (VersionedIndex.Cursor<K2> c = index.cursor(); c.next(); ) {
            long before = counts.versions;
            if (vacuumKey(index, c.key(), c.entry(), watermark, counts, true, hook)) {
                unfinished.add(named ? new MapKey(map, c.key()) : c.key());
            }
            map.countVacuumed(counts.versions - before); // MapIndex M4
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private void visitKeys(ArrayList<Object> keys, long watermark, PassCounts counts, ArrayList<Object> unfinished) {
        for (Object key : keys) {
            MapIndex<?, ?> map;
            Object k;
            if (key instanceof MapKey mk) {
                if (mk.map().isDropped()) {
                    continue; // U4: nothing can read it any more
                }
                map = mk.map();
                k = mk.key();
            } else {
                map = main;
                k = key;
            }
            VersionedIndex index = map.index();
            long before = counts.versions;
            if (vacuumKey(index, k, index.get(k), watermark, counts, false, hook)) {
                unfinished.add(key);
            }
            map.countVacuumed(counts.versions - before); // MapIndex M4
        }
    }

    /** Orders keys of every map: the default map's first, then by map id, each in its map's order. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private int compareAcrossMaps(Object a, Object b) {
        MapIndex ma = a instanceof MapKey mk ? mk.map() : main;
        MapIndex mb = b instanceof MapKey mk ? mk.map() : main;
        if (ma != mb) {
            return Integer.compare(ma.id(), mb.id());
        }
        return ma.comparator().compare(a instanceof MapKey mk ? mk.key() : a, b instanceof MapKey mk ? mk.key() : b);
    }

    /** The keys without duplicates (sorted), so a key pinned for long is carried once per pass. */
    private ArrayList<Object> distinct(ArrayList<Object> keys) {
        if (keys.size() < 2) {
            return keys;
        }
        Object[] sorted = keys.toArray();
        int n = SortedKeys.sortDistinct(sorted, sorted.length, this::compareAcrossMaps);
        ArrayList<Object> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(sorted[i]);
        }
        return out;
    }

    // ---- dirty keys: what committers wrote since the last vacuum pass -----------------------

    /**
     * Keys written since the last pass that vacuum must visit: tombstones, and keys whose chain a
     * pinned snapshot keeps longer than two versions; guarded by commitLock.
     */
    private ArrayList<Object> dirtyKeys = new ArrayList<>();

    private int dirtyCount;
    /** Set when dirtyKeys outgrew its bound: the next pass must visit everything. */
    private boolean dirtyOverflow = true; // the first pass is full
    /** Keys the last pass could not finish (versions above the watermark); vacuum thread only. */
    private ArrayList<Object> pendingKeys = new ArrayList<>();

    private static final int MAX_DIRTY_KEYS = 1 << 20;

    /** Records a key vacuum must visit; caller holds commitLock. */
    void markDirty(Object key) {
        if (dirtyOverflow) {
            return;
        }
        if (++dirtyCount > MAX_DIRTY_KEYS) {
            dirtyOverflow = true; // bounded memory without vacuum: fall back to a full pass
            dirtyKeys = new ArrayList<>();
            return;
        }
        dirtyKeys.add(key);
    }

    /** Takes the dirty keys for a pass, or null if the pass must be full. */
    private ArrayList<Object> takeDirtyKeys() {
        commitLock.lock();
        try {
            ArrayList<Object> taken = dirtyOverflow ? null : dirtyKeys;
            dirtyKeys = new ArrayList<>();
            dirtyCount = 0;
            dirtyOverflow = false;
            return taken;
        } finally {
            commitLock.unlock();
        }
    }
}
