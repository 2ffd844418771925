// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Codec;
import dev.varve.Database;
import dev.varve.bench.Driver;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code varve-bench backup-info}: prints and verifies a backup (written here from an in-memory
 * database, so the backup format is found through {@code META-INF/services} on the class path),
 * and exits 1 naming the file and offset for a corrupted or truncated one, 2 for bad usage.
 */
class BackupInfoTest {
    @TempDir
    Path tmp;

    private record Run(int status, String out, String err) {}

    private static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Driver.run(
                List.of(args),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private Path backup() {
        Path dir = tmp.resolve("backup");
        try (Database<String, Long> db = Database.<String, Long>builder().open()) {
            db.openMap("orders", Codec.LONG, Codec.STRING).put(7L, "seven");
            for (int i = 0; i < 10; i++) {
                db.put("k" + i, (long) i);
            }
            db.backup(dir, Codec.STRING, Codec.LONG);
        }
        return dir;
    }

    @Test
    void printsTheManifestOfAVerifiedBackup() {
        Path dir = backup();
        Run r = run("backup-info", dir.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("snapshot timestamp "), r.out());
        assertTrue(r.out().contains("entries            11"), r.out());
        assertTrue(r.out().contains("map 'orders'") && r.out().contains("key codec 'varve.long/1'"), r.out());
        assertTrue(r.out().contains("file maps-") && r.out().contains("file checkpoint-"), r.out());
        assertTrue(r.out().contains("verified"), r.out());
    }

    @Test
    void exitsNonZeroNamingTheFileAndOffsetOfACorruptedOrTruncatedBackup() throws Exception {
        Path dir = backup();
        Path checkpoint;
        try (var files = Files.list(dir)) {
            checkpoint =
                    files.filter(p -> p.toString().endsWith(".ckp")).findFirst().orElseThrow();
        }
        byte[] bytes = Files.readAllBytes(checkpoint);
        byte[] flipped = bytes.clone();
        flipped[20] ^= 4;
        Files.write(checkpoint, flipped);
        Run r = run("backup-info", dir.toString());
        assertEquals(1, r.status(), r.out());
        assertTrue(r.out().startsWith("CORRUPT " + checkpoint + " at offset " + (bytes.length - 4)), r.out());
        assertTrue(r.err().contains("fails its CRC32C"), r.err());
        Files.write(checkpoint, bytes);
        Path manifest = dir.resolve("MANIFEST");
        byte[] m = Files.readAllBytes(manifest);
        Files.write(manifest, java.util.Arrays.copyOf(m, m.length - 1));
        r = run("backup-info", dir.toString());
        assertEquals(1, r.status(), r.out());
        assertTrue(r.out().startsWith("CORRUPT " + manifest + " at offset "), r.out());
        Files.write(manifest, m);
        assertEquals(0, run("backup-info", dir.toString()).status());
    }

    @Test
    void badUsageExitsWithTwo() {
        assertEquals(2, run("backup-info").status());
        assertEquals(2, run("backup-info", "a", "b").status());
        Run r = run("backup-info", tmp.resolve("absent").toString());
        assertEquals(2, r.status());
        assertTrue(r.err().contains("is not a directory"), r.err());
        assertEquals(0, run("backup-info", "--help").status());
    }
}
