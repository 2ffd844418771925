// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench.tpcc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class TpccRowsTest {

    @Test
    void everyRowTypeRoundTripsThroughTheCodec() {
        List<TpccRows.Row> rows = List.of(
                new TpccRows.Warehouse("w", "info", 1200, 300_000_00L),
                new TpccRows.District("d", "info", 800, 30_000_00L, 3001),
                new TpccRows.Customer(
                        "first", "OE", "BARBARBAR", "info", 1L, "BC", 50_000_00L, 25, -10_00L, 10_00L, 1, 0, "data"),
                new TpccRows.CustomerName("first"),
                new TpccRows.History(1, 2, 3, 4, 5, 6L, 7L, "h"),
                TpccRows.NewOrder.INSTANCE,
                new TpccRows.Order(7, 8L, 0, 12, true),
                TpccRows.OrderByCustomer.INSTANCE,
                new TpccRows.OrderLine(99, 2, 0L, 5, 1234L, "dist"),
                new TpccRows.Item(3, "item", 995L, "ORIGINAL"),
                new TpccRows.Stock(50, 1L, 2, 3, "x".repeat(240), "data"));
        for (TpccRows.Row row : rows) {
            byte[] bytes = TpccRows.CODEC.encode(row);
            assertEquals(row, TpccRows.CODEC.decode(bytes, 0, bytes.length));
        }
    }

    @Test
    void keysOfOneTableSortTogetherAndByTheirColumns() {
        assertTrue(TpccKeys.orderLine(1, 10, 5, 15) < TpccKeys.orderLine(1, 10, 6, 1));
        assertTrue(TpccKeys.orderLine(1, 10, 0xffff_ffffL, 15) < TpccKeys.orderLine(2, 1, 0, 0));
        assertTrue(TpccKeys.tagged(TpccKeys.NEW_ORDER, TpccKeys.newOrder(4095, 10, 0xffff_ffffL))
                < TpccKeys.tagged(TpccKeys.ORDER, TpccKeys.order(1, 1, 1)));
        assertEquals(3000, TpccKeys.customerOfNameKey(TpccKeys.customerByName(4095, 10, 999, 3000)));
        assertEquals(12345, TpccKeys.orderOfCustomerKey(TpccKeys.orderByCustomer(4095, 10, 3000, 12345)));
        assertEquals(77, TpccKeys.orderId(TpccKeys.newOrder(3, 4, 77)));
        assertEquals(4095, TpccKeys.warehouseOfStock(TpccKeys.stock(4095, 100_000)));
    }

    @Test
    void everyTablesLargestKeyFitsBelowTheTableTag() {
        long[] largest = {
            TpccKeys.warehouse(4095),
            TpccKeys.district(4095, 10),
            TpccKeys.customer(4095, 10, 3000),
            TpccKeys.customerByName(4095, 10, 999, 3000),
            TpccKeys.history(TpccKeys.COLUMNS),
            TpccKeys.newOrder(4095, 10, 0xffff_ffffL),
            TpccKeys.order(4095, 10, 0xffff_ffffL),
            TpccKeys.orderByCustomer(4095, 10, 3000, 0xfff_ffffL),
            TpccKeys.orderLine(4095, 10, 0xffff_ffffL, 15),
            TpccKeys.item(100_000),
            TpccKeys.stock(4095, 100_000)
        };
        for (int t = 0; t < largest.length; t++) {
            long table = t + 1;
            long tagged = TpccKeys.tagged(table, largest[t]);
            assertEquals(largest[t], TpccKeys.untagged(tagged), "table " + table);
            assertEquals(table, tagged >>> TpccKeys.TABLE_SHIFT, "table " + table);
        }
    }

    @Test
    void lastNamesFollowTheSyllableRule() {
        assertEquals("BARBARBAR", TpccWorkload.lastName(0));
        assertEquals("OUGHTABLEPRI", TpccWorkload.lastName(123));
        assertEquals("EINGEINGEING", TpccWorkload.lastName(999));
    }
}
