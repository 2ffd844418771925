// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench.jmh;

import dev.varve.Database;
import dev.varve.Isolation;
import dev.varve.SerializationFailureException;
import dev.varve.Snapshot;
import dev.varve.Transaction;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Issue 17 target 2's cell: a read-only transaction of 10 gets and a 10-key scan, run beside a
 * writer doing SERIALIZABLE transfers, the reader once under SERIALIZABLE and once under
 * SNAPSHOT; the target is the
 * SERIALIZABLE reader's time at most 1.25x the SNAPSHOT reader's. A third group reads the same
 * through {@code db.snapshot(Isolation.SERIALIZABLE)} (a safe snapshot: it waits for the writer's
 * transaction open at its snapshot, then reads untracked). JMH reports each group's reader and
 * writer apart ({@code serializable:serializableRead}, {@code snapshot:snapshotRead}, ...).
 *
 * <p>One reader and one writer per group, not the two writers: this machine has 2 cores,
 * and a third busy thread would measure the scheduler. Run with
 * {@code java -jar bench/target/varve-bench.jar jmh ReadOnlyBesideWritersBenchmark -f 1 -wi 3 -w 1s -i 5 -r 1s}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ReadOnlyBesideWritersBenchmark {

    /** The shared database: {@code accounts} keys of 1,000 each. */
    @State(Scope.Group)
    public static class Bank {
        /** Accounts (keys 0 .. accounts - 1). */
        @Param({"100000"})
        public int accounts;

        Database<Long, Long> db;

        @Setup(Level.Trial)
        public void setUp() {
            db = Database.<Long, Long>builder()
                    .autoVacuum(java.time.Duration.ofMillis(200))
                    .open();
            VarveBenchmarks.load(db, accounts, null);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            db.close();
        }
    }

    /** The read-only work: 10 random gets and a 10-key scan. */
    private static long readTen(Bank b, VarveBenchmarks.Rng r, NavigableMap<Long, Long> view) {
        long sum = 0;
        for (int i = 0; i < 10; i++) {
            sum += view.get(r.random.nextLong(b.accounts));
        }
        long from = r.random.nextLong(b.accounts - 10);
        for (Map.Entry<Long, Long> e : view.subMap(from, true, from + 10, false).entrySet()) {
            sum += e.getValue();
        }
        return sum;
    }

    private static long read(Bank b, VarveBenchmarks.Rng r, VarveBenchmarks.Outcomes o, Isolation isolation) {
        long sum = 0;
        try (Transaction<Long, Long> tx = b.db.begin(isolation)) {
            sum = readTen(b, r, tx.asMap());
            tx.commit();
            o.commits++;
        } catch (SerializationFailureException e) {
            o.aborts++;
        }
        return sum;
    }

    private static void transfer(Bank b, VarveBenchmarks.Rng r, VarveBenchmarks.Outcomes o, Isolation isolation) {
        long from = r.random.nextLong(b.accounts);
        long to = (from + 1 + r.random.nextLong(b.accounts - 1)) % b.accounts;
        try (Transaction<Long, Long> tx = b.db.begin(isolation)) {
            tx.put(from, tx.get(from) - 1);
            tx.put(to, tx.get(to) + 1);
            tx.commit();
            o.commits++;
        } catch (SerializationFailureException e) {
            o.aborts++;
        }
    }

    /** The SERIALIZABLE read-only transaction, beside SERIALIZABLE transfers. */
    @Benchmark
    @Group("serializable")
    @GroupThreads(1)
    public long serializableRead(Bank b, VarveBenchmarks.Rng r, VarveBenchmarks.Outcomes o) {
        return read(b, r, o, Isolation.SERIALIZABLE);
    }

    /** The writer beside {@link #serializableRead}. */
    @Benchmark
    @Group("serializable")
    @GroupThreads(1)
    public void serializableTransfer(Bank b, VarveBenchmarks.Rng r, VarveBenchmarks.Outcomes o) {
        transfer(b, r, o, Isolation.SERIALIZABLE);
    }

    /** The same read-only transaction under SNAPSHOT, beside the same SERIALIZABLE transfers. */
    @Benchmark
    @Group("snapshot")
    @GroupThreads(1)
    public long snapshotRead(Bank b, VarveBenchmarks.Rng r, VarveBenchmarks.Outcomes o) {
        return read(b, r, o, Isolation.SNAPSHOT);
    }

    /** The writer beside {@link #snapshotRead}: SERIALIZABLE too, so only the reader differs. */
    @Benchmark
    @Group("snapshot")
    @GroupThreads(1)
    public void snapshotTransfer(Bank b, VarveBenchmarks.Rng r, VarveBenchmarks.Outcomes o) {
        transfer(b, r, o, Isolation.SERIALIZABLE);
    }

    /** The same reads through a safe snapshot ({@code db.snapshot(SERIALIZABLE)}), beside transfers. */
    @Benchmark
    @Group("safeSnapshot")
    @GroupThreads(1)
    public long safeSnapshotRead(Bank b, VarveBenchmarks.Rng r, VarveBenchmarks.Outcomes o) {
        try (Snapshot<Long, Long> view = b.db.snapshot(Isolation.SERIALIZABLE)) {
            long sum = readTen(b, r, view);
            o.commits++;
            return sum;
        }
    }

    /** The writer beside {@link #safeSnapshotRead}. */
    @Benchmark
    @Group("safeSnapshot")
    @GroupThreads(1)
    public void safeSnapshotTransfer(Bank b, VarveBenchmarks.Rng r, VarveBenchmarks.Outcomes o) {
        transfer(b, r, o, Isolation.SERIALIZABLE);
    }
}
