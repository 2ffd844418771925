// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench.ops;

import dev.varve.wal.BackupManifest;
import dev.varve.wal.CorruptLogException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code varve-bench backup-info DIR}: prints a backup's manifest (format version, snapshot
 * timestamp, maps with codec ids and entry counts, files with sizes and CRC32Cs) after verifying
 * the whole backup against it ({@link BackupManifest#verify}), for operators. Exit status 0 when
 * it verifies, 1 when it is damaged, truncated or unreadable (the message names the file and
 * byte offset), 2 for bad usage.
 */
public final class BackupInfo {
    private BackupInfo() {}

    /**
     * Runs the command.
     *
     * @param args one backup directory, or {@code --help}
     * @param out where the manifest goes
     * @param err where errors go
     * @return the exit status
     */
    public static int main(List<String> args, PrintStream out, PrintStream err) {
        if (args.size() == 1 && (args.get(0).equals("--help") || args.get(0).equals("-h"))) {
            out.println(help());
            return 0;
        }
        if (args.size() != 1 || args.get(0).startsWith("-")) {
            err.println("varve-bench backup-info: expected one backup directory, got " + args);
            err.println(help());
            return 2;
        }
        Path dir = Path.of(args.get(0));
        BackupManifest m;
        try {
            m = BackupManifest.verify(dir);
        } catch (CorruptLogException e) {
            out.println("CORRUPT " + e.file() + " at offset " + e.offset());
            err.println("varve-bench backup-info: " + e.getMessage());
            return 1;
        } catch (IllegalArgumentException e) {
            err.println("varve-bench backup-info: " + e.getMessage());
            return 2;
        } catch (UncheckedIOException e) {
            err.println("varve-bench backup-info: " + e.getMessage());
            return 1;
        }
        out.print(m.describe());
        out.println("verified           manifest checksum, " + m.files().size()
                + " files (sizes, record CRCs, entry counts, CRC32Cs)");
        return 0;
    }

    /**
     * The usage text.
     *
     * @return the text
     */
    public static String help() {
        return String.join(
                "\n",
                "Usage: java -jar varve-bench.jar backup-info DIR",
                "  Verifies the backup in DIR (written by Database.backup) against its MANIFEST and prints the",
                "  manifest. Exit status: 0 verified, 1 damaged or unreadable (the file and offset are named),",
                "  2 bad usage.");
    }
}
