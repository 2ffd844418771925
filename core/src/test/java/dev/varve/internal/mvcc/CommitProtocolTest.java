// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Database;
import dev.varve.Internals;
import dev.varve.Isolation;
import dev.varve.SerializationFailureException;
import dev.varve.Transaction;
import dev.varve.internal.index.VersionedIndex;
import dev.varve.testing.TestThreads;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The commit protocol's internal steps, driven one at a time: write latches (PENDING versions)
 * taken outside the commit lock, and SSI out-edges found by a scan before the lock plus the ring
 * of recent write sets under it.
 */
class CommitProtocolTest {
    private final Database<Long, Long> db = Database.<Long, Long>builder().open(); // no background vacuum

    @AfterEach
    void tearDown() {
        db.close();
    }

    private Store<Long, Long> store() {
        try (Transaction<Long, Long> tx = db.begin()) {
            return Internals.store(tx);
        }
    }

    /** Links a PENDING version over {@code key}, as a committer does before taking the lock. */
    private Version<Long> holdLatch(long key, long value) {
        Object previous = store().index().get(key);
        Version<Long> latch =
                new Version<>(value, Version.PENDING, previous == null ? null : VersionChain.asVersion(previous));
        assertTrue(
                previous == null
                        ? store().index().putIfAbsent(key, latch) == null
                        : store().index().replace(key, previous, latch));
        return latch;
    }

    @Test
    void aTransactionWaitsForALatchAndAbortsIfItsHolderCommits() {
        db.put(1L, 10L);
        db.put(2L, 20L);
        Transaction<Long, Long> tx = db.begin(Isolation.SNAPSHOT);
        tx.put(1L, 11L);
        tx.put(2L, 21L);
        Version<Long> latch = holdLatch(2L, 99L);
        CompletableFuture<Void> commit = CompletableFuture.runAsync(tx::commit);
        await().during(Duration.ofMillis(200)).atMost(2, TimeUnit.SECONDS).until(() -> !commit.isDone());
        assertEquals(20L, db.get(2L)); // a latch is invisible to readers
        assertEquals(10L, db.get(1L)); // key 1 is latched by the waiting commit, still invisible
        // The holder commits (stamped above tx's snapshot): tx loses, first committer wins.
        latch.stamp(tx.snapshotTimestamp() + 1);
        Throwable failure = assertThrows(
                        java.util.concurrent.CompletionException.class,
                        () -> commit.orTimeout(10, TimeUnit.SECONDS).join())
                .getCause();
        SerializationFailureException e = assertInstanceOf(SerializationFailureException.class, failure);
        assertEquals(SerializationFailureException.Reason.WRITE_WRITE_CONFLICT, e.reason());
        assertEquals(List.of(2L), e.keys());
        assertFalse(VersionChain.isLatched(store().index().get(1L))); // key 1 was unlatched
        assertEquals(
                Long.valueOf(10L),
                VersionChain.<Long>latestValue(store().index().get(1L)));
    }

    @Test
    void aTransactionWaitingForALatchCommitsIfItsHolderAborts() {
        db.put(2L, 20L);
        Transaction<Long, Long> tx = db.begin(Isolation.SERIALIZABLE);
        tx.put(1L, tx.get(2L) + 1);
        tx.put(2L, 21L);
        Version<Long> latch = holdLatch(2L, 99L);
        CompletableFuture<Void> commit = CompletableFuture.runAsync(tx::commit);
        await().during(Duration.ofMillis(200)).atMost(2, TimeUnit.SECONDS).until(() -> !commit.isDone());
        assertTrue(store().index().replace(2L, latch, latch.getOlderAcquire())); // the holder aborts
        commit.orTimeout(10, TimeUnit.SECONDS).join();
        assertEquals(21L, db.get(1L));
        assertEquals(21L, db.get(2L));
    }

    @Test
    void anAutocommitWriteWaitsForTheLatchAndAppliesOnTheCommittedValue() {
        db.put(5L, 1L);
        Version<Long> latch = holdLatch(5L, 2L);
        Object below = latch.getOlderAcquire();
        CompletableFuture<Long> increment = CompletableFuture.supplyAsync(() -> db.compute(5L, v -> v + 100));
        await().during(Duration.ofMillis(200)).atMost(2, TimeUnit.SECONDS).until(() -> !increment.isDone());
        // The latch holder aborts: its version goes, and the waiting write applies on value 1.
        assertTrue(store().index().replace(5L, latch, below));
        assertEquals(101L, increment.orTimeout(10, TimeUnit.SECONDS).join());
        assertEquals(101L, db.get(5L));
    }

    /** A SERIALIZABLE read-write transaction that read key 1 (value 1) and writes key 2. */
    private Transaction<Long, Long> readerOfKeyOne() {
        db.put(1L, 1L);
        Transaction<Long, Long> tx = db.begin(Isolation.SERIALIZABLE);
        assertEquals(1L, tx.get(1L));
        tx.put(2L, 2L);
        return tx;
    }

    /** Commits a new value of key 1 and returns that commit's timestamp. */
    private long overwriteKeyOne() {
        db.put(1L, 10L);
        return db.stats().visibleTimestamp();
    }

    @Test
    void vacuumNeverRemovesOrSettlesALatchedKey() {
        db.put(7L, 70L);
        db.remove(7L); // the head is now a tombstone that vacuum would drop
        db.put(8L, 80L); // a value that vacuum would settle
        Version<Long> tombstoneLatch = holdLatch(7L, 71L);
        Version<Long> valueLatch = holdLatch(8L, 81L);
        db.vacuum();
        assertTrue(store().index().get(7L) == tombstoneLatch);
        assertTrue(store().index().get(8L) == valueLatch);
        assertEquals(null, db.get(7L));
        assertEquals(80L, db.get(8L));
        // The holders abort; now vacuum may drop the tombstone and settle the value.
        assertTrue(store().index().replace(7L, tombstoneLatch, tombstoneLatch.getOlderAcquire()));
        assertTrue(store().index().replace(8L, valueLatch, valueLatch.getOlderAcquire()));
        db.vacuum();
        assertNull(store().index().get(7L));
        assertEquals(80L, store().index().get(8L)); // settled: the bare value
    }

    @Test
    void transactionsAndAutocommitWritesSharingHotKeysNeitherDeadlockNorLoseUpdates() throws Exception {
        // Every transaction writes the counter: retry for as long as it takes (the run is bounded).
        try (Database<Long, Long> db =
                Database.<Long, Long>builder().maxAttempts(1_000_000).open()) {
            hotKeys(db);
        }
    }

    private static void hotKeys(Database<Long, Long> db) throws Exception {
        int accounts = 8;
        long counterKey = 100;
        long opsPerThread = 5_000;
        for (long a = 0; a < accounts; a++) {
            db.put(a, 1_000L);
        }
        db.put(counterKey, 0L);
        List<java.util.concurrent.Callable<Long>> tasks = new java.util.ArrayList<>();
        for (int t = 0; t < 6; t++) { // more threads than cores, on purpose
            long seed = 77 + t;
            boolean transactional = t % 2 == 0;
            tasks.add(() -> {
                java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed);
                for (long i = 0; i < opsPerThread; i++) {
                    if (transactional) { // a transfer that also bumps the shared counter
                        long from = rnd.nextInt(accounts);
                        long to = rnd.nextInt(accounts);
                        db.transact(Isolation.SERIALIZABLE, tx -> {
                            tx.put(from, tx.get(from) - 1);
                            tx.put(to, tx.get(to) + 1);
                            tx.put(counterKey, tx.get(counterKey) + 1);
                            return null;
                        });
                    } else { // autocommit read-modify-writes on the same keys
                        db.compute(counterKey, v -> v + 1);
                        long a = rnd.nextInt(accounts);
                        db.compute(a, v -> v + 1);
                        db.compute(a, v -> v - 1);
                    }
                }
                return opsPerThread;
            });
        }
        TestThreads.runAll(tasks); // bounded: fails if any thread is still waiting after 120 s
        long total = 0;
        for (long a = 0; a < accounts; a++) {
            total += db.get(a);
        }
        assertEquals(accounts * 1_000L, total);
        assertEquals(6 * opsPerThread, db.get(counterKey)); // every increment, none lost
        Store<Long, Long> store;
        try (Transaction<Long, Long> tx = db.begin()) {
            store = Internals.store(tx);
        }
        for (VersionedIndex.Cursor<Long> c = store.index().cursor(); c.next(); ) {
            assertFalse(VersionChain.isLatched(c.entry()), "a latch was left behind at key " + c.key());
        }
    }

    @Test
    void outEdgesCommittedAfterTheScanAreFoundInTheRing() {
        Transaction<Long, Long> tx = readerOfKeyOne();
        ConflictFinder.OutEdges scanned = store().ssi().scanOutEdges(Internals.core(tx));
        assertEquals(0, scanned.targets().length);
        db.put(3L, 3L); // not read: no edge
        long writer = overwriteKeyOne(); // read: an out-edge to this commit
        ConflictFinder.Edges edges = store().ssi().validate(Internals.core(tx), scanned);
        assertArrayEquals(new long[] {writer}, edges.out());
        assertEquals(List.of(1L), edges.outKeys());
        tx.rollback();
    }

    @Test
    void outEdgesAreFoundByAFreshScanWhenTheRingNoLongerHoldsThem() {
        Transaction<Long, Long> tx = readerOfKeyOne();
        ConflictFinder.OutEdges scanned = store().ssi().scanOutEdges(Internals.core(tx));
        long writer = overwriteKeyOne();
        for (long k = 100; k < 3_100; k++) { // more commits than the ring holds
            db.put(k, k);
        }
        ConflictFinder.Edges edges = store().ssi().validate(Internals.core(tx), scanned);
        assertArrayEquals(new long[] {writer}, edges.out());
        tx.rollback();
    }

    @Test
    void outEdgesCommittedBeforeTheScanAreFoundInTheIndexWhenManyKeysWereWritten() {
        Transaction<Long, Long> tx = readerOfKeyOne();
        long writer = overwriteKeyOne();
        for (long k = 100; k < 200; k++) { // many keys written since the snapshot: scan the index
            db.put(k, k);
        }
        ConflictFinder.OutEdges scanned = store().ssi().scanOutEdges(Internals.core(tx));
        assertEquals(db.stats().visibleTimestamp(), scanned.scannedThrough());
        assertArrayEquals(new long[] {writer}, scanned.targets());
        ConflictFinder.Edges edges = store().ssi().validate(Internals.core(tx), scanned);
        assertArrayEquals(new long[] {writer}, edges.out());
        tx.rollback();
    }

    @Test
    void theScanIsSkippedWhenFewKeysWereWrittenSinceTheSnapshot() {
        Transaction<Long, Long> tx = readerOfKeyOne();
        long writer = overwriteKeyOne();
        ConflictFinder.OutEdges scanned = store().ssi().scanOutEdges(Internals.core(tx));
        assertEquals(tx.snapshotTimestamp(), scanned.scannedThrough()); // nothing scanned
        ConflictFinder.Edges edges = store().ssi().validate(Internals.core(tx), scanned); // the ring finds it
        assertArrayEquals(new long[] {writer}, edges.out());
        tx.rollback();
    }

    @Test
    void aWriteSkewPivotIsStillCaughtWhenTheOtherCommitLandsBetweenScanAndLock() {
        db.put(1L, 0L);
        db.put(2L, 0L);
        Transaction<Long, Long> t1 = db.begin(Isolation.SERIALIZABLE);
        Transaction<Long, Long> t2 = db.begin(Isolation.SERIALIZABLE);
        t1.get(1L);
        t1.get(2L);
        t2.get(1L);
        t2.get(2L);
        t1.put(1L, 1L);
        t2.put(2L, 1L);
        ConflictFinder.OutEdges scanned = store().ssi().scanOutEdges(Internals.core(t2)); // sees nothing yet
        assertEquals(0, scanned.targets().length);
        t1.commit(); // lands after t2's scan: t2 ->rw t1 must come from the ring
        SerializationFailureException e = assertThrows(
                SerializationFailureException.class, () -> store().ssi().validate(Internals.core(t2), scanned));
        assertEquals(SerializationFailureException.Reason.DANGEROUS_STRUCTURE, e.reason());
        assertTrue(e.keys().contains(1L), e.keys().toString()); // the out-edge, t2 read 1
        t2.rollback();
    }

    @Test
    void aCommitLatchesAKeyItJustReadThroughItsNodeAndSeesTheNodeReplaced() {
        db.put(3L, 30L);
        db.remove(3L); // a tombstone, below the snapshot taken next
        Transaction<Long, Long> tx = db.begin(Isolation.SNAPSHOT);
        assertNull(tx.get(3L)); // remembers key 3's node
        assertSame(store().index().node(3L), Internals.core(tx).recentlyReadNode(3L));
        db.vacuum(); // the tombstone is below every snapshot: the node is removed
        assertNull(store().index().get(3L));
        db.put(3L, 31L); // a new node, committed after tx's snapshot
        tx.put(3L, 32L);
        SerializationFailureException e = assertThrows(SerializationFailureException.class, tx::commit);
        assertEquals(SerializationFailureException.Reason.WRITE_WRITE_CONFLICT, e.reason());
        assertEquals(31L, db.get(3L));

        db.remove(3L);
        Transaction<Long, Long> writer = db.begin(Isolation.SNAPSHOT);
        assertNull(writer.get(3L)); // the tombstone's node
        assertNotNull(Internals.core(writer).recentlyReadNode(3L));
        db.vacuum(); // removes that node; nothing re-inserts the key
        assertNull(store().index().node(3L));
        writer.put(3L, 33L);
        writer.commit(); // the remembered node is gone: the latch searches, and inserts
        assertEquals(33L, db.get(3L));
    }
}
