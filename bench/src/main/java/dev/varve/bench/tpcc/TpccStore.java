// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench.tpcc;

import dev.varve.Database;
import dev.varve.Isolation;
import dev.varve.Snapshot;
import dev.varve.Transaction;
import dev.varve.WatchRange;
import dev.varve.bench.Counters;
import dev.varve.bench.DurabilityMode;
import dev.varve.bench.tpcc.TpccRows.Row;
import java.util.List;
import java.util.function.Function;

/**
 * Where the TPC-C tables live in a Varve database, behind typed tables ({@link TpccTables}) so
 * that the workload is written once for every layout ({@link Layout}): one named map per table
 * ({@link NamedMapStore}), or every table in the database's default map under table-tagged keys
 * ({@link PrefixedStore}), the layout of durable runs: a durable named map needs key and value
 * codecs, and the TPC-C rows have none yet.
 *
 * <p>Thread-safe: any number of threads may begin transactions. The store does not own the
 * database: whoever opened it closes it.
 */
abstract class TpccStore {
    /** How the tables are laid out in the database. */
    enum Layout {
        /** Each table is a named map of its own row type, keyed by its own columns. */
        NAMED_MAPS("a named map per table"),
        /** Every table in the default map ({@code Database<Long, Row>}), keys tagged with the table. */
        PREFIXED("one map, keys tagged by table");

        private final String description;

        Layout(String description) {
            this.description = description;
        }

        /** For the report, e.g. {@code "a named map per table"}. */
        String describe() {
            return description;
        }

        /**
         * The layout a database of this durability gets: named maps in memory, the single map
         * when durable (a durable {@code openMap} needs codecs, which the rows do not have yet).
         *
         * @param durability the run's durability
         * @return the layout
         */
        static Layout of(DurabilityMode durability) {
            return durability == DurabilityMode.MEMORY ? NAMED_MAPS : PREFIXED;
        }

        /**
         * The layout {@code --tpcc-layout} names, or the durability's default when it names none.
         *
         * @param name {@code "maps"}, {@code "single"} or null
         * @param durability the run's durability
         * @return the layout
         * @throws IllegalArgumentException for {@code "maps"} with a durable database
         */
        static Layout of(String name, DurabilityMode durability) {
            if (name == null) {
                return of(durability);
            }
            if (name.equals("single")) {
                return PREFIXED;
            }
            if (durability != DurabilityMode.MEMORY) {
                throw new IllegalArgumentException(
                        "--tpcc-layout maps needs --durability memory: the TPC-C rows have no codecs yet");
            }
            return NAMED_MAPS;
        }

        /**
         * Lays out the tables in {@code db} (opens the named maps, for {@link #NAMED_MAPS}).
         *
         * @param db an empty database
         * @return the store
         * @throws UnsupportedOperationException for {@link #NAMED_MAPS} in a durable database
         */
        TpccStore open(Database<Long, Row> db) {
            return this == NAMED_MAPS ? new NamedMapStore(db) : new PrefixedStore(db);
        }
    }

    private final Database<Long, Row> db;

    /**
     * A store in {@code db}.
     *
     * @param db the database (its default map is the single map of {@link Layout#PREFIXED}, and
     *     stays empty in {@link Layout#NAMED_MAPS})
     */
    TpccStore(Database<Long, Row> db) {
        this.db = db;
    }

    /** The layout. */
    abstract Layout layout();

    /** Key ranges covering every table: the default map (the single-map layout). */
    List<WatchRange> watchedRanges() {
        return List.of(WatchRange.ofDefaultMap(null, null));
    }

    /** The tables as {@code tx} reads and writes them. */
    abstract TpccTables tables(Transaction<Long, Row> tx);

    /** The tables as {@code snapshot} reads them. */
    abstract TpccTables tables(Snapshot<Long, Row> snapshot);

    /** The database. */
    final Database<Long, Row> database() {
        return db;
    }

    /**
     * The tables in a new transaction; commit it with {@link TpccTables#commit()}, end it with
     * {@link TpccTables#close()}.
     *
     * @param isolation the transaction's isolation
     * @return the tables
     */
    final TpccTables begin(Isolation isolation) {
        return tables(db.begin(isolation));
    }

    /**
     * Runs {@code body} in a transaction and commits it, retrying serialization failures (see
     * {@link Counters#transact}); each attempt gets the tables of its own transaction.
     *
     * @param counters the worker's counters (aborts are counted there)
     * @param isolation the isolation level
     * @param body the transaction body; may run several times
     * @param <R> result type
     * @return what the body returned in the attempt that committed
     */
    final <R> R transact(Counters counters, Isolation isolation, Function<TpccTables, R> body) {
        return counters.transact(db, isolation, tx -> body.apply(tables(tx)));
    }

    /**
     * The tables at a new snapshot of the latest commit (read-only); close them when done.
     *
     * @return the tables
     */
    final TpccTables snapshot() {
        return tables(db.snapshot());
    }
}
