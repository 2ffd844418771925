// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench;

import dev.varve.Database;
import dev.varve.Isolation;
import dev.varve.SerializationFailureException;
import dev.varve.Transaction;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SingleWriterRecorder;

/**
 * One worker thread's counters: commits per transaction type, aborts per reason, rollbacks the
 * workload asked for, and a latency recorder. Written by its thread only; read by the monitor
 * thread (racy but never torn: atomic longs and HdrHistogram's interval-swapping recorder).
 */
public final class Counters {
    /** Slot of write-write aborts in {@link #aborts}. */
    static final int WRITE_WRITE = 0;
    /** Slot of dangerous-structure aborts. */
    static final int DANGEROUS_STRUCTURE = 1;

    final AtomicLongArray committed;
    final AtomicLongArray aborts = new AtomicLongArray(2);
    final AtomicLongArray rollbacks;
    private final SingleWriterRecorder latency = new SingleWriterRecorder(3);
    /** The same latencies, by transaction type. */
    private final SingleWriterRecorder[] latencyByType;

    /**
     * Creates counters for {@code types} transaction types.
     *
     * @param types how many transaction types the workload has
     */
    public Counters(int types) {
        this.committed = new AtomicLongArray(types);
        this.rollbacks = new AtomicLongArray(types);
        this.latencyByType = new SingleWriterRecorder[types];
        for (int t = 0; t < types; t++) {
            latencyByType[t] = new SingleWriterRecorder(3);
        }
    }

    /** Counts a commit of transaction type {@code type} that took {@code nanos} (retries included). */
    public void committed(int type, long nanos) {
        committed.incrementAndGet(type);
        latency.recordValue(Math.max(1, nanos));
        latencyByType[type].recordValue(Math.max(1, nanos));
    }

    /** Counts a rollback the workload chose (such as TPC-C's 1 % NewOrder rollbacks). */
    public void rolledBack(int type, long nanos) {
        rollbacks.incrementAndGet(type);
        latency.recordValue(Math.max(1, nanos));
        latencyByType[type].recordValue(Math.max(1, nanos));
    }

    /** Counts a serialization failure. */
    public void aborted(SerializationFailureException e) {
        aborts.incrementAndGet(
                e.reason() == SerializationFailureException.Reason.WRITE_WRITE_CONFLICT
                        ? WRITE_WRITE
                        : DANGEROUS_STRUCTURE);
    }

    /** The latencies recorded since the last call (the first call's interval starts at creation). */
    Histogram intervalLatency() {
        return latency.getIntervalHistogram();
    }

    /** The latencies of type {@code type} recorded since the last call for that type. */
    Histogram intervalLatency(int type) {
        return latencyByType[type].getIntervalHistogram();
    }

    long committedTotal() {
        long n = 0;
        for (int i = 0; i < committed.length(); i++) {
            n += committed.get(i);
        }
        return n;
    }

    long abortsTotal() {
        return aborts.get(WRITE_WRITE) + aborts.get(DANGEROUS_STRUCTURE);
    }

    /**
     * Runs {@code body} in a transaction at {@code isolation} and commits it (unless the body
     * finished the transaction itself), retrying with a fresh snapshot after each serialization
     * failure, which is counted. After a few failures in a row it backs off briefly so two
     * threads cannot livelock on one hot key.
     *
     * @param db the database
     * @param isolation the isolation level
     * @param body the transaction body; may run several times
     * @param <K> key type
     * @param <V> value type
     * @param <R> result type
     * @return what the body returned in the attempt that committed
     */
    public <K, V, R> R transact(Database<K, V> db, Isolation isolation, Function<Transaction<K, V>, R> body) {
        for (int attempt = 1; ; attempt++) {
            try (Transaction<K, V> tx = db.begin(isolation)) {
                R result = body.apply(tx);
                if (tx.isActive()) {
                    tx.commit();
                }
                return result;
            } catch (SerializationFailureException e) {
                aborted(e);
                if (attempt > 2) {
                    LockSupport.parkNanos(1_000L << Math.min(attempt - 3, 10));
                }
            }
        }
    }
}
