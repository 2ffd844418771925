// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench.memory;

import dev.varve.Database;
import dev.varve.Isolation;
import dev.varve.Transaction;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What SERIALIZABLE and snapshot pinning cost on the paths DESIGN.md promises are cheap, each
 * beside its SNAPSHOT twin and a {@link ConcurrentSkipListMap#get} baseline, in one run, one
 * thread, on 100k preloaded keys (the cache-resident case, where fixed costs show most):
 * autocommit get (no pin, no tracking), begin+commit of an empty transaction (the cost of
 * watermark tracking: pin and unpin), a read-only transaction with one get, a blind write (which
 * skips SSI), and a read-modify-write (which runs SSI validation).
 *
 * <p>Run: {@code java -jar bench/target/varve-bench.jar jmh CheapPathsBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Threads(1)
@State(Scope.Benchmark)
public class CheapPathsBenchmark {
    @Param({"100000"})
    public int keys;

    /**
     * Leak tracking ({@code Database.Builder#leakTracking}): {@code off} (the default) or {@code
     * on} (every begin records its stack); run {@code -p leakTracking=off,on} to compare.
     */
    @Param({"off"})
    public String leakTracking;

    private Database<Long, Long> db;
    private ConcurrentSkipListMap<Long, Long> map;
    private final SplittableRandom random = new SplittableRandom(42);

    @Setup(Level.Trial)
    public void setUp() {
        db = Database.<Long, Long>builder()
                .autoVacuum(java.time.Duration.ofMillis(100))
                .leakTracking(leakTracking.equals("on"))
                .open();
        map = new ConcurrentSkipListMap<>();
        for (long from = 0; from < keys; from += 1000) {
            try (Transaction<Long, Long> tx = db.begin(Isolation.SNAPSHOT)) {
                for (long k = from; k < Math.min(keys, from + 1000); k++) {
                    tx.put(k, k);
                    map.put(k, k);
                }
                tx.commit();
            }
        }
        db.vacuum();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        db.close();
    }

    private long key() {
        return random.nextInt(keys);
    }

    @Benchmark
    public Long skipListGet() {
        return map.get(key());
    }

    @Benchmark
    public Long autocommitGet() {
        return db.get(key());
    }

    @Benchmark
    public long emptyTransactionSnapshot() {
        try (Transaction<Long, Long> tx = db.begin(Isolation.SNAPSHOT)) {
            tx.commit();
            return tx.commitTimestamp();
        }
    }

    @Benchmark
    public Long readOnlyGetSnapshot() {
        return readOnly(Isolation.SNAPSHOT);
    }

    @Benchmark
    public Long readOnlyGetSerializable() {
        return readOnly(Isolation.SERIALIZABLE);
    }

    private Long readOnly(Isolation isolation) {
        try (Transaction<Long, Long> tx = db.begin(isolation)) {
            Long v = tx.get(key());
            tx.commit();
            return v;
        }
    }

    @Benchmark
    public long blindWriteSnapshot() {
        return blindWrite(Isolation.SNAPSHOT);
    }

    @Benchmark
    public long blindWriteSerializable() {
        return blindWrite(Isolation.SERIALIZABLE);
    }

    private long blindWrite(Isolation isolation) {
        try (Transaction<Long, Long> tx = db.begin(isolation)) {
            tx.put(key(), 1L);
            tx.commit();
            return tx.commitTimestamp();
        }
    }

    @Benchmark
    public long readModifyWriteSnapshot() {
        return readModifyWrite(Isolation.SNAPSHOT);
    }

    @Benchmark
    public long readModifyWriteSerializable() {
        return readModifyWrite(Isolation.SERIALIZABLE);
    }

    private long readModifyWrite(Isolation isolation) {
        try (Transaction<Long, Long> tx = db.begin(isolation)) {
            long k = key();
            tx.put(k, tx.get(k) + 1);
            tx.commit();
            return tx.commitTimestamp();
        }
    }
}
