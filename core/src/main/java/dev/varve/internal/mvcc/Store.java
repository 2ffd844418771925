// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import dev.varve.VacuumResult;
import dev.varve.internal.index.VersionedIndex;
import dev.varve.spi.CommitLog;
import dev.varve.spi.StoreAccess;
import java.util.Comparator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiConsumer;

/**
 * The multi-version state behind a database: the versioned index, the commit clock and the
 * visible timestamp, the commit lock, the snapshot pins, the store's life cycle (recovering, open,
 * read-only after a log failure, closed), recovery's install, and cooperative pruning. The
 * protocol that commits into it is {@link CommitProtocol}; its vacuum is {@link Vacuum}.
 *
 * <p>Thread-safe. Reads never lock; writers of the clock, of visibleTs and of the version chains
 * hold the commit lock (or, with deferred visibility, raise visibleTs by CAS: D2).
 *
 * @param <K> key type
 * @param <V> value type
 */
public final class Store<K, V> implements StoreAccess<K, V> {
    private final Comparator<? super K> comparator;
    /**
     * The versioned index: each key's newest {@link Version}, the head of its version chain, or
     * its settled value (see Version's notes).
     */
    final VersionedIndex<K> index;
    /** The default map (id 0), whose index is {@link #index}. */
    final MapIndex<K, V> main;
    /**
     * Every map by id, null where dropped (the default map at 0): copied on write under
     * commitLock, read without it (M1: ids are never reused).
     */
    private volatile MapIndex<?, ?>[] maps;
    /** Named maps by name; guarded by commitLock. */
    private final java.util.Map<String, MapIndex<?, ?>> mapsByName = new java.util.TreeMap<>();
    /** The next named map's id; guarded by commitLock. */
    private int nextMapId = 1;
    /** Snapshot pins, the vacuum horizon and the prunable watermark (the pin handshake). */
    final SnapshotPins pins = new SnapshotPins(this::visibleTs);
    /** Which read-only SERIALIZABLE snapshots are safe (Ports & Grittner §4.2). */
    final SafeSnapshots safeSnapshots = new SafeSnapshots(pins);

    final ConflictFinder<K, V> ssi;

    final ReentrantLock commitLock = new ReentrantLock();
    /** Whether the log is the in-memory no-op (then no commit record is even built). */
    boolean inMemory;
    /** Largest commit timestamp handed out; guarded by commitLock. */
    long lastCommitTs;
    /**
     * The durability future of the newest commit handed to the log (a read-write commit; a
     * read-only SSI identity has no record), or a completed one after recovery: what a change
     * feed that starts with a replay through lastCommitTs waits for (ChangeFeed F12); guarded by
     * commitLock.
     */
    CompletableFuture<Void> lastLogged = CompletableFuture.completedFuture(null);
    /**
     * Every commit with commitTs <= visibleTs is fully installed (and, when the log defers
     * visibility, as durable as the log promises). Written under commitLock, or raised by a CAS
     * (publishVisible) when visibility is deferred.
     */
    volatile long visibleTs;
    /**
     * Whether a commit becomes visible only once its log record is as durable as the log
     * promises (CommitLog#visibleOnlyWhenDurable); written once, by attachLog.
     */
    boolean deferVisibility;
    /** Commit-lock hold times of an instrumented run, or null (CommitLockProfile); guarded by commitLock. */
    final CommitLockProfile lockProfile = CommitLockProfile.ENABLED ? new CommitLockProfile() : null;
    /** The commit clock of history retention, or null when history is not retained (P8); set once at open. */
    CommitTimes commitTimes;
    /**
     * The change feed while anyone watches, else null; written under commitLock, read by
     * committers under it (ChangeFeed F1).
     */
    volatile ChangeFeed feed;
    /** The change feed once anyone watched; created under this store's monitor. */
    private ChangeFeed changeFeed;
    /** Versions committers looked at while pruning (for tests of its cost); guarded by commitLock. */
    long committerPruneSteps;

    CommitLog<K, V> log;
    volatile Throwable logFailure;
    private volatile boolean recovering = true;
    private volatile String closedBy;

    /** The counters behind Database#stats. */
    final StoreCounters counters = new StoreCounters();

    /** The comparator the user gave, or null for natural ordering (what SortedMap reports). */
    final Comparator<? super K> userComparator;

    /** Versions stamped by commits (one per written key), for the settle debt; guarded by commitLock. */
    long versionsWritten;
    /** Vacuum passes and the keys committers hand them. */
    final Vacuum<K, V> vacuum;

    /** Forced-schedule tests pause threads here; {@link TestHook#NONE} otherwise. */
    TestHook hook = TestHook.NONE;

    /**
     * An empty store, recovering until {@link #attachLog} (only replay may write then).
     *
     * @param userComparator the key order, or null for the keys' natural order
     * @param maxRetainedSsiRecords bound on the conflict graph's full records (see ConflictGraph)
     */
    @SuppressWarnings("unchecked")
    public Store(Comparator<? super K> userComparator, int maxRetainedSsiRecords) {
        this.userComparator = userComparator;
        this.comparator = userComparator != null
                ? userComparator
                : (Comparator<? super K>) (Comparator<?>) Comparator.naturalOrder();
        this.main = new MapIndex<>(this, MapIndex.DEFAULT, null, userComparator, "", "");
        this.index = main.index;
        this.maps = new MapIndex<?, ?>[] {main};
        this.ssi = new ConflictFinder<>(this::visibleTs, this::lastCommitTs, counters, maxRetainedSsiRecords);
        this.vacuum = new Vacuum<>(
                main,
                () -> maps,
                pins,
                counters,
                ssi,
                commitLock,
                () -> versionsWritten,
                t -> backgroundFailure(dev.varve.Database.FailureKind.VACUUM, t));
    }

    /*
     * Implementation notes.
     *
     * T1. lastCommitTs (the commit clock) only rises; it is written under commitLock, or by the
     *     recovering thread before any other thread sees the store.
     * T2. visibleTs <= lastCommitTs, and it only rises. Every commit at or below visibleTs is fully
     *     installed: each of its versions is linked and stamped and its record is in the log
     *     (and, with deferred visibility, as durable as the log promises: D1). It is written
     *     under commitLock (CommitProtocol's publish), or raised by CAS (publishVisible, D2).
     * T3. A snapshot is one volatile read of visibleTs, and readers skip versions with commitTs >
     *     snapshotTs (PENDING included), so a reader sees all of a commit or none of it (T2).
     *     Read-only SERIALIZABLE transactions that are recorded in the conflict graph take a
     *     clock value for identity only: no version carries it.
     * T4. The commit lock is held only for short sections without I/O or latch waits (the commit
     *     critical section, close, statistics), so it is always released (CommitProtocol L1).
     *
     * Pinned snapshots and vacuum: the pin handshake and the horizon unpinned readers re-read
     * below are SnapshotPins' (P1-P4).
     */

    // ---- the parts other engine layers use -------------------------------------------------

    /**
     * The versioned index.
     *
     * @return the index
     */
    public VersionedIndex<K> index() {
        return index;
    }

    /**
     * The comparator the user gave, or null for natural ordering (what SortedMap reports).
     *
     * @return the user's comparator, or null
     */
    public Comparator<? super K> userComparator() {
        return userComparator;
    }

    /**
     * The snapshot pins, the vacuum horizon and the prunable watermark.
     *
     * @return the pins
     */
    public SnapshotPins pins() {
        return pins;
    }

    /**
     * The counters behind the database's statistics.
     *
     * @return the counters
     */
    public StoreCounters counters() {
        return counters;
    }

    /**
     * The conflict finder (SSI) of this store; tests inspect it.
     *
     * @return the conflict finder
     */
    public ConflictFinder<K, V> ssi() {
        return ssi;
    }

    /**
     * The forced-schedule hook ({@link TestHook#NONE} unless a test set one).
     *
     * @return the hook
     */
    public TestHook hook() {
        return hook;
    }

    /**
     * Sets the forced-schedule hook; tests only, before the threads it pauses start.
     *
     * @param hook the hook
     */
    public void hook(TestHook hook) {
        this.hook = hook;
        vacuum.hook = hook;
        pins.hook = hook;
        safeSnapshots.hook = hook;
    }

    /**
     * Versions committers looked at while pruning, for tests of its cost; read under no lock
     * by a test that runs no concurrent commit.
     *
     * @return the count
     */
    public long committerPruneSteps() {
        return committerPruneSteps;
    }

    // ---- maps ----------------------------------------------------------------------------

    /**
     * The default map.
     *
     * @return the map with id 0
     */
    public MapIndex<K, V> defaultMap() {
        return main;
    }

    /**
     * The id the next new named map gets in a store whose log does not give ids (in memory);
     * takes the commit lock.
     *
     * @return an id no map of this store had
     */
    public int nextMapId() {
        commitLock.lock();
        try {
            return nextMapId;
        } finally {
            commitLock.unlock();
        }
    }

    /**
     * Creates the named map {@code name} with id {@code id}, installs its recovered state, then
     * publishes it (catalog and vacuum). The caller serializes creations and checked that no map
     * of that name exists. Takes the commit lock.
     *
     * @param id the map's id (from the log, or {@link #nextMapId})
     * @param name the map's name
     * @param userComparator its key order, or null for natural ordering
     * @param keyCodecId the id of its key codec ("" if none or undeclared)
     * @param valueCodecId the id of its value codec ("" if none or undeclared)
     * @param recovered fills the new map with its recovered state (latest value per key, at
     *     timestamps at or below the visible one), or null
     * @param <K2> the map's key type
     * @param <V2> the map's value type
     * @return the map
     * @throws IllegalStateException if the store is closed, or a map has that name or id
     */
    public <K2, V2> MapIndex<K2, V2> createMap(
            int id,
            String name,
            Comparator<? super K2> userComparator,
            String keyCodecId,
            String valueCodecId,
            java.util.function.Consumer<dev.varve.spi.MapReplay<K2, V2>> recovered) {
        MapIndex<K2, V2> created = new MapIndex<>(this, id, name, userComparator, keyCodecId, valueCodecId);
        if (recovered != null) {
            // Nobody can read the map before it is published below: plain installs, one version each.
            recovered.accept((ts, key, value) -> {
                if (ts > visibleTs) {
                    throw new IllegalStateException("recovered commit " + ts + " of map '" + name
                            + "' is above the recovered timestamp " + visibleTs);
                }
                Version<V2> version = new Version<>(value, ts, null);
                Object[] previous = new Object[1];
                created.index.compute(key, (k, current) -> { // one per key: the latest
                    previous[0] = current;
                    return version;
                });
                created.countWritten(
                        previous[0] == null ? 1 : 0,
                        (value == null ? 0 : 1) - (VersionChain.latestValue(previous[0]) == null ? 0 : 1)); // M4
            });
        }
        commitLock.lock();
        try {
            checkOpen();
            MapIndex<?, ?>[] current = maps;
            if (id <= 0 || mapsByName.containsKey(name) || id < current.length && current[id] != null) {
                throw new IllegalStateException("map '" + name + "' (id " + id + ") exists already");
            }
            mapsByName.put(name, created);
            MapIndex<?, ?>[] grown = java.util.Arrays.copyOf(current, Math.max(current.length, id + 1));
            grown[id] = created;
            maps = grown;
            nextMapId = Math.max(nextMapId, id + 1);
            return created;
        } finally {
            commitLock.unlock();
        }
    }

    /**
     * Drops the named map {@code name}: it is gone from the catalog at once, commits that write
     * it refuse from now on (MapIndex M3), and vacuum lets its keys go. Takes the commit lock.
     *
     * @param name the map's name
     * @return whether a map of that name existed
     * @throws IllegalStateException if the store is closed
     */
    public boolean dropMap(String name) {
        commitLock.lock();
        try {
            checkOpen();
            MapIndex<?, ?> map = mapsByName.remove(name);
            if (map == null) {
                return false;
            }
            map.markDropped();
            MapIndex<?, ?>[] shrunk = maps.clone();
            shrunk[map.id()] = null;
            maps = shrunk;
            return true;
        } finally {
            commitLock.unlock();
        }
    }

    /**
     * The named map called {@code name}.
     *
     * @param name the name
     * @return the map, or null if there is none
     */
    public MapIndex<?, ?> namedMap(String name) {
        commitLock.lock();
        try {
            return mapsByName.get(name);
        } finally {
            commitLock.unlock();
        }
    }

    /**
     * The names of the named maps, in ascending order.
     *
     * @return a new sorted set of the names
     */
    public java.util.NavigableSet<String> mapNames() {
        commitLock.lock();
        try {
            return new java.util.TreeSet<>(mapsByName.keySet());
        } finally {
            commitLock.unlock();
        }
    }

    /**
     * Every map not dropped, by id (null where dropped).
     *
     * @return the current array (do not modify)
     */
    public MapIndex<?, ?>[] maps() {
        return maps;
    }

    /**
     * Whether {@code map} is one of this store's maps.
     *
     * @param map a map
     * @return true if this store created it (dropped or not)
     */
    public boolean owns(MapIndex<?, ?> map) {
        return map.owner == this;
    }

    // ---- timestamps and snapshots -------------------------------------------------------

    /**
     * The visible timestamp: every commit at or below it is fully installed (a new snapshot's
     * timestamp). A volatile read.
     *
     * @return the visible timestamp
     */
    public long visibleTs() {
        return visibleTs;
    }

    /**
     * The newest commit timestamp handed out (read-only SSI identities included); takes the commit
     * lock, so every commit at or below it has handed its record to the log.
     *
     * @return the commit clock
     */
    public long lastCommitTimestamp() {
        commitLock.lock();
        try {
            return lastCommitTs;
        } finally {
            commitLock.unlock();
        }
    }

    /** The commit clock; caller holds the commit lock. */
    long lastCommitTs() {
        return lastCommitTs;
    }

    static final java.lang.invoke.VarHandle VISIBLE_TS;

    static {
        try {
            var lookup = java.lang.invoke.MethodHandles.lookup();
            VISIBLE_TS = lookup.findVarHandle(Store.class, "visibleTs", long.class);
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
        wakeFeed();
    }

    /** Wakes the change feed's dispatcher after a commit was published (ChangeFeed F4). */
    void wakeFeed() {
        ChangeFeed f = feed;
        if (f != null) {
            f.wake();
        }
    }

    /**
     * Waits until a read-only reader at {@code snapshotTs} is known to be safe or unsafe
     * (SafeSnapshots S4), releasing expired and leaked pins while it waits.
     *
     * @param snapshotTs a snapshot timestamp the caller has pinned
     * @return -1 if safe: reading at it with no read set can see no serialization anomaly; else
     *     the commit timestamp that a snapshot taken anew must reach (with deferred visibility it
     *     may not be visible yet: D4)
     * @throws dev.varve.TransactionException if the thread is interrupted while waiting
     * @throws IllegalStateException if the store closes while it waits
     */
    public long awaitSafeSnapshot(long snapshotTs) {
        return safeSnapshots.awaitDecided(snapshotTs, () -> {
            checkOpen();
            refreshWatermark(); // reaps expired and leaked pins: an idle store runs no other refresh
        });
    }

    /**
     * Pins a fresh snapshot at the visible timestamp (SnapshotPins P2).
     *
     * @return the pin; run it once to withdraw it
     */
    public SnapshotPins.Pin pinSnapshot() {
        return pins.pin();
    }

    /**
     * The oldest snapshot timestamp any open transaction or view can read at (the last
     * published watermark).
     *
     * @return the watermark
     */
    public long watermark() {
        return pins.watermark();
    }

    /** Computes and publishes a new watermark with the pin handshake (SnapshotPins P1, P3). */
    long refreshWatermark() {
        return pins.reapAndRefresh();
    }

    /** The transaction age bound in ns, 0 for none; set once by {@link #limitTransactions}. */
    private long maxTransactionAgeNanos;

    private boolean tracksLeakSites;

    /**
     * Bounds transactions' ages and sets how leaks are reported (SnapshotPins P5); called once,
     * before the store is shared.
     *
     * @param maxAgeNanos the age bound in ns, or 0 for none
     * @param trackLeakSites whether each transaction records where it was begun
     */
    public void limitTransactions(long maxAgeNanos, boolean trackLeakSites) {
        this.maxTransactionAgeNanos = maxAgeNanos;
        this.tracksLeakSites = trackLeakSites;
        pins.reaping(maxAgeNanos, this::leaked, this::expired);
    }

    /**
     * The transaction age bound.
     *
     * @return ns, 0 for none
     */
    public long maxTransactionAgeNanos() {
        return maxTransactionAgeNanos;
    }

    /**
     * Whether transactions record when they began (an age bound, or leak tracking, is on).
     *
     * @return true if they do
     */
    public boolean tracksTransactionAges() {
        return maxTransactionAgeNanos > 0 || tracksLeakSites;
    }

    /**
     * Whether transactions record where they began (leak tracking is on).
     *
     * @return true if they do
     */
    public boolean tracksLeakSites() {
        return tracksLeakSites;
    }

    private static final System.Logger LOG = System.getLogger("dev.varve");

    /** The user's failure listener, or null; set once by {@link #failureListener}. */
    private dev.varve.Database.FailureListener failureListener;
    /** Runs the listener (created at the first failure); guarded by its own monitor. */
    private java.util.concurrent.ExecutorService failureNotifier;

    private boolean failureNotifierStopped;

    /**
     * Sets who hears of background failures; called once, before the store is shared.
     *
     * @param listener the listener, or null for none
     */
    public void failureListener(dev.varve.Database.FailureListener listener) {
        this.failureListener = listener;
    }

    @Override
    public void backgroundFailure(dev.varve.Database.FailureKind kind, Throwable failure) {
        dev.varve.Database.FailureListener listener = failureListener;
        if (listener == null) {
            return;
        }
        java.util.concurrent.ExecutorService notifier;
        synchronized (this) {
            if (failureNotifierStopped) {
                return; // closed: whoever closed it heard of this failure from close()
            }
            if (failureNotifier == null) {
                failureNotifier = java.util.concurrent.Executors.newSingleThreadExecutor(task -> {
                    Thread t = new Thread(task, "varve-failure-listener");
                    t.setDaemon(true);
                    return t;
                });
            }
            notifier = failureNotifier;
        }
        notifier.execute(() -> {
            try {
                listener.failed(kind, failure);
            } catch (Throwable t) {
                LOG.log(System.Logger.Level.WARNING, "the failure listener threw (dropped): " + t, t);
            }
        });
    }

    /** Stops the listener's thread once what is queued is delivered (the database's close). */
    public void stopFailureListener() {
        synchronized (this) {
            failureNotifierStopped = true;
            if (failureNotifier != null) {
                failureNotifier.shutdown();
            }
        }
    }

    private void leaked(SnapshotPins.Pin pin) {
        counters.leakedTransaction();
        try {
            logLeak(pin);
        } catch (RuntimeException e) {
            // a throwing log handler must not fail the commit or vacuum pass that reaped
        }
    }

    private void logLeak(SnapshotPins.Pin pin) {
        String message = "a transaction at snapshot timestamp " + pin.snapshotTs()
                + " became unreachable without commit, rollback or close: its snapshot pin was released"
                + (pin.begunAt() == null ? " (turn on leakTracking to learn where it was begun)" : "");
        if (pin.begunAt() == null) {
            LOG.log(System.Logger.Level.WARNING, message);
        } else {
            LOG.log(System.Logger.Level.WARNING, message, pin.begunAt());
        }
    }

    private void expired(SnapshotPins.Pin pin) {
        counters.expiredTransaction();
        try {
            logExpiry(pin);
        } catch (RuntimeException e) {
            // as in leaked
        }
    }

    private void logExpiry(SnapshotPins.Pin pin) {
        LOG.log(
                System.Logger.Level.WARNING,
                "a transaction at snapshot timestamp {0} has been open for {1} ms, longer than maxTransactionAge"
                        + " {2} ms: its snapshot pin was released and its next operation throws",
                pin.snapshotTs(),
                (System.nanoTime() - pin.beginNanos()) / 1_000_000,
                maxTransactionAgeNanos / 1_000_000);
    }

    /**
     * How long the oldest open snapshot has held the watermark back (see SnapshotPins).
     *
     * @param oldestSnapshot the watermark the caller read
     * @param visible the visible timestamp the caller read
     * @return the age in ns, 0 if no snapshot older than {@code visible} is open
     */
    public long oldestSnapshotAgeNanos(long oldestSnapshot, long visible) {
        return pins.oldestSnapshotAgeNanos(oldestSnapshot, visible);
    }

    // ---- reads ---------------------------------------------------------------------------

    /**
     * The latest committed value of {@code key}, without pinning a snapshot.
     *
     * @param key the key
     * @return the value, or null if the key is absent
     */
    public V readLatest(K key) {
        return readLatest(main, key);
    }

    /**
     * The latest committed value of {@code key} in {@code map}, without pinning a snapshot.
     *
     * @param map a map of this store
     * @param key the key
     * @param <K2> the map's key type
     * @param <V2> the map's value type
     * @return the value, or null if the key is absent
     */
    public <K2, V2> V2 readLatest(MapIndex<K2, V2> map, K2 key) {
        VersionedIndex<K2> index = map.index;
        while (true) {
            long ts = visibleTs;
            V2 value = VersionChain.valueAt(index.get(key), ts);
            if (value != null || !pins.cutMayHide(ts)) { // SnapshotPins P4
                return value;
            }
            // Found nothing below the vacuum horizon: a cut tail may have hidden it; re-read.
        }
    }

    // ---- state ---------------------------------------------------------------------------

    /**
     * Refuses use of a closed store.
     *
     * @throws IllegalStateException if the store is closed
     */
    public void checkOpen() {
        String by = closedBy;
        if (by != null) {
            throw new IllegalStateException("database is closed" + by);
        }
    }

    /**
     * Refuses writes to a closed store or one whose log failed.
     *
     * @throws IllegalStateException if the store is closed or read-only after a log failure
     */
    public void checkWritable() {
        checkOpen();
        Throwable failure = logFailure;
        if (failure != null) {
            throw new IllegalStateException(
                    "database is read-only: the commit log failed (" + failure + "); reopen it", failure);
        }
    }

    /**
     * Whether {@link #close()} ran.
     *
     * @return true once closed
     */
    public boolean isClosed() {
        return closedBy != null;
    }

    /**
     * Ends recovery and attaches the commit log later commits are handed to; called once, by the
     * opening thread, before any other thread sees the store.
     *
     * @param log the opened log
     */
    public void attachLog(CommitLog<K, V> log) {
        this.log = log;
        this.inMemory = (Object) log instanceof InMemoryLog;
        this.deferVisibility = !inMemory && log.visibleOnlyWhenDurable();
        this.recovering = false;
        // No snapshot exists yet: everything older is garbage. This lowers the watermark from
        // the recovery setting, before any other thread can see the store.
        pins.openAt(visibleTs);
    }

    /**
     * Keeps every version a snapshot taken within the last {@code windowMillis} could read
     * (SnapshotPins P8); called once, right after {@link #attachLog}, before any other thread
     * sees the store.
     *
     * @param windowMillis the window in ms, positive
     */
    public void retainHistory(long windowMillis) {
        commitTimes = pins.retainHistory(windowMillis, visibleTs);
    }

    /**
     * The store's change feed, created at the first call.
     *
     * @return the feed
     * @throws IllegalStateException if the store is closed
     */
    public synchronized ChangeFeed changeFeed() {
        checkOpen();
        if (changeFeed == null) {
            changeFeed = new ChangeFeed(this);
        }
        return changeFeed;
    }

    /** Closes the change feed if anyone watched: after the log closed, so its last durable commits are delivered. */
    public void closeChangeFeed() {
        ChangeFeed f;
        synchronized (this) {
            f = changeFeed;
        }
        if (f != null) {
            f.close();
        }
    }

    /**
     * Whether history is retained ({@link #retainHistory}).
     *
     * @return true if it is
     */
    public boolean retainsHistory() {
        return commitTimes != null;
    }

    /**
     * The wall-clock time of commits, if history is retained: the newest commit timestamp at or
     * before {@code epochMillis}.
     *
     * @param epochMillis the instant in ms since the epoch
     * @return the commit timestamp, or -1 if history is not retained or does not reach back so far
     */
    public long timestampAt(long epochMillis) {
        CommitTimes h = commitTimes;
        return h == null ? -1 : h.timestampAt(epochMillis, visibleTs);
    }

    /**
     * The attached commit log.
     *
     * @return the log
     */
    public CommitLog<K, V> log() {
        return log;
    }

    /**
     * Marks the store closed under the commit lock, so no commit is left half-installed.
     *
     * @return true if this call closed it, false if it was already closed
     */
    public boolean close() {
        commitLock.lock();
        try {
            if (closedBy != null) {
                return false;
            }
            closedBy = "";
            if (lockProfile != null) {
                LOG.log(System.Logger.Level.INFO, lockProfile.report());
            }
            return true;
        } finally {
            commitLock.unlock();
        }
    }

    /**
     * Marks the log failed: later writes refuse with {@code failure} as the cause (the first
     * failure is kept).
     *
     * @param failure the cause
     */
    public void failLog(Throwable failure) {
        if (logFailure == null) {
            logFailure = failure;
        }
    }

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
     *      publication: the read-only shortcut therefore never asks whether a commit is visible,
     *      only whether it recorded an out-edge, which it did under the lock before it unpinned
     *      (SafeSnapshots S2, S3; DeferredVisibilityTest forces the schedule).
     */

    /**
     * Called by a committer once its commit is as durable as configured: makes it visible if the
     * log's completion has not yet done so (D2). A no-op unless visibility is deferred.
     *
     * @param commitTs the commit timestamp
     */
    public void publishVisible(long commitTs) {
        if (deferVisibility) {
            raiseVisible(commitTs);
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
                    main.countWritten(1, value == null ? 0 : 1); // MapIndex M4
                    return value == null; // linearization point: the version is in the index
                }
                head = index.get(key);
                continue;
            }
            Version<V> linked = new Version<>(value, commitTs, VersionChain.asVersion(head));
            if (index.replace(key, head, linked)) { // linearization point: value CAS on the node
                main.countWritten(1, VersionChain.liveDelta(linked)); // MapIndex M4
                return pruneBelowWatermark(main, linked);
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
    boolean pruneBelowWatermark(MapIndex<?, ?> map, Version<?> head) {
        long watermark = pins.prunableWatermark();
        Version<?> keeper = head.getOlderAcquire();
        committerPruneSteps++;
        if (keeper == null) {
            return head.isTombstone();
        }
        if (keeper.commitTs > watermark) { // a snapshot between the two newest versions may be open
            Version<?> previous = keeper;
            keeper = keeper.getOlderAcquire();
            committerPruneSteps++;
            if (keeper == null) {
                return head.isTombstone();
            }
            if (keeper.commitTs > watermark) {
                return head.isTombstone(); // beyond reach: handed to vacuum when it was in reach
            }
            cutBelow(map, keeper);
            previous.olderIsLast = true; // its older is the keeper, now the last (Version#olderIsLast)
            // The steady state with a snapshot open between the two newest versions: three
            // versions; the chain outgrows this reach at the next write, so vacuum gets it now.
            return true;
        }
        cutBelow(map, keeper);
        head.olderIsLast = true; // its older is the keeper, now the last (Version#olderIsLast)
        // The steady state is two versions (the new head, and the previous one that snapshots
        // between the two commits still read), which the key's next write or a full pass trims.
        return head.isTombstone();
    }

    /** Cuts every version older than {@code keeper} of {@code map}, and counts them; caller holds commitLock. */
    private void cutBelow(MapIndex<?, ?> map, Version<?> keeper) {
        committerPruneSteps++;
        int cut = VersionChain.cutBelow(keeper);
        if (cut > 0) {
            counters.committerPruned(cut);
            map.countWritten(-cut, 0);
        }
    }

    /** Makes committers vacuum (see Vacuum#byCommitters); called before recovery. */
    public void vacuumByCommitters() {
        vacuum.byCommitters();
    }

    /**
     * A full vacuum pass (see Vacuum#full).
     *
     * @return what was reclaimed, and what is left
     */
    public VacuumResult vacuum() {
        return vacuum.full();
    }

    /**
     * A vacuum pass over the keys committers marked, or a full one when VacuumPolicy says so
     * (see Vacuum#incremental).
     *
     * @return what was reclaimed, and what is left
     */
    public VacuumResult vacuumIncremental() {
        return vacuum.incremental();
    }

    /** Records a key vacuum must visit; caller holds commitLock. */
    void markDirty(Object key) {
        vacuum.markDirty(key);
    }

    /** Records a key of {@code map} vacuum must visit (a MapKey for a named map); caller holds commitLock. */
    void markDirty(MapIndex<?, ?> map, Object key) {
        vacuum.markDirty(map.id() == MapIndex.DEFAULT ? key : new MapKey(map, key));
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
            throw new IllegalStateException(
                    "recovered timestamp " + commitTimestamp + " is below the last replayed one, " + lastCommitTs);
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
    @SuppressWarnings({"unchecked", "rawtypes"})
    public long readSnapshot(MapSnapshotConsumer consumer) {
        checkOpen();
        SnapshotPins.Pin pin = pinSnapshot();
        try {
            long ts = pin.snapshotTs();
            for (MapIndex<?, ?> map : maps) {
                if (map == null) {
                    continue;
                }
                consumer.beginMap(map.id());
                for (VersionedIndex.Cursor c = map.index.cursor(); c.next(); ) {
                    Object value = VersionChain.valueAt(c.entry(), ts);
                    if (value != null) {
                        consumer.accept(c.key(), value);
                    }
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

    /**
     * Records the SSI conflict graph keeps (full records plus the summary, if any); takes the
     * commit lock.
     *
     * @return the count
     */
    public int ssiRetainedRecords() {
        commitLock.lock();
        try {
            return ssi.retainedRecords();
        } finally {
            commitLock.unlock();
        }
    }
}
