package dev.varve.bench.tpcc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.varve.Database;
import dev.varve.Snapshot;
import dev.varve.Transaction;
import dev.varve.bench.tpcc.TpccRows.Row;
import org.junit.jupiter.api.Test;

class TpccTablesTest {

    @Test
    void pointReadsReturnTheRowOfTheirTableInATransactionAndASnapshot() {
        TpccRows.Warehouse wh = new TpccRows.Warehouse("w", "info", 1200, 300_000_00L);
        TpccRows.District dist = new TpccRows.District("d", "info", 800, 30_000_00L, 3001);
        TpccRows.Stock stock = new TpccRows.Stock(50, 1L, 2, 3, "x".repeat(240), "data");
        try (Database<Long, Row> db = Database.<Long, Row>builder().open()) {
            try (Transaction<Long, Row> tx = db.begin()) {
                tx.put(TpccKeys.warehouse(1), wh);
                tx.put(TpccKeys.district(1, 2), dist);
                tx.put(TpccKeys.stock(1, 7), stock);
                tx.commit();
            }
            try (Transaction<Long, Row> tx = db.begin()) {
                assertEquals(wh, TpccTables.warehouse(tx, TpccKeys.warehouse(1)));
                assertEquals(dist, TpccTables.district(tx, TpccKeys.district(1, 2)));
                assertEquals(stock, TpccTables.stock(tx, TpccKeys.stock(1, 7)));
                assertNull(TpccTables.item(tx, TpccKeys.item(7)), "an unused item number reads as null");
                assertThrows(ClassCastException.class, () -> TpccTables.stock(tx, TpccKeys.warehouse(1)));
            }
            try (Snapshot<Long, Row> s = db.snapshot()) {
                assertEquals(wh, TpccTables.warehouse(s, TpccKeys.warehouse(1)));
                assertEquals(dist, TpccTables.district(s, TpccKeys.district(1, 2)));
            }
        }
    }

    @Test
    void rangeValuesCastToTheirRowType() {
        Row line = new TpccRows.OrderLine(99, 2, 0L, 5, 1234L, "dist");
        Row order = new TpccRows.Order(7, 8L, 0, 12, true);
        assertEquals(line, TpccTables.orderLine(line));
        assertEquals(order, TpccTables.order(order));
        assertEquals(
                "first",
                TpccTables.customerName(new TpccRows.CustomerName("first")).first());
        assertThrows(ClassCastException.class, () -> TpccTables.order(line));
    }
}
