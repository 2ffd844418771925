package dev.varve.bench.tpcc;

/**
 * TPC-C's nine tables (plus Silo's two secondary indexes) packed into one ordered {@code long}
 * key space, following Silo's mapping of each table to an ordered map with composite keys
 * (Tu et al., "Speedy transactions in multicore in-memory databases", SOSP 2013, §5): the table id
 * in the top byte, then the primary-key columns from most to least significant, so that a key
 * range is a prefix scan (all new orders of one district, all order lines of one order, a
 * customer's orders newest last).
 *
 * <pre>
 * bits 63..56  table id
 * WAREHOUSE    w
 * DISTRICT     w:12 d:4
 * CUSTOMER     w:12 d:4 c:12
 * CUSTOMER_BY_NAME  w:12 d:4 lastNameRank:10 c:12     (value holds c_first; sorted after the scan)
 * HISTORY      sequence:56                             (the table has no primary key)
 * NEW_ORDER    w:12 d:4 o:32
 * ORDER        w:12 d:4 o:32
 * ORDER_BY_CUSTOMER w:12 d:4 c:12 o:28                 (Silo's oorder_c_id_idx)
 * ORDER_LINE   w:12 d:4 o:32 ol:4
 * ITEM         i
 * STOCK        w:12 i:17
 * </pre>
 * Warehouses are 1..4095, districts 1..10, customers 1..3000, items 1..100000.
 */
final class TpccKeys {
    static final long WAREHOUSE = 1;
    static final long DISTRICT = 2;
    static final long CUSTOMER = 3;
    static final long CUSTOMER_BY_NAME = 4;
    static final long HISTORY = 5;
    static final long NEW_ORDER = 6;
    static final long ORDER = 7;
    static final long ORDER_BY_CUSTOMER = 8;
    static final long ORDER_LINE = 9;
    static final long ITEM = 10;
    static final long STOCK = 11;

    private TpccKeys() {}

    static long table(long table) {
        return table << 56;
    }

    static long warehouse(int w) {
        return table(WAREHOUSE) | w;
    }

    static long district(int w, int d) {
        return table(DISTRICT) | ((long) w << 4) | d;
    }

    static long customer(int w, int d, int c) {
        return table(CUSTOMER) | ((long) w << 16) | ((long) d << 12) | c;
    }

    static long customerByName(int w, int d, int lastRank, int c) {
        return table(CUSTOMER_BY_NAME) | ((long) w << 26) | ((long) d << 22) | ((long) lastRank << 12) | c;
    }

    static int customerOfNameKey(long key) {
        return (int) (key & 0xfff);
    }

    static long history(long seq) {
        return table(HISTORY) | seq;
    }

    static long newOrder(int w, int d, long o) {
        return table(NEW_ORDER) | ((long) w << 36) | ((long) d << 32) | o;
    }

    static long order(int w, int d, long o) {
        return table(ORDER) | ((long) w << 36) | ((long) d << 32) | o;
    }

    /** The order id in a NEW_ORDER or ORDER key. */
    static long orderId(long key) {
        return key & 0xffff_ffffL;
    }

    static long orderByCustomer(int w, int d, int c, long o) {
        return table(ORDER_BY_CUSTOMER) | ((long) w << 44) | ((long) d << 40) | ((long) c << 28) | o;
    }

    static long orderOfCustomerKey(long key) {
        return key & 0xfff_ffffL;
    }

    static long orderLine(int w, int d, long o, int ol) {
        return table(ORDER_LINE) | ((long) w << 40) | ((long) d << 36) | (o << 4) | ol;
    }

    static long orderLineOrder(long key) {
        return (key >>> 4) & 0xffff_ffffL;
    }

    static long item(int i) {
        return table(ITEM) | i;
    }

    static long stock(int w, int i) {
        return table(STOCK) | ((long) w << 17) | i;
    }

    static int warehouseOfStock(long key) {
        return (int) ((key >>> 17) & 0xfff);
    }
}
