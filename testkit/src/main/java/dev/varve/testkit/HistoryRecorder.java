// SPDX-License-Identifier: Apache-2.0
package dev.varve.testkit;

import dev.varve.Database;
import dev.varve.Isolation;
import dev.varve.RetryPolicy;
import dev.varve.SerializationFailureException;
import dev.varve.Transaction;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Records a workload's transactions on one {@link Database}, and checks that the committed ones
 * were serializable: run the workload through {@link #transact} (or {@link #begin}) with the
 * {@link RecordedTransaction}'s methods, then call {@link #check()}.
 *
 * <pre>{@code
 * HistoryRecorder<String, Shift> recorder = HistoryRecorder.of(db);
 * // on every thread of the workload:
 * recorder.transact(Isolation.SERIALIZABLE, tx -> {
 *     if (tx.get("alice").onCall() && tx.get("bob").onCall()) {
 *         tx.put("alice", new Shift(false));
 *     }
 *     return null;
 * });
 * // after joining them:
 * recorder.check().assertSerializable();
 * }</pre>
 *
 * <p>Each recorded transaction's reads name the version they saw by the identity of the value
 * object they returned, so every put needs a new object (see {@link RecordedTransaction}); the
 * history is checked by {@link History#check()} (Adya's direct serialization graph). Record every
 * write of the workload: a value written without the recorder looks like a key's initial version.
 *
 * <p><b>Thread-safety.</b> Thread-safe: any number of threads record at once, each with its own
 * transactions. Call {@link #history()} or {@link #check()} after every recorded transaction
 * finished (after joining the workload's threads): transactions still running are left out, and a
 * read of a write of one is refused. The recorder keeps every value object put or read (the
 * identities), so it is meant for test workloads, not for production traffic.
 *
 * @param <K> the database's key type
 * @param <V> the database's value type
 */
public final class HistoryRecorder<K, V> {
    private final Database<K, V> db;
    private final AtomicLong ids = new AtomicLong(TxnRecord.INITIAL);
    private final ConcurrentLinkedQueue<RecordedTransaction<K, V>> recorded = new ConcurrentLinkedQueue<>();
    private final ValueOrigins origins = new ValueOrigins();

    private HistoryRecorder(Database<K, V> db) {
        this.db = db;
    }

    /**
     * A recorder of transactions on {@code db}. Values in {@code db} now are the initial versions.
     *
     * @param db an in-memory database, or a durable one whose values the workload puts (values
     *     recovered from a log are new objects, so they are initial versions too)
     * @param <K> the database's key type
     * @param <V> the database's value type
     * @return a new recorder with an empty history
     * @throws NullPointerException if {@code db} is null
     */
    public static <K, V> HistoryRecorder<K, V> of(Database<K, V> db) {
        return new HistoryRecorder<>(Objects.requireNonNull(db, "db"));
    }

    /**
     * The database this recorder records.
     *
     * @return the database
     */
    public Database<K, V> database() {
        return db;
    }

    /**
     * Begins a recorded {@link Isolation#SERIALIZABLE} transaction ({@link Database#begin()}).
     *
     * @return the transaction; use it in try-with-resources and commit it with {@link
     *     RecordedTransaction#commit()}
     * @throws IllegalStateException if the database is closed
     */
    public RecordedTransaction<K, V> begin() {
        return begin(Isolation.SERIALIZABLE);
    }

    /**
     * Begins a recorded transaction at {@code isolation} ({@link Database#begin(Isolation)}).
     *
     * @param isolation the isolation level
     * @return the transaction
     * @throws NullPointerException if {@code isolation} is null
     * @throws IllegalStateException if the database is closed
     */
    public RecordedTransaction<K, V> begin(Isolation isolation) {
        return record(db.begin(isolation));
    }

    /**
     * Records {@code tx}, a transaction of this recorder's database that has done nothing yet:
     * for transactions begun elsewhere, such as inside {@code db.transact(tx -> ...)} or {@code
     * db.transactAsync}. Its outcome is recorded when it is committed or closed through the
     * wrapper, or else read from {@code tx} when the history is taken.
     *
     * @param tx an active transaction of {@link #database()} with no reads or writes yet
     * @return the recorded transaction
     * @throws NullPointerException if {@code tx} is null
     * @throws IllegalStateException if {@code tx} has finished
     */
    public RecordedTransaction<K, V> record(Transaction<K, V> tx) {
        Objects.requireNonNull(tx, "tx");
        if (!tx.isActive()) {
            throw new IllegalStateException("cannot record " + tx + ": it has finished");
        }
        RecordedTransaction<K, V> r = new RecordedTransaction<>(origins, tx, ids.incrementAndGet());
        recorded.add(r);
        return r;
    }

    /**
     * Runs {@code body} in a recorded {@link Isolation#SERIALIZABLE} transaction and commits it,
     * retried as {@link Database#transact(Function)} retries (each attempt is a transaction of its
     * own in the history; the aborted ones add no dependency).
     *
     * @param body the transaction body; it may run several times
     * @param <R> the result type
     * @return what {@code body} returned in the attempt that committed
     * @throws NullPointerException if {@code body} is null
     * @throws SerializationFailureException the last failure, when every attempt failed
     * @throws RuntimeException whatever {@code body} threw (the transaction is rolled back)
     * @throws IllegalStateException if the database is closed
     */
    public <R> R transact(Function<? super RecordedTransaction<K, V>, ? extends R> body) {
        return transact(Isolation.SERIALIZABLE, body);
    }

    /**
     * Like {@link #transact(Function)} at the given isolation level ({@link
     * Database#transact(Isolation, Function)}).
     *
     * @param isolation the isolation level
     * @param body the transaction body; it may run several times
     * @param <R> the result type
     * @return what {@code body} returned in the attempt that committed
     * @throws NullPointerException if an argument is null
     * @throws SerializationFailureException the last failure, when every attempt failed
     * @throws RuntimeException whatever {@code body} threw
     * @throws IllegalStateException if the database is closed
     */
    public <R> R transact(Isolation isolation, Function<? super RecordedTransaction<K, V>, ? extends R> body) {
        Objects.requireNonNull(isolation, "isolation");
        Objects.requireNonNull(body, "body");
        return db.transact(isolation, tx -> attempt(tx, body));
    }

    /**
     * Like {@link #transact(Function)} with a retry policy and an isolation level ({@link
     * Database#transact(RetryPolicy, Isolation, Function)}).
     *
     * @param retry the retry policy for this call
     * @param isolation the isolation level
     * @param body the transaction body; it may run several times
     * @param <R> the result type
     * @return what {@code body} returned in the attempt that committed
     * @throws NullPointerException if an argument is null
     * @throws SerializationFailureException the last failure, when every attempt failed
     * @throws RuntimeException whatever {@code body} threw
     * @throws IllegalStateException if the database is closed
     */
    public <R> R transact(
            RetryPolicy retry, Isolation isolation, Function<? super RecordedTransaction<K, V>, ? extends R> body) {
        Objects.requireNonNull(body, "body");
        return db.transact(retry, isolation, tx -> attempt(tx, body));
    }

    /** One attempt of a transact body: recorded, committed through the wrapper, settled. */
    private <R> R attempt(Transaction<K, V> tx, Function<? super RecordedTransaction<K, V>, ? extends R> body) {
        RecordedTransaction<K, V> r = record(tx);
        try {
            R result = body.apply(r);
            if (tx.isActive()) {
                r.commit();
            }
            return result;
        } finally {
            if (tx.isActive()) {
                r.close(); // the body threw: roll back now, so the outcome is recorded
            }
            r.settle();
        }
    }

    /**
     * The recorded history: every finished transaction, committed and aborted, with each read
     * resolved to the version it saw. Call it after the workload finished.
     *
     * @return a new history, in the order of the transactions' ids
     * @throws IllegalStateException if a committed transaction read a value put by a transaction
     *     that has not finished, or by two committed ones (which the recorder's puts refuse,
     *     unless a put raced with the other's commit)
     */
    public History history() {
        List<RecordedTransaction<K, V>> all = new ArrayList<>(recorded);
        all.sort(Comparator.comparingLong(RecordedTransaction::id));
        History history = new History();
        for (RecordedTransaction<K, V> r : all) {
            TxnRecord record = r.toRecord();
            if (record != null) {
                history.add(record);
            }
        }
        return history;
    }

    /**
     * Checks the recorded history: {@code history().check()}.
     *
     * @return the verdict
     * @throws IllegalStateException see {@link #history()}
     */
    public CheckResult check() {
        return history().check();
    }
}
