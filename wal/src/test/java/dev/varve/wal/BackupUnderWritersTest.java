// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Backup;
import dev.varve.Codec;
import dev.varve.Database;
import dev.varve.NamedMap;
import dev.varve.SerializationFailureException;
import dev.varve.Snapshot;
import dev.varve.Transaction;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A backup taken while two threads run bank transfers (each also appending to a named ledger)
 * restores, into memory and into a log directory, to exactly the state at its snapshot
 * timestamp. The expected state is rebuilt from the writers' own history: every committed
 * transaction's writes with its commit timestamp, applied in timestamp order up to the backup's
 * (a commit with a larger timestamp is not in it, every one at or below is, whole). The money is
 * conserved in every restored image.
 */
class BackupUnderWritersTest {
    private static final int ACCOUNTS = 20_000;
    private static final long INITIAL = 1_000;

    @TempDir
    Path tmp;

    /** One committed transaction: its commit timestamp and its writes (map "" or "ledger", key, value). */
    record Commit(long ts, List<Object[]> writes) {}

    @ParameterizedTest(name = "durable source: {0}")
    @ValueSource(booleans = {false, true})
    void aBackupUnderConcurrentTransfersRestoresToTheStateAtItsTimestamp(boolean durableSource) throws Exception {
        long seed = System.nanoTime();
        System.out.println("BackupUnderWritersTest seed " + seed + ", durable source " + durableSource);
        Database.Builder<String, Long> builder = Database.builder();
        if (durableSource) {
            builder.durability(Wal.builder(tmp.resolve("log"), Codec.STRING, Codec.LONG)
                    .sync(Wal.Sync.RELAXED)
                    .checkpointEvery(256 << 10) // background checkpoints race the backups too
                    .build());
        }
        ConcurrentLinkedQueue<Commit> history = new ConcurrentLinkedQueue<>();
        List<Backup> backups = new ArrayList<>();
        List<long[]> commitsAround = new ArrayList<>();
        try (Database<String, Long> db = builder.open()) {
            NamedMap<Long, Long> ledger = db.openMap("ledger", Comparator.reverseOrder(), Codec.LONG, Codec.LONG);
            try (Transaction<String, Long> tx = db.begin()) {
                List<Object[]> writes = new ArrayList<>();
                for (int i = 0; i < ACCOUNTS; i++) {
                    tx.put(account(i), INITIAL);
                    writes.add(new Object[] {"", account(i), INITIAL});
                }
                tx.commit();
                history.add(new Commit(tx.commitTimestamp(), writes));
            }
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong committed = new AtomicLong();
            List<Thread> writers = new ArrayList<>();
            List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
            for (int w = 0; w < 2; w++) {
                Random rnd = new Random(seed + w);
                long base = (w + 1L) << 40;
                Thread t = new Thread(
                        () -> {
                            long seq = 0;
                            try {
                                while (!stop.get()) {
                                    int from = rnd.nextInt(ACCOUNTS);
                                    int to = rnd.nextInt(ACCOUNTS - 1);
                                    to = to >= from ? to + 1 : to;
                                    long amount = 1 + rnd.nextInt(50);
                                    try (Transaction<String, Long> tx = db.begin()) {
                                        long a = tx.get(account(from));
                                        long b = tx.get(account(to));
                                        tx.put(account(from), a - amount);
                                        tx.put(account(to), b + amount);
                                        tx.map(ledger).put(base + seq, amount);
                                        tx.commit();
                                        history.add(new Commit(
                                                tx.commitTimestamp(),
                                                List.of(
                                                        new Object[] {"", account(from), a - amount},
                                                        new Object[] {"", account(to), b + amount},
                                                        new Object[] {"ledger", base + seq, amount})));
                                        seq++;
                                        committed.incrementAndGet();
                                    } catch (SerializationFailureException retry) {
                                        // a conflict with the other writer: nothing committed, try another
                                    }
                                }
                            } catch (Throwable e) {
                                failures.add(e);
                            }
                        },
                        "transfers-" + w);
                t.start();
                writers.add(t);
            }
            org.awaitility.Awaitility.await()
                    .atMost(java.time.Duration.ofSeconds(20))
                    .until(() -> committed.get() >= 200);
            for (int i = 0; i < 4; i++) {
                long before = committed.get();
                Path target = tmp.resolve("backup-" + i);
                backups.add(durableSource ? db.backup(target) : db.backup(target, Codec.STRING, Codec.LONG));
                long after = committed.get();
                commitsAround.add(new long[] {before, after});
                // the writers move on before the next backup (a condition, not a pause)
                org.awaitility.Awaitility.await()
                        .atMost(java.time.Duration.ofSeconds(20))
                        .until(() -> committed.get() >= after + 50);
            }
            stop.set(true);
            for (Thread t : writers) {
                t.join(TimeUnit.SECONDS.toMillis(60));
            }
            assertTrue(failures.isEmpty(), () -> "writer failed: " + failures);
        }
        assertTrue(
                commitsAround.stream().anyMatch(c -> c[1] > c[0]),
                "no backup overlapped a commit: "
                        + commitsAround.stream().map(c -> c[0] + "->" + c[1]).toList());
        List<Commit> ordered = new ArrayList<>(history);
        ordered.sort(Comparator.comparingLong(Commit::ts));
        long newest = ordered.get(ordered.size() - 1).ts();
        for (Backup b : backups) {
            Map<String, TreeMap<Object, Object>> expected = stateAt(ordered, b.snapshotTimestamp());
            assertTrue(b.snapshotTimestamp() < newest, "the writers committed after backup " + b);
            assertEquals(ACCOUNTS, b.entries().get(""));
            assertEquals((long) expected.get("ledger").size(), b.entries().get("ledger"));
            assertEquals(expected, restored(b, null), "into memory from " + b);
            assertEquals(
                    expected,
                    restored(b, b.directory().resolveSibling(b.directory().getFileName() + "-log")),
                    "into a log from " + b);
        }
    }

    private static String account(int i) {
        return String.format("acct%06d", i);
    }

    /** The state after every commit at or below {@code ts}, from the writers' history. */
    private static Map<String, TreeMap<Object, Object>> stateAt(List<Commit> ordered, long ts) {
        Map<String, TreeMap<Object, Object>> state = new TreeMap<>();
        state.put("", new TreeMap<>());
        state.put("ledger", new TreeMap<>());
        for (Commit c : ordered) {
            if (c.ts() > ts) {
                break;
            }
            for (Object[] w : c.writes()) {
                state.get((String) w[0]).put(w[1], w[2]);
            }
        }
        return state;
    }

    /** Restores {@code b} into memory ({@code log} null) or into {@code log}, and reads it back. */
    private static Map<String, TreeMap<Object, Object>> restored(Backup b, Path log) {
        Database.Builder<String, Long> builder = Database.builder();
        if (log == null) {
            builder.restore(b.directory(), Codec.STRING, Codec.LONG);
        } else {
            builder.restore(b.directory()).durability(Wal.full(log, Codec.STRING, Codec.LONG));
        }
        Map<String, TreeMap<Object, Object>> state = new TreeMap<>();
        try (Database<String, Long> db = builder.open();
                Snapshot<String, Long> s = db.snapshot()) {
            NamedMap<Long, Long> ledger = db.openMap("ledger", Comparator.reverseOrder(), Codec.LONG, Codec.LONG);
            assertEquals(b.snapshotTimestamp(), s.snapshotTimestamp());
            long total = 0;
            for (long v : s.values()) {
                total += v;
            }
            assertEquals(ACCOUNTS * INITIAL, total, "money conserved in " + b);
            state.put("", copy(s));
            try (Snapshot<String, Long> s2 = db.snapshot()) {
                state.put("ledger", copy(s2.map(ledger)));
            }
        }
        return state;
    }

    private static TreeMap<Object, Object> copy(Map<?, ?> m) {
        TreeMap<Object, Object> out = new TreeMap<>();
        out.putAll(m);
        return out;
    }
}
