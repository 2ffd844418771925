// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.internal.mvcc.Store;
import dev.varve.internal.mvcc.TestHook;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link Database#snapshot(Isolation)} with SERIALIZABLE: a safe snapshot (Ports and Grittner,
 * VLDB 2012, §4.2-4.3), PostgreSQL's {@code SERIALIZABLE READ ONLY DEFERRABLE}. Every wait is
 * observed at the engine's named point (a {@link TestHook} that counts down, never a sleep): once
 * the caller stands there with a possible pivot open, it cannot return until that pivot ends.
 */
class SerializableSnapshotTest {
    private static final long X = 1;
    private static final long Y = 2;
    private static final long UNRELATED = 99;

    private final Database<Long, Long> db = Database.<Long, Long>builder().open();
    private final Store<Long, Long> store = Internals.store(db);
    private final CountDownLatch waiting = new CountDownLatch(1);

    SerializableSnapshotTest() {
        store.hook(point -> {
            if (point == TestHook.Point.SAFE_SNAPSHOT_WAITING) {
                waiting.countDown();
            }
        });
    }

    @AfterEach
    void tearDown() {
        store.hook(TestHook.NONE);
        db.close();
    }

    /**
     * Begins a SERIALIZABLE transaction, then commits an unrelated key, so that a snapshot taken
     * now is newer than the transaction's (a transaction at the same snapshot is no pivot toward it).
     */
    private Transaction<Long, Long> olderWriter() {
        Transaction<Long, Long> older = db.begin(Isolation.SERIALIZABLE);
        db.put(UNRELATED, older.snapshotTimestamp());
        return older;
    }

    private CompletableFuture<Snapshot<Long, Long>> serializableSnapshotAsync() throws InterruptedException {
        CompletableFuture<Snapshot<Long, Long>> f =
                CompletableFuture.supplyAsync(() -> db.snapshot(Isolation.SERIALIZABLE));
        assertTrue(waiting.await(30, TimeUnit.SECONDS), "the snapshot never began to wait");
        return f;
    }

    @Test
    void withNoSerializableWriterOpenItIsTakenAtOnceAtTheVisibleTimestamp() {
        db.put(X, 1L);
        Transaction<Long, Long> snapshotIsolation = db.begin(Isolation.SNAPSHOT); // no pivot
        snapshotIsolation.get(X);
        try (Snapshot<Long, Long> plain = db.snapshot();
                Snapshot<Long, Long> safe = db.snapshot(Isolation.SERIALIZABLE)) {
            assertEquals(plain.snapshotTimestamp(), safe.snapshotTimestamp());
            assertEquals(1L, safe.get(X));
            assertThrows(UnsupportedOperationException.class, () -> safe.put(Y, 2L));
        }
        assertEquals(1, waiting.getCount(), "nothing to wait for");
        snapshotIsolation.close();
    }

    @Test
    void snapshotIsolationIsTheUsualViewAndDoesNotWait() {
        Transaction<Long, Long> open = db.begin(Isolation.SERIALIZABLE);
        open.get(X);
        try (Snapshot<Long, Long> s = db.snapshot(Isolation.SNAPSHOT)) {
            assertEquals(store.visibleTs(), s.snapshotTimestamp());
        }
        assertEquals(1, waiting.getCount());
        open.close();
        assertThrows(NullPointerException.class, () -> db.snapshot(null));
    }

    @Test
    void itWaitsForAnOlderWriterAndKeepsItsSnapshotWhenThatCommitsWithoutAnOutEdge() throws Exception {
        db.put(X, 0L);
        Transaction<Long, Long> older = olderWriter();
        long s = store.visibleTs();
        CompletableFuture<Snapshot<Long, Long>> f = serializableSnapshotAsync();
        assertFalse(f.isDone(), "an older possible pivot is open: it cannot be decided yet");
        older.put(X, older.get(X) + 1); // reads and writes x: no out-edge
        older.commit();
        try (Snapshot<Long, Long> safe = f.get(30, TimeUnit.SECONDS)) {
            assertEquals(s, safe.snapshotTimestamp(), "safe: the snapshot taken before the commit is kept");
            assertEquals(0L, safe.get(X));
        }
    }

    @Test
    void aWriterThatRollsBackLeavesItSafe() throws Exception {
        db.put(X, 0L);
        Transaction<Long, Long> older = olderWriter();
        older.get(Y);
        older.put(X, 5L);
        long s = store.visibleTs();
        CompletableFuture<Snapshot<Long, Long>> f = serializableSnapshotAsync();
        db.put(Y, 1L); // older ->rw this commit, but older never commits
        older.rollback();
        try (Snapshot<Long, Long> safe = f.get(30, TimeUnit.SECONDS)) {
            assertEquals(s, safe.snapshotTimestamp());
        }
    }

    /**
     * The read-only anomaly (Fekete, O'Neil and O'Neil 2004): T2 reads x, T3 overwrites x and
     * commits, T2 writes y and commits. A view at a snapshot between T3 and T2 shows x = 1, y = 0,
     * which no serial order of T2 and T3 gives (T2 read x = 0, so T2 precedes T3, and the view
     * sees T3 without T2). The safe snapshot must not be that one.
     */
    @Test
    void itTakesAFreshSnapshotWhenTheOlderWriterCommitsAnOutEdgeBelowIt() throws Exception {
        db.put(X, 0L);
        db.put(Y, 0L);
        Transaction<Long, Long> t2 = db.begin(Isolation.SERIALIZABLE);
        assertEquals(0L, t2.get(X));
        db.put(X, 1L); // T3
        try (Snapshot<Long, Long> unsafe = db.snapshot()) {
            assertEquals(1L, unsafe.get(X));
            CompletableFuture<Snapshot<Long, Long>> f = serializableSnapshotAsync();
            t2.put(Y, 1L);
            t2.commit();
            try (Snapshot<Long, Long> safe = f.get(30, TimeUnit.SECONDS)) {
                assertTrue(safe.snapshotTimestamp() >= t2.commitTimestamp());
                assertEquals(1L, safe.get(X));
                assertEquals(1L, safe.get(Y), "the view must include T2, which precedes T3 it includes");
            }
            assertEquals(0L, unsafe.get(Y), "the snapshot-isolation view shows the anomaly");
        }
    }

    @Test
    void aWriterBegunAfterTheSnapshotDoesNotHoldItUp() throws Exception {
        Transaction<Long, Long> older = olderWriter();
        older.get(X);
        CompletableFuture<Snapshot<Long, Long>> f = serializableSnapshotAsync();
        Transaction<Long, Long> later = db.begin(Isolation.SERIALIZABLE); // stays open throughout
        later.get(X);
        later.put(Y, 1L);
        older.close();
        try (Snapshot<Long, Long> safe = f.get(30, TimeUnit.SECONDS)) {
            assertTrue(safe.snapshotTimestamp() <= later.snapshotTimestamp());
        }
        later.commit();
    }

    @Test
    void anInterruptWhileWaitingThrowsKeepsTheInterruptAndReleasesThePin() throws Exception {
        Transaction<Long, Long> older = olderWriter();
        older.get(X);
        AtomicReference<Thread> caller = new AtomicReference<>();
        AtomicReference<Boolean> interruptKept = new AtomicReference<>();
        CompletableFuture<Snapshot<Long, Long>> f = CompletableFuture.supplyAsync(() -> {
            caller.set(Thread.currentThread());
            try {
                return db.snapshot(Isolation.SERIALIZABLE);
            } finally {
                interruptKept.set(Thread.interrupted()); // clear it: the pool thread is reused
            }
        });
        assertTrue(waiting.await(30, TimeUnit.SECONDS));
        caller.get().interrupt();
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
        assertInstanceOf(TransactionException.class, e.getCause());
        assertTrue(interruptKept.get(), "the interrupt status is set again");
        assertEquals(1, store.pins().pinnedCount(), "only the older transaction's pin is left");
        older.close();
    }

    @Test
    void closingTheDatabaseWhileItWaitsEndsTheWait() throws Exception {
        Transaction<Long, Long> older = olderWriter();
        older.get(X);
        CompletableFuture<Snapshot<Long, Long>> f = serializableSnapshotAsync();
        db.close();
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
        assertInstanceOf(IllegalStateException.class, e.getCause());
        assertThrows(IllegalStateException.class, () -> db.snapshot(Isolation.SERIALIZABLE));
    }

    /**
     * Review of 91a800a, finding 3: with an age bound and nothing else committing, only the
     * waiting caller can release the expired transaction it waits for.
     */
    @Test
    void onAnIdleDatabaseTheAgeBoundStillEndsTheWait() throws Exception {
        try (Database<Long, Long> bounded = Database.<Long, Long>builder()
                .maxTransactionAge(java.time.Duration.ofMillis(50))
                .open()) {
            Transaction<Long, Long> older = bounded.begin(Isolation.SERIALIZABLE);
            older.get(X);
            bounded.put(UNRELATED, 1L);
            CompletableFuture<Snapshot<Long, Long>> f =
                    CompletableFuture.supplyAsync(() -> bounded.snapshot(Isolation.SERIALIZABLE));
            try (Snapshot<Long, Long> safe = f.get(30, TimeUnit.SECONDS)) {
                assertEquals(1L, safe.get(UNRELATED));
            }
            assertThrows(TransactionException.class, () -> older.get(X), "the older transaction expired");
        }
    }
}
