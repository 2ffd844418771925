// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench.tpcc;

/**
 * The keys of TPC-C's nine tables (plus Silo's two secondary indexes): each table's primary-key
 * columns packed into one {@code long}, most significant column first, following Silo's mapping of
 * each table to an ordered map with composite keys (Tu et al., "Speedy transactions in multicore
 * in-memory databases", SOSP 2013, §5), so that a key range is a prefix scan (all new orders of
 * one district, all order lines of one order, a customer's orders newest last).
 *
 * <pre>
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
 *
 * Every key fits in the low 56 bits. In the named-map layout ({@link NamedMapStore}) each table is
 * its own map and these are its keys; in the single-map layout ({@link PrefixedStore}) every table
 * shares one key space and a key carries its table id in the top byte ({@link #tagged}):
 *
 * <pre>
 * bits 63..56  table id ({@link #WAREHOUSE} .. {@link #STOCK})
 * bits 55..0   the table's key, as above
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

    /** Where the table id starts in a tagged key. */
    static final int TABLE_SHIFT = 56;
    /** The bits of a tagged key that hold the table's own key. */
    static final long COLUMNS = (1L << TABLE_SHIFT) - 1;

    private TpccKeys() {}

    /** The key {@code key} of table {@code table} in the shared key space of the single-map layout. */
    static long tagged(long table, long key) {
        return (table << TABLE_SHIFT) | key;
    }

    /** The table's own key in a tagged key (the inverse of {@link #tagged}). */
    static long untagged(long taggedKey) {
        return taggedKey & COLUMNS;
    }

    static long warehouse(int w) {
        return w;
    }

    static long district(int w, int d) {
        return ((long) w << 4) | d;
    }

    static long customer(int w, int d, int c) {
        return ((long) w << 16) | ((long) d << 12) | c;
    }

    static long customerByName(int w, int d, int lastRank, int c) {
        return ((long) w << 26) | ((long) d << 22) | ((long) lastRank << 12) | c;
    }

    static int customerOfNameKey(long key) {
        return (int) (key & 0xfff);
    }

    static long history(long seq) {
        return seq;
    }

    static long newOrder(int w, int d, long o) {
        return ((long) w << 36) | ((long) d << 32) | o;
    }

    static long order(int w, int d, long o) {
        return ((long) w << 36) | ((long) d << 32) | o;
    }

    /** The order id in a NEW_ORDER or ORDER key. */
    static long orderId(long key) {
        return key & 0xffff_ffffL;
    }

    static long orderByCustomer(int w, int d, int c, long o) {
        return ((long) w << 44) | ((long) d << 40) | ((long) c << 28) | o;
    }

    static long orderOfCustomerKey(long key) {
        return key & 0xfff_ffffL;
    }

    static long orderLine(int w, int d, long o, int ol) {
        return ((long) w << 40) | ((long) d << 36) | (o << 4) | ol;
    }

    static long orderLineOrder(long key) {
        return (key >>> 4) & 0xffff_ffffL;
    }

    static long item(int i) {
        return i;
    }

    static long stock(int w, int i) {
        return ((long) w << 17) | i;
    }

    static int warehouseOfStock(long key) {
        return (int) ((key >>> 17) & 0xfff);
    }
}
