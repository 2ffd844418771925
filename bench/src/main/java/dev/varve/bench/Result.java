// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench;

import dev.varve.Database;
import java.util.List;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/**
 * What one run measured: commits per type, aborts per reason, latency, and the checks.
 *
 * @param options the settings
 * @param workload the workload's description
 * @param durability the database's durability description
 * @param types transaction type names
 * @param committedByType commits per type in the measured interval
 * @param rollbacksByType rollbacks the workload asked for, per type
 * @param writeWriteAborts serialization failures by first-committer-wins (retried)
 * @param dangerousStructureAborts serialization failures by SSI (retried)
 * @param seconds measured interval
 * @param loadSeconds time to load the data
 * @param latency per-transaction latency in ns, retries included
 * @param latencyByType the same, by transaction type (index as in {@code types})
 * @param checks consistency checks
 * @param stats the database's counters after the run
 * @param watching what the {@code --watchers} subscribers were given in the measured interval, or
 *     null without them
 * @param backups what the {@code --backup-every} backups wrote, or null without them
 */
public record Result(
        Options options,
        String workload,
        String durability,
        List<String> types,
        long[] committedByType,
        long[] rollbacksByType,
        long writeWriteAborts,
        long dangerousStructureAborts,
        double seconds,
        double loadSeconds,
        Histogram latency,
        Histogram[] latencyByType,
        List<Workload.Check> checks,
        Database.Stats stats,
        FeedWatchers.Stats watching,
        BackupLoop.Stats backups) {

    /** All commits in the measured interval. */
    public long committed() {
        long n = 0;
        for (long c : committedByType) {
            n += c;
        }
        return n;
    }

    /** All workload-requested rollbacks. */
    public long rollbacks() {
        long n = 0;
        for (long c : rollbacksByType) {
            n += c;
        }
        return n;
    }

    /** Committed transactions per second. */
    public double throughput() {
        return committed() / seconds;
    }

    /** Serialization failures as a share of commit attempts, in percent. */
    public double abortPercent() {
        long aborts = writeWriteAborts + dangerousStructureAborts;
        long attempts = aborts + committed() + rollbacks();
        return attempts == 0 ? 0 : 100.0 * aborts / attempts;
    }

    /** Whether every check passed. */
    public boolean passed() {
        return checks.stream().allMatch(Workload.Check::passed);
    }

    /** Latency percentile in microseconds. */
    public double latencyMicros(double percentile) {
        return latency.getValueAtPercentile(percentile) / 1000.0;
    }

    /** The report in the chosen format. */
    public String format() {
        switch (options.format()) {
            case CSV:
                return csvHeader() + "\n" + csvRow();
            case JSON:
                return json();
            default:
                return text();
        }
    }

    String text() {
        StringBuilder b = new StringBuilder();
        b.append("Varve bench: ").append(workload).append('\n');
        line(
                b,
                "threads",
                options.threads()
                        + (options.workload().equals("tpcc")
                                ? " (warehouses " + options.effectiveWarehouses() + ")"
                                : ""));
        line(b, "isolation", options.isolation().name());
        line(b, "durability", durability);
        line(
                b,
                "measured",
                String.format(
                        Locale.ROOT,
                        "%.1f s after %.1f s warm-up (load %.1f s)",
                        seconds,
                        options.warmup().toMillis() / 1000.0,
                        loadSeconds));
        line(b, "committed", String.format(Locale.ROOT, "%,d txn  =  %,.0f txn/s", committed(), throughput()));
        if (types.size() > 1) {
            for (int i = 0; i < types.size(); i++) {
                line(
                        b,
                        "  " + types.get(i),
                        String.format(
                                Locale.ROOT,
                                "%,d committed (%.1f %%), mean %.1f us, p50 %.1f us, p99 %.1f us%s",
                                committedByType[i],
                                committed() == 0 ? 0.0 : 100.0 * committedByType[i] / committed(),
                                latencyByType[i].getMean() / 1000.0,
                                latencyByType[i].getValueAtPercentile(50) / 1000.0,
                                latencyByType[i].getValueAtPercentile(99) / 1000.0,
                                rollbacksByType[i] == 0
                                        ? ""
                                        : String.format(
                                                Locale.ROOT, ", %,d rolled back by the workload", rollbacksByType[i])));
            }
        }
        line(
                b,
                "aborts",
                String.format(
                        Locale.ROOT,
                        "%,d write-write, %,d dangerous structure (%.3f %% of attempts; all retried)",
                        writeWriteAborts,
                        dangerousStructureAborts,
                        abortPercent()));
        if (rollbacks() > 0) {
            line(b, "rollbacks", String.format(Locale.ROOT, "%,d asked for by the workload", rollbacks()));
        }
        line(
                b,
                "latency",
                String.format(
                        Locale.ROOT,
                        "p50 %.1f us  p99 %.1f us  p99.9 %.1f us  max %.1f us",
                        latencyMicros(50),
                        latencyMicros(99),
                        latencyMicros(99.9),
                        latency.getMaxValue() / 1000.0));
        if (watching != null) {
            line(
                    b,
                    "watchers",
                    String.format(
                            Locale.ROOT,
                            "%d: %,.0f events/s, %,.0f changes/s (%,d events, %,d changes); fell behind %,d times"
                                    + " (%,d resumed, %,d restarted with a gap)",
                            watching.watchers(),
                            watching.eventsPerSecond(),
                            watching.changesPerSecond(),
                            watching.events(),
                            watching.changes(),
                            watching.fellBehind(),
                            watching.fellBehind() - watching.gaps(),
                            watching.gaps()));
            if (watching.lastFellBehind() != null) {
                line(b, "  last", watching.lastFellBehind());
            }
        }
        if (backups != null) {
            line(
                    b,
                    "backups",
                    String.format(
                            Locale.ROOT,
                            "%,d every %,d ms: %,.1f MB in total, %,.1f MB/s while writing (%.2f s in backup calls)",
                            backups.backups(),
                            backups.every().toMillis(),
                            backups.megabytes(),
                            backups.megabytesPerSecond(),
                            backups.seconds()));
        }
        line(
                b,
                "database",
                String.format(
                        Locale.ROOT, "%,d commits in total, %,d keys indexed", stats.commits(), stats.indexedKeys()));
        b.append("checks\n");
        for (Workload.Check c : checks) {
            b.append("  [").append(c.passed() ? " ok " : "FAIL").append("] ").append(c.name());
            if (c.detail() != null && !c.detail().isEmpty()) {
                b.append(": ").append(c.detail());
            }
            b.append('\n');
        }
        b.append(passed() ? "RESULT: all " + checks.size() + " checks passed" : "RESULT: CONSISTENCY CHECK FAILED");
        return b.toString();
    }

    private static void line(StringBuilder b, String name, String value) {
        b.append(String.format(Locale.ROOT, "  %-14s %s%n", name, value));
    }

    static String csvHeader() {
        return "workload,threads,isolation,durability,seconds,committed,txn_per_s,write_write_aborts,"
                + "dangerous_structure_aborts,workload_rollbacks,p50_us,p99_us,p999_us,max_us,checks_passed,"
                + "watchers,watch_events_per_s,watch_changes_per_s,watch_fell_behind,backups,backup_mb,backup_mb_per_s";
    }

    String csvRow() {
        return String.join(
                ",",
                options.workload(),
                Integer.toString(options.threads()),
                options.isolation().name(),
                options.durability().label(),
                fmt(seconds),
                Long.toString(committed()),
                fmt(throughput()),
                Long.toString(writeWriteAborts),
                Long.toString(dangerousStructureAborts),
                Long.toString(rollbacks()),
                fmt(latencyMicros(50)),
                fmt(latencyMicros(99)),
                fmt(latencyMicros(99.9)),
                fmt(latency.getMaxValue() / 1000.0),
                Boolean.toString(passed()),
                Integer.toString(watching == null ? 0 : watching.watchers()),
                fmt(watching == null ? 0 : watching.eventsPerSecond()),
                fmt(watching == null ? 0 : watching.changesPerSecond()),
                Long.toString(watching == null ? 0 : watching.fellBehind()),
                Long.toString(backups == null ? 0 : backups.backups()),
                fmt(backups == null ? 0 : backups.megabytes()),
                fmt(backups == null ? 0 : backups.megabytesPerSecond()));
    }

    String json() {
        StringBuilder b = new StringBuilder("{");
        b.append("\"workload\":").append(quote(options.workload()));
        b.append(",\"description\":").append(quote(workload));
        b.append(",\"threads\":").append(options.threads());
        b.append(",\"isolation\":").append(quote(options.isolation().name()));
        b.append(",\"durability\":").append(quote(durability));
        b.append(",\"seconds\":").append(fmt(seconds));
        b.append(",\"committed\":").append(committed());
        b.append(",\"txnPerSecond\":").append(fmt(throughput()));
        b.append(",\"committedByType\":{");
        for (int i = 0; i < types.size(); i++) {
            b.append(i == 0 ? "" : ",").append(quote(types.get(i))).append(':').append(committedByType[i]);
        }
        b.append("},\"aborts\":{\"writeWrite\":")
                .append(writeWriteAborts)
                .append(",\"dangerousStructure\":")
                .append(dangerousStructureAborts)
                .append('}');
        b.append(",\"workloadRollbacks\":").append(rollbacks());
        b.append(",\"latencyMicros\":{\"p50\":")
                .append(fmt(latencyMicros(50)))
                .append(",\"p99\":")
                .append(fmt(latencyMicros(99)))
                .append(",\"p999\":")
                .append(fmt(latencyMicros(99.9)))
                .append(",\"max\":")
                .append(fmt(latency.getMaxValue() / 1000.0))
                .append('}');
        if (watching != null) {
            b.append(",\"watchers\":{\"count\":")
                    .append(watching.watchers())
                    .append(",\"events\":")
                    .append(watching.events())
                    .append(",\"eventsPerSecond\":")
                    .append(fmt(watching.eventsPerSecond()))
                    .append(",\"changes\":")
                    .append(watching.changes())
                    .append(",\"changesPerSecond\":")
                    .append(fmt(watching.changesPerSecond()))
                    .append(",\"fellBehind\":")
                    .append(watching.fellBehind())
                    .append(",\"gaps\":")
                    .append(watching.gaps())
                    .append('}');
        }
        if (backups != null) {
            b.append(",\"backups\":{\"everyMillis\":")
                    .append(backups.every().toMillis())
                    .append(",\"count\":")
                    .append(backups.backups())
                    .append(",\"bytes\":")
                    .append(backups.bytes())
                    .append(",\"megabytesPerSecond\":")
                    .append(fmt(backups.megabytesPerSecond()))
                    .append(",\"seconds\":")
                    .append(fmt(backups.seconds()))
                    .append('}');
        }
        b.append(",\"checks\":[");
        for (int i = 0; i < checks.size(); i++) {
            Workload.Check c = checks.get(i);
            b.append(i == 0 ? "" : ",")
                    .append("{\"name\":")
                    .append(quote(c.name()))
                    .append(",\"passed\":")
                    .append(c.passed())
                    .append(",\"detail\":")
                    .append(quote(c.detail() == null ? "" : c.detail()))
                    .append('}');
        }
        b.append("],\"passed\":").append(passed()).append('}');
        return b.toString();
    }

    private static String fmt(double d) {
        return String.format(Locale.ROOT, "%.1f", d);
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
