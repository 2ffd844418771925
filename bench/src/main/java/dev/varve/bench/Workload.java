// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench;

import dev.varve.Backup;
import dev.varve.Database;
import dev.varve.WatchRange;
import java.nio.file.Path;
import java.util.List;

/**
 * One benchmark workload: it owns its database, loads it, hands each worker thread a {@link
 * Worker}, may check invariants while the run goes on, and checks them again afterwards.
 */
public interface Workload extends AutoCloseable {

    /** A one-line description for the report, e.g. {@code "bank: 100000 accounts, uniform"}. */
    String describe();

    /** Transaction types counted separately in the report (at least one). */
    List<String> transactionTypes();

    /** Creates and populates the database; called once before any worker runs. */
    void load();

    /**
     * The body of worker thread {@code index}: each {@link Worker#runOne} call runs one logical
     * transaction to its end (commit, or a rollback the workload asked for), retrying
     * serialization failures itself.
     *
     * @param index the thread index, from 0
     * @param seed the thread's seed
     * @param counters where the thread counts commits and aborts
     * @return the worker
     */
    Worker worker(int index, long seed, Counters counters);

    /**
     * Checks invariants on a live database while workers run (about once a second, from the
     * monitor thread); does nothing by default.
     *
     * @return the number of violations found (0 when all hold)
     */
    default long checkDuringRun() {
        return 0;
    }

    /** What {@link #checkDuringRun} checks, or null if nothing. */
    default String duringRunDescription() {
        return null;
    }

    /** The consistency checks after the run, on a quiet database. */
    List<Check> checkAfterRun();

    /** The database, for its statistics. */
    Database<?, ?> database();

    /**
     * Key ranges that together cover every key the workload writes: what each {@code --watchers}
     * subscriber watches. By default the whole default map.
     *
     * @return the ranges, at least one
     */
    default List<WatchRange> watchedRanges() {
        return List.of(WatchRange.ofDefaultMap(null, null));
    }

    /**
     * Writes a backup of the loaded database into {@code target} (what {@code --backup-every}
     * runs); thread-safe, while workers run. In memory, with the workload's codecs.
     *
     * @param target an absent or empty directory
     * @return what was written
     */
    Backup backup(Path target);

    /** Closes the database and deletes temporary files. */
    @Override
    void close();

    /** One worker thread's transaction loop body. */
    interface Worker {
        /** Runs one transaction to its end, recording its type in the counters. */
        void runOne();
    }

    /**
     * The outcome of a consistency check.
     *
     * @param name what was checked
     * @param passed whether it held
     * @param detail numbers behind it, or the first violation
     */
    record Check(String name, boolean passed, String detail) {}
}
