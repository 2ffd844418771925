// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench;

import dev.varve.bench.tpcc.TpccWorkload;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code varve-bench} command line: with no arguments, runs the default workload (TPC-C, in
 * memory, two threads, 10 s after a 2 s warm-up) and prints a report. See {@link Options#help()}.
 */
public final class Driver {
    private Driver() {}

    /**
     * Entry point of {@code java -jar varve-bench.jar}.
     *
     * @param args {@code [run|compare|jmh|backup-info] [options]}
     */
    public static void main(String[] args) {
        int status = run(Arrays.asList(args), System.out, System.err);
        if (status != 0) {
            System.exit(status);
        }
    }

    /**
     * Runs the command line and returns the exit status (0 success, 1 failed check, 2 bad usage).
     *
     * @param args the arguments
     * @param out where the report goes
     * @param err where progress and errors go
     * @return the exit status
     */
    public static int run(List<String> args, PrintStream out, PrintStream err) {
        List<String> rest = args;
        String command = "run";
        if (!args.isEmpty() && !args.get(0).startsWith("-")) {
            command = args.get(0);
            rest = args.subList(1, args.size());
        }
        try {
            switch (command) {
                case "run":
                    if (rest.contains("--help") || rest.contains("-h")) {
                        out.println(Options.help());
                        return 0;
                    }
                    Options options = Options.parse(rest);
                    Result result = new Runner(options, err).run(workload(options));
                    out.println(result.format());
                    return result.passed() ? 0 : 1;
                case "compare":
                    return dev.varve.bench.compare.Compare.main(rest, out, err);
                case "jmh":
                    org.openjdk.jmh.Main.main(rest.toArray(new String[0]));
                    return 0;
                case "backup-info":
                    return dev.varve.bench.ops.BackupInfo.main(rest, out, err);
                default:
                    err.println(
                            "unknown command " + command + "; expected run, compare, jmh or backup-info (see --help)");
                    return 2;
            }
        } catch (IllegalArgumentException e) {
            err.println("varve-bench: " + e.getMessage());
            return 2;
        } catch (Exception e) {
            err.println("varve-bench: " + e);
            e.printStackTrace(err);
            return 1;
        }
    }

    /**
     * The workload the options name.
     *
     * @param options the settings
     * @return a new, unloaded workload
     */
    public static Workload workload(Options options) {
        String name = options.workload();
        if (name.startsWith("bank")) {
            return new BankWorkload(options);
        }
        if (name.startsWith("ycsb")) {
            return new YcsbWorkload(options);
        }
        return new TpccWorkload(options);
    }
}
