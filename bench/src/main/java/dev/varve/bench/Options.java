// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench;

import dev.varve.Isolation;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * The driver's settings, parsed from the command line by {@link #parse}. Immutable; every option
 * is validated as it is read and a bad one fails with {@link IllegalArgumentException} naming the
 * option and the value.
 *
 * @param workload the workload name (see {@link #WORKLOADS})
 * @param threads worker threads
 * @param duration measured run time
 * @param warmup run time before measuring starts
 * @param isolation isolation of the workload's transactions
 * @param durability how commits are kept
 * @param dir the log directory for {@code relaxed}/{@code full}; null means a fresh temporary one
 * @param keys key count (accounts, YCSB records); 0 means the workload's default
 * @param warehouses TPC-C warehouses; 0 means one per thread
 * @param seed base seed of every random choice (thread i uses seed + i)
 * @param format report format
 * @param valueSize YCSB value size in bytes
 * @param autocommit YCSB: single-key reads and updates as autocommit operations instead of
 *     transactions
 * @param vacuum background vacuum period; zero turns it off
 * @param tpccScale TPC-C population scale: 1 is the spec's (100,000 items, 3,000 customers per
 *     district); smaller divides those counts (used by tests)
 * @param tpccLayout TPC-C table layout: {@code "maps"} (a named map per table), {@code "single"}
 *     (every table in the default map under table-tagged keys), or null for the durability's
 *     default (maps in memory, single when durable, and single in memory with backups on)
 * @param watchers change-feed subscribers watching the whole database during the measured run,
 *     each on its own delivery thread; 0 for none
 * @param backupEvery how often a background thread backs the database up into a fresh temporary
 *     directory during the measured run; zero turns backups off
 */
public record Options(
        String workload,
        int threads,
        Duration duration,
        Duration warmup,
        Isolation isolation,
        DurabilityMode durability,
        Path dir,
        long keys,
        int warehouses,
        long seed,
        Format format,
        int valueSize,
        boolean autocommit,
        Duration vacuum,
        int tpccScale,
        String tpccLayout,
        int watchers,
        Duration backupEvery) {

    /** The most {@code --watchers}: each has a delivery thread. */
    public static final int MAX_WATCHERS = 64;

    /** Workloads the driver knows. */
    public static final List<String> WORKLOADS =
            List.of("tpcc", "bank", "bank-hot", "ycsb-a", "ycsb-b", "ycsb-c", "ycsb-d", "ycsb-e", "ycsb-f");

    /** How the report is printed. */
    public enum Format {
        /** Human-readable, the default. */
        TEXT,
        /** A header line and one row of comma-separated values. */
        CSV,
        /** One JSON object. */
        JSON
    }

    /** The defaults: what {@code java -jar varve-bench.jar} runs. */
    public static Options defaults() {
        return new Options(
                "tpcc",
                2,
                Duration.ofSeconds(10),
                Duration.ofSeconds(2),
                Isolation.SERIALIZABLE,
                DurabilityMode.MEMORY,
                null,
                0,
                0,
                42,
                Format.TEXT,
                100,
                false,
                Duration.ofMillis(200),
                1,
                null,
                0,
                Duration.ZERO);
    }

    /** The option list printed by {@code --help}. */
    public static String help() {
        Options d = defaults();
        return String.join(
                "\n",
                "Usage: java -jar varve-bench.jar [run] [options]      run one workload and print a report",
                "       java -jar varve-bench.jar compare [options]    Varve beside its peers (see compare --help)",
                "       java -jar varve-bench.jar jmh [JMH options]    the JMH microbenchmarks (JMH's own -h)",
                "       java -jar varve-bench.jar backup-info DIR      verify a backup and print its manifest",
                "",
                "Options:",
                "  --workload NAME       " + String.join(" | ", WORKLOADS) + " (default " + d.workload + ")",
                "                        tpcc: TPC-C full mix (NewOrder/Payment/OrderStatus/Delivery/StockLevel",
                "                          45/43/4/4/4), consistency conditions 1-4 checked after the run",
                "                        bank: transfers between uniformly chosen accounts (default 100000);",
                "                          bank-hot: the same on 100 accounts; totals checked during and after",
                "                        ycsb-a..f: YCSB core workloads, zipfian 0.99 (d: latest), 100000 records",
                "  --threads N           worker threads (default " + d.threads + ")",
                "  --duration T          measured time, e.g. 10s, 500ms, 2m (default 10s)",
                "  --warmup T            warm-up before measuring (default 2s)",
                "  --isolation L         serializable | snapshot (default serializable)",
                "  --durability D        memory | relaxed | full | full-deferred (default memory); durable modes log to --dir;",
                "                        full-deferred: FULL, and readers see a commit only once it is forced",
                "  --dir PATH            log directory for relaxed/full; must be empty or absent",
                "                        (default: a new temporary directory, deleted afterwards)",
                "  --keys N              accounts (bank) or records (ycsb); default per workload",
                "  --warehouses N        TPC-C warehouses (default: one per thread)",
                "  --seed N              base random seed (default " + d.seed + ")",
                "  --value-size N        YCSB value bytes (default " + d.valueSize + ")",
                "  --autocommit          YCSB: single-key reads/updates as autocommit db.get/db.put",
                "  --vacuum T            background vacuum period, 0 for none (default 200ms)",
                "  --tpcc-scale N        divide TPC-C item/customer/order counts by N (default 1 = spec)",
                "  --tpcc-layout L       maps (a named map per table) | single (one map, table-tagged keys);",
                "                        default maps in memory, single when durable or backed up",
                "  --watchers N          change-feed subscribers, each watching the whole database from the",
                "                        start of the measured run on its own delivery thread, requesting",
                "                        without bound; reports events/s, changes/s and falls behind (default 0)",
                "  --backup-every T      back the database up every T during the measured run into a new",
                "                        temporary directory (deleted after each), e.g. 2s; reports backups,",
                "                        MB and MB/s of backup writing; 0 for none (default 0)",
                "  --csv | --json        print the report as CSV or JSON instead of text",
                "  --help                this list",
                "",
                "Exit status: 0 when every consistency check passed, 1 when one failed, 2 on bad options.");
    }

    /**
     * Parses command-line options (without the subcommand).
     *
     * @param args the arguments
     * @return the options, with unspecified ones at their defaults
     * @throws IllegalArgumentException naming the option and value when one is unknown or bad
     */
    public static Options parse(List<String> args) {
        Options d = defaults();
        String workload = d.workload;
        int threads = d.threads;
        Duration duration = d.duration;
        Duration warmup = d.warmup;
        Isolation isolation = d.isolation;
        DurabilityMode durability = d.durability;
        Path dir = null;
        long keys = 0;
        int warehouses = 0;
        long seed = d.seed;
        Format format = d.format;
        int valueSize = d.valueSize;
        boolean autocommit = false;
        Duration vacuum = d.vacuum;
        int tpccScale = d.tpccScale;
        String tpccLayout = null;
        int watchers = d.watchers;
        Duration backupEvery = d.backupEvery;
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            String name = arg;
            String inline = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                name = arg.substring(0, eq);
                inline = arg.substring(eq + 1);
            }
            switch (name) {
                case "--csv" -> format = Format.CSV;
                case "--json" -> format = Format.JSON;
                case "--autocommit" -> autocommit = true;
                default -> {
                    String value = inline;
                    if (value == null) {
                        if (i + 1 >= args.size()) {
                            throw new IllegalArgumentException(
                                    known(name)
                                            ? "option " + name + " needs a value"
                                            : "unknown option " + name + " (see --help)");
                        }
                        value = args.get(++i);
                    }
                    switch (name) {
                        case "--workload" -> {
                            workload = value.toLowerCase(Locale.ROOT);
                            if (workload.equals("ycsb")) {
                                workload = "ycsb-a";
                            }
                            if (!WORKLOADS.contains(workload)) {
                                throw new IllegalArgumentException(
                                        "--workload " + value + " is not one of " + WORKLOADS);
                            }
                        }
                        case "--threads" -> threads = (int) positive(name, value, 1024);
                        case "--duration" -> duration = duration(name, value, false);
                        case "--warmup" -> warmup = duration(name, value, true);
                        case "--isolation" -> isolation = isolation(value);
                        case "--durability" -> durability = DurabilityMode.parse(value);
                        case "--dir" -> dir = Path.of(value);
                        case "--keys" -> keys = positive(name, value, 1L << 40);
                        case "--warehouses" -> warehouses = (int) positive(name, value, 4095);
                        case "--seed" -> seed = number(name, value);
                        case "--value-size" -> valueSize = (int) positive(name, value, 1 << 20);
                        case "--vacuum" -> vacuum = duration(name, value, true);
                        case "--tpcc-scale" -> tpccScale = (int) positive(name, value, 100);
                        case "--watchers" -> watchers = (int) inRange(name, value, 0, MAX_WATCHERS);
                        case "--backup-every" -> backupEvery = duration(name, value, true);
                        case "--tpcc-layout" -> {
                            if (!value.equals("maps") && !value.equals("single")) {
                                throw new IllegalArgumentException("--tpcc-layout " + value + " is not maps or single");
                            }
                            tpccLayout = value;
                        }
                        default -> throw new IllegalArgumentException("unknown option " + name + " (see --help)");
                    }
                }
            }
        }
        if ("maps".equals(tpccLayout) && durability != DurabilityMode.MEMORY) {
            throw new IllegalArgumentException(
                    "--tpcc-layout maps needs --durability memory: the TPC-C rows have no codecs yet");
        }
        if (!backupEvery.isZero() && workload.equals("tpcc") && durability == DurabilityMode.MEMORY) {
            if ("maps".equals(tpccLayout)) {
                throw new IllegalArgumentException("--backup-every with --tpcc-layout maps: the TPC-C tables' named"
                        + " maps have no codecs, so they cannot be backed up; use --tpcc-layout single");
            }
            tpccLayout = "single"; // a backup in memory needs codecs, which only the single map has
        }
        if (workload.equals("bank-hot") && keys == 0) {
            keys = 100;
        }
        if (workload.startsWith("bank") && keys == 1) {
            throw new IllegalArgumentException("--keys 1: a bank needs at least 2 accounts");
        }
        return new Options(
                workload,
                threads,
                duration,
                warmup,
                isolation,
                durability,
                dir,
                keys,
                warehouses,
                seed,
                format,
                valueSize,
                autocommit,
                vacuum,
                tpccScale,
                tpccLayout,
                watchers,
                backupEvery);
    }

    private static boolean known(String name) {
        return help().contains(name + " ");
    }

    private static long number(String name, String value) {
        try {
            return Long.parseLong(value.replace("_", ""));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " " + value + " is not a number");
        }
    }

    private static long positive(String name, String value, long max) {
        return inRange(name, value, 1, max);
    }

    private static long inRange(String name, String value, long min, long max) {
        long n = number(name, value);
        if (n < min || n > max) {
            throw new IllegalArgumentException(name + " " + value + " is out of range [" + min + ", " + max + "]");
        }
        return n;
    }

    private static Isolation isolation(String value) {
        switch (value.toLowerCase(Locale.ROOT)) {
            case "serializable":
            case "ssi":
                return Isolation.SERIALIZABLE;
            case "snapshot":
            case "si":
                return Isolation.SNAPSHOT;
            default:
                throw new IllegalArgumentException("--isolation " + value + " is not serializable or snapshot");
        }
    }

    /** Parses {@code 10s}, {@code 500ms}, {@code 2m} or a bare number of seconds. */
    static Duration duration(String name, String value, boolean zeroAllowed) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        Duration d;
        try {
            if (v.endsWith("ms")) {
                d = Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
            } else if (v.endsWith("s")) {
                d = Duration.ofMillis(Math.round(Double.parseDouble(v.substring(0, v.length() - 1)) * 1000));
            } else if (v.endsWith("m")) {
                d = Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1)) * 60);
            } else {
                d = Duration.ofMillis(Math.round(Double.parseDouble(v) * 1000));
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " " + value + " is not a duration such as 10s, 500ms or 2m");
        }
        if (d.isNegative() || (!zeroAllowed && d.isZero())) {
            throw new IllegalArgumentException(
                    name + " " + value + " must be " + (zeroAllowed ? "at least 0" : "positive"));
        }
        return d;
    }

    /** Warehouses to load: the option, or one per thread. */
    public int effectiveWarehouses() {
        return warehouses > 0 ? warehouses : threads;
    }

    /** Accounts or records: the option, or the workload's default. */
    public long effectiveKeys() {
        if (keys > 0) {
            return keys;
        }
        return workload.equals("bank-hot") ? 100 : 100_000;
    }
}
