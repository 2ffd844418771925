// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench.tpcc;

import dev.varve.Database;
import dev.varve.NamedMap;
import dev.varve.Snapshot;
import dev.varve.Transaction;
import dev.varve.WatchRange;
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
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;

/**
 * The named-map layout of the TPC-C tables ({@link TpccStore.Layout#NAMED_MAPS}): each table is a
 * {@link NamedMap} of its own row type ({@code NamedMap<Long, Customer>}, ...), keyed by its own
 * columns ({@link TpccKeys}, untagged), in natural {@code Long} order; the database's default map
 * stays empty. One Varve transaction spans the maps and commits them at once.
 *
 * <p>In a transaction a table is {@code tx.map(handle)}, opened once per transaction and table
 * ({@link TpccTables}). Its writes go through that view, whose {@code put} and {@code remove}
 * read the previous row first (there is no blind write on a named map in a transaction). In memory
 * only: a durable database refuses {@code openMap}. Thread-safe, as its handles are.
 */
final class NamedMapStore extends TpccStore {
    /** The maps' names, in {@link TpccKeys} table-id order. */
    static final List<String> MAP_NAMES = List.of(
            "warehouse",
            "district",
            "customer",
            "customer_by_name",
            "history",
            "new_order",
            "order",
            "order_by_customer",
            "order_line",
            "item",
            "stock");

    final NamedMap<Long, Warehouse> warehouse;
    final NamedMap<Long, District> district;
    final NamedMap<Long, Customer> customer;
    final NamedMap<Long, CustomerName> customerByName;
    final NamedMap<Long, History> history;
    final NamedMap<Long, NewOrder> newOrder;
    final NamedMap<Long, Order> order;
    final NamedMap<Long, OrderByCustomer> orderByCustomer;
    final NamedMap<Long, OrderLine> orderLine;
    final NamedMap<Long, Item> item;
    final NamedMap<Long, Stock> stock;

    /**
     * Opens (creates) the eleven maps in {@code db}.
     *
     * @param db an in-memory database
     * @throws UnsupportedOperationException if {@code db} is durable
     */
    NamedMapStore(Database<Long, Row> db) {
        super(db);
        warehouse = db.openMap(MAP_NAMES.get(0));
        district = db.openMap(MAP_NAMES.get(1));
        customer = db.openMap(MAP_NAMES.get(2));
        customerByName = db.openMap(MAP_NAMES.get(3));
        history = db.openMap(MAP_NAMES.get(4));
        newOrder = db.openMap(MAP_NAMES.get(5));
        order = db.openMap(MAP_NAMES.get(6));
        orderByCustomer = db.openMap(MAP_NAMES.get(7));
        orderLine = db.openMap(MAP_NAMES.get(8));
        item = db.openMap(MAP_NAMES.get(9));
        stock = db.openMap(MAP_NAMES.get(10));
    }

    @Override
    Layout layout() {
        return Layout.NAMED_MAPS;
    }

    /** Every table's map, whole (the default map stays empty). */
    @Override
    List<WatchRange> watchedRanges() {
        return List.of(
                WatchRange.all(warehouse),
                WatchRange.all(district),
                WatchRange.all(customer),
                WatchRange.all(customerByName),
                WatchRange.all(history),
                WatchRange.all(newOrder),
                WatchRange.all(order),
                WatchRange.all(orderByCustomer),
                WatchRange.all(orderLine),
                WatchRange.all(item),
                WatchRange.all(stock));
    }

    @Override
    TpccTables tables(Transaction<Long, Row> tx) {
        return new Tables(this, tx, null);
    }

    @Override
    TpccTables tables(Snapshot<Long, Row> snapshot) {
        return new Tables(this, null, snapshot);
    }

    /** The tables of one transaction or snapshot: each the view of its map. */
    private static final class Tables extends TpccTables {
        private final NamedMapStore store;

        Tables(NamedMapStore store, Transaction<Long, Row> tx, Snapshot<Long, Row> snapshot) {
            super(tx, snapshot);
            this.store = store;
        }

        private <R> TpccTable<R> table(NamedMap<Long, R> map) {
            Transaction<Long, Row> tx = transaction();
            return new MapTable<>(tx, map, tx != null ? tx.map(map) : snapshot().map(map));
        }

        @Override
        TpccTable<Warehouse> openWarehouse() {
            return table(store.warehouse);
        }

        @Override
        TpccTable<District> openDistrict() {
            return table(store.district);
        }

        @Override
        TpccTable<Customer> openCustomer() {
            return table(store.customer);
        }

        @Override
        TpccTable<CustomerName> openCustomerByName() {
            return table(store.customerByName);
        }

        @Override
        TpccTable<History> openHistory() {
            return table(store.history);
        }

        @Override
        TpccTable<NewOrder> openNewOrder() {
            return table(store.newOrder);
        }

        @Override
        TpccTable<Order> openOrder() {
            return table(store.order);
        }

        @Override
        TpccTable<OrderByCustomer> openOrderByCustomer() {
            return table(store.orderByCustomer);
        }

        @Override
        TpccTable<OrderLine> openOrderLine() {
            return table(store.orderLine);
        }

        @Override
        TpccTable<Item> openItem() {
            return table(store.item);
        }

        @Override
        TpccTable<Stock> openStock() {
            return table(store.stock);
        }
    }

    /**
     * A table that is a map view; writes are the transaction's blind writes (as the single-map
     * layout's tx.put), reads the view's own.
     */
    private static final class MapTable<R> implements TpccTable<R> {
        private final Transaction<Long, Row> tx;
        private final NamedMap<Long, R> handle;
        private final NavigableMap<Long, R> map;

        MapTable(Transaction<Long, Row> tx, NamedMap<Long, R> handle, NavigableMap<Long, R> map) {
            this.tx = tx;
            this.handle = handle;
            this.map = map;
        }

        private NavigableMap<Long, R> range(long from, long to) {
            return map.subMap(from, true, to, true);
        }

        @Override
        public R get(long key) {
            return map.get(key);
        }

        @Override
        public void put(long key, R row) {
            if (tx == null) {
                throw new UnsupportedOperationException("a snapshot is read-only");
            }
            tx.put(handle, key, row);
        }

        @Override
        public void remove(long key) {
            if (tx == null) {
                throw new UnsupportedOperationException("a snapshot is read-only");
            }
            tx.remove(handle, key);
        }

        @Override
        public long firstKey(long from, long to) {
            Map.Entry<Long, R> e = range(from, to).firstEntry();
            return e == null ? NONE : e.getKey();
        }

        @Override
        public long lastKey(long from, long to) {
            Map.Entry<Long, R> e = range(from, to).lastEntry();
            return e == null ? NONE : e.getKey();
        }

        @Override
        public Iterable<R> values(long from, long to) {
            return range(from, to).values();
        }

        @Override
        public void forEach(long from, long to, RowVisitor<? super R> visitor) {
            for (Map.Entry<Long, R> e : range(from, to).entrySet()) {
                visitor.visit(e.getKey(), e.getValue());
            }
        }

        @Override
        public long count(long from, long to) {
            return range(from, to).size();
        }
    }
}
