// SPDX-License-Identifier: Apache-2.0
package dev.varve.testkit;

import dev.varve.Isolation;
import dev.varve.NamedMap;
import dev.varve.SerializationFailureException;
import dev.varve.Transaction;
import dev.varve.testkit.TxnRecord.Slot;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * A {@link Transaction} whose operations are recorded into a {@link HistoryRecorder}'s history:
 * use its methods instead of the transaction's, and {@link HistoryRecorder#check()} tells whether
 * the committed ones were serializable.
 *
 * <p><b>What is recorded.</b> {@link #get} and {@link #containsKey} record a read and the
 * version it saw; {@link #put} and {@link #remove} a write; {@link #scan} a scan of its range
 * (whose later insertions by others are phantoms) and a read of each entry it returned; {@link
 * #commit}, {@link #rollback} and {@link #close} the outcome and the commit timestamp. Every
 * method has exactly the semantics of the {@link Transaction} method it calls, conflicts and
 * aborts included: the recorder reads nothing of its own in the transaction. Operations made on
 * {@link #transaction()} directly are not recorded, nor are autocommit writes ({@code db.put}):
 * a value they wrote looks, to a recorded read, like the key's initial version.
 *
 * <p><b>How a read knows the version it saw.</b> By identity: an in-memory Varve database returns
 * from a read the very object that was put, so the recorder remembers which recorded transaction
 * put each value object into each key. Hence the one rule: <em>every put needs a new
 * object</em> — not one already put into that key by another transaction, nor one read from it.
 * {@link #put} refuses such an object with an {@link IllegalArgumentException} that says so,
 * because a read of it could not tell the two versions apart. Boxed small numbers ({@code
 * Integer.valueOf(5)}), string literals, {@code Boolean.TRUE} and enum constants are shared
 * objects: wrap them in a record of your own. (The object an aborted attempt put may be put again
 * by the next attempt.) A read that found nothing is placed at the transaction's snapshot
 * timestamp (see {@link TxnRecord}). Values present before the recording began are the initial
 * versions; so are values recovered from a log, which are new objects.
 *
 * <p><b>Thread-safety.</b> Like the transaction, used by one thread at a time. Different recorded
 * transactions run fully concurrently.
 *
 * @param <K> the default map's key type
 * @param <V> the default map's value type
 */
public final class RecordedTransaction<K, V> implements AutoCloseable {
    /** A finished transaction's outcome. */
    enum Outcome {
        COMMITTED,
        ABORTED
    }

    private static final Object REMOVED = new Object();

    private final ValueOrigins origins;
    private final Transaction<K, V> tx;
    private final long id;
    private final Supplier<Comparator<?>> defaultOrder;

    /** The operations in order. Owner thread; read by history() after the workload (V4). */
    private final List<Object> ops = new ArrayList<>();
    /** Each written key's last value object, or REMOVED. Owner thread, as {@link #ops}. */
    private final Map<Slot, Object> lastWrite = new HashMap<>();

    /** Set by the owner thread when it learns the outcome; read by others (ValueOrigins V2). */
    private volatile Outcome outcome;
    /** Written before {@link #outcome} (its volatile store publishes it). */
    private long commitTs = -1;

    RecordedTransaction(ValueOrigins origins, Transaction<K, V> tx, long id) {
        this.origins = origins;
        this.tx = tx;
        this.id = id;
        this.defaultOrder = () -> tx.asMap().comparator();
    }

    // ---- reads ---------------------------------------------------------------------------------

    /**
     * Reads {@code key} of the default map ({@link Transaction#get}) and records the read.
     *
     * @param key the key
     * @return the value, or null if absent in this transaction
     * @throws NullPointerException if {@code key} is null
     * @throws ClassCastException if {@code key} cannot be compared with the map's keys
     * @throws IllegalStateException if the transaction has finished or the database is closed
     */
    public V get(K key) {
        V value = tx.get(key);
        recordRead(TxnRecord.DEFAULT_MAP, defaultOrder, key, value);
        return value;
    }

    /**
     * Whether {@code key} of the default map has a value in this transaction; records the read.
     *
     * @param key the key
     * @return true if {@link #get} would return a value
     * @throws NullPointerException if {@code key} is null
     * @throws ClassCastException if {@code key} cannot be compared with the map's keys
     * @throws IllegalStateException if the transaction has finished or the database is closed
     */
    public boolean containsKey(K key) {
        return get(key) != null;
    }

    /**
     * Reads {@code key} of the named map {@code map} ({@code transaction().map(map).get(key)}) and
     * records the read.
     *
     * @param map a handle of this transaction's database
     * @param key the key
     * @param <K2> the map's key type
     * @param <V2> the map's value type
     * @return the value, or null if absent in this transaction
     * @throws NullPointerException if an argument is null
     * @throws ClassCastException if {@code key} cannot be compared with the map's keys
     * @throws IllegalArgumentException if {@code map} belongs to another database
     * @throws IllegalStateException if the transaction has finished, the database is closed or
     *     the map was dropped
     */
    public <K2, V2> V2 get(NamedMap<K2, V2> map, K2 key) {
        Objects.requireNonNull(key, "key");
        V2 value = tx.map(map).get(key);
        recordRead(map.name(), map::comparator, key, value);
        return value;
    }

    /**
     * Whether {@code key} of the named map {@code map} has a value; records the read.
     *
     * @param map a handle of this transaction's database
     * @param key the key
     * @param <K2> the map's key type
     * @return true if {@link #get(NamedMap, Object)} would return a value
     * @throws NullPointerException if an argument is null
     * @throws ClassCastException if {@code key} cannot be compared with the map's keys
     * @throws IllegalArgumentException if {@code map} belongs to another database
     * @throws IllegalStateException if the transaction has finished, the database is closed or
     *     the map was dropped
     */
    public <K2> boolean containsKey(NamedMap<K2, ?> map, K2 key) {
        return get(map, key) != null;
    }

    /**
     * Reads the entries of the default map with keys in {@code [from, to)} (in the map's order)
     * and records the scan of the range and a read of each entry. In a {@code SERIALIZABLE}
     * transaction the whole range is in the read set, so a concurrent insert into it is caught.
     *
     * @param from the first key of the range, or null for the map's first key
     * @param to the key after the range, or null to scan to the map's end
     * @return a copy of the entries, in the map's order (modifying it changes nothing)
     * @throws ClassCastException if a bound cannot be compared with the map's keys
     * @throws IllegalArgumentException if {@code from} is after {@code to}
     * @throws IllegalStateException if the transaction has finished or the database is closed
     */
    public NavigableMap<K, V> scan(K from, K to) {
        return scan(TxnRecord.DEFAULT_MAP, tx.asMap(), from, to);
    }

    /**
     * Reads the entries of the named map {@code map} with keys in {@code [from, to)} (in the
     * map's order), as {@link #scan(Object, Object)} does for the default map.
     *
     * @param map a handle of this transaction's database
     * @param from the first key of the range, or null for the map's first key
     * @param to the key after the range, or null to scan to the map's end
     * @param <K2> the map's key type
     * @param <V2> the map's value type
     * @return a copy of the entries, in the map's order
     * @throws NullPointerException if {@code map} is null
     * @throws ClassCastException if a bound cannot be compared with the map's keys
     * @throws IllegalArgumentException if {@code from} is after {@code to}, or {@code map} belongs
     *     to another database
     * @throws IllegalStateException if the transaction has finished, the database is closed or
     *     the map was dropped
     */
    public <K2, V2> NavigableMap<K2, V2> scan(NamedMap<K2, V2> map, K2 from, K2 to) {
        return scan(map.name(), tx.map(map), from, to);
    }

    private <K2, V2> NavigableMap<K2, V2> scan(String map, NavigableMap<K2, V2> view, K2 from, K2 to) {
        NavigableMap<K2, V2> range;
        if (from == null) {
            range = to == null ? view : view.headMap(to, false);
        } else {
            range = to == null ? view.tailMap(from, true) : view.subMap(from, true, to, false);
        }
        @SuppressWarnings("unchecked")
        Comparator<Object> order =
                view.comparator() == null ? TxnRecord.naturalOrder() : (Comparator<Object>) view.comparator();
        ops.add(new ScanOp(map, from, to, order));
        TreeMap<K2, V2> copy = new TreeMap<>(view.comparator());
        for (Map.Entry<K2, V2> e : range.entrySet()) {
            copy.put(e.getKey(), e.getValue());
            recordRead(map, view::comparator, e.getKey(), e.getValue());
        }
        return Collections.unmodifiableNavigableMap(copy);
    }

    private void recordRead(String map, Supplier<Comparator<?>> order, Object key, Object value) {
        Slot slot = new Slot(map, origins.canonicalKey(map, order, key));
        if (lastWrite.containsKey(slot)) {
            return; // a read of its own write: no dependency (SerializationGraph G4)
        }
        ValueOrigins.Origin origin = value == null ? null : origins.read(this, map, slot.key(), value);
        ops.add(new ReadOp(slot, value, origin));
    }

    // ---- writes --------------------------------------------------------------------------------

    /**
     * Puts {@code value} into {@code key} of the default map ({@link Transaction#put}, a blind
     * write) and records the write.
     *
     * @param key the key
     * @param value the value: an object no other recorded transaction put into this key and no
     *     recorded read returned from it (see the class description)
     * @throws NullPointerException if {@code key} or {@code value} is null
     * @throws IllegalArgumentException if {@code value} is an object another recorded transaction
     *     (committed or still running) put into this key, or a recorded read returned from it;
     *     nothing is written then
     * @throws ClassCastException if {@code key} cannot be compared with the map's keys
     * @throws IllegalStateException if the transaction has finished or the database is closed
     */
    public void put(K key, V value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        recordWrite(TxnRecord.DEFAULT_MAP, defaultOrder, key, value, () -> tx.put(key, value));
    }

    /**
     * Puts {@code value} into {@code key} of the named map {@code map} ({@link
     * Transaction#put(NamedMap, Object, Object)}) and records the write.
     *
     * @param map a handle of this transaction's database
     * @param key the key
     * @param value the value: a new object, as for {@link #put(Object, Object)}
     * @param <K2> the map's key type
     * @param <V2> the map's value type
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code value} is an object another recorded transaction
     *     put into this key or a recorded read returned from it, or {@code map} belongs to another
     *     database
     * @throws ClassCastException if {@code key} cannot be compared with the map's keys
     * @throws IllegalStateException if the transaction has finished, the database is closed or
     *     the map was dropped
     */
    public <K2, V2> void put(NamedMap<K2, V2> map, K2 key, V2 value) {
        Objects.requireNonNull(map, "map");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        recordWrite(map.name(), map::comparator, key, value, () -> tx.put(map, key, value));
    }

    /**
     * Removes {@code key} from the default map ({@link Transaction#remove}, a blind write) and
     * records the removal: a write of a dead version, whether or not the key was present.
     *
     * @param key the key
     * @throws NullPointerException if {@code key} is null
     * @throws ClassCastException if {@code key} cannot be compared with the map's keys
     * @throws IllegalStateException if the transaction has finished or the database is closed
     */
    public void remove(K key) {
        Objects.requireNonNull(key, "key");
        recordWrite(TxnRecord.DEFAULT_MAP, defaultOrder, key, null, () -> tx.remove(key));
    }

    /**
     * Removes {@code key} from the named map {@code map} ({@link Transaction#remove(NamedMap,
     * Object)}) and records the removal.
     *
     * @param map a handle of this transaction's database
     * @param key the key
     * @param <K2> the map's key type
     * @throws NullPointerException if an argument is null
     * @throws ClassCastException if {@code key} cannot be compared with the map's keys
     * @throws IllegalArgumentException if {@code map} belongs to another database
     * @throws IllegalStateException if the transaction has finished, the database is closed or
     *     the map was dropped
     */
    public <K2> void remove(NamedMap<K2, ?> map, K2 key) {
        Objects.requireNonNull(map, "map");
        Objects.requireNonNull(key, "key");
        recordWrite(map.name(), map::comparator, key, null, () -> tx.remove(map, key));
    }

    private void recordWrite(String map, Supplier<Comparator<?>> order, Object key, Object value, Runnable write) {
        Slot slot = new Slot(map, origins.canonicalKey(map, order, key));
        ValueOrigins.Origin registered = value == null ? null : origins.put(this, map, slot.key(), value); // V1
        try {
            write.run();
        } catch (RuntimeException | Error e) {
            if (registered != null) {
                origins.unput(registered, this);
            }
            throw e;
        }
        ops.add(new WriteOp(slot, value));
        lastWrite.put(slot, value == null ? REMOVED : value);
    }

    // ---- completion ----------------------------------------------------------------------------

    /**
     * Commits ({@link Transaction#commit()}) and records the outcome: committed with its commit
     * timestamp, or aborted if the commit was refused.
     *
     * @throws SerializationFailureException if the commit would break isolation (recorded as
     *     aborted)
     * @throws dev.varve.TransactionException if the commit log failed (recorded as committed: the
     *     commit is visible in memory)
     * @throws IllegalStateException if the transaction has finished or the database is closed
     */
    public void commit() {
        try {
            tx.commit();
        } finally {
            settle();
        }
    }

    /**
     * Rolls back ({@link Transaction#rollback()}) and records the transaction as aborted, unless
     * it had committed.
     *
     * @throws IllegalStateException if another thread is committing it right now
     */
    public void rollback() {
        try {
            tx.rollback();
        } finally {
            settle();
        }
    }

    /**
     * Closes ({@link Transaction#close()}: rolls back if still active) and records the outcome.
     *
     * @throws IllegalStateException if another thread is committing it right now
     */
    @Override
    public void close() {
        try {
            tx.close();
        } finally {
            settle();
        }
    }

    /**
     * Learns the outcome of a finished transaction: on the owner thread, or on the thread of
     * history() after the workload (which the owner's finish happens-before).
     */
    void settle() {
        if (outcome == null && !tx.isActive()) {
            Outcome o = probeOutcome();
            if (o == Outcome.COMMITTED) {
                commitTs = tx.commitTimestamp();
            }
            outcome = o; // publishes commitTs
        }
    }

    /**
     * The outcome as known now: set by this wrapper, or read from the transaction (see
     * ValueOrigins' tolerated race); null while it runs.
     */
    Outcome probeOutcome() {
        Outcome o = outcome;
        if (o != null) {
            return o;
        }
        if (tx.isActive()) {
            return null;
        }
        try {
            tx.commitTimestamp();
            return Outcome.COMMITTED;
        } catch (IllegalStateException e) {
            return Outcome.ABORTED; // NOTE: or being committed by another thread (ValueOrigins V4)
        }
    }

    // ---- properties ----------------------------------------------------------------------------

    /**
     * This transaction's id in the recorded history: 1, 2, 3, ... in the order the recorder
     * began or wrapped the transactions.
     *
     * @return the id, as printed in a cycle ({@code "T3"})
     */
    public long id() {
        return id;
    }

    /**
     * The wrapped transaction. Operations made on it directly are not recorded: use it for what
     * the wrapper does not offer and that does not read or write (its isolation, say), or accept
     * that the history misses them.
     *
     * @return the transaction
     */
    public Transaction<K, V> transaction() {
        return tx;
    }

    /**
     * The isolation level ({@link Transaction#isolation()}).
     *
     * @return the isolation level
     */
    public Isolation isolation() {
        return tx.isolation();
    }

    /**
     * Whether the transaction can still be used ({@link Transaction#isActive()}).
     *
     * @return true while active
     */
    public boolean isActive() {
        return tx.isActive();
    }

    /**
     * The snapshot timestamp ({@link Transaction#snapshotTimestamp()}).
     *
     * @return the snapshot timestamp
     */
    public long snapshotTimestamp() {
        return tx.snapshotTimestamp();
    }

    /**
     * The commit timestamp ({@link Transaction#commitTimestamp()}).
     *
     * @return the commit timestamp
     * @throws IllegalStateException if the transaction has not committed
     */
    public long commitTimestamp() {
        return tx.commitTimestamp();
    }

    @Override
    public String toString() {
        return "RecordedTransaction[T" + id + ", " + tx + "]";
    }

    // ---- the record (HistoryRecorder#history) --------------------------------------------------

    /** The last value object this transaction wrote to {@code slot}, REMOVED, or null if none. */
    Object lastWrite(Slot slot) {
        return lastWrite.get(slot);
    }

    /**
     * This transaction as a {@link TxnRecord}, its reads resolved to versions (ValueOrigins V4);
     * null if it has not finished.
     *
     * @throws IllegalStateException if a read cannot be resolved: two committed writers of the
     *     object, or a writer that has not finished
     */
    TxnRecord toRecord() {
        settle();
        Outcome o = outcome;
        if (o == null) {
            return null;
        }
        TxnRecord.Builder b = o == Outcome.COMMITTED
                ? TxnRecord.committed(id, tx.snapshotTimestamp(), commitTs)
                : TxnRecord.aborted(id, tx.snapshotTimestamp());
        for (Object op : ops) {
            if (op instanceof WriteOp) {
                WriteOp w = (WriteOp) op;
                if (w.value == null) {
                    b.remove(w.slot.map(), w.slot.key());
                } else {
                    b.write(w.slot.map(), w.slot.key());
                }
            } else if (op instanceof ScanOp) {
                ScanOp s = (ScanOp) op;
                b.scan(s.map, s.from, s.to, s.order);
            } else if (o == Outcome.COMMITTED) { // an aborted transaction's reads do not matter
                resolve((ReadOp) op, b);
            }
        }
        return b.build();
    }

    private void resolve(ReadOp r, TxnRecord.Builder b) {
        String map = r.slot.map();
        Object key = r.slot.key();
        if (r.value == null) {
            b.readAbsent(map, key);
            return;
        }
        RecordedTransaction<?, ?> last = null;
        RecordedTransaction<?, ?> overwritten = null;
        RecordedTransaction<?, ?> aborted = null;
        for (RecordedTransaction<?, ?> w : r.origin.writers()) {
            w.settle();
            Outcome wo = w.outcome;
            if (wo == null) {
                throw new IllegalStateException("T" + id + " read " + r.slot + " as written by T" + w.id
                        + ", which has not finished: check the history after every recorded transaction finished");
            } else if (wo == Outcome.ABORTED) {
                aborted = w;
            } else if (w.lastWrite(r.slot) == r.value) {
                if (last != null) {
                    throw new IllegalStateException("T" + last.id + " and T" + w.id + " both committed the very object"
                            + " that T" + id + " read from " + r.slot + ": the version it saw is ambiguous (a put"
                            + " raced with the other's commit; every put needs a new object)");
                }
                last = w;
            } else {
                overwritten = w;
            }
        }
        if (last != null) {
            b.read(map, key, last.id);
        } else if (overwritten != null) {
            b.readIntermediate(map, key, overwritten.id);
        } else if (aborted != null) {
            b.read(map, key, aborted.id); // G1a: History#check reports it
        } else {
            b.read(map, key, TxnRecord.INITIAL);
        }
    }

    private static final class ReadOp {
        final Slot slot;
        final Object value;
        final ValueOrigins.Origin origin;

        ReadOp(Slot slot, Object value, ValueOrigins.Origin origin) {
            this.slot = slot;
            this.value = value;
            this.origin = origin;
        }
    }

    private static final class WriteOp {
        final Slot slot;
        /** The value object, or null for a removal. */
        final Object value;

        WriteOp(Slot slot, Object value) {
            this.slot = slot;
            this.value = value;
        }
    }

    private static final class ScanOp {
        final String map;
        final Object from;
        final Object to;
        final Comparator<Object> order;

        ScanOp(String map, Object from, Object to, Comparator<Object> order) {
            this.map = map;
            this.from = from;
            this.to = to;
            this.order = order;
        }
    }
}
