// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench.compare;

import dev.varve.bench.Zipfian;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Supplier;

/**
 * The {@code compare} command: the same small workloads against Varve and its peers, in one run,
 * alternating the contenders cell by cell (workload, then thread count, then peer) so drift in
 * the machine's speed spreads over all of them. Every peer's bank totals are checked afterwards.
 */
public final class Compare {
    /** Workloads, in the order they run. */
    public static final List<String> WORKLOADS = List.of("get", "put", "transfer", "transfer-hot", "scan", "ycsb-a");
    /** Peers, by command-line name. */
    static final Map<String, Supplier<Peer>> PEERS = new LinkedHashMap<>();

    static {
        PEERS.put("varve", VarvePeer::new);
        PEERS.put("cslm", () -> new SkipListPeer(false));
        PEERS.put("cslm-lock", () -> new SkipListPeer(true));
        PEERS.put("h2", H2Peer::new);
        PEERS.put("sqlite", SqlitePeer::new);
        PEERS.put("rocksdb", RocksPeer::new);
    }

    private static final long ACCOUNTS_BASE = 1L << 40;
    private static final long HOT_BASE = 1L << 41;
    /** Keys of the large transactions: size i of --large-tx at LARGE_BASE + i * 2^32. */
    private static final long LARGE_BASE = 1L << 42;

    private static final long BALANCE = 1_000;

    private final List<String> peers;
    private final List<String> workloads;
    private final List<Integer> threads;
    private final Duration duration;
    private final Duration warmup;
    private final long keys;
    private final long accounts;
    private final long hot;
    private final long seed;
    private final List<Integer> largeTx;
    private final boolean csv;
    private volatile boolean stop;

    private Compare(Map<String, String> o) {
        peers = list(o.getOrDefault("--peers", String.join(",", PEERS.keySet())), PEERS.keySet(), "--peers");
        workloads = list(o.getOrDefault("--workloads", String.join(",", WORKLOADS)), WORKLOADS, "--workloads");
        threads = new ArrayList<>();
        for (String t : o.getOrDefault("--threads", "1,2").split(",")) {
            int n = (int) number("--threads", t);
            if (n < 1 || n > 64) {
                throw new IllegalArgumentException("--threads " + t + " is out of range [1, 64]");
            }
            threads.add(n);
        }
        duration = dev.varve.bench.Options.parse(List.of("--duration", o.getOrDefault("--duration", "2s")))
                .duration();
        warmup = dev.varve.bench.Options.parse(List.of("--warmup", o.getOrDefault("--warmup", "1s")))
                .warmup();
        keys = number("--keys", o.getOrDefault("--keys", "1000000"));
        accounts = number("--accounts", o.getOrDefault("--accounts", "100000"));
        hot = number("--hot", o.getOrDefault("--hot", "100"));
        seed = number("--seed", o.getOrDefault("--seed", "42"));
        largeTx = new ArrayList<>();
        for (String t : o.getOrDefault("--large-tx", "10000,200000").split(",")) {
            long n = number("--large-tx", t);
            if (n < 0 || n > 10_000_000) {
                throw new IllegalArgumentException("--large-tx " + t + " is out of range [0, 10000000]");
            }
            if (n > 0) {
                largeTx.add((int) n);
            }
        }
        csv = o.containsKey("--csv");
        if (keys < 200 || accounts < 2 || hot < 2) {
            throw new IllegalArgumentException("--keys must be at least 200, --accounts and --hot at least 2");
        }
    }

    private static long number(String name, String value) {
        try {
            return Long.parseLong(value.replace("_", "").trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " " + value + " is not a number");
        }
    }

    private static List<String> list(String value, java.util.Collection<String> known, String name) {
        List<String> out = new ArrayList<>();
        for (String s : value.split(",")) {
            String v = s.trim().toLowerCase(Locale.ROOT);
            if (!known.contains(v)) {
                throw new IllegalArgumentException(name + " " + s + " is not one of " + known);
            }
            out.add(v);
        }
        return out;
    }

    static String help() {
        return String.join(
                "\n",
                "Usage: java -jar varve-bench.jar compare [options]",
                "Runs each workload at each thread count against each peer, alternating peers, and prints",
                "committed operations per second (aborts retried and counted).",
                "  --peers LIST       " + String.join(",", PEERS.keySet()) + " (default all)",
                "  --workloads LIST   " + String.join(",", WORKLOADS) + " (default all)",
                "                     get/put: autocommit point read/blind write of a uniform key;",
                "                     transfer: bank transfer between 2 of --accounts; transfer-hot: of --hot;",
                "                     scan: 100 consecutive keys; ycsb-a: 50/50 get/put, scrambled zipfian 0.99",
                "  --threads LIST     thread counts (default 1,2)",
                "  --duration T       measured time per cell (default 2s)",
                "  --warmup T         warm-up per cell (default 1s)",
                "  --keys N           preloaded keys (default 1000000)",
                "  --accounts N       bank accounts (default 100000)",
                "  --hot N            accounts of transfer-hot (default 100)",
                "  --seed N           random seed (default 42)",
                "  --large-tx LIST    sizes of the one-transaction loads of keys in random order, after the",
                "                     bulk load (default 10000,200000; 0 for none); reported in inserts/s",
                "  --csv              print the results as CSV");
    }

    /**
     * Runs the command.
     *
     * @param args the options
     * @param out where results go
     * @param err where progress goes
     * @return exit status: 0, or 1 if a bank total was wrong
     */
    public static int main(List<String> args, PrintStream out, PrintStream err) {
        Map<String, String> o = new LinkedHashMap<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--help") || a.equals("-h")) {
                out.println(help());
                return 0;
            }
            if (a.equals("--csv")) {
                o.put(a, "true");
                continue;
            }
            if (!List.of(
                            "--peers",
                            "--workloads",
                            "--threads",
                            "--duration",
                            "--warmup",
                            "--keys",
                            "--accounts",
                            "--hot",
                            "--seed",
                            "--large-tx")
                    .contains(a)) {
                throw new IllegalArgumentException("unknown compare option " + a + " (see compare --help)");
            }
            if (i + 1 >= args.size()) {
                throw new IllegalArgumentException("option " + a + " needs a value");
            }
            o.put(a, args.get(++i));
        }
        return new Compare(o).run(out, err);
    }

    /** One measured cell. */
    record Cell(String workload, int threads, String peer, double opsPerSecond, long aborts, long commits) {}

    private int run(PrintStream out, PrintStream err) {
        Map<String, Peer> open = new LinkedHashMap<>();
        Map<String, Double> loadRate = new LinkedHashMap<>();
        Map<String, List<Double>> largeRate = new LinkedHashMap<>();
        List<Cell> cells = new ArrayList<>();
        List<String> checks = new ArrayList<>();
        boolean ok = true;
        try {
            for (String name : peers) {
                Peer p = PEERS.get(name).get();
                open.put(name, p);
                long t0 = System.nanoTime();
                p.load(0, keys, BALANCE);
                double rate = keys / ((System.nanoTime() - t0) / 1e9);
                loadRate.put(name, rate);
                p.load(ACCOUNTS_BASE, accounts, BALANCE);
                p.load(HOT_BASE, hot, BALANCE);
                err.printf(Locale.ROOT, "loaded %-12s %,d keys at %,.0f inserts/s%n", p.name(), keys, rate);
            }
            for (int i = 0; i < largeTx.size(); i++) {
                int size = largeTx.get(i);
                long[] offsets = shuffled(size, new SplittableRandom(seed * 31 + size));
                for (String name : peers) {
                    Peer p = open.get(name);
                    long t0 = System.nanoTime();
                    p.insertAll(LARGE_BASE + ((long) i << 32), offsets, BALANCE);
                    double rate = size / ((System.nanoTime() - t0) / 1e9);
                    largeRate.computeIfAbsent(name, k -> new ArrayList<>()).add(rate);
                    err.printf(
                            Locale.ROOT,
                            "large tx %-12s %,d keys in random order in one transaction at %,.0f" + " inserts/s%n",
                            p.name(),
                            size,
                            rate);
                }
            }
            for (String workload : workloads) {
                for (int t : threads) {
                    for (String name : peers) {
                        Cell c = measure(workload, t, name, open.get(name));
                        cells.add(c);
                        err.printf(
                                Locale.ROOT,
                                "%-13s %d thr  %-12s %,12.0f ops/s%s%n",
                                workload,
                                t,
                                open.get(name).name(),
                                c.opsPerSecond,
                                c.aborts == 0 ? "" : String.format(Locale.ROOT, "  aborts %.2f %%", abortPercent(c)));
                    }
                }
            }
            for (String name : peers) {
                Peer p = open.get(name);
                long uniform = p.sum(ACCOUNTS_BASE, accounts);
                long hotTotal = p.sum(HOT_BASE, hot);
                boolean good = uniform == accounts * BALANCE && hotTotal == hot * BALANCE;
                ok &= good;
                checks.add(String.format(
                        Locale.ROOT,
                        "[%s] %-12s bank totals %d / %d (expected %d / %d)",
                        good ? " ok " : "FAIL",
                        p.name(),
                        uniform,
                        hotTotal,
                        accounts * BALANCE,
                        hot * BALANCE));
            }
        } finally {
            for (Peer p : open.values()) {
                p.close();
            }
        }
        if (csv) {
            out.println("workload,threads,peer,ops_per_s,aborts,commits");
            for (Cell c : cells) {
                out.printf(
                        Locale.ROOT,
                        "%s,%d,%s,%.0f,%d,%d%n",
                        c.workload,
                        c.threads,
                        c.peer,
                        c.opsPerSecond,
                        c.aborts,
                        c.commits);
            }
        } else {
            out.println(table(cells, open, loadRate, largeRate));
        }
        checks.forEach(out::println);
        return ok ? 0 : 1;
    }

    private static double abortPercent(Cell c) {
        return 100.0 * c.aborts / Math.max(1, c.aborts + c.commits);
    }

    /** A permutation of 0 .. n - 1 (Fisher–Yates). */
    private static long[] shuffled(int n, SplittableRandom random) {
        long[] a = new long[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            long t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }

    private String table(
            List<Cell> cells,
            Map<String, Peer> open,
            Map<String, Double> loadRate,
            Map<String, List<Double>> largeRate) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(
                Locale.ROOT,
                "Committed operations per second (%d keys, %d accounts, hot %d; %s s after %s s"
                        + " warm-up per cell)%n",
                keys,
                accounts,
                hot,
                duration.toMillis() / 1000.0,
                warmup.toMillis() / 1000.0));
        b.append(String.format(Locale.ROOT, "%-18s", "workload/threads"));
        for (Peer p : open.values()) {
            b.append(String.format(Locale.ROOT, "%18s", p.name()));
        }
        b.append('\n');
        for (String w : workloads) {
            for (int t : threads) {
                b.append(String.format(Locale.ROOT, "%-18s", w + " / " + t));
                for (String name : open.keySet()) {
                    for (Cell c : cells) {
                        if (c.workload.equals(w) && c.threads == t && c.peer.equals(name)) {
                            String s = String.format(Locale.ROOT, "%,.0f", c.opsPerSecond);
                            if (c.aborts > 0) {
                                s += String.format(Locale.ROOT, " (%.1f%%ab)", abortPercent(c));
                            }
                            b.append(String.format(Locale.ROOT, "%18s", s));
                        }
                    }
                }
                b.append('\n');
            }
        }
        b.append(String.format(Locale.ROOT, "%-18s", "load (1 thr)"));
        for (String name : open.keySet()) {
            b.append(String.format(Locale.ROOT, "%18s", String.format(Locale.ROOT, "%,.0f", loadRate.get(name))));
        }
        for (int i = 0; i < largeTx.size(); i++) {
            b.append(String.format(Locale.ROOT, "%n%-18s", String.format(Locale.ROOT, "large tx %,d", largeTx.get(i))));
            for (String name : open.keySet()) {
                b.append(String.format(
                        Locale.ROOT,
                        "%18s",
                        String.format(Locale.ROOT, "%,.0f", largeRate.get(name).get(i))));
            }
        }
        b.append("\n(load: inserts/s in transactions of 1,000 keys in key order; large tx: inserts/s, all keys in one"
                + " transaction, random order)");
        b.append("\nIsolation:\n");
        for (Peer p : open.values()) {
            b.append(String.format(Locale.ROOT, "  %-12s %s%n", p.name(), p.isolation()));
        }
        return b.toString();
    }

    private Cell measure(String workload, int threadCount, String name, Peer peer) {
        stop = false;
        AtomicLongArray commits = new AtomicLongArray(threadCount * 16);
        AtomicLongArray aborts = new AtomicLongArray(threadCount * 16);
        Thread[] workers = new Thread[threadCount];
        Throwable[] failure = new Throwable[1];
        for (int i = 0; i < threadCount; i++) {
            int slot = i * 16; // padding against false sharing
            SplittableRandom random = new SplittableRandom(seed * 1_000_003L + i);
            Zipfian zipf = Zipfian.scrambled(random);
            workers[i] = new Thread(
                    () -> {
                        try {
                            while (!stop) {
                                switch (workload) {
                                    case "get" -> peer.get(random.nextLong(keys));
                                    case "put" -> peer.put(random.nextLong(keys), random.nextLong(1_000_000));
                                    case "transfer", "transfer-hot" -> {
                                        long n = workload.equals("transfer") ? accounts : hot;
                                        long base = workload.equals("transfer") ? ACCOUNTS_BASE : HOT_BASE;
                                        long from = random.nextLong(n);
                                        long to = random.nextLong(n - 1);
                                        if (to >= from) {
                                            to++;
                                        }
                                        long amount = 1 + random.nextInt(10);
                                        while (!peer.transfer(base + from, base + to, amount)) {
                                            aborts.incrementAndGet(slot);
                                        }
                                    }
                                    case "scan" -> peer.scan(random.nextLong(keys - 100), 100);
                                    default -> {
                                        long k = zipf.nextScrambled(keys);
                                        if (random.nextBoolean()) {
                                            peer.get(k);
                                        } else {
                                            peer.put(k, random.nextLong(1_000_000));
                                        }
                                    }
                                }
                                commits.incrementAndGet(slot);
                            }
                        } catch (Throwable t) {
                            synchronized (failure) {
                                failure[0] = t;
                            }
                            stop = true;
                        }
                    },
                    "varve-compare-" + i);
            workers[i].setDaemon(true);
        }
        for (Thread t : workers) {
            t.start();
        }
        try {
            TimeUnit.NANOSECONDS.sleep(warmup.toNanos());
            long c0 = total(commits);
            long a0 = total(aborts);
            long t0 = System.nanoTime();
            TimeUnit.NANOSECONDS.sleep(duration.toNanos());
            long c1 = total(commits);
            long a1 = total(aborts);
            long t1 = System.nanoTime();
            stop = true;
            for (Thread t : workers) {
                t.join();
            }
            synchronized (failure) {
                if (failure[0] != null) {
                    throw new IllegalStateException(name + " failed on " + workload + ": " + failure[0], failure[0]);
                }
            }
            return new Cell(workload, threadCount, name, (c1 - c0) / ((t1 - t0) / 1e9), a1 - a0, c1 - c0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stop = true;
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static long total(AtomicLongArray a) {
        long n = 0;
        for (int i = 0; i < a.length(); i += 16) {
            n += a.get(i);
        }
        return n;
    }
}
