// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Database;
import dev.varve.Isolation;
import dev.varve.Snapshot;
import dev.varve.Transaction;
import dev.varve.TransactionException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Review 8: leaked-transaction reaping and the age bound against pin churn well past the
 * registry's 128 slots (so overflow pins are watched and reaped too), with owners closing,
 * leaking and (with the age bound) being expired while vacuum passes and periodic refreshes reap
 * from other threads. A double release would free another transaction's slot: a transaction held
 * open through all of it must still read its snapshot, every leak must be counted exactly once,
 * and every pin must be gone at the end.
 */
class AdversaryPinChurnTest {
    @Test
    void leaksAndClosesPastTheSlotsNeverFreeAnotherTransactionsPin() throws Exception {
        try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
            db.put(1L, 0L);
            Transaction<Long, Long> held = db.begin(Isolation.SNAPSHOT);
            assertEquals(0L, held.get(1L));
            Snapshot<Long, Long> heldView = db.snapshot();
            int churners = 2;
            int rounds = 20;
            int perRound = 150; // with the other churner's, well past 128 slots: overflow pins
            AtomicLong leaked = new AtomicLong();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicBoolean done = new AtomicBoolean();
            CyclicBarrier start = new CyclicBarrier(churners + 2);
            List<Thread> threads = new ArrayList<>();
            for (int c = 0; c < churners; c++) {
                threads.add(new Thread(() -> {
                    try {
                        start.await();
                        for (int round = 0; round < rounds; round++) {
                            List<Transaction<Long, Long>> open = new ArrayList<>();
                            for (int i = 0; i < perRound; i++) {
                                Transaction<Long, Long> tx = db.begin(Isolation.SNAPSHOT);
                                tx.get(1L);
                                open.add(tx);
                            }
                            for (int i = 0; i < open.size(); i++) {
                                if (i % 3 == 0) {
                                    leaked.incrementAndGet(); // dropped unclosed
                                } else if (i % 3 == 1) {
                                    open.get(i).close();
                                } else {
                                    open.get(i).commit();
                                }
                            }
                            open.clear();
                            if (round % 10 == 0) {
                                System.gc();
                            }
                        }
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    }
                }));
            }
            Thread writer = new Thread(() -> {
                try {
                    start.await();
                    for (long v = 1; !done.get(); v++) {
                        db.put(1L, v); // versions the held snapshot needs kept; refreshes every 256
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            });
            threads.forEach(Thread::start);
            writer.start();
            start.await();
            while (threads.stream().anyMatch(Thread::isAlive)) {
                db.vacuum();
                assertEquals(0L, held.get(1L), "the held transaction's snapshot was vacuumed: its pin was freed");
                assertEquals(0L, heldView.get(1L), "the held snapshot view's pin was freed");
            }
            for (Thread t : threads) {
                t.join();
            }
            done.set(true);
            writer.join();
            assertNull(failure.get());
            await("every leaked transaction is reaped, once")
                    .atMost(Duration.ofSeconds(60))
                    .until(() -> {
                        System.gc();
                        db.vacuum();
                        return db.counters().leakedTransactions() >= leaked.get();
                    });
            assertEquals(leaked.get(), db.counters().leakedTransactions());
            assertEquals(0L, held.get(1L));
            assertEquals(2, db.gauges().openSnapshots(), "the held transaction and view only");
            held.commit();
            heldView.close();
            assertEquals(0, db.gauges().openSnapshots());
            db.vacuum();
            assertEquals(1, db.gauges().versions());
        }
    }

    @org.junit.jupiter.api.RepeatedTest(3)
    void ownersClosingWhileTheAgeBoundReapsReleaseEachPinOnce() throws Exception {
        try (Database<Long, Long> db = Database.<Long, Long>builder()
                .maxTransactionAge(Duration.ofMillis(1))
                .open()) {
            db.put(1L, 0L);
            Snapshot<Long, Long> heldView = db.snapshot(); // never bounded: its pin must survive
            long viewTs = heldView.snapshotTimestamp();
            int churners = 2;
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicLong expiredSeen = new AtomicLong();
            AtomicBoolean done = new AtomicBoolean();
            List<Thread> threads = new ArrayList<>();
            for (int c = 0; c < churners; c++) {
                threads.add(new Thread(() -> {
                    try {
                        for (int round = 0; round < 40; round++) {
                            List<Transaction<Long, Long>> open = new ArrayList<>();
                            for (int i = 0; i < 150; i++) {
                                open.add(db.begin());
                            }
                            for (Transaction<Long, Long> tx : open) {
                                try {
                                    tx.get(1L);
                                    tx.put(2L, 2L);
                                    tx.commit();
                                } catch (TransactionException e) {
                                    expiredSeen.incrementAndGet(); // expired, or a conflict on key 2
                                } finally {
                                    tx.close();
                                }
                            }
                        }
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    }
                }));
            }
            Thread reaper = new Thread(() -> {
                while (!done.get()) {
                    db.vacuum();
                }
            });
            threads.forEach(Thread::start);
            reaper.start();
            for (Thread t : threads) {
                t.join();
            }
            done.set(true);
            reaper.join();
            assertNull(failure.get());
            assertTrue(db.counters().expiredTransactions() > 0, "the bound expired some");
            assertEquals(1, db.gauges().openSnapshots(), "only the view is pinned");
            assertEquals(viewTs, db.gauges().oldestSnapshotTimestamp(), "the view still holds the watermark");
            assertEquals(0L, heldView.get(1L));
            heldView.close();
            assertEquals(0, db.gauges().openSnapshots());
        }
    }
}
