// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench.jmh;

import dev.varve.Database;
import dev.varve.Snapshot;
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
 * An autocommit put on one hot key while one old snapshot stays open, so the key's version chain
 * grows by one version per put (every version stays readable by some snapshot that could have
 * been taken since): with {@code snapshot=true} each iteration starts with {@code versions}
 * versions already in the chain; {@code snapshot=false} is the baseline without the old snapshot
 * (the chain stays at two versions). Time per put in microseconds, one thread. Run with {@code
 * java -jar bench/target/varve-bench.jar jmh LongChainBenchmarks}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Threads(1)
public class LongChainBenchmarks {

    /** A database with one hot key, and the old snapshot that pins its chain. */
    @State(Scope.Thread)
    public static class HotKey {
        @Param({"true", "false"})
        public boolean snapshot;

        @Param({"0", "60000"})
        public int versions;

        Database<Long, Long> db;
        Snapshot<Long, Long> old;
        long next;

        @Setup(Level.Iteration)
        public void open() {
            db = Database.<Long, Long>builder().open();
            db.put(1L, 0L);
            old = snapshot ? db.snapshot() : null;
            for (int i = 0; i < versions; i++) {
                db.put(1L, (long) i);
            }
        }

        @TearDown(Level.Iteration)
        public void close() {
            if (old != null) {
                old.close();
            }
            db.close();
        }
    }

    /** One autocommit put of the hot key. */
    @Benchmark
    public Long putHotKey(HotKey s) {
        return s.db.put(1L, s.next++);
    }
}
