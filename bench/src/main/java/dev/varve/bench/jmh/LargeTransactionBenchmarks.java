// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench.jmh;

import dev.varve.Database;
import dev.varve.Isolation;
import dev.varve.Transaction;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
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
 * One transaction that writes {@code keys} new keys in random order into an empty database, then
 * commits (the bulk load of {@link VarveBenchmarks} writes 1,000 keys per transaction in key
 * order); beside it the same keys put into a {@link TreeMap}, and a transaction that calls
 * {@code setValue} on every entry of a descending view of the {@code keys} committed keys. Time
 * per operation (one whole transaction) in milliseconds, single shot, a fresh database per
 * iteration. Run with {@code java -jar bench/target/varve-bench.jar jmh LargeTransactionBenchmarks}.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@Warmup(iterations = 3)
@Measurement(iterations = 5)
@Threads(1)
public class LargeTransactionBenchmarks {

    /** The keys, shuffled once per trial, and a fresh database per iteration. */
    @State(Scope.Thread)
    public static class Keys {
        @Param({"10000", "200000"})
        public int keys;

        long[] shuffled;
        Database<Long, Long> empty;
        Database<Long, Long> loaded;

        @Setup(Level.Trial)
        public void shuffle() {
            SplittableRandom random = new SplittableRandom(42);
            shuffled = new long[keys];
            for (int i = 0; i < keys; i++) {
                shuffled[i] = i;
            }
            for (int i = keys - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                long t = shuffled[i];
                shuffled[i] = shuffled[j];
                shuffled[j] = t;
            }
        }

        @Setup(Level.Iteration)
        public void open() {
            empty = Database.<Long, Long>builder().open();
            loaded = Database.<Long, Long>builder().open();
            for (long from = 0; from < keys; from += 1000) {
                try (Transaction<Long, Long> tx = loaded.begin()) {
                    for (long k = from; k < Math.min(keys, from + 1000); k++) {
                        tx.put(k, k);
                    }
                    tx.commit();
                }
            }
        }

        @TearDown(Level.Iteration)
        public void close() {
            empty.close();
            loaded.close();
        }
    }

    @Benchmark
    public long randomOrderTransaction(Keys k) {
        try (Transaction<Long, Long> tx = k.empty.begin(Isolation.SERIALIZABLE)) {
            for (long key : k.shuffled) {
                tx.put(key, key);
            }
            tx.commit();
            return tx.commitTimestamp();
        }
    }

    @Benchmark
    public int randomOrderTreeMap(Keys k) {
        TreeMap<Long, Long> map = new TreeMap<>();
        for (long key : k.shuffled) {
            map.put(key, key);
        }
        return map.size();
    }

    @Benchmark
    public long descendingSetValueTransaction(Keys k) {
        try (Transaction<Long, Long> tx = k.loaded.begin(Isolation.SERIALIZABLE)) {
            for (Map.Entry<Long, Long> e : tx.asMap().descendingMap().entrySet()) {
                e.setValue(e.getValue() + 1);
            }
            tx.commit();
            return tx.commitTimestamp();
        }
    }
}
