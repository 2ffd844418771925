// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.varve.Database;
import dev.varve.Internals;
import dev.varve.Isolation;
import dev.varve.Transaction;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * With the default settings (no background vacuum) every 256th committer runs a small vacuum pass
 * after its commit became visible (Vacuum#committerVacuum). Anything that pass throws must not be
 * reported to that committer as if its commit had failed: the caller would retry a transaction
 * (or an autocommit compute) that is already committed.
 */
class AdversaryCommitterVacuumTest {

    /**
     * Natural order on longs that throws once, at its first call after the store's visible
     * timestamp reached {@code target}: with one thread, that call is in the committer's vacuum
     * pass that follows the commit at {@code target}.
     */
    static final class ThrowAfterVisible implements Comparator<Long> {
        final AtomicReference<Store<Long, Long>> store = new AtomicReference<>();
        volatile long target = -1;
        final AtomicBoolean thrown = new AtomicBoolean();

        @Override
        public int compare(Long a, Long b) {
            Store<Long, Long> s = store.get();
            if (s != null && target > 0 && s.visibleTs() == target && thrown.compareAndSet(false, true)) {
                throw new IllegalStateException(
                        "injected comparator failure after commit " + target + " became visible");
            }
            return Long.compare(a, b);
        }
    }

    /** The exception and the engine frames it was thrown through, for the failure message. */
    static String where(Throwable t) {
        if (t == null) {
            return "nothing";
        }
        StringBuilder b = new StringBuilder(t.toString()).append(" at");
        for (StackTraceElement e : t.getStackTrace()) {
            if (e.getClassName().startsWith("dev.varve.") && !e.getClassName().contains("Test")) {
                b.append(' ').append(e.getClassName().substring(10)).append('.').append(e.getMethodName());
            }
        }
        return b.toString();
    }

    private static Store<Long, Long> storeOf(Database<Long, Long> db) {
        try (Transaction<Long, Long> tx = db.begin()) {
            return Internals.store(tx);
        }
    }

    /** Fills commits 1..255, removals among them so the committer pass at commit 256 has work. */
    private static void commitsUpTo255(Database<Long, Long> db) {
        for (long k = 0; k < 200; k++) {
            db.put(k, k); // commits 1..200
        }
        for (long k = 0; k < 55; k++) {
            db.remove(k); // commits 201..255: tombstones, marked for the committers' pass
        }
    }

    @Test
    void aTransactionWhoseCommitIsVisibleDoesNotThrowBecauseTheFollowingVacuumPassFailed() {
        ThrowAfterVisible cmp = new ThrowAfterVisible();
        try (Database<Long, Long> db = Database.<Long, Long>builder(cmp).open()) {
            cmp.store.set(storeOf(db));
            commitsUpTo255(db);
            assertEquals(255, cmp.store.get().visibleTs());
            cmp.target = 256;
            Transaction<Long, Long> tx = db.begin(Isolation.SNAPSHOT);
            tx.put(500L, 1L);
            RuntimeException thrown = null;
            try {
                tx.commit(); // commit 256, then the committers' vacuum pass
            } catch (RuntimeException e) {
                thrown = e;
            }
            assertEquals(1L, db.get(500L), "the commit is visible");
            assertNull(thrown, "commit() threw although the transaction committed at 256: " + where(thrown));
        }
    }

    @Test
    void anAutocommitComputeThatCommittedDoesNotThrowBecauseTheFollowingVacuumPassFailed() {
        ThrowAfterVisible cmp = new ThrowAfterVisible();
        try (Database<Long, Long> db = Database.<Long, Long>builder(cmp).open()) {
            cmp.store.set(storeOf(db));
            commitsUpTo255(db);
            db.put(700L, 0L); // commit 256: the pass runs here, unarmed
            cmp.thrown.set(false);
            for (long k = 55; k < 110; k++) {
                db.remove(k); // commits 257..311
            }
            for (long k = 110; k < 310; k++) {
                db.put(k, 1L); // commits 312..511
            }
            cmp.target = 512;
            RuntimeException thrown = null;
            try {
                db.compute(700L, v -> v + 1); // commit 512, then the committers' pass
            } catch (RuntimeException e) {
                thrown = e;
            }
            assertEquals(1L, db.get(700L), "the compute is visible");
            assertNull(
                    thrown,
                    "compute threw although it committed at 512 (a caller would apply it twice): " + where(thrown));
        }
    }

    /**
     * The keys a failed committer pass had taken are not lost: with no background vacuum, nothing
     * else ever visits them (only a full pass would), so their tombstones would stay forever.
     */
    @Test
    void theTombstonesAFailedCommitterPassHadTakenAreStillReclaimed() {
        tombstonesReclaimedAfterCommitterPasses(256);
    }

    /** The control: without a failure, the committers' passes reclaim the tombstones. */
    @Test
    void committerPassesReclaimTombstones() {
        tombstonesReclaimedAfterCommitterPasses(-1);
    }

    private static void tombstonesReclaimedAfterCommitterPasses(long failAfter) {
        ThrowAfterVisible cmp = new ThrowAfterVisible();
        try (Database<Long, Long> db = Database.<Long, Long>builder(cmp).open()) {
            Store<Long, Long> store = storeOf(db);
            cmp.store.set(store);
            commitsUpTo255(db);
            cmp.target = failAfter;
            try {
                db.put(900L, 1L); // commit 256; its pass fails (the exception itself is the test above)
            } catch (IllegalStateException expected) {
                // reported by the tests above
            }
            for (long i = 0; i < 4 * 256; i++) {
                db.put(1000L + (i % 50), i); // four more committer passes, no snapshot open
            }
            for (long k = 0; k < 55; k++) {
                assertNull(
                        store.index().get(k),
                        "the tombstone of key " + k + " (removed at commit " + (201 + k)
                                + ") is still in the index after four more committer passes");
            }
        }
    }
}
