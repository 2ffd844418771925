// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import dev.varve.SerializationFailureException;
import dev.varve.TransactionException;
import dev.varve.internal.index.VersionedIndex;
import dev.varve.spi.CommitRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The commit protocol over a {@link Store}: write latches, the critical section (validation,
 * commit timestamp, stamping, one {@code publish}), read-only commits and their shortcut, and
 * autocommit writes.
 *
 * <p>Thread-safe. Committers latch the keys they write in parallel, then serialize on the store's
 * short commit lock, which holds no I/O and traverses the index only when SSI's ring of recent
 * write sets no longer covers a validation.
 *
 * @param <K> key type
 * @param <V> value type
 */
public final class CommitProtocol<K, V> {
    private static final CompletableFuture<Void> DURABLE_NOW = CompletableFuture.completedFuture(null);
    /** Spins before parking on the commit lock: its critical section is short and holds no I/O. */
    private static final int COMMIT_LOCK_SPINS = 200;

    private static final int REFRESH_EVERY_COMMITS = 256;

    private final Store<K, V> store;
    /** Commits since the committers last refreshed the watermark; guarded by the commit lock. */
    private int commitsSinceRefresh;

    /**
     * A commit protocol over {@code store}.
     *
     * @param store the store it commits into
     */
    public CommitProtocol(Store<K, V> store) {
        this.store = store;
    }

    /**
     * The store this protocol commits into.
     *
     * @return the store
     */
    public Store<K, V> store() {
        return store;
    }

    /*
     * Implementation notes.
     *
     * Commit of a read-write transaction T (snapshot s):
     *   1. without the lock, in key order: write-write check and write latch, one
     *      VersionedIndex#compute per written key (a CAS on the node itself when the
     *      transaction read the key just before: no search). If the head is PENDING (another
     *      committer's latch), wait until it is stamped or aborted. If the head's commitTs > s,
     *      abort (first-committer-wins) and abort what step 1 latched (stamp ABORTED first, then a
     *      best-effort restore: Version A1-A3); otherwise link a PENDING
     *      version. No reader uses it, no other writer replaces it, and vacuum leaves it alone, so
     *      the check stays true until step 4. Waiting cannot deadlock (L1).
     *   Then under commitLock, c = lastCommitTs + 1:
     *   2. SSI (SERIALIZABLE, non-empty read set): ConflictFinder finds T's rw-antidependencies with
     *      committed transactions (skipping PENDING versions) and asks the conflict graph whether
     *      T completes a dangerous structure; abort = abort the latches as in 1. The out-edge scan of the
     *      index runs before the lock; under it, only the commits since are checked, from a ring
     *      of recent write sets that every commit records in step 4;
     *   3. log.append(record) (may refuse: abort the latches as in 1); lastCommitTs = c, and
     *      lastLogged = its durability future (ChangeFeed F12);
     *   4. stamp T's versions c (which releases the latches), prune the touched chains, record T
     *      in the conflict graph, visibleTs = c  <- linearization point of the commit: every new
     *      snapshot sees all of T.
     * Committed versions appear only in step 4, under the lock, so the lock still orders every
     * commit's validation against every other commit's installation, which is what the "later
     * committer records the edge" rule of the SSI graph relies on (unordered
     * validation lets two committers miss each other). A latch that T's step 2 skips belongs to
     * a W that commits after T, and W then finds T's read set in the graph (an in-edge). The
     * index traversals of the writes (step 1) run in parallel; durability is waited for outside
     * the lock. Autocommit writes latch the same way (one latch, so no order to keep).
     *
     * L1. Waiting for a latch cannot deadlock. The commit lock's holder waits for nothing (its
     *     critical section takes no latch and does no I/O), so the lock is always released. A
     *     committer waits for a latch only while not holding the lock, and a transaction latches
     *     its keys in ascending (map id, key) order (map by map in id order, each map's keys in
     *     that map's order: TxState X2): while it waits for (m, k) it holds only pairs below it,
     *     and the holder of (m, k) waits, if at all, for a pair above it. An autocommit waits only
     *     before it holds its single latch. Along any chain of waiting committers the awaited
     *     pair strictly rises, so there is no cycle.
     *
     * The read-only shortcut (Ports & Grittner, VLDB 2012, §4.1-4.2: a read-only T1 can only be
     * the first edge of a dangerous structure T1 ->rw T2 ->rw T3 whose T3 committed before T1's
     * snapshot s, so T2's snapshot is older than s). A read-only SERIALIZABLE R commits
     * unrecorded, without validation, iff its snapshot is safe (SafeSnapshots S1-S3): no
     * possible pivot older than s is still open, checked FIRST, and then no commit after s had
     * an out-edge to a commit at or below s. Then no T2 exists: every possible one committed
     * without such an edge or aborted, and a later one reads at a snapshot >= s (SnapshotPins
     * P9). In the other order, T2 could record its out-edge and unpin between the checks: both
     * pass, R is neither validated nor recorded, and T2 never sees the edge R ->rw T2
     * (ForcedScheduleTest pauses R between the checks to show it). Deferred visibility changes
     * nothing: T2 records its out-edges under the commit lock, before it unpins, visible or not.
     */

    /**
     * Whether a read-only SERIALIZABLE transaction with snapshot {@code snapshotTs} may commit
     * without validation and without a record in the conflict graph: its snapshot is safe (see
     * "The read-only shortcut" in the notes above).
     *
     * @param snapshotTs the transaction's snapshot timestamp
     * @return true if it may commit unrecorded
     */
    public boolean readOnlyNeedsNoRecord(long snapshotTs) {
        return store.safeSnapshots.check(snapshotTs) == SafeSnapshots.Safety.SAFE;
    }

    /** Marks the store read-only if {@code durable} fails; returns it. */
    private CompletableFuture<Void> watchForFailure(CompletableFuture<Void> durable) {
        if (!durable.isDone() || durable.isCompletedExceptionally()) {
            durable.whenComplete((ok, failure) -> {
                if (failure != null) {
                    store.failLog(failure);
                }
            });
        }
        return durable;
    }

    // ---- commit --------------------------------------------------------------------------

    /** Takes the commit lock, spinning briefly before parking. */
    private void lockCommits() {
        if (!store.commitLock.tryLock()) {
            spinThenLock();
        }
        if (CommitLockProfile.ENABLED) {
            store.lockProfile.locked();
        }
    }

    private void spinThenLock() {
        for (int i = 0; i < COMMIT_LOCK_SPINS; i++) {
            Thread.onSpinWait();
            if (store.commitLock.tryLock()) {
                return;
            }
        }
        store.commitLock.lock();
    }

    /** Releases the commit lock a commit took with {@link #lockCommits}. */
    private void unlockCommits() {
        if (CommitLockProfile.ENABLED) {
            store.lockProfile.unlocking();
        }
        store.commitLock.unlock();
    }

    /**
     * Commits a read-write transaction: validates, installs, hands the record to the log.
     *
     * @param tx the transaction; its commit timestamp is set if it commits
     * @param blockingWaiter whether the caller will only block on the returned future (commit())
     *     rather than hand it to user code (commitAsync())
     * @return the log's durability future, completed when the commit is as durable as configured
     * @throws SerializationFailureException if validation refuses it (nothing was installed)
     * @throws TransactionException if the thread was interrupted while waiting for a write latch
     *     (nothing was installed), or if the commit became visible but its bookkeeping failed
     */
    public CompletableFuture<Void> commit(TxState<K, V> tx, boolean blockingWaiter) {
        store.checkWritable();
        int n = tx.writeCount();
        /* The latches, or candidates for them, over every map in latch order (TxState X2): each
         * is recorded here before the index operation that may link it, so the rollback below
         * aborts it whatever that operation threw. */
        Version<?>[] linked = new Version<?>[n];
        long snapshotTs = tx.snapshotTs();
        Attempt attempt = new Attempt(linked, snapshotTs);
        boolean done = false;
        try {
            // 1. write-write check and write latch, one skiplist traversal per key, map by map in
            //    id order and in key order within a map, without the commit lock: a PENDING
            //    version per key, invisible to readers.
            for (int m = 0; m < tx.partBound(); m++) {
                MapTx<?, ?> part = tx.partOrNull(m);
                if (part != null && !part.writesNothing()) {
                    part.map().checkNotDropped();
                    latchPart(part, attempt);
                }
            }
            if (attempt.conflicts != null) {
                store.counters.writeWriteAbort();
                throw new SerializationFailureException(
                        SerializationFailureException.Reason.WRITE_WRITE_CONFLICT,
                        attempt.conflicts,
                        "write-write conflict: keys " + attempt.conflicts
                                + " were committed by another transaction"
                                + " after this transaction's snapshot " + snapshotTs + " (first committer wins)");
            }
            // 2a. SSI out-edges, the index part, still without the lock (see ConflictFinder).
            ConflictFinder.OutEdges scanned = tx.tracksReads() ? store.ssi.scanOutEdges(tx) : null;
            CompletableFuture<Void> durable;
            boolean refreshDue;
            lockCommits();
            try {
                store.checkWritable();
                if (tx.spansMaps()) {
                    checkNoneDropped(tx); // MapIndex M3: under the lock dropMap takes
                }
                long commitTs = store.lastCommitTs + 1;
                // 2b. SSI: rw-antidependencies with committed transactions (PENDING versions,
                //     ours included, are not committed and are skipped).
                ConflictFinder.Edges edges = null;
                if (scanned != null) {
                    edges = store.ssi.validate(tx, scanned); // throws SerializationFailureException
                    // Before anything can fail and leave the commit published without it (SafeSnapshots
                    // S2); if the commit then fails before it is visible, the entry is spurious: sound.
                    store.safeSnapshots.committedWithOutEdges(commitTs, edges.out());
                }
                // 3. the log; it may refuse (failed or closed), and then nothing becomes visible.
                ChangeFeed feed = store.feed; // ChangeFeed F1
                CommitRecord<K, V> record = store.inMemory && feed == null ? null : record(tx, commitTs);
                durable = store.inMemory ? DURABLE_NOW : append(record, blockingWaiter);
                store.lastCommitTs = commitTs;
                store.lastLogged = durable; // ChangeFeed F12
                done = true; // the record is in the log: from here the commit is published whole
                try {
                    // 4. stamp, prune, record; then publish.
                    for (int i = 0; i < n; i++) {
                        linked[i].stamp(commitTs); // releases the latch: the key is writable again
                    }
                    store.hook.at(TestHook.Point.AFTER_STAMP);
                    if (store.commitTimes != null) {
                        store.commitTimes.committing(commitTs); // history retention (SnapshotPins P8)
                    }
                    if (feed != null) {
                        feed.record(commitTs, record, durable); // before it is published (ChangeFeed F2)
                    }
                    int g = 0;
                    for (int m = 0; m < tx.partBound(); m++) {
                        MapTx<?, ?> part = tx.partOrNull(m);
                        if (part != null && !part.writesNothing()) {
                            WriteSet<?, ?> writes = part.writeSet();
                            for (int i = 0; i < writes.size(); i++) {
                                pruneStamped(part.map(), linked[g++], writes.key(i));
                            }
                        }
                    }
                    if (tx.spansMaps()) {
                        store.ssi.recordWrites(commitTs, tx, n);
                    } else {
                        store.ssi.recordWrites(commitTs, tx.writeSet());
                    }
                    store.ssi.releaseRecentWrites(store.pins.prunableWatermark());
                    store.versionsWritten += n;
                    if (edges != null) {
                        store.ssi.record(tx, commitTs, edges);
                    }
                } catch (Throwable t) {
                    throw bookkeepingFailed(commitTs, t);
                } finally {
                    durable = publish(commitTs, durable);
                    tx.committedAt(commitTs);
                }
                refreshDue = refreshDue();
            } finally {
                unlockCommits();
            }
            afterCommit(refreshDue, false);
            return durable;
        } finally {
            if (!done) {
                rollBack(tx, attempt);
            }
        }
    }

    /** Refuses a commit that writes a dropped map; caller holds the commit lock (MapIndex M3). */
    private static void checkNoneDropped(TxState<?, ?> tx) {
        for (int m = 1; m < tx.partBound(); m++) {
            MapTx<?, ?> part = tx.partOrNull(m);
            if (part != null && !part.writesNothing()) {
                part.map().checkNotDropped();
            }
        }
    }

    /** Step 1's progress over every map of one commit (its latches, in latch order). */
    private static final class Attempt {
        final Version<?>[] linked;
        final long snapshotTs;
        /** Latches tried so far, over every map. */
        int attempted;
        /** Keys committed after the snapshot; null while there is no conflict. */
        List<Object> conflicts;

        Attempt(Version<?>[] linked, long snapshotTs) {
            this.linked = linked;
            this.snapshotTs = snapshotTs;
        }
    }

    /**
     * Step 1 for one map's writes, in key order; once a conflict is found, only collects the
     * other committed conflicts (no latch).
     */
    private <K2, V2> void latchPart(MapTx<K2, V2> part, Attempt attempt) {
        VersionedIndex<K2> index = part.map().index();
        WriteSet<K2, V2> writes = part.writeSet();
        int n = writes.size();
        boolean named = part.map().id() != MapIndex.DEFAULT;
        Object[] previous = new Object[n];
        Latcher<K2, V2> latcher = new Latcher<>(attempt.snapshotTs);
        for (int i = 0; i < n; i++) {
            K2 key = writes.key(i);
            if (attempt.conflicts != null) { // already failing: only collect the other committed conflicts
                Object head = index.get(key);
                if (!VersionChain.isLatched(head) && VersionChain.headCommitTs(head) > attempt.snapshotTs) {
                    attempt.conflicts.add(named ? new MapKey(part.map(), key) : key);
                }
                continue;
            }
            Version<V2> latch = new Version<>(writes.value(i), Version.PENDING, null);
            int g = attempt.attempted++;
            attempt.linked[g] = latch;
            boolean afterInsert = i > 0 && previous[i - 1] == null;
            boolean latched = latchIfUnchangedSince(
                    index, key, latch, latcher, previous, i, afterInsert, part.recentlyReadNode(key));
            store.hook.at(TestHook.Point.AFTER_LATCH);
            if (!latched) {
                attempt.linked[g] = null; // not linked: nothing to abort
                attempt.conflicts = new ArrayList<>();
                attempt.conflicts.add(named ? new MapKey(part.map(), key) : key);
            }
        }
    }

    /**
     * Aborts what step 1 latched: every latch first (cannot fail, and releases it), then a
     * best-effort restore of each entry (Version A1-A3).
     */
    private void rollBack(TxState<K, V> tx, Attempt attempt) {
        for (int i = 0; i < attempt.attempted; i++) {
            if (attempt.linked[i] != null) {
                attempt.linked[i].abort();
            }
        }
        int g = 0;
        for (int m = 0; m < tx.partBound() && g < attempt.attempted; m++) {
            MapTx<?, ?> part = tx.partOrNull(m);
            if (part != null && !part.writesNothing()) {
                g = removeAborted(part, attempt, g);
            }
        }
    }

    /** Restores the entries of one map's aborted latches from global slot {@code g}; returns the next slot. */
    private <K2, V2> int removeAborted(MapTx<K2, V2> part, Attempt attempt, int g) {
        WriteSet<K2, V2> writes = part.writeSet();
        for (int i = 0; i < writes.size() && g < attempt.attempted; i++, g++) {
            if (attempt.linked[g] != null) {
                removeAborted(part.map().index(), writes.key(i), attempt.linked[g]);
            }
        }
        return g;
    }

    /** The commit record of {@code tx} (step 3): one record for every map it wrote. */
    @SuppressWarnings("unchecked")
    private CommitRecord<K, V> record(TxState<K, V> tx, long commitTs) {
        if (!tx.spansMaps()) {
            return tx.writeSet().toRecord(commitTs);
        }
        return (CommitRecord<K, V>) new MapsRecord(commitTs, tx);
    }

    /**
     * Hands a commit's record to the log (step 3); caller holds commitLock. The log may refuse
     * (failed or closed): then it throws and nothing of the commit becomes visible.
     *
     * @param blockingWaiter whether the committer will only block on the future (commit(), an
     *     autocommit) rather than hand it to user code (commitAsync())
     * @return the durability future, watched for a log failure
     */
    private CompletableFuture<Void> append(CommitRecord<K, V> record, boolean blockingWaiter) {
        return watchForFailure(blockingWaiter ? store.log.appendForBlockingWaiter(record) : store.log.append(record));
    }

    /** Prunes the chain under a version just stamped, and hands {@code key} of {@code map} to vacuum if needed. */
    private void pruneStamped(MapIndex<?, ?> map, Version<?> stamped, Object key) {
        map.countWritten(1, VersionChain.liveDelta(stamped)); // MapIndex M4, before the prune cuts
        if (store.pruneBelowWatermark(map, stamped)) {
            store.markDirty(map, key);
        }
    }

    /**
     * Publishes the commit at {@code commitTs}, whose versions are stamped (step 4), for every
     * read-write path: visibleTs = commitTs now, or once its record is durable when visibility
     * is deferred (D1). Caller holds commitLock; runs even if the bookkeeping before it failed,
     * since the record is in the log.
     *
     * @return the durability future the committer waits on
     */
    private CompletableFuture<Void> publish(long commitTs, CompletableFuture<Void> durable) {
        if (store.deferVisibility) {
            return publishWhenDurable(durable, commitTs);
        }
        store.visibleTs = commitTs; // 4. linearization point: the whole commit becomes visible
        return durable;
    }

    /**
     * A commit whose record is in the log and whose versions are stamped failed in its
     * bookkeeping (an OutOfMemoryError while recording it for SSI or vacuum): it is published
     * whole (the caller's finally), but the conflict graph may now miss it, so the database
     * refuses further writes, as after a log failure.
     */
    private TransactionException bookkeepingFailed(long commitTs, Throwable t) {
        store.failLog(t);
        return new TransactionException(
                "commit " + commitTs + " is visible and in the log, but recording it"
                        + " for conflict detection failed; the database refuses further writes until it is reopened",
                t);
    }

    /** Counts a commit; true every REFRESH_EVERY_COMMITS commits. Caller holds commitLock. */
    private boolean refreshDue() {
        if (++commitsSinceRefresh >= REFRESH_EVERY_COMMITS) {
            commitsSinceRefresh = 0;
            return true;
        }
        return false;
    }

    /**
     * Bookkeeping after a commit, outside the lock: the commit counter, and the periodic watermark
     * refresh (it scans every snapshot pin slot, and is safe without the lock: SnapshotPins P1).
     */
    private void afterCommit(boolean refreshDue, boolean autocommit) {
        store.wakeFeed(); // ChangeFeed F4: after the commit was published
        if (autocommit) {
            store.counters.autocommitWrite();
        } else {
            store.counters.commit();
        }
        if (refreshDue) {
            store.vacuum.afterRefresh(store.refreshWatermark());
        }
    }

    /**
     * Links {@code latch} (a PENDING version) as the head of {@code key} unless a version was
     * committed after the latcher's snapshot (first-committer-wins). If another committer holds
     * the key's latch, waits until it stamps or aborts it (no deadlock: L1).
     * At most one traversal when the check passes: the check and the link happen inside
     * VersionedIndex#compute, with no traversal at all when the transaction read the key just
     * before (its node is the hint); when the previous key of the same commit was absent, an
     * insert is tried first, starting at the node this commit inserted last (no traversal for
     * ascending keys, where compute needs two).
     *
     * @return whether {@code latch} was linked; false on a write-write conflict (nothing linked)
     * @throws TransactionException if interrupted while waiting for another committer's latch
     */
    private <K2, V2> boolean latchIfUnchangedSince(
            VersionedIndex<K2> index,
            K2 key,
            Version<V2> latch,
            Latcher<K2, V2> latcher,
            Object[] previous,
            int slot,
            boolean expectAbsent,
            VersionedIndex.Node<K2> hint) {
        latcher.candidate = latch;
        if (expectAbsent) {
            VersionedIndex.Node<K2> node = index.insertIfAbsent(key, latch, latcher.lastInserted);
            if (node != null) { // linearization point of the latch if absent
                latcher.lastInserted = node;
                return true;
            }
        }
        boolean linked = latchWhenFree(index, key, latcher, hint);
        previous[slot] = latcher.previous;
        return linked;
    }

    /**
     * Runs {@code latcher} on {@code key}, waiting while another committer holds the key's latch
     * (no deadlock: L1).
     *
     * @param hint the key's index node if the caller knows it (no search then), or null
     * @return whether the latcher's candidate was linked; false on a write-write conflict
     * @throws TransactionException if interrupted while waiting
     */
    private <K2, V2> boolean latchWhenFree(
            VersionedIndex<K2> index, K2 key, Latcher<K2, V2> latcher, VersionedIndex.Node<K2> hint) {
        for (int attempt = 0; ; attempt++) {
            if (hint != null) {
                index.computeAt(hint, key, latcher);
            } else {
                index.compute(key, latcher);
            }
            if (!latcher.busy) {
                return latcher.linked;
            }
            store.hook.at(TestHook.Point.LATCH_BUSY);
            awaitLatchRelease(attempt, key);
        }
    }

    /**
     * The remapping function that latches one key of a commit (one object per commit rather than
     * a capturing lambda per key). VersionedIndex#compute may call it more than once (a
     * failed value CAS): every call sets all of the outcome, so only the last one counts. The
     * candidate version is reused across those calls: it is only published by the CAS that links
     * it, so until then its older link may be rewritten.
     */
    private static final class Latcher<K, V> implements java.util.function.BiFunction<K, Object, Object> {
        private final long snapshotTs;
        /** The PENDING version to link for the current key. */
        Version<V> candidate;
        /** Outcome: another committer holds the latch (nothing linked). */
        boolean busy;
        /** Outcome: the candidate was returned for linking (false: conflict or busy). */
        boolean linked;
        /** Outcome: the live entry the latch was linked over (an aborted latch skipped). */
        Object previous;
        /** The node of the last key this commit inserted: where an ascending insert starts. */
        VersionedIndex.Node<K> lastInserted;

        Latcher(long snapshotTs) {
            this.snapshotTs = snapshotTs;
        }

        @Override
        public Object apply(K key, Object current) {
            busy = VersionChain.isLatched(current);
            linked = false;
            Object live = VersionChain.live(current); // an aborted latch is linked over (A1)
            if (busy || VersionChain.headCommitTs(live) > snapshotTs) {
                return current; // unchanged: latched by another, or committed after our snapshot
            }
            previous = live;
            candidate.setOlderPlain(live == null ? null : VersionChain.asVersion(live));
            linked = true;
            return candidate; // linearization point of the latch (value CAS, or node insert)
        }
    }

    /* Waiting for a latch: spin (the holder is usually inside its short critical section), then
     * yield, then park for a time that doubles up to MAX_LATCH_PARK_NANOS (the holder may be an
     * autocommit compute running user code, or descheduled), checking for an interrupt after each
     * park. The JDK's primitives, in the ladder Agrona's BackoffIdleStrategy also uses; core
     * depends on nothing outside the JDK. */
    private static final int LATCH_SPINS = 64;
    private static final int LATCH_YIELDS = 64;
    private static final long MIN_LATCH_PARK_NANOS = 1_000;
    private static final long MAX_LATCH_PARK_NANOS = 1_000_000;

    /**
     * Backs off while another committer holds the latch of {@code key}.
     *
     * @throws TransactionException if the thread is interrupted while parked (its interrupt
     *     status is kept)
     */
    /**
     * Whether step {@code attempt} of the ladder parks (rather than spins or yields).
     *
     * @param attempt the waiting attempt, from 0
     * @return true if {@link #idle} parks at it
     */
    static boolean parks(int attempt) {
        return attempt >= LATCH_SPINS + LATCH_YIELDS;
    }

    private static void awaitLatchRelease(int attempt, Object key) {
        if (!idle(attempt)) {
            throw new TransactionException("interrupted while waiting for the write latch of key " + key
                    + ", which another committer holds; the transaction was rolled back");
        }
    }

    /**
     * One step of the spin / yield / park ladder (64 spins, 64 yields, then parks from 1 µs
     * doubling to 1 ms) that every wait of the engine uses: latches, visibility, safe snapshots.
     *
     * @param attempt the waiting attempt, from 0
     * @return false if the thread is interrupted after a park (its interrupt status is kept)
     */
    static boolean idle(int attempt) {
        if (attempt < LATCH_SPINS) {
            Thread.onSpinWait();
        } else if (attempt < LATCH_SPINS + LATCH_YIELDS) {
            Thread.yield();
        } else {
            int doublings = Math.min(attempt - LATCH_SPINS - LATCH_YIELDS, 10);
            java.util.concurrent.locks.LockSupport.parkNanos(
                    Math.min(MAX_LATCH_PARK_NANOS, MIN_LATCH_PARK_NANOS << doublings));
            return !Thread.currentThread().isInterrupted();
        }
        return true;
    }

    /**
     * After {@code latch} was aborted: tries once to restore the entry it was linked over (its
     * older version: never cut, since vacuum cuts only below a version at or below the
     * watermark), so the index does not keep the aborted version (A3); a no-op if it was never
     * linked. Best effort: a failure here (a throwing comparator, OutOfMemoryError) is dropped,
     * since the abort already released the latch and the next writer or vacuum replaces an
     * aborted head.
     */
    private static <K2> void removeAborted(VersionedIndex<K2> index, K2 key, Version<?> latch) {
        try {
            Version<?> older = latch.getOlderAcquire();
            if (older == null) {
                index.remove(key, latch);
            } else {
                index.replace(key, latch, older);
            }
        } catch (RuntimeException | Error e) {
            // NOTE: dropped on purpose (A3): the latch is released; only the cleanup failed.
        }
    }

    /**
     * Records a read-only SERIALIZABLE transaction with the conflict graph (it may be the T1 of a
     * dangerous structure that a later pivot completes) after checking it is not already one.
     *
     * @param tx the read-only transaction
     * @throws SerializationFailureException if it is the T1 of a dangerous structure
     * @throws IllegalStateException if the store is closed
     */
    public void commitReadOnly(TxState<K, V> tx) {
        store.checkOpen();
        ConflictFinder.OutEdges scanned = store.ssi.scanOutEdges(tx);
        lockCommits();
        try {
            store.checkOpen();
            ConflictFinder.Edges edges =
                    store.ssi.validateReadOnly(tx, scanned); // throws SerializationFailureException
            long commitTs = store.lastCommitTs + 1; // a graph identity only: no version carries it
            store.ssi.recordReadOnly(tx, commitTs, edges);
            store.lastCommitTs = commitTs;
            ChangeFeed feed = store.feed;
            if (feed != null) {
                feed.record(commitTs, null, DURABLE_NOW); // a timestamp with no writes (ChangeFeed F2)
            }
            if (!store.deferVisibility) {
                store.visibleTs = commitTs;
            } else {
                // Only if every earlier commit is visible: moving past an undurable one would
                // publish it. Otherwise the next durable commit's publication covers this one.
                Store.VISIBLE_TS.compareAndSet(store, commitTs - 1, commitTs);
            }
        } finally {
            unlockCommits();
        }
        store.wakeFeed();
    }

    /**
     * Applies a single-key write to {@code map} atomically at the latest state: {@code decide}
     * sees the latest committed value (or null) and returns the new value, {@link
     * WriteSet#TOMBSTONE} to remove, or null to write nothing. Never aborts: {@code decide} runs
     * once, with the key latched, and the commit then takes the commit lock.
     *
     * @param map the map (of this store)
     * @param key the key
     * @param decide maps the latest value (or null) to the new value, TOMBSTONE, or null for no write
     * @param <K2> the map's key type
     * @param <V2> the map's value type
     * @return the previous latest value, and the durability future (null if nothing was written)
     * @throws TransactionException if interrupted while waiting for the key's latch
     * @throws IllegalStateException if the map was dropped, or the store is closed or read-only
     */
    public <K2, V2> AutocommitResult<V2> writeLatest(
            MapIndex<K2, V2> map, K2 key, java.util.function.UnaryOperator<Object> decide) {
        store.checkWritable();
        map.checkNotDropped();
        VersionedIndex<K2> index = map.index();
        Latcher<K2, V2> latcher = new Latcher<>(LATEST);
        Version<V2> latch = new Version<>(null, Version.PENDING, null); // value filled in once decided
        latcher.candidate = latch;
        boolean done = false;
        try {
            latchWhenFree(index, key, latcher, null); // at the latest state: always links
            store.hook.at(TestHook.Point.AFTER_LATCH);
            // The latch makes previous the latest committed entry until we stamp or abort.
            V2 previous = VersionChain.latestValue(latcher.previous);
            Object update = decide.apply(previous);
            // What the caller learns without writing must not come from an undurable commit.
            long readTs = store.deferVisibility ? VersionChain.headCommitTs(latcher.previous) : 0;
            if (update == null) {
                return new AutocommitResult<>(previous, null, readTs);
            }
            @SuppressWarnings("unchecked")
            V2 value = update == WriteSet.TOMBSTONE ? null : (V2) update;
            if (value == null && previous == null) {
                return new AutocommitResult<>(null, null, readTs); // removing an absent key writes nothing
            }
            latch.value = value; // before the stamp, which the visibleTs write publishes
            CompletableFuture<Void> durable;
            boolean refreshDue;
            long resultTs;
            lockCommits();
            try {
                store.checkWritable();
                map.checkNotDropped(); // M3
                long commitTs = store.lastCommitTs + 1;
                ChangeFeed feed = store.feed; // ChangeFeed F1
                CommitRecord<K, V> record =
                        store.inMemory && feed == null ? null : singleWrite(map, commitTs, key, value);
                durable = store.inMemory ? DURABLE_NOW : append(record, true);
                store.lastCommitTs = commitTs;
                store.lastLogged = durable; // ChangeFeed F12
                done = true; // as in commit: published whole from here
                try {
                    latch.stamp(commitTs);
                    if (store.commitTimes != null) {
                        store.commitTimes.committing(commitTs); // history retention (SnapshotPins P8)
                    }
                    if (feed != null) {
                        feed.record(commitTs, record, durable); // before it is published (ChangeFeed F2)
                    }
                    pruneStamped(map, latch, key);
                    store.ssi.recordWrite(commitTs, map, key);
                    store.ssi.releaseRecentWrites(store.pins.prunableWatermark());
                    store.versionsWritten++;
                } catch (Throwable t) {
                    throw bookkeepingFailed(commitTs, t);
                } finally {
                    durable = publish(commitTs, durable);
                }
                refreshDue = refreshDue();
                resultTs = commitTs;
            } finally {
                unlockCommits();
            }
            afterCommit(refreshDue, true);
            return new AutocommitResult<>(previous, durable, resultTs);
        } finally {
            if (!done) {
                latch.abort();
                removeAborted(index, key, latch);
            }
        }
    }

    /** The snapshot of an autocommit write: above every commit, so no write-write conflict. */
    private static final long LATEST = Version.ABORTED - 1;

    /**
     * What an autocommit write did: the previous latest value; the durability future (null if
     * nothing was written); and the commit timestamp, or, when nothing was written and visibility
     * is deferred, the timestamp of the commit the previous value came from (0 otherwise), which
     * the caller awaits as visible before it reports that value.
     */
    public record AutocommitResult<V>(V previous, CompletableFuture<Void> durable, long commitTs) {}

    /** Publishes {@code commitTs} when {@code durable} completes normally (D1); returns it. */
    private CompletableFuture<Void> publishWhenDurable(CompletableFuture<Void> durable, long commitTs) {
        durable.whenComplete((ok, failure) -> {
            if (failure == null) {
                store.publishVisible(commitTs);
            }
        });
        return durable;
    }

    /**
     * Waits until the commit at {@code commitTs} is visible (D3): it is durable then.
     *
     * @param commitTs the commit timestamp to wait for
     * @param why what the caller needs it for, for messages (e.g. "whose value was read")
     * @throws TransactionException if the log failed first (the commit's outcome is unknown), or
     *     if the thread is interrupted (its interrupt status is kept)
     * @throws IllegalStateException if the store closes first
     */
    public void awaitVisible(long commitTs, String why) {
        for (int attempt = 0; store.visibleTs < commitTs; attempt++) {
            store.checkOpen();
            Throwable failure = store.logFailure;
            if (failure != null) {
                throw new TransactionException(
                        "commit " + commitTs + ", " + why
                                + ", has an unknown outcome: the commit log failed before it was durable",
                        failure);
            }
            if (!idle(attempt)) {
                throw new TransactionException(
                        "interrupted while waiting for commit " + commitTs + ", " + why + ", to become durable");
            }
        }
    }

    /** The record of an autocommit write to {@code map}. */
    @SuppressWarnings("unchecked")
    private CommitRecord<K, V> singleWrite(MapIndex<?, ?> map, long commitTs, Object key, Object value) {
        return new SingleWrite<>(commitTs, map.id(), (K) key, (V) value);
    }

    /** A commit record holding one write (autocommit). */
    private record SingleWrite<K, V>(long commitTimestamp, int mapId, K key, V value) implements CommitRecord<K, V> {
        @Override
        public int size() {
            return 1;
        }

        @Override
        public int map(int i) {
            java.util.Objects.checkIndex(i, 1);
            return mapId;
        }

        @Override
        public K key(int i) {
            java.util.Objects.checkIndex(i, 1);
            return key;
        }

        @Override
        public V value(int i) {
            java.util.Objects.checkIndex(i, 1);
            return value;
        }
    }

    /**
     * The record of a commit that wrote named maps: its writes map by map in id order (TxState
     * X2), each write's key and value of its own map's types (CommitRecord#map).
     */
    private static final class MapsRecord implements CommitRecord<Object, Object> {
        private final long commitTs;
        private final int[] mapIds;
        private final Object[] keys;
        private final Object[] values;

        MapsRecord(long commitTs, TxState<?, ?> tx) {
            this.commitTs = commitTs;
            int n = tx.writeCount();
            mapIds = new int[n];
            keys = new Object[n];
            values = new Object[n];
            int g = 0;
            for (int m = 0; m < tx.partBound(); m++) {
                MapTx<?, ?> part = tx.partOrNull(m);
                if (part != null && !part.writesNothing()) {
                    WriteSet<?, ?> writes = part.writeSet();
                    for (int i = 0; i < writes.size(); i++, g++) {
                        mapIds[g] = m;
                        keys[g] = writes.key(i);
                        values[g] = writes.value(i);
                    }
                }
            }
        }

        @Override
        public long commitTimestamp() {
            return commitTs;
        }

        @Override
        public int size() {
            return keys.length;
        }

        @Override
        public Object key(int i) {
            return keys[i];
        }

        @Override
        public Object value(int i) {
            return values[i];
        }

        @Override
        public int map(int i) {
            return mapIds[i];
        }
    }
}
