// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Duration;
import java.util.NavigableMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The README's quick-start, kept compiling and true. Keep the two in sync. */
class QuickStartTest {
    record Order(String item, int quantity) {}

    @Test
    void readmeQuickStartRunsAsDocumented() throws Exception {
        ExecutorService executor = Executors.newFixedThreadPool(2);
        try {
            // --- README quick-start begins ---
            try (Database<String, Long> db = Database.<String, Long>builder()
                    .autoVacuum(Duration.ofMillis(200)) // optional background vacuum
                    .open()) { // in memory by default
                db.put("alice", 100L); // autocommit write
                db.put("bob", 50L);

                // A SERIALIZABLE transaction, retried automatically on SerializationFailureException.
                long total = db.transact(tx -> tx.get("alice") + tx.get("bob"));

                // Move 30 from alice to bob without blocking a thread on commit.
                CompletableFuture<Long> moved = db.transactAsync(
                        tx -> {
                            tx.put("alice", tx.get("alice") - 30);
                            tx.put("bob", tx.get("bob") + 30);
                            return 30L;
                        },
                        executor);

                // Explicit transaction with a NavigableMap view; close() without commit rolls back.
                try (Transaction<String, Long> tx = db.begin(Isolation.SERIALIZABLE)) {
                    tx.put("carol", 5L);
                    NavigableMap<String, Long> view = tx.asMap(); // snapshot + own writes
                    long sum = 0;
                    for (var e : view.subMap("a", true, "c", false).entrySet()) {
                        sum += e.getValue();
                    }
                    tx.remove("carol");
                    tx.commit(); // may throw SerializationFailureException
                }

                // Named maps: any number, each with its own key and value types and order.
                NamedMap<String, Integer> stock = db.openMap("stock");
                NamedMap<Long, Order> orders = db.openMap("orders");
                stock.put("apple", 10); // autocommit on a named map
                db.transact(tx -> {
                    int left = tx.map(stock).get("apple"); // NavigableMap<String, Integer>
                    tx.map(stock).put("apple", left - 3);
                    tx.map(orders).put(1L, new Order("apple", 3));
                    return null; // one atomic commit across both maps
                });

                try (Snapshot<String, Long> snap = db.snapshot()) { // read-only, consistent, never aborts
                    moved.join();
                    Order first = snap.map(orders).firstEntry().getValue(); // every map at one timestamp
                    // --- README quick-start ends ---
                    assertEquals(new Order("apple", 3), first);
                    assertEquals(7, snap.map(stock).get("apple"));
                    assertEquals(150L, total);
                    assertEquals(30L, moved.get(10, TimeUnit.SECONDS));
                    assertNull(snap.get("carol"));
                }
                assertEquals(70L, db.get("alice"));
                assertEquals(80L, db.get("bob"));
                assertNull(db.get("carol"));
            }
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void readmeOperatingItRunsAsDocumented() throws Exception {
        // --- README "Operating it" begins ---
        try (Database<Long, String> db = Database.builder(Long.class, String.class)
                .name("orders")
                .jmx(true) // MBean dev.varve:type=Database,name=orders
                .open()) {
            db.run(tx -> tx.put(1L, "first")); // a void body, retried like transact
            String first = db.call(
                    tx -> { // a body that may throw a checked exception
                        if (tx.get(1L) == null) {
                            throw new java.io.IOException("missing");
                        }
                        return tx.get(1L);
                    });
            db.transact(RetryPolicy.noRetry(), Isolation.SERIALIZABLE, tx -> tx.get(1L)); // per-call retries
            // --- README "Operating it" ends ---
            assertEquals("first", first);
            assertEquals(
                    1L,
                    java.lang.management.ManagementFactory.getPlatformMBeanServer()
                            .getAttribute(
                                    new javax.management.ObjectName("dev.varve:type=Database,name=orders"), "Commits"),
                    "run wrote; call and transact only read (Stats.commits counts read-write commits)");
        }
    }
}
