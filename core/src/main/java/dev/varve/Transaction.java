// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import dev.varve.internal.events.AbortEvent;
import dev.varve.internal.events.CommitEvent;
import dev.varve.internal.mvcc.CommitProtocol;
import dev.varve.internal.mvcc.MapIndex;
import dev.varve.internal.mvcc.SnapshotRegistry;
import dev.varve.internal.mvcc.Store;
import dev.varve.internal.mvcc.TestHook;
import dev.varve.internal.mvcc.TxState;
import dev.varve.internal.mvcc.WriteSet;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * A transaction over a {@link Database}: reads from one snapshot taken at {@link
 * Database#begin(Isolation)}, buffers its writes until {@link #commit()}, and sees its own writes
 * everywhere (point reads, scans, {@link #asMap()} views).
 *
 * <p><b>Thread-safety.</b> A transaction is used by one thread at a time (it may move between
 * threads, with a happens-before edge between uses, as an executor provides). Different
 * transactions run fully concurrently; readers never block writers.
 *
 * <p><b>Life cycle.</b> Active until {@link #commit()}, {@link #rollback()} or {@link #close()}.
 * After that, reads, writes and {@code commit()} throw {@link IllegalStateException}, while
 * {@code rollback()} and {@code close()} do nothing. {@code close()} of an uncommitted
 * transaction rolls it back, so {@code try (var tx = db.begin()) { ...; tx.commit(); }} never
 * leaks one. A transaction pins its snapshot (vacuum keeps every version it can read) until it
 * finishes: do not leave one open. While active, {@link #savepoint()} and {@link
 * #rollbackTo(Savepoint)} undo part of its writes without ending it.
 *
 * <p><b>Nulls.</b> Keys and values are never {@code null}: passing one throws {@link
 * NullPointerException}.
 *
 * @param <K> key type
 * @param <V> value type
 */
public final class Transaction<K, V> implements AutoCloseable {
    private enum State {
        ACTIVE,
        /** commit() runs: set by a CAS from ACTIVE, so a second concurrent commit is refused. */
        COMMITTING,
        COMMITTED,
        ROLLED_BACK
    }

    private final CommitProtocol<K, V> commits;
    private final Store<K, V> store;
    private final Isolation isolation;
    private final boolean readOnlyView;
    private final long snapshotTs;
    /** What the engine knows of this transaction: pin, read and write sets, commit timestamp. */
    private final TxState<K, V> core;
    /** Written with CAS or release stores (STATE); read plainly by the owning thread's checks. */
    private State state = State.ACTIVE;

    /** The default map as this transaction sees it. */
    private TxMap<K, V> main; // created at first use: an empty transaction needs none

    private TransactionMap<K, V> mapView;
    /** Point reads and scanned entries so far (plain transactions only), added to the counters at the end. */
    private int reads;
    /** The views of named maps, by map id (plain transactions only: one thread at a time). */
    private TransactionMap<?, ?>[] namedViews;
    /** This transaction's access to each named map it used, by map id (plain transactions only). */
    private TxMap<?, ?>[] namedParts;

    Transaction(CommitProtocol<K, V> commits, Isolation isolation, boolean readOnlyView) {
        this.commits = commits;
        this.store = commits.store();
        this.isolation = isolation;
        this.readOnlyView = readOnlyView;
        this.core = readOnlyView
                ? new TxState<>(store.defaultMap(), store.pins(), false)
                : new TxState<>(
                        store.defaultMap(),
                        store.pins(),
                        isolation == Isolation.SERIALIZABLE,
                        this, // weakly: a leaked transaction's pin is released (SnapshotPins P5)
                        store.tracksTransactionAges(),
                        store.tracksLeakSites());
        this.snapshotTs = core.snapshotTs();
    }

    /** A read-only view as of the past commit timestamp {@code ts} (Database#snapshotAt). */
    Transaction(CommitProtocol<K, V> commits, long ts) {
        this.commits = commits;
        this.store = commits.store();
        this.isolation = Isolation.SNAPSHOT;
        this.readOnlyView = true;
        this.core = new TxState<>(store.defaultMap(), store.pins(), ts); // throws SnapshotTooOldException
        this.snapshotTs = ts;
    }

    // ---- reads ---------------------------------------------------------------------------

    /**
     * The value of {@code key} in this transaction: its own latest write if it wrote the key,
     * otherwise the value committed at or before the snapshot.
     *
     * @param key the key
     * @return the value, or {@code null} if the key is absent (or removed by this transaction)
     * @throws NullPointerException if {@code key} is null
     * @throws ClassCastException if {@code key} cannot be compared with the database's keys
     * @throws IllegalStateException if this transaction has finished or the database is closed
     */
    public V get(K key) {
        Objects.requireNonNull(key, "key");
        checkActive();
        return main().read(key);
    }

    /**
     * Whether {@code key} has a value in this transaction (see {@link #get}).
     *
     * @param key the key
     * @return true if {@link #get} would return a value
     * @throws NullPointerException if {@code key} is null
     * @throws ClassCastException if {@code key} cannot be compared with the database's keys
     * @throws IllegalStateException if this transaction has finished or the database is closed
     */
    public boolean containsKey(K key) {
        return get(key) != null;
    }

    // ---- writes --------------------------------------------------------------------------

    /**
     * Sets {@code key} to {@code value} when this transaction commits. A blind write: it reads
     * nothing, so it adds nothing to the read set (use {@code asMap().put} to also learn the
     * previous value).
     *
     * @param key the key
     * @param value the value
     * @throws NullPointerException if {@code key} or {@code value} is null
     * @throws ClassCastException if {@code key} cannot be compared with the database's keys
     * @throws IllegalStateException if this transaction has finished or the database is closed
     * @throws UnsupportedOperationException on a read-only snapshot
     */
    public void put(K key, V value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        checkWritable();
        TxMap<K, V> m = main();
        m.checkKey(key); // fail fast on keys the index cannot order
        m.write(key, value);
    }

    /**
     * Removes {@code key} when this transaction commits (nothing happens if it is absent then). A
     * blind write, like {@link #put}.
     *
     * @param key the key
     * @throws NullPointerException if {@code key} is null
     * @throws ClassCastException if {@code key} cannot be compared with the database's keys
     * @throws IllegalStateException if this transaction has finished or the database is closed
     * @throws UnsupportedOperationException on a read-only snapshot
     */
    public void remove(K key) {
        Objects.requireNonNull(key, "key");
        checkWritable();
        TxMap<K, V> m = main();
        m.checkKey(key);
        m.write(key, WriteSet.TOMBSTONE);
    }

    /**
     * A {@link NavigableMap} view of this transaction: reads see the snapshot merged with this
     * transaction's writes, writes ({@code put}, {@code remove}, iterator {@code remove}, entry
     * {@code setValue}, {@code pollFirstEntry}, ...) are buffered in the transaction. Sub-map,
     * head/tail and descending views are views of the same transaction.
     *
     * <p>Iterators are consistent with the snapshot (never see other transactions' commits), see
     * this transaction's writes made while they are open (and a {@link #rollbackTo(Savepoint)}
     * likewise), and never throw {@link java.util.ConcurrentModificationException}. Every range a scan traverses — including one
     * that turns out empty — is recorded in a SERIALIZABLE transaction's read set, so an insert
     * into it by a concurrent transaction (a phantom) is detected at commit. {@code size()}
     * traverses the whole view. The view is valid only while the transaction is active.
     *
     * @return the view (the same instance on every call); nulls are rejected as by {@link
     *     java.util.concurrent.ConcurrentSkipListMap}
     * @throws IllegalStateException if this transaction has finished
     */
    public NavigableMap<K, V> asMap() {
        checkActive();
        if (mapView == null) {
            mapView = new TransactionMap<>(main());
        }
        return mapView;
    }

    /**
     * A {@link NavigableMap} view of the named map {@code map} in this transaction, with exactly
     * the semantics of {@link #asMap()}: this transaction's snapshot (the same timestamp for every
     * map) merged with its own writes to that map, read and range tracking for SERIALIZABLE, and
     * writes buffered until {@link #commit()}, which commits the writes to every map atomically.
     * The same (map, key) conflicts between transactions; the same key in two maps never does.
     *
     * @param map a handle from {@link Database#openMap(String)} of this transaction's database
     * @param <K2> the map's key type
     * @param <V2> the map's value type
     * @return the view (valid while this transaction is active)
     * @throws NullPointerException if {@code map} is null
     * @throws IllegalArgumentException if {@code map} belongs to another database
     * @throws IllegalStateException if this transaction has finished, the database is closed, or
     *     the map was dropped (also thrown by the view's later uses once it is dropped)
     */
    @SuppressWarnings("unchecked")
    public <K2, V2> NavigableMap<K2, V2> map(NamedMap<K2, V2> map) {
        MapIndex<K2, V2> index = check(map);
        int id = index.id();
        TransactionMap<?, ?>[] views = namedViews;
        if (views != null && id < views.length && views[id] != null) {
            return (TransactionMap<K2, V2>) views[id]; // ids are never reused (MapIndex M1)
        }
        TransactionMap<K2, V2> view = new TransactionMap<>(tracked(index));
        if (views == null || id >= views.length) {
            int size = slotsFor(id);
            views = views == null ? new TransactionMap<?, ?>[size] : java.util.Arrays.copyOf(views, size);
            namedViews = views;
        }
        views[id] = view;
        return view;
    }

    /**
     * Sets {@code key} to {@code value} in the named map {@code map} when this transaction
     * commits: a blind write, as {@link #put(Object, Object)} is for the default map (it reads
     * nothing and adds nothing to the read set; {@code map(handle).put} also returns the previous
     * value, which is a read).
     *
     * @param map a handle of this transaction's database
     * @param key the key
     * @param value the value
     * @param <K2> the map's key type
     * @param <V2> the map's value type
     * @throws NullPointerException if an argument is null
     * @throws ClassCastException if {@code key} cannot be compared with the map's keys
     * @throws IllegalArgumentException if {@code map} belongs to another database
     * @throws IllegalStateException if this transaction has finished, the database is closed, or
     *     the map was dropped
     * @throws UnsupportedOperationException on a read-only snapshot
     */
    public <K2, V2> void put(NamedMap<K2, V2> map, K2 key, V2 value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        checkWritable();
        TxMap<K2, V2> part = tracked(check(map));
        part.checkKey(key);
        part.write(key, value);
    }

    /**
     * Removes {@code key} from the named map {@code map} when this transaction commits: a blind
     * write, like {@link #put(NamedMap, Object, Object)}.
     *
     * @param map a handle of this transaction's database
     * @param key the key
     * @param <K2> the map's key type
     * @throws NullPointerException if an argument is null
     * @throws ClassCastException if {@code key} cannot be compared with the map's keys
     * @throws IllegalArgumentException if {@code map} belongs to another database
     * @throws IllegalStateException if this transaction has finished, the database is closed, or
     *     the map was dropped
     * @throws UnsupportedOperationException on a read-only snapshot
     */
    public <K2> void remove(NamedMap<K2, ?> map, K2 key) {
        Objects.requireNonNull(key, "key");
        checkWritable();
        TxMap<K2, ?> part = tracked(check(map));
        part.checkKey(key);
        part.write(key, WriteSet.TOMBSTONE);
    }

    /** This transaction's (tracked) access to {@code index}, one per map (ids are never reused). */
    @SuppressWarnings("unchecked")
    private <K2, V2> TxMap<K2, V2> tracked(MapIndex<K2, V2> index) {
        int id = index.id();
        TxMap<?, ?>[] parts = namedParts;
        if (parts != null && id < parts.length && parts[id] != null) {
            return (TxMap<K2, V2>) parts[id];
        }
        TxMap<K2, V2> part = new TxMap<>(this, core.part(index), readOnlyView);
        if (parts == null || id >= parts.length) {
            int size = slotsFor(id);
            parts = parts == null ? new TxMap<?, ?>[size] : java.util.Arrays.copyOf(parts, size);
            namedParts = parts;
        }
        parts[id] = part;
        return part;
    }

    /** Slots for per-map arrays holding map id {@code id}: every map open now, so no regrowth per map. */
    private int slotsFor(int id) {
        return Math.max(id + 1, store.maps().length);
    }

    /** Checks {@code map} can be used by this transaction (see {@link #map}); returns its engine map. */
    private <K2, V2> MapIndex<K2, V2> check(NamedMap<K2, V2> map) {
        Objects.requireNonNull(map, "map");
        checkActive();
        MapIndex<K2, V2> index = map.index();
        if (!store.owns(index)) {
            throw new IllegalArgumentException(
                    "map '" + map.name() + "' belongs to another database than this transaction's");
        }
        index.checkNotDropped();
        return index;
    }

    /** This transaction's access to {@code map}, checked (see {@link #map}). */
    <K2, V2> TxMap<K2, V2> part(NamedMap<K2, V2> map) {
        MapIndex<K2, V2> index = check(map);
        // A snapshot may be read by several threads: its parts track nothing, so each view gets
        // one of its own instead of one registered in the (single-threaded) TxState.
        return new TxMap<>(this, readOnlyView ? TxState.untrackedPart(index) : core.part(index), readOnlyView);
    }

    // ---- savepoints ----------------------------------------------------------------------

    /**
     * Takes a savepoint: a point this transaction's writes can later be returned to with {@link
     * #rollbackTo(Savepoint)}, in every map, without ending the transaction. Savepoints nest: each
     * one taken later lies inside the earlier ones.
     *
     * <p>Cost: O(maps this transaction used) for the savepoint itself; from then on each write
     * of a map written before it also records, once per key and savepoint, the key's previous
     * state (O(log m), m the keys written since the newest savepoint). A transaction that never
     * takes a savepoint pays nothing for them: no allocation, one null check per write.
     *
     * @return the savepoint, valid for this transaction only
     * @throws IllegalStateException if this transaction has finished or the database is closed
     * @throws UnsupportedOperationException on a read-only snapshot
     */
    public Savepoint savepoint() {
        checkWritable();
        return new Savepoint(core.savepoint());
    }

    /**
     * Undoes every write this transaction made after {@code savepoint}, in every map (the default
     * map and each {@link #map(NamedMap) named map}): each key written since then has again the
     * value, the removal, or the absence of a write it had at the savepoint. Savepoints taken after
     * {@code savepoint} become invalid; {@code savepoint} itself stays valid and can be rolled
     * back to again. The transaction stays active.
     *
     * <p><b>Reads are not undone.</b> In a SERIALIZABLE transaction the keys and ranges read after
     * the savepoint stay in the read set, so they can still make the commit fail with {@link
     * SerializationFailureException}: the application may have acted on what it read (even if
     * only by deciding to roll back), so forgetting those reads would let anomalies through.
     *
     * <p><b>Writes undone are gone.</b> Writes are buffered until commit, so a write undone here
     * never reaches the database: it neither latches nor conflicts with other transactions at
     * commit. A transaction all of whose writes were undone is read-only again ({@link
     * #isReadOnly()}) and commits as one (no commit record, no new commit timestamp).
     *
     * <p><b>Open iterators and views</b> of {@link #asMap()} and {@link #map(NamedMap)} see the
     * rolled-back state from their next step on, just as they see writes made while they are open
     * (they never throw {@link java.util.ConcurrentModificationException}): an entry an iterator
     * already returned, or looked ahead to with {@code hasNext()}, is not taken back, and keys
     * behind its position are not revisited.
     *
     * <p>Cost: O(r log n) for r keys whose writes are undone, n the keys written (more for keys
     * written out of key order into a large write set, which shifts entries in an array).
     *
     * @param savepoint a savepoint this transaction took with {@link #savepoint()}
     * @throws NullPointerException if {@code savepoint} is null
     * @throws IllegalStateException if this transaction has finished or the database is closed, if
     *     {@code savepoint} belongs to another transaction, or if a rollback to an earlier
     *     savepoint invalidated it
     * @throws UnsupportedOperationException on a read-only snapshot
     */
    public void rollbackTo(Savepoint savepoint) {
        Objects.requireNonNull(savepoint, "savepoint");
        checkWritable();
        TxState.Mark mark = savepoint.mark();
        if (!mark.ownedBy(core)) {
            throw new IllegalStateException(savepoint + " belongs to another transaction, not to " + this);
        }
        TxState.Mark by = mark.invalidatedBy();
        if (by != null) {
            throw new IllegalStateException(
                    savepoint + " is no longer valid: rollbackTo(savepoint #" + by.number() + ") undid it");
        }
        core.rollbackTo(mark);
    }

    // ---- completion ----------------------------------------------------------------------

    /**
     * Commits: validates against concurrent commits, then makes every write visible atomically
     * to snapshots taken afterwards, and waits until the commit is as durable as the database is
     * configured (at once in memory; after the group's write under {@code RELAXED}; after {@code
     * fsync} under {@code FULL}). Effects of a transaction whose {@code commit()} returned
     * happen-before every read in a snapshot taken afterwards.
     *
     * <p>A read-only transaction commits without validation unless it is SERIALIZABLE and a
     * concurrent commit could make it part of a dangerous structure.
     *
     * @throws SerializationFailureException if the commit would break isolation (the
     *     transaction is then rolled back; run it again from a new snapshot)
     * @throws TransactionException if the commit log failed: the outcome is unknown (the commit is
     *     visible in memory and may or may not be recovered after a restart, as with a JDBC commit
     *     that fails), and the database refuses further writes; also if the thread was interrupted
     *     while waiting for another committer's write latch (then nothing was committed)
     * @throws IllegalStateException if this transaction has finished or the database is closed
     *     or read-only after a log failure
     */
    public void commit() {
        CommitEvent event = new CommitEvent();
        event.begin();
        CompletableFuture<Void> durable = commitEvented(true);
        if (durable != null) {
            long waitFrom = event.isEnabled() && !durable.isDone() ? System.nanoTime() : 0;
            try {
                durable.join();
                store.publishVisible(core.commitTs()); // deferred visibility: this thread reads its own commit
                if (event.shouldCommit()) {
                    event.durabilityWait = waitFrom == 0 ? 0 : System.nanoTime() - waitFrom;
                    event.kind = "commit";
                    describe(event);
                    event.commit();
                }
            } catch (CompletionException e) {
                throw new TransactionException(
                        "commit " + core.commitTs() + " has an unknown outcome: the commit log failed before it was"
                                + " durable (it is visible in memory and may or may not be recovered)",
                        e.getCause());
            }
        }
    }

    /**
     * Commits like {@link #commit()} without blocking the calling thread on durability: the
     * returned future completes with the commit timestamp once the commit is as durable as
     * configured. Validation runs on the calling thread. When the commit had to wait for the log,
     * the future is completed on the log's completion thread (for {@code varve-wal}, one thread
     * per log that never does I/O); stages that block should be chained with an {@code *Async}
     * method and an executor of your own.
     *
     * @return a future of the commit timestamp; completed exceptionally with {@link
     *     SerializationFailureException} if validation refused the commit, or with {@link
     *     TransactionException} if the log failed
     * @throws IllegalStateException if this transaction has finished or the database is closed
     *     (thrown, not put into the future: it is a bug in the caller)
     */
    public CompletableFuture<Long> commitAsync() {
        CommitEvent event = new CommitEvent();
        event.begin();
        CompletableFuture<Void> durable;
        try {
            durable = commitEvented(false);
        } catch (TransactionException e) {
            return CompletableFuture.failedFuture(e);
        }
        long ts = core.commitTs();
        if (durable == null || (durable.isDone() && !durable.isCompletedExceptionally())) {
            if (durable != null) {
                store.publishVisible(ts); // the log's own publication may not have run yet
                commitAsyncEvent(event, 0);
            }
            return CompletableFuture.completedFuture(ts);
        }
        long waitFrom = event.isEnabled() ? System.nanoTime() : 0;
        // Runs where the log completes its future: for varve-wal, its completer thread, never
        // the writer (a hop per group there, instead of one per commit here).
        return durable.handle((ok, failure) -> {
            if (failure == null) {
                commitAsyncEvent(event, waitFrom);
                store.publishVisible(ts); // deferred visibility: visible before the caller's stages run
            } else {
                Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
                throw new TransactionException(
                        "commit " + ts + " has an unknown outcome: the commit log failed before"
                                + " it was durable (it is visible in memory and may or may not be recovered)",
                        cause);
            }
            return ts;
        });
    }

    /** {@link #commitInternal}, recording an {@link AbortEvent} when the commit is refused. */
    private CompletableFuture<Void> commitEvented(boolean blockingWaiter) {
        try {
            return commitInternal(blockingWaiter);
        } catch (SerializationFailureException e) {
            AbortEvent event = new AbortEvent();
            if (event.shouldCommit()) {
                event.reason = e.reason().name();
                String keys = String.valueOf(e.keys());
                event.keys = keys.length() > 1000 ? keys.substring(0, 1000) + "..." : keys;
                event.snapshotTimestamp = snapshotTs;
                event.commit();
            }
            throw e;
        }
    }

    /** Records a commitAsync's event once it is durable ({@code waitFrom}: when the wait began, 0 for none). */
    private void commitAsyncEvent(CommitEvent event, long waitFrom) {
        if (event.shouldCommit()) {
            event.durabilityWait = waitFrom == 0 ? 0 : System.nanoTime() - waitFrom;
            event.kind = "commitAsync";
            describe(event);
            event.commit();
        }
    }

    /** Fills a commit event's fields from this committed transaction. */
    private void describe(CommitEvent event) {
        event.commitTimestamp = core.commitTs();
        event.keys = core.writeCount();
        event.maps = core.mapsWritten();
        event.serializable = isolation == Isolation.SERIALIZABLE;
    }

    /** Validates and installs; returns the durability future, or null for a read-only commit. */
    private CompletableFuture<Void> commitInternal(boolean blockingWaiter) {
        checkActive();
        if (readOnlyView) {
            throw new UnsupportedOperationException("a snapshot is read-only");
        }
        if (!STATE.compareAndSet(this, State.ACTIVE, State.COMMITTING)) {
            throw new IllegalStateException("transaction " + describeState() + ": it cannot be committed");
        }
        if (store.maxTransactionAgeNanos() > 0 && !core.beginCommit()) { // SnapshotPins P6
            STATE.setRelease(this, State.ACTIVE); // for expire()'s rollback
            expire();
        }
        try {
            if (core.writesNothing()) {
                // A read-only SERIALIZABLE transaction can be the T1 of a dangerous structure
                // that a concurrent transaction completes later, so it is validated and
                // recorded unless no older snapshot (a possible pivot) is open and then no
                // commit happened since its snapshot (CommitProtocol#readOnlyNeedsNoRecord).
                if (core.tracksReads() && !commits.readOnlyNeedsNoRecord(snapshotTs)) {
                    commits.commitReadOnly(core);
                }
                core.committedAt(snapshotTs);
                if (!core.pin().countOnSlot(SnapshotRegistry.READ_ONLY_COMMITS, 1)) { // no atomic (R2)
                    store.counters().readOnlyCommit();
                }
                finish(State.COMMITTED);
                return null;
            }
            CompletableFuture<Void> durable = commits.commit(core, blockingWaiter);
            finish(State.COMMITTED);
            return durable;
        } catch (RuntimeException | Error e) {
            // A commit that became visible before its bookkeeping failed is committed (it has a
            // timestamp); any other failure left nothing visible.
            finish(core.commitTs() >= 0 ? State.COMMITTED : State.ROLLED_BACK);
            throw e;
        }
    }

    /**
     * Discards every write and finishes the transaction. Does nothing if it already finished
     * (also when another thread finished it at the same moment, as two closes of one snapshot do).
     *
     * @throws IllegalStateException if another thread is committing it right now
     */
    public void rollback() {
        // NOTE: a plain read first, so that close() after commit() (every try-with-resources)
        // costs no CAS: the owner sees its own writes, and a race with another thread's commit or
        // close is settled by the CAS and the volatile read below.
        if (state == State.ACTIVE) {
            store.hook().at(TestHook.Point.ROLLBACK_BEFORE_CAS);
            if (STATE.compareAndSet(this, State.ACTIVE, State.ROLLED_BACK)) {
                releasePin();
                java.lang.ref.Reference.reachabilityFence(this); // not a leak until released (P5)
                return;
            }
        }
        if (STATE.getVolatile(this) == State.COMMITTING) {
            throw new IllegalStateException("transaction " + describeState() + ": it cannot be rolled back");
        }
        // Otherwise it finished already (committed, or rolled back by another close): nothing to do.
    }

    /**
     * Rolls back if still active (see {@link #rollback()}); does nothing once finished.
     *
     * @throws IllegalStateException if another thread is committing it right now
     */
    @Override
    public void close() {
        rollback();
    }

    private void finish(State end) {
        STATE.setRelease(this, end);
        releasePin();
        java.lang.ref.Reference.reachabilityFence(this); // not a leak until released (P5)
    }

    private static final java.lang.invoke.VarHandle STATE;

    static {
        try {
            STATE = java.lang.invoke.MethodHandles.lookup().findVarHandle(Transaction.class, "state", State.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * Withdraws the snapshot pin. Called only by the thread whose state CAS finished this
     * transaction, so once; a snapshot view's pin is also its cleaner's action, so it is released
     * with the atomic {@code run()}, a plain transaction's without one.
     */
    void releasePin() {
        if (reads != 0) {
            // On the pin's slot (no atomic: R2), unless reap may release the pin meanwhile.
            if (store.maxTransactionAgeNanos() > 0 || !core.pin().countOnSlot(SnapshotRegistry.READS, reads)) {
                store.counters().reads(reads);
            }
            reads = 0;
        }
        if (readOnlyView || store.maxTransactionAgeNanos() > 0) { // a cleaner, or reap (P5), may race
            core.pin().run();
        } else {
            core.pin().releaseExclusive();
        }
    }

    /**
     * The pin as a cleaner action for a snapshot view: it references the registry, not this
     * transaction, so registering it on this transaction lets the transaction become unreachable.
     */
    Runnable pinRelease() {
        return core.pin();
    }

    // ---- properties ----------------------------------------------------------------------

    /**
     * Whether this transaction has written nothing (so far), not counting writes undone by
     * {@link #rollbackTo(Savepoint)}.
     *
     * @return true while the write set is empty
     */
    public boolean isReadOnly() {
        return core.writesNothing();
    }

    /**
     * Whether this transaction can still be used (not committed, not rolled back).
     *
     * @return true while active
     */
    public boolean isActive() {
        return state == State.ACTIVE;
    }

    /**
     * The isolation level this transaction runs at.
     *
     * @return the isolation level
     */
    public Isolation isolation() {
        return isolation;
    }

    /**
     * The snapshot timestamp: this transaction sees exactly the commits whose commit timestamp is
     * at or below it.
     *
     * @return the snapshot timestamp (0 for an empty database)
     */
    public long snapshotTimestamp() {
        return snapshotTs;
    }

    /**
     * The commit timestamp, which orders this transaction among all commits: for a read-write
     * transaction, the timestamp at which its writes became visible; for a read-only one, its
     * snapshot timestamp (where it serializes).
     *
     * @return the commit timestamp
     * @throws IllegalStateException if the transaction has not committed successfully
     */
    public long commitTimestamp() {
        if (state != State.COMMITTED) {
            throw new IllegalStateException("transaction " + describeState() + ": it has no commit timestamp");
        }
        return core.commitTs();
    }

    @Override
    public String toString() {
        return "Transaction[" + isolation + ", snapshot " + snapshotTs + ", " + describeState() + "]";
    }

    // ---- package-private machinery used by the views -------------------------------------------

    /** The engine's state of this transaction (tests drive the commit protocol with it). */
    TxState<K, V> core() {
        return core;
    }

    Store<K, V> store() {
        return store;
    }

    /** The default map as this transaction sees it. */
    TxMap<K, V> main() {
        TxMap<K, V> m = main;
        if (m == null) {
            m = new TxMap<>(this, core.main(), readOnlyView);
            main = m; // NOTE: a snapshot read by several threads may make two; they are equivalent
        }
        return m;
    }

    void checkActive() {
        if (state != State.ACTIVE) {
            throw new IllegalStateException(
                    readOnlyView
                            ? "snapshot is closed"
                            : "transaction " + describeState() + ": it cannot be used any more");
        }
        checkNotExpired();
        store.checkOpen();
    }

    /**
     * Refuses to go on once the age bound released this transaction's pin: at the start of each
     * operation, and after each read of a version chain, which the release may have raced
     * (SnapshotPins.Pin#isExpired). Rolls the transaction back first.
     *
     * @throws TransactionException if it expired
     */
    void checkNotExpired() {
        if (core.isExpired()) {
            expire();
        }
    }

    /** Counts a read for the statistics; a snapshot view's reads (any thread) are not counted. */
    void countRead() {
        if (!readOnlyView) {
            reads++;
        }
    }

    private void expire() {
        if (STATE.compareAndSet(this, State.ACTIVE, State.ROLLED_BACK)) {
            releasePin(); // a no-op: reap released it
        }
        long ageMillis = (System.nanoTime() - core.beginNanos()) / 1_000_000;
        throw new TransactionException("transaction at snapshot timestamp " + snapshotTs + " has been open for "
                + ageMillis + " ms, longer than maxTransactionAge (" + store.maxTransactionAgeNanos() / 1_000_000
                + " ms): it was rolled back so that vacuum can move past its snapshot");
    }

    void checkWritable() {
        if (readOnlyView) {
            throw new UnsupportedOperationException("a snapshot is read-only");
        }
        checkActive();
    }

    private String describeState() {
        switch (state) {
            case COMMITTED:
                return "already committed";
            case ROLLED_BACK:
                return "already rolled back";
            case COMMITTING:
                return "is being committed by another thread";
            default:
                return "active";
        }
    }

    /** An immutable entry with the transaction's view of a key, returned by navigation methods. */
    static <K, V> Map.Entry<K, V> entry(K key, V value) {
        return new java.util.AbstractMap.SimpleImmutableEntry<>(key, value);
    }
}
