// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Database;
import dev.varve.Internals;
import dev.varve.Isolation;
import dev.varve.SerializationFailureException;
import dev.varve.Snapshot;
import dev.varve.Transaction;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Transfers (SNAPSHOT and SERIALIZABLE transactions), autocommit computes on the same keys, a
 * counter bumped by autocommit computes, snapshot sums and vacuum, while the comparator throws on
 * about 1 in 500 calls: every failure must leave the total conserved, the counter exact (within
 * the computes whose outcome was reported as a failure), and every key writable.
 */
class AdversaryFailingComparatorBankTest {
    private static final long ACCOUNTS = 8;
    private static final long INITIAL = 1_000;
    private static final long COUNTER = 100;

    /** Natural order that throws on about 1 in {@code oneIn} calls while armed. */
    static final class RandomlyFailing implements Comparator<Long> {
        volatile boolean armed;
        final int oneIn;
        final AtomicLong failures = new AtomicLong();

        RandomlyFailing(int oneIn) {
            this.oneIn = oneIn;
        }

        @Override
        public int compare(Long a, Long b) {
            if (armed && ThreadLocalRandom.current().nextInt(oneIn) == 0) {
                failures.incrementAndGet();
                throw new IllegalStateException("injected comparator failure");
            }
            return Long.compare(a, b);
        }
    }

    private static boolean injected(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c.getMessage() != null && c.getMessage().startsWith("injected")) {
                return true;
            }
        }
        return false;
    }

    @Test
    void failingComparatorBank() throws Exception {
        run(1_500, false);
    }

    @Test
    void failingComparatorBankWithBackgroundVacuum() throws Exception {
        run(1_500, true);
    }

    @Tag("slow")
    @Test
    void failingComparatorBankLong() throws Exception {
        run(30_000, false);
        run(30_000, true);
    }

    private static void run(long millis, boolean backgroundVacuum) throws Exception {
        RandomlyFailing cmp = new RandomlyFailing(500);
        var builder = Database.<Long, Long>builder(cmp);
        if (backgroundVacuum) {
            builder.autoVacuum(java.time.Duration.ofMillis(1));
        }
        try (Database<Long, Long> db = builder.open()) {
            for (long k = 0; k < ACCOUNTS; k++) {
                db.put(k, INITIAL);
            }
            db.put(COUNTER, 0L);
            AtomicLong computedOk = new AtomicLong();
            AtomicLong computedUnknown = new AtomicLong();
            AtomicLong transfers = new AtomicLong();
            AtomicLong badSums = new AtomicLong();
            ConcurrentLinkedQueue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
            cmp.armed = true;
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                Isolation iso = t == 0 ? Isolation.SNAPSHOT : Isolation.SERIALIZABLE;
                threads.add(new Thread(
                        () -> {
                            ThreadLocalRandom r = ThreadLocalRandom.current();
                            while (System.nanoTime() < end) {
                                long from = r.nextLong(ACCOUNTS);
                                long to = (from + 1 + r.nextLong(ACCOUNTS - 1)) % ACCOUNTS;
                                long amount = r.nextLong(1, 20);
                                try (Transaction<Long, Long> tx = db.begin(iso)) {
                                    long a = tx.get(from);
                                    long b = tx.get(to);
                                    tx.put(from, a - amount);
                                    tx.put(to, b + amount);
                                    tx.commit();
                                    transfers.incrementAndGet();
                                } catch (SerializationFailureException e) {
                                    // retried by the next iteration
                                } catch (RuntimeException | Error e) {
                                    if (!injected(e)) {
                                        unexpected.add(e);
                                    }
                                }
                            }
                        },
                        "transfer-" + iso));
            }
            threads.add(new Thread(
                    () -> {
                        ThreadLocalRandom r = ThreadLocalRandom.current();
                        while (System.nanoTime() < end) {
                            try {
                                if (r.nextBoolean()) {
                                    db.compute(COUNTER, v -> v + 1);
                                    computedOk.incrementAndGet();
                                } else {
                                    db.compute(
                                            r.nextLong(ACCOUNTS),
                                            v -> v); // same value: a stale base would show in the total
                                }
                            } catch (RuntimeException | Error e) {
                                if (!injected(e)) {
                                    unexpected.add(e);
                                } else {
                                    computedUnknown.incrementAndGet(); // may or may not have committed (see the
                                    // committer-vacuum test)
                                }
                            }
                        }
                    },
                    "compute"));
            threads.add(new Thread(
                    () -> {
                        while (System.nanoTime() < end) {
                            try {
                                if (!backgroundVacuum) {
                                    db.vacuum();
                                }
                                try (Snapshot<Long, Long> s = db.snapshot()) {
                                    long sum = 0;
                                    for (var e : s.headMap(ACCOUNTS, false).entrySet()) {
                                        sum += e.getValue();
                                    }
                                    if (sum != ACCOUNTS * INITIAL) {
                                        badSums.incrementAndGet();
                                    }
                                }
                            } catch (RuntimeException | Error e) {
                                if (!injected(e)) {
                                    unexpected.add(e);
                                }
                            }
                        }
                    },
                    "vacuum-and-sum"));
            for (Thread t : threads) {
                t.start();
            }
            for (Thread t : threads) {
                t.join(millis + 30_000);
                assertFalse(t.isAlive(), t.getName() + " is stuck (a latch left behind?)");
            }
            cmp.armed = false;
            String context = "after " + transfers.get() + " transfers, " + computedOk.get() + " counter computes, "
                    + cmp.failures.get() + " injected failures";
            assertTrue(unexpected.isEmpty(), context + ": unexpected " + unexpected);
            assertEquals(0, badSums.get(), context + ": snapshot sums that were not the total");
            long total = 0;
            for (long k = 0; k < ACCOUNTS; k++) {
                total += db.get(k);
            }
            assertEquals(ACCOUNTS * INITIAL, total, context + ": total");
            long counter = db.get(COUNTER);
            assertTrue(
                    counter >= computedOk.get() && counter <= computedOk.get() + computedUnknown.get(),
                    context + ": counter " + counter + " outside [" + computedOk.get() + ", "
                            + (computedOk.get() + computedUnknown.get()) + "] (a lost or phantom update)");
            // every key writable again, by a transaction and by an autocommit write
            CompletableFuture<Void> writes = CompletableFuture.runAsync(() -> {
                for (long k = 0; k <= COUNTER; k++) {
                    db.put(k, k);
                }
                try (Transaction<Long, Long> tx = db.begin()) {
                    for (long k = 0; k <= COUNTER; k++) {
                        tx.put(k, -k);
                    }
                    tx.commit();
                }
            });
            try {
                writes.get(10, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                throw new AssertionError(context + ": a writer waited 10 s for a latch nobody holds", e);
            }
            Store<Long, Long> store;
            try (Transaction<Long, Long> tx = db.begin()) {
                store = Internals.store(tx);
            }
            for (var c = store.index().cursor(); c.next(); ) {
                assertFalse(VersionChain.isLatched(c.entry()), context + ": key " + c.key() + " still latched");
                assertEquals(-c.key(), (long) VersionChain.valueAt(c.entry(), store.visibleTs()), context);
            }
        }
    }
}
