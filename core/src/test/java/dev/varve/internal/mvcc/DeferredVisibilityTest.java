// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.varve.Database;
import dev.varve.Durability;
import dev.varve.Isolation;
import dev.varve.SerializationFailureException;
import dev.varve.Snapshot;
import dev.varve.Transaction;
import dev.varve.spi.CommitLog;
import dev.varve.spi.CommitRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * With a log that asks for it ({@link CommitLog#visibleOnlyWhenDurable()}), no reader sees a
 * commit before its record is durable; without, a commit is visible once installed.
 */
class DeferredVisibilityTest {

    /** A log whose appends become durable only when the test says so, in order. */
    static final class HeldLog implements CommitLog<Long, Long> {
        final boolean defer;
        final List<CompletableFuture<Void>> pending = new ArrayList<>();

        HeldLog(boolean defer) {
            this.defer = defer;
        }

        @Override
        public synchronized CompletableFuture<Void> append(CommitRecord<Long, Long> record) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            pending.add(f);
            return f;
        }

        @Override
        public boolean visibleOnlyWhenDurable() {
            return defer;
        }

        /** Makes the first {@code n} pending records durable. */
        synchronized void makeDurable(int n) {
            for (int i = 0; i < n; i++) {
                pending.remove(0).complete(null);
            }
        }

        synchronized int pendingCount() {
            return pending.size();
        }

        /** The oldest pending record's future, taken off the list (to complete or fail it). */
        synchronized CompletableFuture<Void> next() {
            return pending.remove(0);
        }

        @Override
        public void checkpoint() {}

        @Override
        public void close() {}
    }

    static Database<Long, Long> open(HeldLog log) {
        return Database.<Long, Long>builder()
                .durability(new Durability<>() {
                    @Override
                    public CommitLog<Long, Long> open(dev.varve.spi.StoreAccess<Long, Long> store) {
                        return log;
                    }

                    @Override
                    public String describe() {
                        return "held";
                    }
                })
                .open();
    }

    private static void awaitPending(HeldLog log, int n) {
        org.awaitility.Awaitility.await().atMost(10, TimeUnit.SECONDS).until(() -> log.pendingCount() == n);
    }

    @Test
    void noReaderSeesACommitBeforeItIsDurable() throws Exception {
        HeldLog log = new HeldLog(true);
        try (Database<Long, Long> db = open(log)) {
            CompletableFuture<Long> put = CompletableFuture.supplyAsync(() -> db.put(1L, 10L));
            awaitPending(log, 1);
            assertNull(db.get(1L)); // installed, not durable: invisible to autocommit reads
            try (Snapshot<Long, Long> s = db.snapshot()) {
                assertFalse(s.containsKey(1L));
            }
            try (Transaction<Long, Long> tx = db.begin()) {
                assertNull(tx.get(1L));
            }
            // A writer that writes nothing must not report the undurable value either.
            CompletableFuture<Long> putIfAbsent = CompletableFuture.supplyAsync(() -> db.putIfAbsent(1L, 99L));
            org.awaitility.Awaitility.await()
                    .during(java.time.Duration.ofMillis(200))
                    .atMost(5, TimeUnit.SECONDS)
                    .until(() -> !putIfAbsent.isDone());
            log.makeDurable(1);
            assertNull(put.get(10, TimeUnit.SECONDS));
            assertEquals(10L, putIfAbsent.get(10, TimeUnit.SECONDS));
            assertEquals(10L, db.get(1L));
        }
    }

    @Test
    void aTransactionOverAnUndurableCommitAbortsAndTheCommitterReadsItsOwnWrite() throws Exception {
        HeldLog log = new HeldLog(true);
        try (Database<Long, Long> db = open(log)) {
            CompletableFuture<Void> first = CompletableFuture.runAsync(() -> db.transact(tx -> {
                tx.put(1L, 1L);
                return null;
            }));
            awaitPending(log, 1);
            Transaction<Long, Long> late = db.begin(Isolation.SNAPSHOT);
            assertNull(late.get(1L));
            late.put(1L, 2L);
            assertThrows(SerializationFailureException.class, late::commit); // first committer wins
            // A later commit waits behind the undurable one in the log; both become visible in order.
            CompletableFuture<Long> second = CompletableFuture.supplyAsync(() -> db.put(2L, 2L));
            awaitPending(log, 2);
            log.makeDurable(1);
            first.get(10, TimeUnit.SECONDS);
            assertEquals(1L, db.get(1L));
            assertNull(db.get(2L));
            log.makeDurable(1);
            second.get(10, TimeUnit.SECONDS);
            assertEquals(2L, db.get(2L));
        }
    }

    @Test
    void withoutDeferralACommitIsVisibleBeforeItIsDurable() throws Exception {
        HeldLog log = new HeldLog(false);
        try (Database<Long, Long> db = open(log)) {
            CompletableFuture<Long> put = CompletableFuture.supplyAsync(() -> db.put(1L, 10L));
            awaitPending(log, 1);
            org.awaitility.Awaitility.await()
                    .atMost(10, TimeUnit.SECONDS)
                    .until(() -> Long.valueOf(10L).equals(db.get(1L)));
            log.makeDurable(1);
            assertNull(put.get(10, TimeUnit.SECONDS));
        }
    }

    /**
     * The receipts/report anomaly of ForcedScheduleTest with deferred visibility: the pivot T2
     * (older snapshot) has committed and unpinned, but its commit is not yet durable, so not
     * visible. The report R must still not take the unrecorded read-only shortcut.
     */
    @Test
    void aReadOnlyCommitCannotSkipValidationWhileAnOlderPivotsCommitIsNotYetVisible() throws Exception {
        HeldLog log = new HeldLog(true);
        try (Database<Long, Long> db = open(log)) {
            long control = 0;
            long batch1 = 100;
            CompletableFuture<Long> first = CompletableFuture.supplyAsync(() -> db.put(control, 1L));
            awaitPending(log, 1);
            log.makeDurable(1);
            first.get(10, TimeUnit.SECONDS);
            Transaction<Long, Long> newReceipt = db.begin(); // T2
            assertEquals(1L, newReceipt.get(control));
            CompletableFuture<Void> closeBatch = CompletableFuture.runAsync(() -> db.transact(
                    tx -> { // T3
                        tx.put(control, tx.get(control) + 1);
                        return null;
                    }));
            awaitPending(log, 1);
            log.makeDurable(1);
            closeBatch.get(10, TimeUnit.SECONDS);
            Transaction<Long, Long> report = db.begin(); // R: sees batch 2
            assertEquals(2L, report.get(control));
            assertEquals(0, report.asMap().subMap(batch1, batch1 + 100).size());
            newReceipt.put(batch1 + 1, 42L);
            CompletableFuture<Void> pivot = CompletableFuture.runAsync(newReceipt::commit);
            awaitPending(log, 1); // T2 committed in memory and unpinned; its record is not durable
            org.awaitility.Awaitility.await()
                    .atMost(10, TimeUnit.SECONDS)
                    .until(() -> db.stats().openSnapshots() == 1);
            boolean reportCommitted;
            try {
                report.commit();
                reportCommitted = true;
            } catch (SerializationFailureException e) {
                reportCommitted = false;
            }
            log.makeDurable(1);
            pivot.get(10, TimeUnit.SECONDS);
            assertFalse(reportCommitted, "R and T2 both committed: R ->rw T2 ->rw T3 ->wr R is a cycle");
        }
    }
}
