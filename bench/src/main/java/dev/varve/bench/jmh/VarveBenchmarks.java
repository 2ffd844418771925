// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench.jmh;

import dev.varve.Database;
import dev.varve.Isolation;
import dev.varve.SerializationFailureException;
import dev.varve.Transaction;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
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
 * JMH microbenchmarks of Varve's hot paths beside a {@link ConcurrentSkipListMap} baseline on the
 * same keys, measured in the same run. Run with
 * {@code java -jar bench/target/varve-bench.jar jmh -rf json -rff jmh.json VarveBenchmarks}
 * (add {@code -t 2} for two threads; never more than the machine's cores).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 2)
@Threads(1)
public class VarveBenchmarks {

    /** The shared data: {@code keys} preloaded longs in Varve and in a plain skiplist. */
    @State(Scope.Benchmark)
    public static class Data {
        @Param({"1000000"})
        public int keys;
        /** Accounts of the transfer benchmark. */
        @Param({"100000"})
        public int accounts;

        Database<Long, Long> db;
        ConcurrentSkipListMap<Long, Long> map;

        @Setup(Level.Trial)
        public void setUp() {
            db = Database.<Long, Long>builder()
                    .autoVacuum(java.time.Duration.ofMillis(200))
                    .open();
            map = new ConcurrentSkipListMap<>();
            load(db, keys, map);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            db.close();
        }
    }

    /**
     * Commits keys {@code 0 .. keys - 1}, each 1,000, in transactions of 1,000 keys, and puts
     * them in {@code map} too unless it is null.
     */
    static void load(Database<Long, Long> db, int keys, Map<Long, Long> map) {
        for (long from = 0; from < keys; from += 1000) {
            try (Transaction<Long, Long> tx = db.begin()) {
                for (long k = from; k < Math.min(keys, from + 1000); k++) {
                    tx.put(k, 1_000L);
                    if (map != null) {
                        map.put(k, 1_000L);
                    }
                }
                tx.commit();
            }
        }
    }

    /** Per-thread random source. */
    @State(Scope.Thread)
    public static class Rng {
        SplittableRandom random = new SplittableRandom(Thread.currentThread().getId() * 7919);
    }

    /** Commits and serialization failures per iteration, reported next to throughput. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Outcomes {
        /** Committed transactions. */
        public long commits;
        /** Serialization failures (not retried: the next call is a new transaction). */
        public long aborts;

        @Setup(Level.Iteration)
        public void reset() {
            commits = 0;
            aborts = 0;
        }
    }

    @Benchmark
    public Long skiplistGet(Data d, Rng r) {
        return d.map.get(r.random.nextLong(d.keys));
    }

    @Benchmark
    public Long autocommitGet(Data d, Rng r) {
        return d.db.get(r.random.nextLong(d.keys));
    }

    @Benchmark
    public Long readOnlyTransactionGet(Data d, Rng r) {
        try (Transaction<Long, Long> tx = d.db.begin(Isolation.SERIALIZABLE)) {
            Long v = tx.get(r.random.nextLong(d.keys));
            tx.commit();
            return v;
        }
    }

    @Benchmark
    public Long skiplistPut(Data d, Rng r) {
        return d.map.put(r.random.nextLong(d.keys), r.random.nextLong());
    }

    @Benchmark
    public Long autocommitPut(Data d, Rng r) {
        return d.db.put(r.random.nextLong(d.keys), r.random.nextLong());
    }

    @Benchmark
    public void transactionPut(Data d, Rng r, Outcomes o) {
        try (Transaction<Long, Long> tx = d.db.begin(Isolation.SERIALIZABLE)) {
            tx.put(r.random.nextLong(d.keys), r.random.nextLong());
            tx.commit();
            o.commits++;
        } catch (SerializationFailureException e) {
            o.aborts++;
        }
    }

    @Benchmark
    public boolean transfer(Data d, Rng r, Outcomes o) {
        long from = r.random.nextLong(d.accounts);
        long to = (from + 1 + r.random.nextLong(d.accounts - 1)) % d.accounts;
        try (Transaction<Long, Long> tx = d.db.begin(Isolation.SERIALIZABLE)) {
            long a = tx.get(from);
            long b = tx.get(to);
            tx.put(from, a - 1);
            tx.put(to, b + 1);
            tx.commit();
            o.commits++;
            return true;
        } catch (SerializationFailureException e) {
            o.aborts++;
            return false;
        }
    }

    @Benchmark
    public long skiplistScan100(Data d, Rng r) {
        long sum = 0;
        int n = 0;
        for (long v : d.map.tailMap(r.random.nextLong(d.keys - 100), true).values()) {
            sum += v;
            if (++n == 100) {
                break;
            }
        }
        return sum;
    }

    @Benchmark
    public long scan100(Data d, Rng r) {
        try (Transaction<Long, Long> tx = d.db.begin(Isolation.SERIALIZABLE)) {
            long sum = 0;
            int n = 0;
            for (Map.Entry<Long, Long> e :
                    tx.asMap().tailMap(r.random.nextLong(d.keys - 100), true).entrySet()) {
                sum += e.getValue();
                if (++n == 100) {
                    break;
                }
            }
            tx.commit();
            return sum;
        }
    }
}
