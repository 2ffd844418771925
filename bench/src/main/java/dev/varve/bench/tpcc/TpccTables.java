// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench.tpcc;

import dev.varve.Snapshot;
import dev.varve.Transaction;
import dev.varve.bench.tpcc.TpccRows.Customer;
import dev.varve.bench.tpcc.TpccRows.CustomerName;
import dev.varve.bench.tpcc.TpccRows.District;
import dev.varve.bench.tpcc.TpccRows.History;
import dev.varve.bench.tpcc.TpccRows.Item;
import dev.varve.bench.tpcc.TpccRows.NewOrder;
import dev.varve.bench.tpcc.TpccRows.Order;
import dev.varve.bench.tpcc.TpccRows.OrderByCustomer;
import dev.varve.bench.tpcc.TpccRows.OrderLine;
import dev.varve.bench.tpcc.TpccRows.Row;
import dev.varve.bench.tpcc.TpccRows.Stock;
import dev.varve.bench.tpcc.TpccRows.Warehouse;

/**
 * The TPC-C tables of one transaction or one snapshot, each a typed {@link TpccTable}: what the
 * workload's transactions, loader and checks are written against, whatever the layout ({@link
 * TpccStore}). A table is opened at its first use in the transaction (a transaction that never
 * touches a table's map leaves it out of its commit) and the same table is returned afterwards.
 *
 * <p>Used by one thread at a time, like its transaction; valid until the transaction finishes or
 * the snapshot is closed.
 */
abstract class TpccTables implements AutoCloseable {
    private final Transaction<Long, Row> tx;
    private final Snapshot<Long, Row> snapshot;

    private TpccTable<Warehouse> warehouse;
    private TpccTable<District> district;
    private TpccTable<Customer> customer;
    private TpccTable<CustomerName> customerByName;
    private TpccTable<History> history;
    private TpccTable<NewOrder> newOrder;
    private TpccTable<Order> order;
    private TpccTable<OrderByCustomer> orderByCustomer;
    private TpccTable<OrderLine> orderLine;
    private TpccTable<Item> item;
    private TpccTable<Stock> stock;

    /**
     * The tables of {@code tx}, or of {@code snapshot} (exactly one is not null).
     *
     * @param tx the transaction, or null
     * @param snapshot the snapshot, or null
     */
    TpccTables(Transaction<Long, Row> tx, Snapshot<Long, Row> snapshot) {
        if ((tx == null) == (snapshot == null)) {
            throw new IllegalArgumentException("tables read either a transaction or a snapshot");
        }
        this.tx = tx;
        this.snapshot = snapshot;
    }

    /** The transaction, or null for a snapshot's tables. */
    final Transaction<Long, Row> transaction() {
        return tx;
    }

    /** The snapshot, or null for a transaction's tables. */
    final Snapshot<Long, Row> snapshot() {
        return snapshot;
    }

    // ---- the tables --------------------------------------------------------------------------

    final TpccTable<Warehouse> warehouse() {
        if (warehouse == null) {
            warehouse = openWarehouse();
        }
        return warehouse;
    }

    final TpccTable<District> district() {
        if (district == null) {
            district = openDistrict();
        }
        return district;
    }

    final TpccTable<Customer> customer() {
        if (customer == null) {
            customer = openCustomer();
        }
        return customer;
    }

    /** The customers-by-last-name index (Silo's customer_name_idx). */
    final TpccTable<CustomerName> customerByName() {
        if (customerByName == null) {
            customerByName = openCustomerByName();
        }
        return customerByName;
    }

    final TpccTable<History> history() {
        if (history == null) {
            history = openHistory();
        }
        return history;
    }

    final TpccTable<NewOrder> newOrder() {
        if (newOrder == null) {
            newOrder = openNewOrder();
        }
        return newOrder;
    }

    final TpccTable<Order> order() {
        if (order == null) {
            order = openOrder();
        }
        return order;
    }

    /** The orders-by-customer index (Silo's oorder_c_id_idx). */
    final TpccTable<OrderByCustomer> orderByCustomer() {
        if (orderByCustomer == null) {
            orderByCustomer = openOrderByCustomer();
        }
        return orderByCustomer;
    }

    final TpccTable<OrderLine> orderLine() {
        if (orderLine == null) {
            orderLine = openOrderLine();
        }
        return orderLine;
    }

    final TpccTable<Item> item() {
        if (item == null) {
            item = openItem();
        }
        return item;
    }

    final TpccTable<Stock> stock() {
        if (stock == null) {
            stock = openStock();
        }
        return stock;
    }

    // ---- the layout's side: one opener per table ----------------------------------------------

    abstract TpccTable<Warehouse> openWarehouse();

    abstract TpccTable<District> openDistrict();

    abstract TpccTable<Customer> openCustomer();

    abstract TpccTable<CustomerName> openCustomerByName();

    abstract TpccTable<History> openHistory();

    abstract TpccTable<NewOrder> openNewOrder();

    abstract TpccTable<Order> openOrder();

    abstract TpccTable<OrderByCustomer> openOrderByCustomer();

    abstract TpccTable<OrderLine> openOrderLine();

    abstract TpccTable<Item> openItem();

    abstract TpccTable<Stock> openStock();

    // ---- the transaction ----------------------------------------------------------------------

    /**
     * Commits the transaction (every table's writes at once).
     *
     * @throws dev.varve.SerializationFailureException if the commit would break isolation
     * @throws IllegalStateException for a snapshot's tables, or a finished transaction
     */
    final void commit() {
        if (tx == null) {
            throw new IllegalStateException("a snapshot's tables have no transaction to commit");
        }
        tx.commit();
    }

    /** Rolls the transaction back; does nothing for a snapshot's tables (see {@link #close()}). */
    final void rollback() {
        if (tx != null) {
            tx.rollback();
        }
    }

    /** Ends the transaction (rolling it back if still active) or closes the snapshot. Idempotent. */
    @Override
    public final void close() {
        if (tx != null) {
            tx.close();
        } else {
            snapshot.close();
        }
    }
}
