// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench.tpcc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Database;
import dev.varve.Isolation;
import dev.varve.Snapshot;
import dev.varve.bench.Counters;
import dev.varve.bench.Options;
import dev.varve.bench.Workload;
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
import dev.varve.bench.tpcc.TpccStore.Layout;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The two layouts of the TPC-C tables behave alike, each keeps its tables apart, and the checks hold. */
class TpccStoreTest {
    private static final long MAX_ORDER = 0xffff_ffffL;
    /** Each table's row type, by table id - 1 ({@link TpccKeys}, {@link NamedMapStore#MAP_NAMES}). */
    private static final List<Class<? extends Row>> ROW_TYPES = List.of(
            Warehouse.class,
            District.class,
            Customer.class,
            CustomerName.class,
            History.class,
            NewOrder.class,
            Order.class,
            OrderByCustomer.class,
            OrderLine.class,
            Item.class,
            Stock.class);

    private static final Warehouse WAREHOUSE = new Warehouse("w", "info", 1200, 300_000_00L);
    private static final District DISTRICT = new District("d", "info", 800, 30_000_00L, 3001);
    private static final Stock STOCK = new Stock(50, 1L, 2, 3, "x".repeat(240), "data");

    private static Order order(int lines) {
        return new Order(7, 8L, 0, lines, true);
    }

    /** A TPC-C workload of one warehouse at 1/50 scale (2,000 items, 60 customers and orders per district). */
    private static TpccWorkload workload(Layout layout) {
        return new TpccWorkload(
                Options.parse(List.of("--tpcc-scale", "50", "--warehouses", "1", "--threads", "2")), layout);
    }

    @ParameterizedTest
    @EnumSource(Layout.class)
    void pointReadsReturnTheRowOfTheirTableInATransactionAndASnapshot(Layout layout) {
        try (Database<Long, Row> db = Database.<Long, Row>builder().open()) {
            TpccStore store = layout.open(db);
            assertEquals(layout, store.layout());
            long k = TpccKeys.order(1, 2, 5);
            assertEquals(k, TpccKeys.newOrder(1, 2, 5), "ORDER and NEW_ORDER share their key columns");
            try (TpccTables t = store.begin(Isolation.SERIALIZABLE)) {
                t.warehouse().put(TpccKeys.warehouse(1), WAREHOUSE);
                t.district().put(TpccKeys.district(1, 2), DISTRICT);
                t.stock().put(TpccKeys.stock(1, 7), STOCK);
                t.order().put(k, order(9));
                t.newOrder().put(k, NewOrder.INSTANCE);
                assertEquals(order(9), t.order().get(k), "a transaction reads its own write");
                t.commit();
            }
            try (TpccTables t = store.begin(Isolation.SERIALIZABLE)) {
                assertEquals(WAREHOUSE, t.warehouse().get(TpccKeys.warehouse(1)));
                assertEquals(DISTRICT, t.district().get(TpccKeys.district(1, 2)));
                assertEquals(STOCK, t.stock().get(TpccKeys.stock(1, 7)));
                assertEquals(order(9), t.order().get(k));
                assertEquals(NewOrder.INSTANCE, t.newOrder().get(k));
                assertNull(t.item().get(TpccKeys.item(7)), "an unused item number reads as null");
                assertNull(t.stock().get(TpccKeys.stock(1, 8)));
                t.newOrder().remove(k);
                assertNull(t.newOrder().get(k));
                assertEquals(order(9), t.order().get(k), "removing the NEW-ORDER row leaves the ORDER row");
                t.commit();
            }
            try (TpccTables s = store.snapshot()) {
                assertEquals(WAREHOUSE, s.warehouse().get(TpccKeys.warehouse(1)));
                assertEquals(DISTRICT, s.district().get(TpccKeys.district(1, 2)));
                assertNull(s.newOrder().get(k));
                assertThrows(
                        UnsupportedOperationException.class, () -> s.warehouse().put(TpccKeys.warehouse(2), WAREHOUSE));
                assertThrows(
                        UnsupportedOperationException.class, () -> s.order().remove(k));
                assertThrows(IllegalStateException.class, s::commit);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Layout.class)
    void rangesHoldOnlyTheirTablesRowsInKeyOrder(Layout layout) {
        try (Database<Long, Row> db = Database.<Long, Row>builder().open()) {
            TpccStore store = layout.open(db);
            try (TpccTables t = store.begin(Isolation.SERIALIZABLE)) {
                for (int o = 3; o <= 6; o++) {
                    t.order().put(TpccKeys.order(1, 2, o), order(o));
                }
                t.order().put(TpccKeys.order(1, 3, 1), order(1));
                t.newOrder().put(TpccKeys.newOrder(1, 2, 4), NewOrder.INSTANCE);
                t.newOrder().put(TpccKeys.newOrder(1, 2, 5), NewOrder.INSTANCE);
                t.orderByCustomer().put(TpccKeys.orderByCustomer(1, 2, 7, 6), OrderByCustomer.INSTANCE);
                t.commit();
            }
            try (TpccTables t = store.begin(Isolation.SERIALIZABLE)) {
                long from = TpccKeys.order(1, 2, 0);
                long to = TpccKeys.order(1, 2, MAX_ORDER);
                assertEquals(TpccKeys.order(1, 2, 3), t.order().firstKey(from, to));
                assertEquals(TpccKeys.order(1, 2, 6), t.order().lastKey(from, to));
                assertEquals(4, t.order().count(from, to));
                List<Order> rows = new ArrayList<>();
                t.order().values(from, to).forEach(rows::add);
                assertEquals(List.of(order(3), order(4), order(5), order(6)), rows);
                Map<Long, Order> visited = new LinkedHashMap<>();
                t.order().forEach(from, to, visited::put);
                assertEquals(
                        List.of(3L, 4L, 5L, 6L),
                        visited.keySet().stream().map(TpccKeys::orderId).toList());

                assertEquals(5, t.order().count(0, TpccKeys.COLUMNS), "the whole ORDER table");
                assertEquals(2, t.newOrder().count(0, TpccKeys.COLUMNS), "the whole NEW-ORDER table");
                assertEquals(1, t.orderByCustomer().count(0, TpccKeys.COLUMNS));
                assertEquals(0, t.orderLine().count(0, TpccKeys.COLUMNS));
                assertEquals(TpccTable.NONE, t.orderLine().firstKey(0, TpccKeys.COLUMNS));
                assertEquals(TpccTable.NONE, t.orderLine().lastKey(0, TpccKeys.COLUMNS));
                assertFalse(t.orderLine().values(0, TpccKeys.COLUMNS).iterator().hasNext());

                t.newOrder().put(TpccKeys.newOrder(1, 2, 7), NewOrder.INSTANCE);
                assertEquals(
                        TpccKeys.newOrder(1, 2, 7),
                        t.newOrder().lastKey(TpccKeys.newOrder(1, 2, 0), TpccKeys.newOrder(1, 2, MAX_ORDER)),
                        "a range merges the transaction's own writes");
            }
        }
    }

    @Test
    void namedMapLayoutKeepsEachTableInItsOwnMapUntaggedAndTheDefaultMapEmpty() {
        try (TpccWorkload w = workload(Layout.NAMED_MAPS)) {
            w.load();
            NamedMapStore store = (NamedMapStore) w.store();
            Database<Long, Row> db = store.database();
            assertEquals(new TreeSet<>(NamedMapStore.MAP_NAMES), db.mapNames());
            try (Snapshot<Long, Row> s = db.snapshot()) {
                assertTrue(s.isEmpty(), "the default map holds nothing");
                Map<String, Collection<?>> values = new LinkedHashMap<>();
                values.put("warehouse", s.map(store.warehouse).values());
                values.put("district", s.map(store.district).values());
                values.put("customer", s.map(store.customer).values());
                values.put("customer_by_name", s.map(store.customerByName).values());
                values.put("history", s.map(store.history).values());
                values.put("new_order", s.map(store.newOrder).values());
                values.put("order", s.map(store.order).values());
                values.put("order_by_customer", s.map(store.orderByCustomer).values());
                values.put("order_line", s.map(store.orderLine).values());
                values.put("item", s.map(store.item).values());
                values.put("stock", s.map(store.stock).values());
                assertEquals(NamedMapStore.MAP_NAMES, List.copyOf(values.keySet()));
                int t = 0;
                for (Map.Entry<String, Collection<?>> e : values.entrySet()) {
                    Class<? extends Row> type = ROW_TYPES.get(t++);
                    assertFalse(e.getValue().isEmpty(), e.getKey());
                    for (Object row : e.getValue()) {
                        assertEquals(type, row.getClass(), "a row in map " + e.getKey());
                    }
                }
                long largestKey = 0;
                for (var map : List.of(
                        s.map(store.warehouse),
                        s.map(store.district),
                        s.map(store.customer),
                        s.map(store.customerByName),
                        s.map(store.history),
                        s.map(store.newOrder),
                        s.map(store.order),
                        s.map(store.orderByCustomer),
                        s.map(store.orderLine),
                        s.map(store.item),
                        s.map(store.stock))) {
                    largestKey = Math.max(largestKey, map.lastKey());
                }
                assertEquals(0, largestKey >>> TpccKeys.TABLE_SHIFT, "no key carries a table tag");
            }
            assertEquals(expectedLoadCounts(store), tableCounts(store));
        }
    }

    @Test
    void prefixedLayoutTagsEveryKeyWithTheTableOfItsRow() {
        try (TpccWorkload w = workload(Layout.PREFIXED)) {
            w.load();
            Database<Long, Row> db = w.store().database();
            assertTrue(db.mapNames().isEmpty(), "no named maps");
            long[] perTag = new long[ROW_TYPES.size() + 1];
            try (Snapshot<Long, Row> s = db.snapshot()) {
                for (Map.Entry<Long, Row> e : s.entrySet()) {
                    int tag = (int) (e.getKey() >>> TpccKeys.TABLE_SHIFT);
                    assertTrue(tag >= 1 && tag <= ROW_TYPES.size(), "tag " + tag);
                    assertEquals(ROW_TYPES.get(tag - 1), e.getValue().getClass(), "a row under tag " + tag);
                    perTag[tag]++;
                }
            }
            Map<String, Long> counts = tableCounts(w.store());
            int t = 1;
            for (Map.Entry<String, Long> e : counts.entrySet()) {
                assertEquals(perTag[t++], e.getValue(), e.getKey());
            }
            assertEquals(expectedLoadCounts(w.store()), counts);
        }
    }

    @Test
    void bothLayoutsLoadTheSameRowsFromTheSameSeed() {
        try (TpccWorkload named = workload(Layout.NAMED_MAPS);
                TpccWorkload prefixed = workload(Layout.PREFIXED)) {
            named.load();
            prefixed.load();
            assertEquals(tableCounts(named.store()), tableCounts(prefixed.store()));
            try (TpccTables a = named.store().snapshot();
                    TpccTables b = prefixed.store().snapshot()) {
                long all = TpccKeys.COLUMNS;
                assertSameRows(
                        "item", list(a.item().values(0, all)), list(b.item().values(0, all)));
                assertSameRows(
                        "stock", list(a.stock().values(0, all)), list(b.stock().values(0, all)));
                // the loader stamps "now" into delivery dates: compare whether a line is delivered
                assertSameRows(
                        "order_line",
                        list(a.orderLine().values(0, all)).stream()
                                .map(TpccStoreTest::undated)
                                .toList(),
                        list(b.orderLine().values(0, all)).stream()
                                .map(TpccStoreTest::undated)
                                .toList());
                Map<Long, String> namesA = new LinkedHashMap<>();
                a.customerByName().forEach(0, all, (key, row) -> namesA.put(key, row.first()));
                Map<Long, String> namesB = new LinkedHashMap<>();
                b.customerByName().forEach(0, all, (key, row) -> namesB.put(key, row.first()));
                assertEquals(namesA, namesB);
            }
        }
    }

    private static OrderLine undated(OrderLine line) {
        return line.deliveryDate() == 0 ? line : line.delivered(1);
    }

    private static void assertSameRows(String table, List<?> expected, List<?> actual) {
        assertEquals(expected.size(), actual.size(), table + " rows");
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(expected.get(i), actual.get(i), table + " row " + i);
        }
    }

    @ParameterizedTest
    @EnumSource(Layout.class)
    void aRunOfTheFullMixOnTwoThreadsKeepsTheFourChecks(Layout layout) throws InterruptedException {
        try (TpccWorkload w = workload(layout)) {
            w.load();
            Map<String, Long> loaded = tableCounts(w.store());
            Thread[] threads = new Thread[2];
            Throwable[] failure = new Throwable[threads.length];
            for (int i = 0; i < threads.length; i++) {
                Workload.Worker worker = w.worker(i, 42 + i, new Counters(TpccWorkload.TYPES.size()));
                int index = i;
                threads[i] = new Thread(() -> {
                    try {
                        for (int n = 0; n < 400; n++) {
                            worker.runOne();
                        }
                    } catch (Throwable e) {
                        failure[index] = e;
                    }
                });
                threads[i].start();
            }
            for (Thread t : threads) {
                t.join();
            }
            for (Throwable f : failure) {
                if (f != null) {
                    throw new AssertionError("a worker failed", f);
                }
            }
            List<Workload.Check> checks = w.checkAfterRun();
            assertEquals(4, checks.size());
            for (Workload.Check c : checks) {
                assertTrue(c.passed(), c.name() + ": " + c.detail());
            }
            Map<String, Long> after = tableCounts(w.store());
            assertTrue(after.get("history") > loaded.get("history"), "Payment ran: " + after);
            assertTrue(after.get("order") > loaded.get("order"), "NewOrder ran: " + after);
            try (TpccTables s = w.store().snapshot()) {
                long oldest = s.newOrder().firstKey(TpccKeys.newOrder(1, 1, 0), TpccKeys.newOrder(1, 1, MAX_ORDER));
                assertTrue(TpccKeys.orderId(oldest) > 43, "Delivery ran: the oldest new order is " + oldest);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Layout.class)
    void eachCheckFailsWhenItsTablesDisagree(Layout layout) {
        try (TpccWorkload w = workload(layout)) {
            w.load();
            for (Workload.Check c : w.checkAfterRun()) {
                assertTrue(c.passed(), c.name() + ": " + c.detail());
            }
            try (TpccTables t = w.store().begin(Isolation.SERIALIZABLE)) {
                District d1 = t.district().get(TpccKeys.district(1, 1));
                t.district().put(TpccKeys.district(1, 1), d1.withYtd(d1.ytd() + 1)); // 3.3.2.1
                District d2 = t.district().get(TpccKeys.district(1, 2));
                t.district().put(TpccKeys.district(1, 2), d2.withNextOrderId(d2.nextOrderId() + 1)); // 3.3.2.2
                t.newOrder().remove(TpccKeys.newOrder(1, 3, 50)); // 3.3.2.3: a gap in 43..60
                t.orderLine().remove(TpccKeys.orderLine(1, 4, 10, 1)); // 3.3.2.4
                t.commit();
            }
            List<Workload.Check> checks = w.checkAfterRun();
            assertEquals(4, checks.size());
            assertTrue(
                    checks.get(0).detail().startsWith("w 1: W_YTD = "),
                    checks.get(0).detail());
            assertTrue(
                    checks.get(1).detail().startsWith("w 1 d 2: D_NEXT_O_ID - 1 = 61"),
                    checks.get(1).detail());
            assertTrue(
                    checks.get(2).detail().endsWith("but 17 NEW-ORDER rows"),
                    checks.get(2).detail());
            assertTrue(
                    checks.get(3).detail().startsWith("w 1 d 4: sum(O_OL_CNT)"),
                    checks.get(3).detail());
            for (Workload.Check c : checks) {
                assertFalse(c.passed(), c.name() + ": " + c.detail());
            }
        }
    }

    /**
     * What {@link #workload} loads: the row count of each table, by map name; order lines are
     * random (5..15 per order), so their count is the orders' sum(O_OL_CNT), read from {@code store}.
     */
    private static Map<String, Long> expectedLoadCounts(TpccStore store) {
        Map<String, Long> counts = new LinkedHashMap<>();
        counts.put("warehouse", 1L);
        counts.put("district", 10L);
        counts.put("customer", 600L);
        counts.put("customer_by_name", 600L);
        counts.put("history", 600L);
        counts.put("new_order", 180L); // orders 43..60 of each district: 30 % undelivered
        counts.put("order", 600L);
        counts.put("order_by_customer", 600L);
        long lines = 0;
        try (TpccTables s = store.snapshot()) {
            for (Order o : s.order().values(0, TpccKeys.COLUMNS)) {
                assertTrue(o.lineCount() >= 5 && o.lineCount() <= 15, o::toString);
                lines += o.lineCount();
            }
        }
        counts.put("order_line", lines);
        counts.put("item", 2000L);
        counts.put("stock", 2000L);
        return counts;
    }

    /** Each table's row count, by map name (in table-id order), through the store's tables. */
    private static Map<String, Long> tableCounts(TpccStore store) {
        long all = TpccKeys.COLUMNS;
        Map<String, Long> counts = new LinkedHashMap<>();
        try (TpccTables s = store.snapshot()) {
            counts.put("warehouse", s.warehouse().count(0, all));
            counts.put("district", s.district().count(0, all));
            counts.put("customer", s.customer().count(0, all));
            counts.put("customer_by_name", s.customerByName().count(0, all));
            counts.put("history", s.history().count(0, all));
            counts.put("new_order", s.newOrder().count(0, all));
            counts.put("order", s.order().count(0, all));
            counts.put("order_by_customer", s.orderByCustomer().count(0, all));
            counts.put("order_line", s.orderLine().count(0, all));
            counts.put("item", s.item().count(0, all));
            counts.put("stock", s.stock().count(0, all));
        }
        return counts;
    }

    private static <R> List<R> list(Iterable<R> rows) {
        List<R> list = new ArrayList<>();
        rows.forEach(list::add);
        return list;
    }
}
