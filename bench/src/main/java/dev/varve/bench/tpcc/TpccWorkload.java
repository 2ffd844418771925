// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench.tpcc;

import static dev.varve.bench.tpcc.TpccKeys.customer;
import static dev.varve.bench.tpcc.TpccKeys.customerByName;
import static dev.varve.bench.tpcc.TpccKeys.district;
import static dev.varve.bench.tpcc.TpccKeys.history;
import static dev.varve.bench.tpcc.TpccKeys.item;
import static dev.varve.bench.tpcc.TpccKeys.newOrder;
import static dev.varve.bench.tpcc.TpccKeys.order;
import static dev.varve.bench.tpcc.TpccKeys.orderByCustomer;
import static dev.varve.bench.tpcc.TpccKeys.orderLine;
import static dev.varve.bench.tpcc.TpccKeys.stock;
import static dev.varve.bench.tpcc.TpccKeys.warehouse;

import dev.varve.Backup;
import dev.varve.Codec;
import dev.varve.Database;
import dev.varve.Isolation;
import dev.varve.WatchRange;
import dev.varve.bench.Counters;
import dev.varve.bench.DurabilityMode;
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
import dev.varve.bench.tpcc.TpccRows.Stock;
import dev.varve.bench.tpcc.TpccRows.Warehouse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;

/**
 * TPC-C (revision 5.11) on Varve: the five transactions in the standard mix (NewOrder 45 %,
 * Payment 43 %, OrderStatus 4 %, Delivery 4 %, StockLevel 4 %), each one Varve transaction, with
 * the spec's input rules — NURand customer and item choice, 1 % NewOrder rollbacks (an unused
 * item id), 1 % remote supply warehouses per order line, 15 % remote Payment customers, 60 %
 * by-last-name customer lookups in Payment and OrderStatus. Each table is an ordered map with
 * composite {@code long} keys ({@link TpccKeys}, after Silo) and immutable records as rows ({@link
 * TpccRows}), read and written through the typed tables of a {@link TpccStore}: in memory one
 * named map per table, in a durable run (whose log cannot record named maps yet) ranges of the
 * default map under table-tagged keys ({@link TpccStore.Layout}).
 *
 * <p>As in Silo, there are no terminals and no think or keying time: each worker thread runs
 * transactions back to back against its home warehouse ({@code thread % warehouses + 1}) and its
 * Delivery runs inline as one transaction over the ten districts. After the run the consistency
 * conditions 1–4 of §3.3.2 are checked on a snapshot.
 */
public final class TpccWorkload implements Workload {
    /** The transaction types, in the order of {@link #transactionTypes()} and the report. */
    public static final List<String> TYPES = List.of("NewOrder", "Payment", "OrderStatus", "Delivery", "StockLevel");

    private static final int DISTRICTS = 10;
    private static final String[] SYLLABLES = {
        "BAR", "OUGHT", "ABLE", "PRI", "PRES", "ESE", "ANTI", "CALLY", "ATION", "EING"
    };
    private static final long MAX_ORDER = 0xffff_ffffL;

    private final Options options;
    private final int warehouses;
    private final int items;
    private final int customers;
    private final int initialOrders;
    private final Path dir;
    private final TpccStore.Layout layout;
    /** Rank of each of the 1000 last names (by number) in their alphabetical order. */
    private final int[] lastNameRank = new int[1000];

    private final AtomicLong historySeq = new AtomicLong();
    /** The NURand run-time constants C (§2.1.6): for C_LAST, C_ID and OL_I_ID. */
    private final int cLast;

    private final int cId;
    private final int cItem;
    private final int cLastLoad;
    private Database<Long, TpccRows.Row> db;
    private TpccStore store;

    /**
     * A TPC-C workload with the options' warehouses (default one per thread) and scale, laid out
     * as {@code --tpcc-layout} asks, else as its durability allows ({@link TpccStore.Layout#of}).
     *
     * @param options the settings
     */
    public TpccWorkload(Options options) {
        this(options, TpccStore.Layout.of(options.tpccLayout(), options.durability()));
    }

    /**
     * A TPC-C workload with the tables in {@code layout} (tests compare the layouts in memory).
     *
     * @param options the settings
     * @param layout the layout; {@link TpccStore.Layout#NAMED_MAPS} only in memory
     */
    TpccWorkload(Options options, TpccStore.Layout layout) {
        this.options = options;
        this.layout = layout;
        this.warehouses = options.effectiveWarehouses();
        this.items = 100_000 / options.tpccScale();
        this.customers = 3_000 / options.tpccScale();
        this.initialOrders = 3_000 / options.tpccScale();
        this.dir = options.durability().directory(options.dir());
        String[] names = new String[1000];
        for (int i = 0; i < 1000; i++) {
            names[i] = lastName(i);
        }
        String[] sorted = new TreeSet<>(Arrays.asList(names)).toArray(new String[0]);
        for (int i = 0; i < 1000; i++) {
            lastNameRank[i] = Arrays.binarySearch(sorted, names[i]);
        }
        SplittableRandom r = new SplittableRandom(options.seed() * 31 + 7);
        this.cLastLoad = r.nextInt(256);
        int delta;
        int run;
        do {
            run = r.nextInt(256);
            delta = Math.abs(run - cLastLoad);
        } while (delta < 65 || delta > 119 || delta == 96 || delta == 112); // §2.1.6.1
        this.cLast = run;
        this.cId = r.nextInt(1024);
        this.cItem = r.nextInt(8192);
    }

    @Override
    public String describe() {
        return "tpcc: " + warehouses + " warehouse" + (warehouses == 1 ? "" : "s") + ", " + items + " items, "
                + customers + " customers per district"
                + (options.tpccScale() == 1 ? "" : " (scale 1/" + options.tpccScale() + ")") + ", "
                + layout.describe();
    }

    @Override
    public List<String> transactionTypes() {
        return TYPES;
    }

    static String lastName(int number) {
        return SYLLABLES[number / 100] + SYLLABLES[(number / 10) % 10] + SYLLABLES[number % 10];
    }

    // ---- loading (§4.3.3.1) ---------------------------------------------------------------

    /** Puts rows in transactions of a thousand writes: one {@link #next()} per row. */
    private final class Loader {
        private TpccTables tables = store.begin(Isolation.SNAPSHOT);
        private int pending;

        /** The tables to put the next row into (of a new transaction after each thousand rows). */
        TpccTables next() {
            if (pending == 1000) {
                tables.commit();
                tables = store.begin(Isolation.SNAPSHOT);
                pending = 0;
            }
            pending++;
            return tables;
        }

        void finish() {
            tables.commit();
        }
    }

    @Override
    public void load() {
        db = DurabilityMode.openWorkload(options, dir, Codec.LONG, TpccRows.CODEC);
        store = layout.open(db);
        SplittableRandom random = new SplittableRandom(options.seed());
        Loader items = new Loader();
        for (int i = 1; i <= this.items; i++) {
            String data = astring(random, 26, 50);
            items.next()
                    .item()
                    .put(
                            item(i),
                            new Item(
                                    1 + random.nextInt(10_000),
                                    astring(random, 14, 24),
                                    100 + random.nextInt(9_901),
                                    original(random, data)));
        }
        items.finish();
        int loaders = Math.min(options.threads(), warehouses);
        Thread[] threads = new Thread[loaders];
        RuntimeException[] failure = new RuntimeException[1];
        for (int t = 0; t < loaders; t++) {
            int first = t;
            threads[t] = new Thread(
                    () -> {
                        try {
                            for (int w = first + 1; w <= warehouses; w += loaders) {
                                loadWarehouse(w, new SplittableRandom(options.seed() + w));
                            }
                        } catch (RuntimeException e) {
                            synchronized (failure) {
                                failure[0] = e;
                            }
                        }
                    },
                    "varve-tpcc-loader-" + t);
            threads[t].start();
        }
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while loading", e);
            }
        }
        synchronized (failure) {
            if (failure[0] != null) {
                throw failure[0];
            }
        }
    }

    private void loadWarehouse(int w, SplittableRandom random) {
        Loader l = new Loader();
        l.next()
                .warehouse()
                .put(
                        warehouse(w),
                        new Warehouse(
                                astring(random, 6, 10), astring(random, 80, 80), random.nextInt(2001), 300_000_00L));
        for (int i = 1; i <= items; i++) {
            String data = astring(random, 26, 50);
            l.next()
                    .stock()
                    .put(
                            stock(w, i),
                            new Stock(
                                    10 + random.nextInt(91),
                                    0,
                                    0,
                                    0,
                                    astring(random, 240, 240),
                                    original(random, data)));
        }
        long now = System.currentTimeMillis();
        for (int d = 1; d <= DISTRICTS; d++) {
            l.next()
                    .district()
                    .put(
                            district(w, d),
                            new District(
                                    astring(random, 6, 10),
                                    astring(random, 80, 80),
                                    random.nextInt(2001),
                                    30_000_00L,
                                    initialOrders + 1));
            for (int c = 1; c <= customers; c++) {
                int nameNumber =
                        c <= Math.min(1000, customers) ? c - 1 : nurand(random, 255, 0, lastNameLimit(), cLastLoad);
                String first = astring(random, 8, 16);
                l.next()
                        .customer()
                        .put(
                                customer(w, d, c),
                                new Customer(
                                        first,
                                        "OE",
                                        lastName(nameNumber),
                                        astring(random, 100, 100),
                                        now,
                                        random.nextInt(10) == 0 ? "BC" : "GC",
                                        50_000_00L,
                                        random.nextInt(5001),
                                        -10_00L,
                                        10_00L,
                                        1,
                                        0,
                                        astring(random, 300, 500)));
                l.next()
                        .customerByName()
                        .put(customerByName(w, d, lastNameRank[nameNumber], c), new CustomerName(first));
                l.next()
                        .history()
                        .put(
                                history(historySeq.incrementAndGet()),
                                new History(c, d, w, d, w, now, 10_00L, astring(random, 12, 24)));
            }
            int[] permutation = new int[customers];
            for (int i = 0; i < customers; i++) {
                permutation[i] = i + 1;
            }
            for (int i = customers - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int tmp = permutation[i];
                permutation[i] = permutation[j];
                permutation[j] = tmp;
            }
            long delivered = initialOrders * 7L / 10; // orders 1..2100 delivered, 2101..3000 new
            for (int o = 1; o <= initialOrders; o++) {
                int c = permutation[(o - 1) % customers];
                int lines = 5 + random.nextInt(11);
                boolean old = o <= delivered;
                l.next().order().put(order(w, d, o), new Order(c, now, old ? 1 + random.nextInt(10) : 0, lines, true));
                l.next().orderByCustomer().put(orderByCustomer(w, d, c, o), OrderByCustomer.INSTANCE);
                for (int ol = 1; ol <= lines; ol++) {
                    l.next()
                            .orderLine()
                            .put(
                                    orderLine(w, d, o, ol),
                                    new OrderLine(
                                            1 + random.nextInt(items),
                                            w,
                                            old ? now : 0,
                                            5,
                                            old ? 0 : 1 + random.nextInt(999_999),
                                            astring(random, 24, 24)));
                }
                if (!old) {
                    l.next().newOrder().put(newOrder(w, d, o), NewOrder.INSTANCE);
                }
            }
        }
        l.finish();
    }

    private int lastNameLimit() {
        return Math.min(999, customers - 1);
    }

    private static String original(SplittableRandom random, String data) {
        if (random.nextInt(10) != 0) {
            return data;
        }
        int at = random.nextInt(data.length() - 8);
        return data.substring(0, at) + "ORIGINAL" + data.substring(at + 8);
    }

    private static String astring(SplittableRandom random, int min, int max) {
        int n = min + random.nextInt(max - min + 1);
        char[] c = new char[n];
        for (int i = 0; i < n; i++) {
            c[i] = (char) ('a' + random.nextInt(26));
        }
        return new String(c);
    }

    /** NURand(A, x, y) of §2.1.6. */
    private static int nurand(SplittableRandom random, int a, int x, int y, int c) {
        return (((random.nextInt(a + 1) | (x + random.nextInt(y - x + 1))) + c) % (y - x + 1)) + x;
    }

    // ---- the transactions (§2.4–2.8) --------------------------------------------------------

    @Override
    public Worker worker(int index, long seed, Counters counters) {
        return new TpccWorker(index % warehouses + 1, new SplittableRandom(seed), counters);
    }

    private final class TpccWorker implements Worker {
        private final int w;
        private final SplittableRandom random;
        private final Counters counters;
        private final Isolation isolation = options.isolation();
        /** The terminal's district for StockLevel (§2.8.1.1: fixed per terminal). */
        private final int stockLevelDistrict;

        TpccWorker(int w, SplittableRandom random, Counters counters) {
            this.w = w;
            this.random = random;
            this.counters = counters;
            this.stockLevelDistrict = 1 + random.nextInt(DISTRICTS);
        }

        @Override
        public void runOne() {
            long t0 = System.nanoTime();
            int x = random.nextInt(100);
            int type;
            boolean committed = true;
            if (x < 45) {
                type = 0;
                committed = runNewOrder();
            } else if (x < 88) {
                type = 1;
                payment();
            } else if (x < 92) {
                type = 2;
                orderStatus();
            } else if (x < 96) {
                type = 3;
                delivery();
            } else {
                type = 4;
                stockLevel();
            }
            if (committed) {
                counters.committed(type, System.nanoTime() - t0);
            } else {
                counters.rolledBack(type, System.nanoTime() - t0);
            }
        }

        private int otherWarehouse() {
            int o = 1 + random.nextInt(warehouses - 1);
            return o >= w ? o + 1 : o;
        }

        /** §2.4: returns false when the order was rolled back (an unused item number). */
        boolean runNewOrder() {
            int d = 1 + random.nextInt(DISTRICTS);
            int c = nurand(random, 1023, 1, customers, cId);
            int lines = 5 + random.nextInt(11);
            boolean rollback = random.nextInt(100) == 0;
            int[] itemIds = new int[lines];
            int[] supply = new int[lines];
            int[] quantity = new int[lines];
            boolean allLocal = true;
            for (int i = 0; i < lines; i++) {
                itemIds[i] = rollback && i == lines - 1 ? items + 1 : nurand(random, 8191, 1, items, cItem);
                supply[i] = warehouses > 1 && random.nextInt(100) == 0 ? otherWarehouse() : w;
                allLocal &= supply[i] == w;
                quantity[i] = 1 + random.nextInt(10);
            }
            boolean local = allLocal;
            long now = System.currentTimeMillis();
            return store.transact(counters, isolation, t -> {
                Warehouse wh = t.warehouse().get(warehouse(w));
                long dk = district(w, d);
                District dist = t.district().get(dk);
                long o = dist.nextOrderId();
                t.district().put(dk, dist.withNextOrderId(o + 1));
                Customer cust = t.customer().get(customer(w, d, c));
                t.order().put(order(w, d, o), new Order(c, now, 0, lines, local));
                t.newOrder().put(newOrder(w, d, o), NewOrder.INSTANCE);
                t.orderByCustomer().put(orderByCustomer(w, d, c, o), OrderByCustomer.INSTANCE);
                long total = 0;
                for (int i = 0; i < lines; i++) {
                    Item it = t.item().get(item(itemIds[i]));
                    if (it == null) {
                        t.rollback(); // §2.4.2.3: "Item number is not valid"
                        return false;
                    }
                    long sk = stock(supply[i], itemIds[i]);
                    Stock s = t.stock().get(sk);
                    int q = s.quantity() - quantity[i] >= 10
                            ? s.quantity() - quantity[i]
                            : s.quantity() - quantity[i] + 91;
                    t.stock()
                            .put(
                                    sk,
                                    new Stock(
                                            q,
                                            s.ytd() + quantity[i],
                                            s.orderCount() + 1,
                                            s.remoteCount() + (supply[i] == w ? 0 : 1),
                                            s.dists(),
                                            s.data()));
                    long amount = quantity[i] * it.price();
                    total += amount;
                    t.orderLine()
                            .put(
                                    orderLine(w, d, o, i + 1),
                                    new OrderLine(itemIds[i], supply[i], 0, quantity[i], amount, s.dist(d)));
                }
                long unused = total * (10_000 - cust.discountBp()) * (10_000 + wh.taxBp() + dist.taxBp());
                return unused >= 0;
            });
        }

        /** §2.5. */
        void payment() {
            int d = 1 + random.nextInt(DISTRICTS);
            int cw;
            int cd;
            if (warehouses == 1 || random.nextInt(100) < 85) {
                cw = w;
                cd = d;
            } else {
                cw = otherWarehouse();
                cd = 1 + random.nextInt(DISTRICTS);
            }
            boolean byName = random.nextInt(100) < 60;
            int nameNumber = nurand(random, 255, 0, lastNameLimit(), cLast);
            int cByid = nurand(random, 1023, 1, customers, cId);
            long amount = 100 + random.nextInt(500_000 - 100 + 1);
            long now = System.currentTimeMillis();
            String historyData = astring(random, 12, 24);
            store.transact(counters, isolation, t -> {
                long wk = warehouse(w);
                Warehouse wh = t.warehouse().get(wk);
                t.warehouse().put(wk, wh.withYtd(wh.ytd() + amount));
                long dk = district(w, d);
                District dist = t.district().get(dk);
                t.district().put(dk, dist.withYtd(dist.ytd() + amount));
                int c = byName ? customerByLastName(t, cw, cd, nameNumber, cByid) : cByid;
                long ck = customer(cw, cd, c);
                Customer cust = t.customer().get(ck);
                String data = cust.data();
                if (cust.credit().equals("BC")) {
                    String prefix = c + " " + cd + " " + cw + " " + d + " " + w + " " + amount + " ";
                    data = prefix + data;
                    if (data.length() > 500) {
                        data = data.substring(0, 500);
                    }
                }
                t.customer().put(ck, cust.afterPayment(amount, data));
                t.history()
                        .put(
                                history(historySeq.incrementAndGet()),
                                new History(c, cd, cw, d, w, now, amount, historyData));
                return null;
            });
        }

        /** §2.5.2.2 / §2.6.2.2: the customer at position ceil(n/2) of those with the last name, by c_first. */
        private int customerByLastName(TpccTables t, int cw, int cd, int nameNumber, int fallback) {
            int rank = lastNameRank[nameNumber];
            List<NameMatch> matches = new ArrayList<>(8);
            t.customerByName()
                    .forEach(
                            customerByName(cw, cd, rank, 0),
                            customerByName(cw, cd, rank, 0xfff),
                            (key, row) -> matches.add(new NameMatch(TpccKeys.customerOfNameKey(key), row.first())));
            if (matches.isEmpty()) {
                return fallback; // only at reduced scale, where some last names are unused
            }
            matches.sort(NameMatch.BY_FIRST_NAME);
            return matches.get((matches.size() - 1) / 2).customer();
        }

        /** §2.6, read-only. */
        void orderStatus() {
            int d = 1 + random.nextInt(DISTRICTS);
            boolean byName = random.nextInt(100) < 60;
            int nameNumber = nurand(random, 255, 0, lastNameLimit(), cLast);
            int cByid = nurand(random, 1023, 1, customers, cId);
            store.transact(counters, isolation, t -> {
                int c = byName ? customerByLastName(t, w, d, nameNumber, cByid) : cByid;
                Customer cust = t.customer().get(customer(w, d, c));
                long latest =
                        t.orderByCustomer().lastKey(orderByCustomer(w, d, c, 0), orderByCustomer(w, d, c, 0xfff_ffffL));
                long sum = cust.balance();
                if (latest != TpccTable.NONE) {
                    long o = TpccKeys.orderOfCustomerKey(latest);
                    Order order = t.order().get(order(w, d, o));
                    sum += order.carrierId();
                    for (OrderLine line : t.orderLine().values(orderLine(w, d, o, 0), orderLine(w, d, o, 15))) {
                        sum += line.amount() + line.deliveryDate();
                    }
                }
                return sum;
            });
        }

        /** §2.7, the ten districts in one transaction. */
        void delivery() {
            int carrier = 1 + random.nextInt(10);
            long now = System.currentTimeMillis();
            store.transact(counters, isolation, t -> {
                for (int d = 1; d <= DISTRICTS; d++) {
                    long oldest = t.newOrder().firstKey(newOrder(w, d, 0), newOrder(w, d, MAX_ORDER));
                    if (oldest == TpccTable.NONE) {
                        continue; // §2.7.4.2: skipped
                    }
                    long o = TpccKeys.orderId(oldest);
                    t.newOrder().remove(oldest);
                    long ok = order(w, d, o);
                    Order order = t.order().get(ok);
                    t.order().put(ok, order.withCarrier(carrier));
                    long total = 0;
                    for (int ol = 1; ol <= order.lineCount(); ol++) {
                        long lk = orderLine(w, d, o, ol);
                        OrderLine line = t.orderLine().get(lk);
                        total += line.amount();
                        t.orderLine().put(lk, line.delivered(now));
                    }
                    long ck = customer(w, d, order.customer());
                    Customer cust = t.customer().get(ck);
                    t.customer().put(ck, cust.afterDelivery(total));
                }
                return null;
            });
        }

        /** §2.8, read-only. */
        void stockLevel() {
            int threshold = 10 + random.nextInt(11);
            int d = stockLevelDistrict;
            store.transact(counters, isolation, t -> {
                District dist = t.district().get(district(w, d));
                long next = dist.nextOrderId();
                Set<Integer> itemIds = new HashSet<>();
                for (OrderLine line : t.orderLine()
                        .values(orderLine(w, d, Math.max(0, next - 20), 0), orderLine(w, d, next - 1, 15))) {
                    itemIds.add(line.item());
                }
                int low = 0;
                for (int i : itemIds) {
                    if (t.stock().get(stock(w, i)).quantity() < threshold) {
                        low++;
                    }
                }
                return low;
            });
        }
    }

    /** A customer with the last name looked up, and its first name (the order of §2.5.2.2). */
    private record NameMatch(int customer, String first) {
        static final Comparator<NameMatch> BY_FIRST_NAME = Comparator.comparing(NameMatch::first);
    }

    // ---- consistency (§3.3.2.1–3.3.2.4) ------------------------------------------------------

    @Override
    public List<Check> checkAfterRun() {
        try (TpccTables s = store.snapshot()) {
            String c1 = null;
            String c2 = null;
            String c3 = null;
            String c4 = null;
            long newOrders = 0;
            long orders = 0;
            long lines = 0;
            for (int w = 1; w <= warehouses; w++) {
                long wYtd = s.warehouse().get(warehouse(w)).ytd();
                long dYtd = 0;
                for (int d = 1; d <= DISTRICTS; d++) {
                    District dist = s.district().get(district(w, d));
                    dYtd += dist.ytd();
                    long lastOrder = s.order().lastKey(order(w, d, 0), order(w, d, MAX_ORDER));
                    long maxOrder = lastOrder == TpccTable.NONE ? 0 : TpccKeys.orderId(lastOrder);
                    long noCount = s.newOrder().count(newOrder(w, d, 0), newOrder(w, d, MAX_ORDER));
                    newOrders += noCount;
                    long maxNo = noCount == 0
                            ? maxOrder
                            : TpccKeys.orderId(s.newOrder().lastKey(newOrder(w, d, 0), newOrder(w, d, MAX_ORDER)));
                    long minNo = noCount == 0
                            ? 0
                            : TpccKeys.orderId(s.newOrder().firstKey(newOrder(w, d, 0), newOrder(w, d, MAX_ORDER)));
                    if (c2 == null && (dist.nextOrderId() - 1 != maxOrder || maxNo != maxOrder)) {
                        c2 = "w " + w + " d " + d + ": D_NEXT_O_ID - 1 = " + (dist.nextOrderId() - 1) + ", max(O_ID) = "
                                + maxOrder + ", max(NO_O_ID) = " + maxNo;
                    }
                    if (c3 == null && noCount > 0 && maxNo - minNo + 1 != noCount) {
                        c3 = "w " + w + " d " + d + ": max(NO_O_ID) - min(NO_O_ID) + 1 = " + (maxNo - minNo + 1)
                                + " but " + noCount + " NEW-ORDER rows";
                    }
                    long olCnt = 0;
                    for (Order order : s.order().values(order(w, d, 0), order(w, d, MAX_ORDER))) {
                        olCnt += order.lineCount();
                        orders++;
                    }
                    long lineRows = s.orderLine().count(orderLine(w, d, 0, 0), orderLine(w, d, MAX_ORDER, 15));
                    lines += lineRows;
                    if (c4 == null && olCnt != lineRows) {
                        c4 = "w " + w + " d " + d + ": sum(O_OL_CNT) = " + olCnt + " but " + lineRows
                                + " ORDER-LINE rows";
                    }
                }
                if (c1 == null && wYtd != dYtd) {
                    c1 = "w " + w + ": W_YTD = " + wYtd + " but sum(D_YTD) = " + dYtd;
                }
            }
            int districts = warehouses * DISTRICTS;
            return List.of(
                    new Check(
                            "TPC-C 3.3.2.1: W_YTD = sum(D_YTD)",
                            c1 == null,
                            c1 != null ? c1 : warehouses + " warehouses"),
                    new Check(
                            "TPC-C 3.3.2.2: D_NEXT_O_ID - 1 = max(O_ID) = max(NO_O_ID)",
                            c2 == null,
                            c2 != null ? c2 : districts + " districts, " + orders + " orders"),
                    new Check(
                            "TPC-C 3.3.2.3: max(NO_O_ID) - min(NO_O_ID) + 1 = NEW-ORDER rows",
                            c3 == null,
                            c3 != null ? c3 : newOrders + " undelivered orders"),
                    new Check(
                            "TPC-C 3.3.2.4: sum(O_OL_CNT) = ORDER-LINE rows",
                            c4 == null,
                            c4 != null ? c4 : lines + " order lines"));
        }
    }

    /** The tables' layout in the database. */
    TpccStore.Layout layout() {
        return layout;
    }

    /** The store, once loaded (for tests). */
    TpccStore store() {
        return store;
    }

    @Override
    public Database<?, ?> database() {
        return db;
    }

    @Override
    public List<WatchRange> watchedRanges() {
        return store.watchedRanges();
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalStateException in the named-map layout, whose maps have no codecs
     */
    @Override
    public Backup backup(Path target) {
        return DurabilityMode.backupWorkload(db, options, target, Codec.LONG, TpccRows.CODEC);
    }

    @Override
    public void close() {
        DurabilityMode.closeWorkload(db, options, dir);
    }
}
