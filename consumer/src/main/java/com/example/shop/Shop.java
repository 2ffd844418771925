// SPDX-License-Identifier: Apache-2.0
package com.example.shop;

import dev.varve.Codec;
import dev.varve.Database;
import dev.varve.NamedMap;
import dev.varve.Snapshot;
import dev.varve.Transaction;
import dev.varve.testkit.CheckResult;
import dev.varve.testkit.HistoryRecorder;
import dev.varve.wal.Wal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A small shop written as a user of Varve writes one, against the public API only: stock and
 * orders in named maps, revenue in the default map, each sale one transaction across all three;
 * once in memory, once durable (reopened to see that the sales survived), and a workload checked
 * for serializability with {@code varve-testkit}. {@link #run(Path)} returns what it found, for
 * the consumer module's tests to compare; {@link #main(String[])} prints it.
 */
public final class Shop {
    /** An order: how many of which item. */
    public record Order(String item, int quantity) {}

    /** An account balance; a new object per put, as {@link HistoryRecorder} asks. */
    record Account(long balance) {}

    /**
     * What a run found.
     *
     * @param memoryApplesLeft the in-memory database's stock of apples after the sales
     * @param memoryOrder order 1 of the in-memory database
     * @param memoryRevenue the in-memory database's revenue
     * @param memoryTransactionCommits {@code counters().transactionCommits()} at the end
     * @param memoryLiveKeys {@code gauges().liveKeys()} at the end (every map)
     * @param memoryHealthy {@code health().ok()} at the end
     * @param durableApplesLeft the stock of apples read after reopening the durable database
     * @param durableOrders the orders read after reopening it
     * @param durableRevenue the revenue read after reopening it
     * @param durableHealthy {@code health().ok()} after reopening it
     * @param recordedCommits committed transactions in the recorded history
     * @param recordedTotal the sum of the recorded workload's balances at the end
     */
    public record Report(
            int memoryApplesLeft,
            Order memoryOrder,
            long memoryRevenue,
            long memoryTransactionCommits,
            long memoryLiveKeys,
            boolean memoryHealthy,
            int durableApplesLeft,
            NavigableMap<Long, Order> durableOrders,
            long durableRevenue,
            boolean durableHealthy,
            int recordedCommits,
            long recordedTotal) {}

    /** The price of every item, in cents. */
    static final long PRICE = 25;

    /** Transfers in the recorded workload. */
    static final int TRANSFERS = 40;

    /** The orders map's values in the log. */
    static final Codec<Order> ORDER = Codec.ofData(
            "shop.order/1",
            (order, out) -> {
                out.writeUTF(order.item());
                out.writeInt(order.quantity());
            },
            in -> new Order(in.readUTF(), in.readInt()));

    private Shop() {}

    /**
     * Runs the shop: in memory, then durably in {@code dir} (opened twice), then the recorded
     * workload.
     *
     * @param dir an empty directory for the durable database's log
     * @return what it found
     * @throws Exception if a step fails; an {@link AssertionError} if the recorded history is not
     *     serializable
     */
    public static Report run(Path dir) throws Exception {
        int memoryApplesLeft;
        Order memoryOrder;
        long memoryRevenue;
        Database.Counters counters;
        Database.Gauges gauges;
        Database.Health memoryHealth;
        try (Database<String, Long> db = Database.<String, Long>builder().open()) {
            NamedMap<String, Integer> stock = db.openMap("stock");
            NamedMap<Long, Order> orders = db.openMap("orders");
            stock.put("apple", 10); // autocommit on a named map
            db.run(tx -> tx.put("revenue", 0L));
            sell(db, stock, orders, 1L, "apple", 3);
            sell(db, stock, orders, 2L, "apple", 4);
            memoryApplesLeft = stock.get("apple");
            memoryOrder = orders.get(1L);
            memoryRevenue = db.get("revenue");
            counters = db.counters();
            gauges = db.gauges();
            memoryHealth = db.health();
        }

        try (Database<String, Long> db = openDurable(dir)) {
            NamedMap<String, Integer> stock = db.openMap("stock", Codec.STRING, Codec.INT);
            NamedMap<Long, Order> orders = db.openMap("orders", Codec.LONG, ORDER);
            stock.put("apple", 10);
            db.put("revenue", 0L);
            sell(db, stock, orders, 1L, "apple", 3);
            sell(db, stock, orders, 2L, "apple", 4);
            // cancel order 2: an explicit transaction across both named maps and the default one
            try (Transaction<String, Long> tx = db.begin()) {
                Order cancelled = tx.map(orders).remove(2L);
                tx.map(stock).merge(cancelled.item(), cancelled.quantity(), Integer::sum);
                tx.put("revenue", tx.get("revenue") - cancelled.quantity() * PRICE);
                tx.commit();
            }
        }
        int durableApplesLeft;
        NavigableMap<Long, Order> durableOrders;
        long durableRevenue;
        boolean durableHealthy;
        try (Database<String, Long> db = openDurable(dir)) { // recovers what dir holds
            NamedMap<String, Integer> stock = db.openMap("stock", Codec.STRING, Codec.INT);
            NamedMap<Long, Order> orders = db.openMap("orders", Codec.LONG, ORDER);
            try (Snapshot<String, Long> snap = db.snapshot()) { // every map at one timestamp
                durableApplesLeft = snap.map(stock).get("apple");
                durableOrders = new TreeMap<>(snap.map(orders));
                durableRevenue = snap.get("revenue");
            }
            durableHealthy = db.health().ok();
        }

        int recordedCommits;
        long recordedTotal;
        try (Database<String, Account> db = Database.<String, Account>builder().open()) {
            db.put("alice", new Account(100));
            db.put("bob", new Account(100));
            HistoryRecorder<String, Account> recorder = HistoryRecorder.of(db);
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                List<Future<?>> transfers = new ArrayList<>();
                for (int i = 0; i < TRANSFERS; i++) {
                    String from = i % 2 == 0 ? "alice" : "bob";
                    String to = i % 2 == 0 ? "bob" : "alice";
                    transfers.add(pool.submit(() -> recorder.transact(tx -> {
                        tx.put(from, new Account(tx.get(from).balance() - 1));
                        tx.put(to, new Account(tx.get(to).balance() + 1));
                        return null;
                    })));
                }
                for (Future<?> f : transfers) {
                    f.get();
                }
            } finally {
                pool.shutdown();
            }
            CheckResult result = recorder.check().assertSerializable();
            recordedCommits = result.committedTransactions();
            recordedTotal = db.get("alice").balance() + db.get("bob").balance();
        }

        return new Report(
                memoryApplesLeft,
                memoryOrder,
                memoryRevenue,
                counters.transactionCommits(),
                gauges.liveKeys(),
                memoryHealth.ok(),
                durableApplesLeft,
                durableOrders,
                durableRevenue,
                durableHealthy,
                recordedCommits,
                recordedTotal);
    }

    /** Sells {@code quantity} of {@code item} as order {@code id}: one transaction, three maps. */
    static void sell(
            Database<String, Long> db,
            NamedMap<String, Integer> stock,
            NamedMap<Long, Order> orders,
            long id,
            String item,
            int quantity) {
        db.transact(tx -> {
            int left = tx.map(stock).get(item);
            if (left < quantity) {
                throw new IllegalStateException(
                        "only " + left + " " + item + " left, order " + id + " wants " + quantity);
            }
            tx.map(stock).put(item, left - quantity);
            tx.map(orders).put(id, new Order(item, quantity));
            tx.put("revenue", tx.get("revenue") + quantity * PRICE);
            return null; // one atomic commit across the three maps
        });
    }

    private static Database<String, Long> openDurable(Path dir) {
        return Database.<String, Long>builder()
                .durability(Wal.full(dir, Codec.STRING, Codec.LONG))
                .open();
    }

    /**
     * Runs the shop in a new temporary directory and prints what it found.
     *
     * @param args ignored
     * @throws Exception if {@link #run(Path)} does
     */
    public static void main(String[] args) throws Exception {
        System.out.println(run(Files.createTempDirectory("shop")));
    }
}
