package dev.varve.bench.tpcc;

import dev.varve.Snapshot;
import dev.varve.Transaction;
import dev.varve.bench.tpcc.TpccRows.Customer;
import dev.varve.bench.tpcc.TpccRows.CustomerName;
import dev.varve.bench.tpcc.TpccRows.District;
import dev.varve.bench.tpcc.TpccRows.Item;
import dev.varve.bench.tpcc.TpccRows.Order;
import dev.varve.bench.tpcc.TpccRows.OrderLine;
import dev.varve.bench.tpcc.TpccRows.Row;
import dev.varve.bench.tpcc.TpccRows.Stock;
import dev.varve.bench.tpcc.TpccRows.Warehouse;

/**
 * Typed reads of the TPC-C tables: the one place where a {@link Row} read from the shared key
 * space is cast to its table's row type. Each row type has one cast method ({@code
 * warehouse(Row)}, ...), and the point reads ({@code warehouse(tx, key)}, ...) go through it; the
 * transactions and checks call these instead of casting.
 *
 * <p>Keys are built by {@link TpccKeys}; a key of another table, or of a row that is missing,
 * gives what the plain cast would ({@link ClassCastException}, or null). Stateless; thread-safe
 * as far as the {@link Transaction} or {@link Snapshot} passed in is.
 */
final class TpccTables {
    private TpccTables() {}

    // ---- one cast per row type -------------------------------------------------------------

    static Warehouse warehouse(Row row) {
        return (Warehouse) row;
    }

    static District district(Row row) {
        return (District) row;
    }

    static Customer customer(Row row) {
        return (Customer) row;
    }

    /** The by-last-name index entry (a value of a {@link TpccKeys#customerByName} range). */
    static CustomerName customerName(Row row) {
        return (CustomerName) row;
    }

    static Order order(Row row) {
        return (Order) row;
    }

    static OrderLine orderLine(Row row) {
        return (OrderLine) row;
    }

    static Item item(Row row) {
        return (Item) row;
    }

    static Stock stock(Row row) {
        return (Stock) row;
    }

    // ---- point reads, by a key from the TpccKeys method of the same name ---------------------

    static Warehouse warehouse(Transaction<Long, Row> tx, long key) {
        return warehouse(tx.get(key));
    }

    static Warehouse warehouse(Snapshot<Long, Row> snapshot, long key) {
        return warehouse(snapshot.get(key));
    }

    static District district(Transaction<Long, Row> tx, long key) {
        return district(tx.get(key));
    }

    static District district(Snapshot<Long, Row> snapshot, long key) {
        return district(snapshot.get(key));
    }

    static Customer customer(Transaction<Long, Row> tx, long key) {
        return customer(tx.get(key));
    }

    static Order order(Transaction<Long, Row> tx, long key) {
        return order(tx.get(key));
    }

    static OrderLine orderLine(Transaction<Long, Row> tx, long key) {
        return orderLine(tx.get(key));
    }

    /** The ITEM row, or null for an unused item number (NewOrder's rollback, §2.4.2.3). */
    static Item item(Transaction<Long, Row> tx, long key) {
        return item(tx.get(key));
    }

    static Stock stock(Transaction<Long, Row> tx, long key) {
        return stock(tx.get(key));
    }
}
