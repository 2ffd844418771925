// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench.tpcc;

import dev.varve.Database;
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
import java.util.Iterator;
import java.util.Map;
import java.util.NavigableMap;

/**
 * The single-map layout of the TPC-C tables ({@link TpccStore.Layout#PREFIXED}): every table in
 * the database's default map, a {@code Database<Long, Row>}, under its key tagged with the table id
 * ({@link TpccKeys#tagged}), so that a table is one contiguous key range and each of its ranges a
 * sub-range; rows are encoded for the log by {@link TpccRows#CODEC}. The fallback for durable
 * databases, which cannot open named maps yet.
 *
 * <p>Point reads and writes are the transaction's own {@code get}/{@code put}/{@code remove} (writes
 * are blind), scans its {@code asMap()} sub-maps. Each table checks the rows it reads against its
 * row type ({@link Class#cast}): the one place where this layout's shared value type {@link Row}
 * becomes a table's row type, so a row under another table's tag fails with {@link
 * ClassCastException} there. Thread-safe, as the database is.
 */
final class PrefixedStore extends TpccStore {

    /**
     * A store in {@code db}'s default map.
     *
     * @param db the database, empty
     */
    PrefixedStore(Database<Long, Row> db) {
        super(db);
    }

    @Override
    Layout layout() {
        return Layout.PREFIXED;
    }

    @Override
    TpccTables tables(Transaction<Long, Row> tx) {
        return new Tables(tx, null);
    }

    @Override
    TpccTables tables(Snapshot<Long, Row> snapshot) {
        return new Tables(null, snapshot);
    }

    /** The tables of one transaction or snapshot: each a tagged range of the default map. */
    private static final class Tables extends TpccTables {
        Tables(Transaction<Long, Row> tx, Snapshot<Long, Row> snapshot) {
            super(tx, snapshot);
        }

        private <R extends Row> TpccTable<R> table(long table, Class<R> type) {
            return new TaggedTable<>(transaction(), snapshot(), table, type);
        }

        @Override
        TpccTable<Warehouse> openWarehouse() {
            return table(TpccKeys.WAREHOUSE, Warehouse.class);
        }

        @Override
        TpccTable<District> openDistrict() {
            return table(TpccKeys.DISTRICT, District.class);
        }

        @Override
        TpccTable<Customer> openCustomer() {
            return table(TpccKeys.CUSTOMER, Customer.class);
        }

        @Override
        TpccTable<CustomerName> openCustomerByName() {
            return table(TpccKeys.CUSTOMER_BY_NAME, CustomerName.class);
        }

        @Override
        TpccTable<History> openHistory() {
            return table(TpccKeys.HISTORY, History.class);
        }

        @Override
        TpccTable<NewOrder> openNewOrder() {
            return table(TpccKeys.NEW_ORDER, NewOrder.class);
        }

        @Override
        TpccTable<Order> openOrder() {
            return table(TpccKeys.ORDER, Order.class);
        }

        @Override
        TpccTable<OrderByCustomer> openOrderByCustomer() {
            return table(TpccKeys.ORDER_BY_CUSTOMER, OrderByCustomer.class);
        }

        @Override
        TpccTable<OrderLine> openOrderLine() {
            return table(TpccKeys.ORDER_LINE, OrderLine.class);
        }

        @Override
        TpccTable<Item> openItem() {
            return table(TpccKeys.ITEM, Item.class);
        }

        @Override
        TpccTable<Stock> openStock() {
            return table(TpccKeys.STOCK, Stock.class);
        }
    }

    /** One table: the keys of the shared map tagged with {@code table}, rows checked as {@code type}. */
    private static final class TaggedTable<R extends Row> implements TpccTable<R> {
        private final Transaction<Long, Row> tx;
        /** The whole shared map: {@code tx.asMap()}, or the snapshot. */
        private final NavigableMap<Long, Row> all;

        private final long table;
        private final Class<R> type;

        TaggedTable(Transaction<Long, Row> tx, Snapshot<Long, Row> snapshot, long table, Class<R> type) {
            this.tx = tx;
            this.all = tx != null ? tx.asMap() : snapshot;
            this.table = table;
            this.type = type;
        }

        private long key(long key) {
            return TpccKeys.tagged(table, key);
        }

        private NavigableMap<Long, Row> range(long from, long to) {
            return all.subMap(key(from), true, key(to), true);
        }

        private Transaction<Long, Row> writable() {
            if (tx == null) {
                throw new UnsupportedOperationException("a snapshot is read-only");
            }
            return tx;
        }

        @Override
        public R get(long key) {
            return type.cast(tx != null ? tx.get(key(key)) : all.get(key(key)));
        }

        @Override
        public void put(long key, R row) {
            writable().put(key(key), row);
        }

        @Override
        public void remove(long key) {
            writable().remove(key(key));
        }

        @Override
        public long firstKey(long from, long to) {
            Map.Entry<Long, Row> e = range(from, to).firstEntry();
            return e == null ? NONE : TpccKeys.untagged(e.getKey());
        }

        @Override
        public long lastKey(long from, long to) {
            Map.Entry<Long, Row> e = range(from, to).lastEntry();
            return e == null ? NONE : TpccKeys.untagged(e.getKey());
        }

        @Override
        public Iterable<R> values(long from, long to) {
            NavigableMap<Long, Row> range = range(from, to);
            return () -> {
                Iterator<Row> rows = range.values().iterator();
                return new Iterator<>() {
                    @Override
                    public boolean hasNext() {
                        return rows.hasNext();
                    }

                    @Override
                    public R next() {
                        return type.cast(rows.next());
                    }
                };
            };
        }

        @Override
        public void forEach(long from, long to, RowVisitor<? super R> visitor) {
            for (Map.Entry<Long, Row> e : range(from, to).entrySet()) {
                visitor.visit(TpccKeys.untagged(e.getKey()), type.cast(e.getValue()));
            }
        }

        @Override
        public long count(long from, long to) {
            return range(from, to).size();
        }
    }
}
