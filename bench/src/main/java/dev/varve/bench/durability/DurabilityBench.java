// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench.durability;

import dev.varve.Codec;
import dev.varve.Database;
import dev.varve.Durability;
import dev.varve.SerializationFailureException;
import dev.varve.Transaction;
import dev.varve.wal.Wal;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Measures the write-ahead log: the machine's fsync rate (the baseline), commits/s and commit
 * latency for in-memory, {@code RELAXED} and {@code FULL} with 1, 2, 16 and 256 concurrent
 * committers, recovery time per million records replayed, and checkpoint time per million keys.
 * Prints Markdown to stdout.
 *
 * <pre>
 * java -cp bench/target/varve-bench.jar dev.varve.bench.durability.DurabilityBench \
 *      [--dir bench/target/durability-tmp] [--fsync-seconds 5] [--warmup-seconds 1]
 *      [--seconds 5] [--committers 1,2,16,256] [--modes memory,relaxed,full] [--keys 100000]
 *      [--recovery-records 1000000] [--skip-recovery false]
 * </pre>
 *
 * <p>1 and 2 committers are threads calling the blocking {@code commit()}. 16 and more are
 * that many transactions in flight via {@code commitAsync()}, driven by at most two threads (a
 * semaphore of N permits, released when each commit's future completes). Latency is from the
 * commit call to its return / its future's completion. The fsync baseline ({@code force(false)}) is
 * measured again after the commit table, since a virtual disk's rate drifts; the CPU this JVM and
 * other processes used is printed per row so outside load shows. The recovery log is written by two
 * threads calling {@code commit()} (single-key commits, {@code RELAXED}, background checkpoints off).
 */
public final class DurabilityBench {

    private static final long NANOS_PER_SECOND = 1_000_000_000L;
    /** The key space of the commit runs is preloaded in transactions of this many keys. */
    private static final int PRELOAD_BATCH = 1_000;
    /** Largest committer count still driven by blocking threads, one per committer. */
    private static final int MAX_BLOCKING_COMMITTERS = 2;
    /** Driver threads for the async (commitAsync) runs: the machine has two cores. */
    private static final int ASYNC_DRIVERS = 2;
    /** Threads writing the recovery test's log. */
    private static final int LOADERS = 2;

    private DurabilityBench() {}

    /** Parsed {@code --name value} options. */
    private record Options(
            Path dir,
            double fsyncSeconds,
            double warmupSeconds,
            double seconds,
            int[] committers,
            List<String> modes,
            int keys,
            int recoveryRecords,
            boolean skipRecovery) {

        static Options parse(String[] args) {
            Map<String, String> m = new HashMap<>();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.equals("--help") || a.equals("-h")) {
                    usage(null);
                }
                if (!a.startsWith("--") || i + 1 >= args.length) {
                    usage("bad argument: " + a);
                }
                m.put(a.substring(2), args[++i]);
            }
            Options o = new Options(
                    Path.of(m.getOrDefault("dir", "bench/target/durability-tmp")),
                    Double.parseDouble(m.getOrDefault("fsync-seconds", "5")),
                    Double.parseDouble(m.getOrDefault("warmup-seconds", "1")),
                    Double.parseDouble(m.getOrDefault("seconds", "5")),
                    Stream.of(m.getOrDefault("committers", "1,2,16,256").split(","))
                            .mapToInt(s -> Integer.parseInt(s.trim()))
                            .toArray(),
                    Stream.of(m.getOrDefault("modes", "memory,relaxed,full").split(","))
                            .map(s -> s.trim().toLowerCase(Locale.ROOT))
                            .toList(),
                    Integer.parseInt(m.getOrDefault("keys", "100000")),
                    Integer.parseInt(m.getOrDefault("recovery-records", "1000000")),
                    Boolean.parseBoolean(m.getOrDefault("skip-recovery", "false")));
            for (String k : m.keySet()) {
                if (!List.of(
                                "dir",
                                "fsync-seconds",
                                "warmup-seconds",
                                "seconds",
                                "committers",
                                "modes",
                                "keys",
                                "recovery-records",
                                "skip-recovery")
                        .contains(k)) {
                    usage("unknown option --" + k);
                }
            }
            for (String mode : o.modes) {
                if (!List.of("memory", "relaxed", "full", "full-deferred").contains(mode)) {
                    usage("--modes: " + mode + " is not memory, relaxed, full or full-deferred");
                }
            }
            return o;
        }

        private static void usage(String error) {
            if (error != null) {
                System.err.println(error);
            }
            System.err.println("options: --dir D --fsync-seconds S --warmup-seconds S --seconds S "
                    + "--committers 1,2,16,256 --modes memory,relaxed,full,full-deferred --keys N "
                    + "--recovery-records N --skip-recovery true|false");
            System.exit(error == null ? 0 : 2);
        }
    }

    /** One measured row. */
    private record Row(
            String mode,
            int committers,
            String driver,
            double commitsPerSec,
            double p50Micros,
            double p99Micros,
            double p999Micros,
            long commits,
            long aborts,
            Cpu cpu) {}

    /** Baseline fsync figures. */
    private record FsyncResult(String how, double perSec, double p50Micros, double p99Micros, long records) {}

    public static void main(String[] args) throws Exception {
        Options o = Options.parse(args);
        Path root = o.dir.toAbsolutePath();
        Files.createDirectories(root);
        deleteContents(root);

        StringBuilder out = new StringBuilder();
        out.append("## Machine\n\n");
        out.append("- JDK: ")
                .append(System.getProperty("java.vm.name"))
                .append(' ')
                .append(System.getProperty("java.runtime.version"))
                .append(" (")
                .append(System.getProperty("java.vendor"))
                .append("), max heap ")
                .append(Runtime.getRuntime().maxMemory() >> 20)
                .append(" MiB\n");
        out.append("- nproc: ")
                .append(command("nproc").trim())
                .append(" (availableProcessors ")
                .append(Runtime.getRuntime().availableProcessors())
                .append(")\n");
        out.append("- CPU: ").append(lscpuModel()).append('\n');
        out.append("- OS: ")
                .append(System.getProperty("os.name"))
                .append(' ')
                .append(System.getProperty("os.version"))
                .append('\n');
        out.append("- load average at start (/proc/loadavg): ")
                .append(Files.readString(Path.of("/proc/loadavg")).trim())
                .append('\n');
        out.append("- disk of ")
                .append(root)
                .append(":\n\n```\n")
                .append(command("df", "-h", root.toString()))
                .append(command("findmnt", "-n", "-o", "SOURCE,FSTYPE,OPTIONS", "-T", root.toString()))
                .append("```\n\n");
        System.out.print(out);
        System.out.flush();

        // 1. Baseline.
        List<FsyncResult> fsync = new ArrayList<>();
        Cpu.Sample fs0 = Cpu.sample();
        fsync.add(fsyncBaseline(root, false, o.fsyncSeconds));
        fsync.add(fsyncBaseline(root, true, o.fsyncSeconds));
        Cpu fsCpu = Cpu.between(fs0, Cpu.sample());
        double baseline = fsync.get(0).perSec;
        StringBuilder b =
                new StringBuilder("## Baseline: fsync rate (one writer, ~100-byte append + force per record)\n\n");
        b.append("| force | records/s | p50 µs | p99 µs | records |\n| --- | ---: | ---: | ---: | ---: |\n");
        for (FsyncResult f : fsync) {
            b.append(String.format(
                    Locale.ROOT,
                    "| %s | %,.0f | %,.0f | %,.0f | %,d |%n",
                    f.how,
                    f.perSec,
                    f.p50Micros,
                    f.p99Micros,
                    f.records));
        }
        b.append("\nCPU during the baseline, this JVM / other processes: ")
                .append(fsCpu)
                .append(" cores.\n");
        b.append("\nThe ratio column below divides by the `force(false)` rate (")
                .append(String.format(Locale.ROOT, "%,.0f", baseline))
                .append("/s).\n\n");
        System.out.print(b);
        System.out.flush();

        // 2. Commit throughput and latency.
        List<Row> rows = new ArrayList<>();
        StringBuilder t = new StringBuilder(String.format(
                Locale.ROOT,
                "## Commits (%,d-key space, each txn reads 1 key and writes 2, SERIALIZABLE; %.0f s warm-up, %.0f s measured)%n%n",
                o.keys,
                o.warmupSeconds,
                o.seconds));
        t.append(
                "| mode | committers | driver | commits/s | p50 µs | p99 µs | p99.9 µs | ratio to fsync baseline | aborts | CPU this JVM / other processes (cores of "
                        + Runtime.getRuntime().availableProcessors() + ") |\n");
        t.append("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        System.out.print(t);
        System.out.flush();
        int run = 0;
        for (String mode : o.modes) {
            for (int n : o.committers) {
                Path dir = root.resolve("run-" + (run++) + "-" + mode + "-" + n);
                Row r = commitRun(mode, n, dir, o);
                rows.add(r);
                String ratio =
                        mode.equals("memory") ? "–" : String.format(Locale.ROOT, "%.1f×", r.commitsPerSec / baseline);
                String line = String.format(
                        Locale.ROOT,
                        "| %s | %d | %s | %,.0f | %,.1f | %,.1f | %,.1f | %s | %,d | %s |%n",
                        mode,
                        n,
                        r.driver,
                        r.commitsPerSec,
                        r.p50Micros,
                        r.p99Micros,
                        r.p999Micros,
                        ratio,
                        r.aborts,
                        r.cpu);
                t.append(line);
                System.out.print(line);
                System.out.flush();
                deleteTree(dir);
            }
        }
        System.out.println();

        // The fsync rate of a virtual disk drifts (other I/O on the host): measure it again.
        FsyncResult again = fsyncBaseline(root, false, o.fsyncSeconds);
        StringBuilder a = new StringBuilder(String.format(
                Locale.ROOT,
                "`force(false)` baseline re-measured after the table: %,.0f records/s (p50 %,.0f µs, p99 %,.0f µs).%n",
                again.perSec,
                again.p50Micros,
                again.p99Micros));
        for (Row r : rows) {
            if (r.mode.equals("full")) {
                a.append(String.format(
                        Locale.ROOT,
                        "- full, %d committers: %,.0f commits/s = %.1f× the first baseline, %.1f× the second%n",
                        r.committers,
                        r.commitsPerSec,
                        r.commitsPerSec / baseline,
                        r.commitsPerSec / again.perSec));
            }
        }
        System.out.println(a);
        System.out.flush();

        // 3. Recovery and checkpoint.
        if (!o.skipRecovery) {
            System.out.print(recovery(root.resolve("recovery"), o.recoveryRecords));
            System.out.flush();
            deleteTree(root.resolve("recovery"));
        }
        System.out.println("Load average at end (/proc/loadavg): "
                + Files.readString(Path.of("/proc/loadavg")).trim());
    }

    // ---- 1. baseline -------------------------------------------------------------------------

    private static FsyncResult fsyncBaseline(Path root, boolean metadata, double seconds) throws IOException {
        Path file = root.resolve("fsync-baseline-" + metadata + ".dat");
        Histogram h = new Histogram(3);
        ByteBuffer buf = ByteBuffer.allocateDirect(100);
        byte[] payload = new byte[100];
        long records = 0;
        long start;
        long end;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            start = System.nanoTime();
            long deadline = start + (long) (seconds * NANOS_PER_SECOND);
            long now = start;
            while (now < deadline) {
                ThreadLocalRandom.current().nextBytes(payload);
                buf.clear();
                buf.put(payload).flip();
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(metadata);
                long after = System.nanoTime();
                h.recordValue(after - now);
                now = after;
                records++;
            }
            end = now;
        }
        Files.deleteIfExists(file);
        return new FsyncResult(
                metadata ? "`force(true)` (what the WAL calls)" : "`force(false)` (baseline)",
                records * (double) NANOS_PER_SECOND / (end - start),
                h.getValueAtPercentile(50) / 1000.0,
                h.getValueAtPercentile(99) / 1000.0,
                records);
    }

    // ---- 2. commits --------------------------------------------------------------------------

    private static Durability<Long, Long> durability(String mode, Path dir) {
        return switch (mode) {
            case "relaxed" -> Wal.relaxed(dir, Codec.LONG, Codec.LONG);
            case "full" -> Wal.full(dir, Codec.LONG, Codec.LONG);
            case "full-deferred" ->
                Wal.builder(dir, Codec.LONG, Codec.LONG)
                        .sync(Wal.Sync.FULL)
                        .visibleOnlyWhenDurable(true)
                        .build();
            default -> Durability.inMemory();
        };
    }

    private static Row commitRun(String mode, int committers, Path dir, Options o) throws Exception {
        Database<Long, Long> db =
                Database.<Long, Long>builder().durability(durability(mode, dir)).open();
        try {
            preload(db, o.keys);
            Recorder recorder = new Recorder(3);
            LongAdder aborts = new LongAdder();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            boolean blocking = committers <= MAX_BLOCKING_COMMITTERS;
            int threads = blocking ? committers : Math.min(ASYNC_DRIVERS, committers);
            Semaphore inFlight = new Semaphore(committers);
            Phase phase = new Phase();
            List<Thread> workers = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                Runnable body = blocking
                        ? () -> blockingCommitter(db, o.keys, recorder, aborts, failure, phase)
                        : () -> asyncDriver(db, o.keys, recorder, aborts, failure, phase, inFlight);
                Thread th = new Thread(body, "durability-committer-" + i);
                th.setDaemon(true);
                workers.add(th);
            }
            workers.forEach(Thread::start);
            sleepSeconds(o.warmupSeconds);
            recorder.getIntervalHistogram(); // discard the warm-up
            long abortsBefore = aborts.sum();
            Cpu.Sample cpu0 = Cpu.sample();
            long start = System.nanoTime();
            sleepSeconds(o.seconds);
            Histogram h = recorder.getIntervalHistogram();
            long end = System.nanoTime();
            Cpu cpu = Cpu.between(cpu0, Cpu.sample());
            long abortCount = aborts.sum() - abortsBefore;
            phase.stop = true;
            for (Thread th : workers) {
                th.join(TimeUnit.SECONDS.toMillis(60));
                if (th.isAlive()) {
                    throw new IllegalStateException(th.getName() + " did not stop");
                }
            }
            if (!blocking && !inFlight.tryAcquire(committers, 60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("commits still in flight after 60 s");
            }
            if (failure.get() != null) {
                throw new IllegalStateException("a commit failed in " + mode + "/" + committers, failure.get());
            }
            long commits = h.getTotalCount();
            return new Row(
                    mode,
                    committers,
                    blocking
                            ? committers + " thread" + (committers > 1 ? "s" : "") + ", `commit()`"
                            : threads + " threads, `commitAsync()`, " + committers + " in flight",
                    commits * (double) NANOS_PER_SECOND / (end - start),
                    h.getValueAtPercentile(50) / 1000.0,
                    h.getValueAtPercentile(99) / 1000.0,
                    h.getValueAtPercentile(99.9) / 1000.0,
                    commits,
                    abortCount,
                    cpu);
        } finally {
            db.close();
        }
    }

    /** Stop flag shared by a run's threads. */
    private static final class Phase {
        volatile boolean stop;
    }

    private static void preload(Database<Long, Long> db, int keys) {
        for (int from = 0; from < keys; from += PRELOAD_BATCH) {
            try (Transaction<Long, Long> tx = db.begin()) {
                for (int k = from; k < Math.min(keys, from + PRELOAD_BATCH); k++) {
                    tx.put((long) k, 0L);
                }
                tx.commit();
            }
        }
    }

    /** The transaction body: read one key, increment it, write a second key. */
    private static void work(Transaction<Long, Long> tx, int keys) {
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        long k1 = rnd.nextInt(keys);
        long k2 = rnd.nextInt(keys);
        Long v = tx.get(k1);
        tx.put(k1, v == null ? 1L : v + 1);
        tx.put(k2, rnd.nextLong());
    }

    private static void blockingCommitter(
            Database<Long, Long> db,
            int keys,
            Recorder recorder,
            LongAdder aborts,
            AtomicReference<Throwable> failure,
            Phase phase) {
        try {
            while (!phase.stop) {
                try (Transaction<Long, Long> tx = db.begin()) {
                    work(tx, keys);
                    long t0 = System.nanoTime();
                    tx.commit();
                    recorder.recordValue(System.nanoTime() - t0);
                } catch (SerializationFailureException e) {
                    aborts.increment();
                }
            }
        } catch (Throwable e) {
            failure.compareAndSet(null, e);
        }
    }

    private static void asyncDriver(
            Database<Long, Long> db,
            int keys,
            Recorder recorder,
            LongAdder aborts,
            AtomicReference<Throwable> failure,
            Phase phase,
            Semaphore inFlight) {
        try {
            while (!phase.stop) {
                if (!inFlight.tryAcquire(10, TimeUnit.MILLISECONDS)) {
                    continue;
                }
                CompletableFuture<Long> f;
                long t0;
                try (Transaction<Long, Long> tx = db.begin()) {
                    work(tx, keys);
                    t0 = System.nanoTime();
                    f = tx.commitAsync();
                } catch (RuntimeException e) {
                    inFlight.release();
                    throw e;
                }
                f.whenComplete((ts, ex) -> {
                    try {
                        if (ex == null) {
                            recorder.recordValue(System.nanoTime() - t0);
                        } else if (unwrap(ex) instanceof SerializationFailureException) {
                            aborts.increment();
                        } else {
                            failure.compareAndSet(null, ex);
                        }
                    } finally {
                        inFlight.release();
                    }
                });
            }
        } catch (Throwable e) {
            failure.compareAndSet(null, e);
        }
    }

    private static Throwable unwrap(Throwable t) {
        return t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
    }

    // ---- 3. recovery and checkpoint ----------------------------------------------------------

    private static Durability<Long, Long> relaxedNoBackgroundCheckpoint(Path dir) {
        return Wal.builder(dir, Codec.LONG, Codec.LONG)
                .sync(Wal.Sync.RELAXED)
                .checkpointEvery(0)
                .build();
    }

    private static String recovery(Path dir, int records) throws Exception {
        StringBuilder s = new StringBuilder(String.format(
                Locale.ROOT,
                "## Recovery and checkpoint (%,d single-key commits, RELAXED, background checkpoints off)%n%n",
                records));
        // Write: single-key commits, keys 0..records-1, two threads calling commit(). Not
        // commitAsync: on this machine each async completion starts a thread (see the draft),
        // which would make loading a million commits take minutes.
        long w0 = System.nanoTime();
        Cpu.Sample c = Cpu.sample();
        try (Database<Long, Long> db = Database.<Long, Long>builder()
                .durability(relaxedNoBackgroundCheckpoint(dir))
                .open()) {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> loaders = new ArrayList<>();
            for (int i = 0; i < LOADERS; i++) {
                int first = i;
                Thread th = new Thread(
                        () -> {
                            try {
                                for (long k = first; k < records && failure.get() == null; k += LOADERS) {
                                    try (Transaction<Long, Long> tx = db.begin()) {
                                        tx.put(k, k * 31);
                                        tx.commit();
                                    }
                                }
                            } catch (Throwable e) {
                                failure.compareAndSet(null, e);
                            }
                        },
                        "durability-loader-" + i);
                loaders.add(th);
                th.start();
            }
            for (Thread th : loaders) {
                th.join();
            }
            if (failure.get() != null) {
                throw new IllegalStateException("a load commit failed", failure.get());
            }
        }
        double writeSeconds = (System.nanoTime() - w0) / 1e9;
        String logFiles = describeFiles(dir);

        s.append(
                "| step | records/keys | seconds | per million | rate/s | files after | CPU this JVM / others (cores) |\n");
        s.append("| --- | ---: | ---: | ---: | ---: | --- | ---: |\n");
        s.append(rowOf("write (2 threads, `commit()`) + close", records, writeSeconds, logFiles, c));

        // Replay the log twice (the first open also pays for JIT warm-up of the recovery code).
        for (int i = 1; i <= 2; i++) {
            c = Cpu.sample();
            long t0 = System.nanoTime();
            Database<Long, Long> db = Database.<Long, Long>builder()
                    .durability(relaxedNoBackgroundCheckpoint(dir))
                    .open();
            double secs = (System.nanoTime() - t0) / 1e9;
            s.append(rowOf(
                    "`open()`: replay the log, no checkpoint (" + (i == 1 ? "1st, cold JIT" : "2nd") + ")",
                    records,
                    secs,
                    describeFiles(dir),
                    c));
            check(db, records);
            if (i == 2) {
                c = Cpu.sample();
                long c0 = System.nanoTime();
                db.checkpoint();
                double csecs = (System.nanoTime() - c0) / 1e9;
                s.append(rowOf("`db.checkpoint()`", records, csecs, describeFiles(dir), c));
            }
            db.close();
        }
        for (int i = 1; i <= 2; i++) {
            c = Cpu.sample();
            long t0 = System.nanoTime();
            Database<Long, Long> db = Database.<Long, Long>builder()
                    .durability(relaxedNoBackgroundCheckpoint(dir))
                    .open();
            double secs = (System.nanoTime() - t0) / 1e9;
            s.append(rowOf(
                    "`open()`: load the checkpoint (" + (i == 1 ? "1st" : "2nd") + ")",
                    records,
                    secs,
                    describeFiles(dir),
                    c));
            check(db, records);
            db.close();
        }
        s.append("\n");
        return s.toString();
    }

    private static String rowOf(String step, int n, double secs, String files, Cpu.Sample from) {
        Cpu cpu = Cpu.between(from, Cpu.sample());
        return String.format(
                Locale.ROOT,
                "| %s | %,d | %.3f | %.3f s | %,.0f | %s | %s |%n",
                step,
                n,
                secs,
                secs * 1_000_000 / n,
                n / secs,
                files,
                cpu);
    }

    private static void check(Database<Long, Long> db, int records) {
        int keys = db.stats().indexedKeys();
        if (keys != records) {
            throw new IllegalStateException("recovered " + keys + " keys, expected " + records);
        }
        long probe = records - 1L;
        Long v = db.get(probe);
        if (v == null || v != probe * 31) {
            throw new IllegalStateException("key " + probe + " recovered as " + v);
        }
    }

    private static String describeFiles(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> list = files.filter(p -> !p.getFileName().toString().equals("LOCK"))
                    .sorted()
                    .toList();
            long segBytes = 0;
            int segs = 0;
            long ckpBytes = 0;
            int ckps = 0;
            for (Path p : list) {
                String name = p.getFileName().toString();
                if (name.endsWith(".seg")) {
                    segs++;
                    segBytes += Files.size(p);
                } else if (name.endsWith(".ckp")) {
                    ckps++;
                    ckpBytes += Files.size(p);
                }
            }
            return String.format(
                    Locale.ROOT,
                    "%d seg (%.1f MiB), %d ckp (%.1f MiB)",
                    segs,
                    segBytes / 1048576.0,
                    ckps,
                    ckpBytes / 1048576.0);
        }
    }

    /** CPU used by this JVM and by everything else on the machine over an interval, in cores. */
    private record Cpu(double ownCores, double otherCores) {
        record Sample(long nanos, long ownCpuNanos, long busyJiffies) {}

        static Sample sample() {
            long own = -1;
            if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                    instanceof com.sun.management.OperatingSystemMXBean os) {
                own = os.getProcessCpuTime();
            }
            long busy = -1;
            try {
                String first = Files.readAllLines(Path.of("/proc/stat"))
                        .get(0); // cpu user nice system idle iowait irq softirq steal
                String[] f = first.trim().split("\\s+");
                long total = 0;
                for (int i = 1; i <= Math.min(8, f.length - 1); i++) {
                    total += Long.parseLong(f[i]);
                }
                busy = total - Long.parseLong(f[4]) - Long.parseLong(f[5]);
            } catch (IOException | RuntimeException e) {
                busy = -1;
            }
            return new Sample(System.nanoTime(), own, busy);
        }

        static Cpu between(Sample a, Sample b) {
            double wall = b.nanos - a.nanos;
            double own = a.ownCpuNanos < 0 ? Double.NaN : (b.ownCpuNanos - a.ownCpuNanos) / wall;
            double busy = a.busyJiffies < 0
                    ? Double.NaN
                    : (b.busyJiffies - a.busyJiffies) * 10_000_000.0 / wall; // USER_HZ 100
            return new Cpu(own, Math.max(0, busy - own));
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%.2f / %.2f", ownCores, otherCores);
        }
    }

    // ---- helpers -----------------------------------------------------------------------------

    private static void sleepSeconds(double seconds) throws InterruptedException {
        Thread.sleep((long) (seconds * 1000));
    }

    private static String command(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(10, TimeUnit.SECONDS);
            return text;
        } catch (IOException e) {
            return "(" + String.join(" ", cmd) + " failed: " + e.getMessage() + ")\n";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "(interrupted)\n";
        }
    }

    private static String lscpuModel() {
        for (String line : command("lscpu").split("\n")) {
            if (line.startsWith("Model name:")) {
                return line.substring("Model name:".length()).trim();
            }
        }
        return "(unknown)";
    }

    private static void deleteContents(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.toList()) {
                deleteTree(p);
            }
        }
    }

    private static void deleteTree(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
