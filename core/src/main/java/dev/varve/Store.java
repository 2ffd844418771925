package dev.varve;

import dev.varve.internal.index.VersionedIndex;
import dev.varve.internal.mvcc.ConflictFinder;
import dev.varve.internal.mvcc.InMemoryLog;
import dev.varve.internal.mvcc.SnapshotPins;
import dev.varve.internal.mvcc.StoreCounters;
import dev.varve.internal.mvcc.TestHook;
import dev.varve.internal.mvcc.TxState;
import dev.varve.internal.mvcc.VacuumPolicy;
import dev.varve.internal.mvcc.Version;
import dev.varve.internal.mvcc.VersionChain;
import dev.varve.internal.mvcc.WriteSet;
import dev.varve.spi.CommitLog;
import dev.varve.spi.CommitRecord;
import dev.varve.spi.StoreAccess;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiConsumer;

/**
 * The multi-version store behind a {@link Database}: the versioned index, the commit clock, the
 * visible timestamp, the registry of pinned snapshots, and the commit critical section.
 *
 * <p>Thread-safe. Reads never lock. Committers latch the keys they write in parallel, then
 * serialize on one short critical section (validation, timestamp, stamping) that holds no I/O and
 * traverses the index only when SSI's ring of recent write sets no longer covers a validation.
 */
final class Store<K, V> implements StoreAccess<K, V> {
    final Comparator<? super K> comparator;
    /**
     * The versioned index: each key's newest {@link Version}, the head of its version chain, or
     * its settled value (see Version's notes).
     */
    final VersionedIndex<K> index;
    /** Snapshot pins, the vacuum horizon and the prunable watermark (the pin handshake). */
    final SnapshotPins pins = new SnapshotPins(this::visibleTs);
    final ConflictFinder<K, V> ssi;

    private final ReentrantLock commitLock = new ReentrantLock();
    /** Spins before parking on the commit lock: its critical section is short and holds no I/O. */
    private static final int COMMIT_LOCK_SPINS = 200;
    private static final CompletableFuture<Void> DURABLE_NOW = CompletableFuture.completedFuture(null);
    /** Whether the log is the in-memory no-op (then no commit record is even built). */
    private boolean inMemory;
    /** Largest commit timestamp handed out; guarded by commitLock. */
    private long lastCommitTs;
    /**
     * Every commit with commitTs <= visibleTs is fully installed (and, when the log defers
     * visibility, as durable as the log promises). Written under commitLock, or raised by a CAS
     * (publishVisible) when visibility is deferred.
     */
    private volatile long visibleTs;
    /**
     * Whether a commit becomes visible only once its log record is as durable as the log
     * promises (CommitLog#visibleOnlyWhenDurable); written once, by attachLog.
     */
    private boolean deferVisibility;
    /** Versions committers looked at while pruning (for tests of its cost); guarded by commitLock. */
    long committerPruneSteps;
    /** Commits since the committers last refreshed the watermark; guarded by commitLock. */
    private int commitsSinceRefresh;
    private static final int REFRESH_EVERY_COMMITS = 256;

    private CommitLog<K, V> log;
    private volatile Throwable logFailure;
    private volatile boolean recovering = true;
    private volatile String closedBy;

    /** The counters behind Database#stats. */
    final StoreCounters counters = new StoreCounters();

    /** The comparator the user gave, or null for natural ordering (what SortedMap reports). */
    final Comparator<? super K> userComparator;

    /** Versions stamped by commits (one per written key), for the settle debt; guarded by commitLock. */
    private long versionsWritten;
    /** Vacuum passes and the keys committers hand them. */
    private final Vacuum<K, V> vacuum;

    /** Forced-schedule tests pause threads here; {@link TestHook#NONE} otherwise. */
    TestHook hook = TestHook.NONE;

    @SuppressWarnings("unchecked")
    Store(Comparator<? super K> userComparator, int maxRetainedSsiRecords) {
        this.userComparator = userComparator;
        this.comparator = userComparator != null
                ? userComparator
                : (Comparator<? super K>) (Comparator<?>) Comparator.naturalOrder();
        this.index = new VersionedIndex<>(userComparator);
        this.ssi = new ConflictFinder<>(index, this::visibleTs, this::lastCommitTs, counters, maxRetainedSsiRecords);
        this.vacuum = new Vacuum<>(index, comparator, pins, counters, ssi, commitLock, () -> versionsWritten);
    }

    /*
     * Implementation notes.
     *
     * Timestamps. lastCommitTs is the commit clock (advanced under commitLock); visibleTs trails
     * it and is advanced, still under commitLock, only after every version of the commit is linked
     * and stamped and its record handed to the log. (Read-only SERIALIZABLE transactions that must be recorded
     * in the conflict graph also take a timestamp, for identity only: no version carries it.) A
     * snapshot is one volatile read of visibleTs, so a reader sees all of a commit or none of it:
     * versions with commitTs > snapshotTs (PENDING included) are skipped.
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
     *   3. log.append(record) (may refuse: abort the latches as in 1); lastCommitTs = c;
     *   4. stamp T's versions c (which releases the latches), prune the touched chains, record T
     *      in the conflict graph, visibleTs = c  <- linearization point of the commit: every new
     *      snapshot sees all of T.
     * Committed versions appear only in step 4, under the lock, so the lock still orders every
     * commit's validation against every other commit's installation, which is what the "later
     * committer records the edge" rule of the SSI graph relies on (the FluxMap trap: unordered
     * validation lets two committers miss each other). A latch that T's step 2 skips belongs to
     * a W that commits after T, and W then finds T's read set in the graph (an in-edge). The
     * index traversals of the writes (step 1) run in parallel; durability is waited for outside
     * the lock. Autocommit writes latch the same way (one latch, so no order to keep).
     *
     * L1. Waiting for a latch cannot deadlock. The commit lock's holder waits for nothing (its
     *     critical section takes no latch and does no I/O), so the lock is always released. A
     *     committer waits for a latch only while not holding the lock, and a transaction latches
     *     its keys in ascending key order: while it waits for key k it holds only keys below k,
     *     and the holder of k waits, if at all, for a key above k. An autocommit waits only
     *     before it holds its single latch. Along any chain of waiting committers the awaited key
     *     strictly rises, so there is no cycle.
     *
     * The read-only shortcut (Ports & Grittner, VLDB 2012, §4.1: a read-only T1 can only be the
     * first edge of a dangerous structure T1 ->rw T2 ->rw T3 whose T3 committed before T1's
     * snapshot s, so T2's snapshot is older than s). A read-only SERIALIZABLE R commits
     * unrecorded iff (b) no pinned snapshot is older than s, checked FIRST, and then (a)
     * visibleTs == s. Why the pair is atomic with respect to a concurrent commit-and-unpin:
     *   R1. A T2 that can be the pivot has a snapshot s2 < s and commits at c2 > s (else R sees
     *       its writes). It is pinned from before it read anything until after its commit set
     *       visibleTs = c2 (Transaction#finish unpins after Store#commit returns).
     *   R2. (b) raises the vacuum horizon to visibleTs >= s before scanning the pins (or trusts a
     *       published watermark computed that way), so a pin of s2 < s published after the scan
     *       sees the horizon and re-pins at a snapshot >= s (SnapshotPins P1, P2): such a T2 never reads
     *       at s2. Every real T2 was therefore pinned before the scan.
     *   R3. If the scan read T2's slot while pinned, (b) fails. Otherwise T2 unpinned first, so
     *       its visibleTs = c2 happened-before the release store that freed its slot, which the
     *       scan's volatile read observed (for the overflow map: the removal the iteration
     *       observed); so (a), which reads visibleTs after (b), sees visibleTs >= c2 > s and fails.
     *   R4. A T2 that commits after (a) had a snapshot that (b) found pinned (R2, R3): impossible.
     * In the other order, T2 could commit after (a) and unpin before (b) reached its slot: both
     * checks pass, R is neither validated nor recorded, and T2 never sees the edge R ->rw T2
     * (ForcedScheduleTest pauses R between the checks to show it).
     *
     * Pinned snapshots and vacuum: the pin handshake and the horizon unpinned readers re-read
     * below are SnapshotPins' (P1-P4).
     */

    // ---- timestamps and snapshots -------------------------------------------------------

    long visibleTs() {
        return visibleTs;
    }

    /** The commit clock; caller holds the commit lock. */
    long lastCommitTs() {
        return lastCommitTs;
    }

    private static final java.lang.invoke.VarHandle VISIBLE_TS;
    private static final java.lang.invoke.VarHandle LAST_COMMIT_TS;

    static {
        try {
            var lookup = java.lang.invoke.MethodHandles.lookup();
            VISIBLE_TS = lookup.findVarHandle(Store.class, "visibleTs", long.class);
            LAST_COMMIT_TS = lookup.findVarHandle(Store.class, "lastCommitTs", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Raises visibleTs to at least {@code value} with a CAS loop (D2: it never moves back). */
    private void raiseVisible(long value) {
        long current = visibleTs;
        while (value > current && !VISIBLE_TS.compareAndSet(this, current, value)) {
            current = visibleTs;
        }
    }

    /**
     * Whether no pinned snapshot can be older than {@code snapshotTs}, refreshing the watermark
     * once if the published one does not already say so. Used by read-only SERIALIZABLE commits:
     * with no older snapshot open, no concurrent pivot can exist, so they need no SSI record.
     */
    boolean noSnapshotOlderThan(long snapshotTs) {
        return pins.noSnapshotOlderThan(snapshotTs);
    }

    /**
     * Whether a read-only SERIALIZABLE transaction with snapshot {@code snapshotTs} may commit
     * without validation and without a record in the conflict graph: no snapshot older than its
     * own is open, and then nothing has committed since its snapshot. The order of the two checks
     * is what makes the pair atomic with respect to a concurrent commit-and-unpin (see "The
     * read-only shortcut" in the notes above).
     */
    boolean readOnlyNeedsNoRecord(long snapshotTs) {
        boolean noOlderSnapshot = noSnapshotOlderThan(snapshotTs); // (b) first
        hook.at(TestHook.Point.READ_ONLY_SHORTCUT_BETWEEN_CHECKS);
        // (a) second. With deferred visibility a pivot unpins before its commit is visible, so
        // "nothing committed since" must read the clock itself (R3 with D4).
        // NOTE: racy read of a field written under commitLock; R3's happens-before chain runs
        // through the pivot's unpin, and every write of the clock only raises it.
        long newest = deferVisibility ? (long) LAST_COMMIT_TS.getVolatile(this) : visibleTs;
        return noOlderSnapshot && newest == snapshotTs;
    }

    /** Pins a fresh snapshot (SnapshotPins P2). */
    SnapshotPins.Pin pinSnapshot() {
        return pins.pin();
    }

    /** The oldest snapshot any open transaction or view can read at. */
    long watermark() {
        return pins.watermark();
    }

    /** Computes and publishes a new watermark with the pin handshake (SnapshotPins P1, P3). */
    long refreshWatermark() {
        return pins.refresh();
    }

    /** How long the oldest open snapshot has held the watermark back (see SnapshotPins). */
    long oldestSnapshotAgeNanos(long oldestSnapshot, long visible) {
        return pins.oldestSnapshotAgeNanos(oldestSnapshot, visible);
    }

    // ---- reads ---------------------------------------------------------------------------

    /** The latest committed value of {@code key}, without pinning a snapshot. */
    V readLatest(K key) {
        while (true) {
            long ts = visibleTs;
            V value = VersionChain.valueAt(index.get(key), ts);
            if (value != null || !pins.cutMayHide(ts)) { // SnapshotPins P4
                return value;
            }
            // Found nothing below the vacuum horizon: a cut tail may have hidden it; re-read.
        }
    }

    // ---- state ---------------------------------------------------------------------------

    void checkOpen() {
        String by = closedBy;
        if (by != null) {
            throw new IllegalStateException("database is closed" + by);
        }
    }

    void checkWritable() {
        checkOpen();
        Throwable failure = logFailure;
        if (failure != null) {
            throw new IllegalStateException(
                    "database is read-only: the commit log failed (" + failure + "); reopen it", failure);
        }
    }

    boolean isClosed() {
        return closedBy != null;
    }

    void attachLog(CommitLog<K, V> log) {
        this.log = log;
        this.inMemory = (Object) log instanceof InMemoryLog;
        this.deferVisibility = !inMemory && log.visibleOnlyWhenDurable();
        this.recovering = false;
        // No snapshot exists yet: everything older is garbage. This lowers the watermark from
        // the recovery setting, before any other thread can see the store.
        pins.openAt(visibleTs);
    }

    CommitLog<K, V> log() {
        return log;
    }

    /**
     * Marks the store closed under the commit lock, so no commit is left half-installed.
     *
     * @return true if this call closed it, false if it was already closed
     */
    boolean close() {
        commitLock.lock();
        try {
            if (closedBy != null) {
                return false;
            }
            closedBy = "";
            return true;
        } finally {
            commitLock.unlock();
        }
    }

    /** Marks the store read-only if {@code durable} fails; returns it. */
    private CompletableFuture<Void> watchForFailure(CompletableFuture<Void> durable) {
        if (!durable.isDone() || durable.isCompletedExceptionally()) {
            durable.whenComplete((ok, failure) -> {
                if (failure != null) {
                    failLog(failure);
                }
            });
        }
        return durable;
    }

    /** Marks the log failed: later writes refuse with {@code failure} as the cause. */
    void failLog(Throwable failure) {
        if (logFailure == null) {
            logFailure = failure;
        }
    }

    // ---- commit --------------------------------------------------------------------------

    /** Takes the commit lock, spinning briefly before parking. */
    private void lockCommits() {
        if (commitLock.tryLock()) {
            return;
        }
        for (int i = 0; i < COMMIT_LOCK_SPINS; i++) {
            Thread.onSpinWait();
            if (commitLock.tryLock()) {
                return;
            }
        }
        commitLock.lock();
    }

    /**
     * Commits a read-write transaction: validates, installs, hands the record to the log.
     *
     * @param blockingWaiter whether the caller will only block on the returned future (commit())
     *     rather than hand it to user code (commitAsync())
     * @return the log's durability future, completed when the commit is as durable as configured
     * @throws SerializationFailureException if validation refuses it (nothing was installed)
     * @throws TransactionException if the thread was interrupted while waiting for a write latch
     *     (nothing was installed), or if the commit became visible but its bookkeeping failed
     */
    CompletableFuture<Void> commit(TxState<K, V> tx, boolean blockingWaiter) {
        checkWritable();
        WriteSet<K, V> writes = tx.writeSet();
        int n = writes.size();
        Object[] previous = new Object[n];
        /* The latches, or candidates for them: each is recorded here before the index operation
         * that may link it, so the rollback below aborts it whatever that operation threw. */
        @SuppressWarnings("unchecked")
        Version<V>[] linked = (Version<V>[]) new Version<?>[n];
        long snapshotTs = tx.snapshotTs();
        Latcher latcher = new Latcher(snapshotTs);
        int attempted = 0;
        boolean done = false;
        try {
            // 1. write-write check and write latch, one skiplist traversal per key, in key order
            //    and without the commit lock: a PENDING version per key, invisible to readers.
            List<K> conflicts = null;
            for (int i = 0; i < n; i++) {
                K key = writes.key(i);
                if (conflicts != null) { // already failing: only collect the other committed conflicts
                    Object head = index.get(key);
                    if (!VersionChain.isLatched(head) && VersionChain.headCommitTs(head) > snapshotTs) {
                        conflicts.add(key);
                    }
                    continue;
                }
                Version<V> latch = new Version<>(writes.value(i), Version.PENDING, null);
                linked[i] = latch;
                attempted = i + 1;
                boolean afterInsert = i > 0 && previous[i - 1] == null;
                boolean latched = latchIfUnchangedSince(
                        key, latch, latcher, previous, i, afterInsert, tx.recentlyReadNode(index, key));
                hook.at(TestHook.Point.AFTER_LATCH);
                if (!latched) {
                    linked[i] = null; // not linked: nothing to abort
                    conflicts = new ArrayList<>();
                    conflicts.add(key);
                }
            }
            if (conflicts != null) {
                counters.writeWriteAbort();
                throw new SerializationFailureException(
                        SerializationFailureException.Reason.WRITE_WRITE_CONFLICT,
                        conflicts,
                        "write-write conflict: keys " + conflicts + " were committed by another transaction"
                                + " after this transaction's snapshot " + snapshotTs + " (first committer wins)");
            }
            // 2a. SSI out-edges, the index part, still without the lock (see ConflictFinder).
            ConflictFinder.OutEdges scanned = tx.tracksReads() ? ssi.scanOutEdges(tx) : null;
            CompletableFuture<Void> durable;
            boolean refreshDue;
            lockCommits();
            try {
                checkWritable();
                long commitTs = lastCommitTs + 1;
                // 2b. SSI: rw-antidependencies with committed transactions (PENDING versions,
                //     ours included, are not committed and are skipped).
                ConflictFinder.Edges edges = null;
                if (scanned != null) {
                    edges = ssi.validate(tx, scanned); // throws SerializationFailureException
                }
                // 3. the log; it may refuse (failed or closed), and then nothing becomes visible.
                durable = inMemory ? DURABLE_NOW : append(writes.toRecord(commitTs), blockingWaiter);
                lastCommitTs = commitTs;
                done = true; // the record is in the log: from here the commit is published whole
                try {
                    // 4. stamp, prune, record; then publish.
                    for (int i = 0; i < n; i++) {
                        linked[i].stamp(commitTs); // releases the latch: the key is writable again
                    }
                    for (int i = 0; i < n; i++) {
                        pruneStamped(linked[i], writes.key(i));
                    }
                    ssi.recordWrites(commitTs, writes);
                    ssi.releaseRecentWrites(pins.prunableWatermark());
                    versionsWritten += n;
                    if (edges != null) {
                        ssi.record(tx, commitTs, edges);
                    }
                } catch (Throwable t) {
                    throw bookkeepingFailed(commitTs, t);
                } finally {
                    durable = publish(commitTs, durable);
                    tx.committedAt(commitTs);
                }
                refreshDue = refreshDue();
            } finally {
                commitLock.unlock();
            }
            afterCommit(refreshDue);
            return durable;
        } finally {
            if (!done) {
                for (int i = 0; i < attempted; i++) {
                    if (linked[i] != null) {
                        linked[i].abort(); // first: cannot fail, and releases the latch
                    }
                }
                for (int i = 0; i < attempted; i++) {
                    if (linked[i] != null) {
                        removeAborted(writes.key(i), linked[i]);
                    }
                }
            }
        }
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
        return watchForFailure(blockingWaiter ? log.appendForBlockingWaiter(record) : log.append(record));
    }

    /** Prunes the chain under a version just stamped, and hands {@code key} to vacuum if needed. */
    private void pruneStamped(Version<V> stamped, K key) {
        if (pruneBelowWatermark(stamped)) {
            markDirty(key);
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
        if (deferVisibility) {
            return publishWhenDurable(durable, commitTs);
        }
        visibleTs = commitTs; // 4. linearization point: the whole commit becomes visible
        return durable;
    }

    /**
     * A commit whose record is in the log and whose versions are stamped failed in its
     * bookkeeping (an OutOfMemoryError while recording it for SSI or vacuum): it is published
     * whole (the caller's finally), but the conflict graph may now miss it, so the database
     * refuses further writes, as after a log failure.
     */
    private TransactionException bookkeepingFailed(long commitTs, Throwable t) {
        failLog(t);
        return new TransactionException("commit " + commitTs + " is visible and in the log, but recording it"
                + " for conflict detection failed; the database refuses further writes until it is reopened", t);
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
    private void afterCommit(boolean refreshDue) {
        counters.commit();
        if (refreshDue) {
            vacuum.afterRefresh(refreshWatermark());
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
    private boolean latchIfUnchangedSince(
            K key, Version<V> latch, Latcher latcher, Object[] previous, int slot, boolean expectAbsent,
            VersionedIndex.Node<K> hint) {
        latcher.candidate = latch;
        if (expectAbsent) {
            VersionedIndex.Node<K> node = index.insertIfAbsent(key, latch, latcher.lastInserted);
            if (node != null) { // linearization point of the latch if absent
                latcher.lastInserted = node;
                return true;
            }
        }
        boolean linked = latchWhenFree(key, latcher, hint);
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
    private boolean latchWhenFree(K key, Latcher latcher, VersionedIndex.Node<K> hint) {
        for (int attempt = 0; ; attempt++) {
            if (hint != null) {
                index.computeAt(hint, key, latcher);
            } else {
                index.compute(key, latcher);
            }
            if (!latcher.busy) {
                return latcher.linked;
            }
            hook.at(TestHook.Point.LATCH_BUSY);
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
    private final class Latcher implements java.util.function.BiFunction<K, Object, Object> {
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
    private static void awaitLatchRelease(int attempt, Object key) {
        if (!idle(attempt)) {
            throw new TransactionException("interrupted while waiting for the write latch of key " + key
                    + ", which another committer holds; the transaction was rolled back");
        }
    }

    /**
     * One step of the spin / yield / park ladder, for waiting attempt {@code attempt}.
     *
     * @return false if the thread is interrupted after a park (its interrupt status is kept)
     */
    private static boolean idle(int attempt) {
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
    private void removeAborted(K key, Version<V> latch) {
        try {
            Version<V> older = latch.getOlderAcquire();
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
     */
    void commitReadOnly(TxState<K, V> tx) {
        checkOpen();
        ConflictFinder.OutEdges scanned = ssi.scanOutEdges(tx);
        lockCommits();
        try {
            checkOpen();
            ConflictFinder.Edges edges = ssi.validateReadOnly(tx, scanned); // throws SerializationFailureException
            long commitTs = lastCommitTs + 1; // a graph identity only: no version carries it
            ssi.recordReadOnly(tx, commitTs, edges);
            lastCommitTs = commitTs;
            if (!deferVisibility) {
                visibleTs = commitTs;
            } else {
                // Only if every earlier commit is visible: moving past an undurable one would
                // publish it. Otherwise the next durable commit's publication covers this one.
                VISIBLE_TS.compareAndSet(this, commitTs - 1, commitTs);
            }
        } finally {
            commitLock.unlock();
        }
    }

    /**
     * Applies a single-key write atomically at the latest state: {@code decide} sees the latest
     * committed value (or null) and returns the new value, {@link WriteSet#TOMBSTONE} to remove,
     * or null to write nothing. Never aborts: {@code decide} runs once, with the key latched, and
     * the commit then takes the commit lock.
     *
     * @return the previous latest value, and the durability future (null if nothing was written)
     * @throws TransactionException if interrupted while waiting for the key's latch
     */
    AutocommitResult<V> writeLatest(K key, java.util.function.UnaryOperator<Object> decide) {
        checkWritable();
        Latcher latcher = new Latcher(LATEST);
        Version<V> latch = new Version<>(null, Version.PENDING, null); // value filled in once decided
        latcher.candidate = latch;
        boolean done = false;
        try {
            latchWhenFree(key, latcher, null); // at the latest state: always links
            hook.at(TestHook.Point.AFTER_LATCH);
            // The latch makes previous the latest committed entry until we stamp or abort.
            V previous = VersionChain.latestValue(latcher.previous);
            Object update = decide.apply(previous);
            // What the caller learns without writing must not come from an undurable commit.
            long readTs = deferVisibility ? VersionChain.headCommitTs(latcher.previous) : 0;
            if (update == null) {
                return new AutocommitResult<>(previous, null, readTs);
            }
            @SuppressWarnings("unchecked")
            V value = update == WriteSet.TOMBSTONE ? null : (V) update;
            if (value == null && previous == null) {
                return new AutocommitResult<>(null, null, readTs); // removing an absent key writes nothing
            }
            latch.value = value; // before the stamp, which the visibleTs write publishes
            CompletableFuture<Void> durable;
            boolean refreshDue;
            long resultTs;
            lockCommits();
            try {
                checkWritable();
                long commitTs = lastCommitTs + 1;
                durable = inMemory ? DURABLE_NOW : append(new SingleWrite<>(commitTs, key, value), true);
                lastCommitTs = commitTs;
                done = true; // as in commit: published whole from here
                try {
                    latch.stamp(commitTs);
                    pruneStamped(latch, key);
                    ssi.recordWrite(commitTs, key);
                    ssi.releaseRecentWrites(pins.prunableWatermark());
                    versionsWritten++;
                } catch (Throwable t) {
                    throw bookkeepingFailed(commitTs, t);
                } finally {
                    durable = publish(commitTs, durable);
                }
                refreshDue = refreshDue();
                resultTs = commitTs;
            } finally {
                commitLock.unlock();
            }
            afterCommit(refreshDue);
            return new AutocommitResult<>(previous, durable, resultTs);
        } finally {
            if (!done) {
                latch.abort();
                removeAborted(key, latch);
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
    record AutocommitResult<V>(V previous, CompletableFuture<Void> durable, long commitTs) {}

    // ---- deferred visibility (CommitLog#visibleOnlyWhenDurable) ----------------------------

    /*
     * Deferred visibility. With a log that defers visibility, a commit is stamped, recorded for
     * SSI and vacuum, and given its timestamp under the lock as always, but visibleTs is not moved
     * there. Invariants:
     *  D1. visibleTs = c is published only once the record of c is as durable as the log
     *      promises; since the log makes records durable in commit order (CommitLog), every commit
     *      at or below c then is too, so a reader never sees an undurable commit.
     *  D2. publishVisible only raises visibleTs (CAS max), from the log's completion of c's future
     *      and from c's committer once its wait returned (so it reads its own writes), whichever is
     *      first. A read-only SSI identity timestamp moves visibleTs only from its predecessor.
     *  D3. Writers still see stamped, undurable versions (they are committed in the lock's order):
     *      a transaction whose snapshot misses one aborts on first-committer-wins; an autocommit
     *      builds on it, and its own commit, later in the log, is durable only after it. An
     *      autocommit that writes nothing waits until the commit it read from is visible.
     *  D4. A committer unpins when its commit is installed, before it is durable, so before its
     *      publication: the read-only shortcut's check (a) therefore reads the commit clock, not
     *      visibleTs (R3 then holds as written, with "assigned c2" for "published c2";
     *      DeferredVisibilityTest forces the schedule).
     */

    /** Publishes {@code commitTs} when {@code durable} completes normally (D1); returns it. */
    private CompletableFuture<Void> publishWhenDurable(CompletableFuture<Void> durable, long commitTs) {
        durable.whenComplete((ok, failure) -> {
            if (failure == null) {
                publishVisible(commitTs);
            }
        });
        return durable;
    }

    /**
     * Called by a committer once its commit is as durable as configured: makes it visible if the
     * log's completion has not yet done so (D2). A no-op unless visibility is deferred.
     */
    void publishVisible(long commitTs) {
        if (deferVisibility) {
            raiseVisible(commitTs);
        }
    }

    /**
     * Waits until the commit at {@code commitTs} is visible (D3): it is durable then.
     *
     * @throws TransactionException if the log failed first (the commit's outcome is unknown), or
     *     if the thread is interrupted
     */
    void awaitVisible(long commitTs) {
        for (int attempt = 0; visibleTs < commitTs; attempt++) {
            Throwable failure = logFailure;
            if (failure != null) {
                throw new TransactionException("the value read comes from commit " + commitTs
                        + ", whose outcome is unknown: the commit log failed before it was durable", failure);
            }
            if (!idle(attempt)) {
                throw new TransactionException("interrupted while waiting for commit " + commitTs
                        + ", whose value was read, to become durable");
            }
        }
    }

    /**
     * Links a new version of {@code key}; only the recovering thread calls it.
     * {@code head} is the entry the caller read under the lock; only vacuum can have changed it
     * since, in which case the loop re-reads it.
     *
     * @return whether the key needs a vacuum pass (see pruneBelowWatermark)
     */
    private boolean install(K key, V value, long commitTs, Object head) {
        while (true) {
            if (head == null) {
                if (value == null && recovering) {
                    return false; // a tombstone for a key nothing holds, and no transaction to conflict with
                }
                // Otherwise a tombstone is linked even for an absent key: the removal is a write
                // that first-committer-wins must see, whether or not vacuum dropped an older one.
                if (index.putIfAbsent(key, new Version<>(value, commitTs, null)) == null) {
                    return value == null; // linearization point: the version is in the index
                }
                head = index.get(key);
                continue;
            }
            Version<V> linked = new Version<>(value, commitTs, VersionChain.asVersion(head));
            if (index.replace(key, head, linked)) { // linearization point: value CAS on the node
                return pruneBelowWatermark(linked);
            }
            // Only vacuum can beat us here (it removed a tombstone or settled the value): retry.
            head = index.get(key);
        }
    }

    // ---- cooperative pruning (committers; vacuum passes are Vacuum's) -------------------

    /**
     * Cooperative pruning by the committer that just stamped {@code head}, in constant time
     * whatever the chain's length (it runs under the commit lock): when the keeper (the newest
     * version at or below the last published watermark) is one of the two versions after the
     * head, cuts everything older than it. A longer chain (a snapshot older than the previous
     * version is open) is left to vacuum, and handed to it once, when it first grows past that
     * reach. Safe for the reasons vacuum is (see the notes above).
     *
     * @return whether the key needs a vacuum pass: a tombstone, or a chain that just outgrew
     *     what this pruning can reach
     */
    private boolean pruneBelowWatermark(Version<V> head) {
        long watermark = pins.prunableWatermark();
        Version<V> keeper = head.getOlderAcquire();
        committerPruneSteps++;
        if (keeper == null) {
            return head.isTombstone();
        }
        if (keeper.commitTs > watermark) { // a snapshot between the two newest versions may be open
            keeper = keeper.getOlderAcquire();
            committerPruneSteps++;
            if (keeper == null) {
                return head.isTombstone();
            }
            if (keeper.commitTs > watermark) {
                return head.isTombstone(); // beyond reach: handed to vacuum when it was in reach
            }
            cutBelow(keeper);
            // The steady state with a snapshot open between the two newest versions: three
            // versions; the chain outgrows this reach at the next write, so vacuum gets it now.
            return true;
        }
        cutBelow(keeper);
        // The steady state is two versions (the new head, and the previous one that snapshots
        // between the two commits still read), which the key's next write or a full pass trims.
        return head.isTombstone();
    }

    /** Cuts every version older than {@code keeper}; caller holds commitLock. */
    private void cutBelow(Version<V> keeper) {
        committerPruneSteps++;
        if (keeper.getOlderAcquire() != null) {
            keeper.setOlderRelease(null); // everything older is invisible to every snapshot
            counters.committerPrune();
        }
    }

    /** Makes committers vacuum (see Vacuum#byCommitters); called before recovery. */
    void vacuumByCommitters() {
        vacuum.byCommitters();
    }

    /**
     * A full vacuum pass (see Vacuum#full).
     *
     * @return what was reclaimed, and what is left
     */
    VacuumResult vacuum() {
        return vacuum.full();
    }

    /**
     * A vacuum pass over the keys committers marked, or a full one when VacuumPolicy says so
     * (see Vacuum#incremental).
     *
     * @return what was reclaimed, and what is left
     */
    VacuumResult vacuumIncremental() {
        return vacuum.incremental();
    }

    /** Records a key vacuum must visit; caller holds commitLock. */
    private void markDirty(Object key) {
        vacuum.markDirty(key);
    }

    // ---- StoreAccess (recovery and checkpoints) -------------------------------------------

    @Override
    public void replay(long commitTimestamp, K key, V value) {
        if (!recovering) {
            throw new IllegalStateException("replay is only allowed while the database is being opened");
        }
        java.util.Objects.requireNonNull(key, "key");
        if (commitTimestamp < lastCommitTs) {
            throw new IllegalStateException("replayed commit timestamp " + commitTimestamp
                    + " is below the last replayed one, " + lastCommitTs);
        }
        lastCommitTs = commitTimestamp;
        if (install(key, value, commitTimestamp, index.get(key))) {
            markDirty(key); // a tombstone (or a chain) vacuum must visit
        }
        visibleTs = commitTimestamp;
    }

    @Override
    public void recoveredThrough(long commitTimestamp) {
        if (!recovering) {
            throw new IllegalStateException("recoveredThrough is only allowed while the database is being opened");
        }
        if (commitTimestamp < lastCommitTs) {
            throw new IllegalStateException("recovered timestamp " + commitTimestamp
                    + " is below the last replayed one, " + lastCommitTs);
        }
        lastCommitTs = commitTimestamp;
        visibleTs = commitTimestamp;
    }

    @Override
    public long readSnapshot(BiConsumer<? super K, ? super V> consumer) {
        checkOpen();
        SnapshotPins.Pin pin = pinSnapshot();
        try {
            long ts = pin.snapshotTs();
            for (VersionedIndex.Cursor<K> c = index.cursor(); c.next(); ) {
                V value = VersionChain.valueAt(c.entry(), ts);
                if (value != null) {
                    consumer.accept(c.key(), value);
                }
            }
            return ts;
        } finally {
            pin.run();
        }
    }

    @Override
    public Comparator<? super K> comparator() {
        return comparator;
    }

    // ---- statistics ----------------------------------------------------------------------

    /** Records the SSI conflict graph keeps (full records plus the summary, if any). */
    int ssiRetainedRecords() {
        commitLock.lock();
        try {
            return ssi.retainedRecords();
        } finally {
            commitLock.unlock();
        }
    }

    /** A commit record holding one write (autocommit). */
    private record SingleWrite<K, V>(long commitTimestamp, K key, V value) implements CommitRecord<K, V> {
        @Override
        public int size() {
            return 1;
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
}
