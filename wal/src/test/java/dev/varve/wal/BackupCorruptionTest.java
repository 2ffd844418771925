// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Codec;
import dev.varve.Database;
import dev.varve.NamedMap;
import dev.varve.Transaction;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A damaged backup is refused whole: every truncation of each of its files (to every length
 * below its size) and a bit flip at every byte of each file (every bit of the manifest and the
 * catalog) make {@link BackupManifest#verify}, a restore into memory and a restore into a log
 * directory fail with a {@link CorruptLogException} naming the damaged file and an offset inside
 * it, before anything is loaded (no database is returned, the target log directory is never
 * created, the backup is never written). A crash or power loss at every file operation of a
 * backup leaves a directory that is either the complete backup or refused.
 */
class BackupCorruptionTest {
    @TempDir
    Path tmp;

    /** A small backup: default map, a named map with a comparator, an empty named map. */
    private Path smallBackup() {
        Path backup = tmp.resolve("backup");
        try (Database<String, Long> db = Database.<String, Long>builder().open()) {
            NamedMap<Long, String> desc = db.openMap("desc", Comparator.reverseOrder(), Codec.LONG, Codec.STRING);
            db.openMap("empty", Codec.INT, Codec.INT);
            try (Transaction<String, Long> tx = db.begin()) {
                for (int i = 0; i < 6; i++) {
                    tx.put("k" + i, (long) i);
                    tx.map(desc).put((long) i, "v" + i);
                }
                tx.commit();
            }
            db.backup(backup, Codec.STRING, Codec.LONG);
        }
        return backup;
    }

    private static Map<Path, byte[]> snapshotFiles(Path dir) throws Exception {
        Map<Path, byte[]> out = new TreeMap<>();
        for (Path f : WalTestSupport.files(dir, "")) {
            out.put(f, Files.readAllBytes(f));
        }
        return out;
    }

    /** Every way of opening the damaged backup refuses it, naming {@code damaged}. */
    private void assertRefused(Path backup, Path damaged, long size, String variant, boolean alsoIntoLog) {
        List<Runnable> opens = new ArrayList<>();
        opens.add(() -> BackupManifest.verify(backup));
        opens.add(() -> Database.<String, Long>builder()
                .restore(backup, Codec.STRING, Codec.LONG)
                .open()
                .close());
        Path log = tmp.resolve("restored-log");
        if (alsoIntoLog) {
            opens.add(() -> Database.<String, Long>builder()
                    .restore(backup)
                    .durability(Wal.full(log, Codec.STRING, Codec.LONG))
                    .open()
                    .close());
        }
        for (Runnable open : opens) {
            CorruptLogException e = assertThrows(CorruptLogException.class, open::run, variant);
            assertNotNull(e.file(), variant);
            assertEquals(damaged.getFileName(), e.file().getFileName(), variant + ": " + e.getMessage());
            assertTrue(e.offset() >= 0 && e.offset() <= size, variant + ": " + e.getMessage());
            assertTrue(e.getMessage().contains(damaged.getFileName() + " at offset " + e.offset()), e.getMessage());
        }
        assertFalse(Files.exists(log), variant + ": the log directory was created");
    }

    @Test
    void everyTruncationOfEveryFileIsRefusedNamingTheFileAndOffset() throws Exception {
        Path backup = smallBackup();
        Map<Path, byte[]> original = snapshotFiles(backup);
        assertEquals(3, original.size(), original.keySet().toString());
        int variants = 0;
        for (Map.Entry<Path, byte[]> f : original.entrySet()) {
            byte[] bytes = f.getValue();
            for (int len = 0; len < bytes.length; len++) {
                Files.write(f.getKey(), java.util.Arrays.copyOf(bytes, len));
                assertRefused(backup, f.getKey(), bytes.length, f.getKey().getFileName() + " cut to " + len, true);
                variants++;
            }
            Files.write(f.getKey(), bytes);
        }
        assertTrue(variants > 300, "variants " + variants);
        for (Map.Entry<Path, byte[]> f : snapshotFiles(backup).entrySet()) {
            assertArrayEquals(original.get(f.getKey()), f.getValue(), "restore wrote to the backup " + f.getKey());
        }
        BackupManifest.verify(backup); // intact again
    }

    @Test
    void aBitFlipAtEveryByteOfEveryFileIsRefusedNamingTheFileAndOffset() throws Exception {
        Path backup = smallBackup();
        Map<Path, byte[]> original = snapshotFiles(backup);
        int variants = 0;
        for (Map.Entry<Path, byte[]> f : original.entrySet()) {
            byte[] bytes = f.getValue();
            boolean everyBit = !f.getKey().getFileName().toString().endsWith(".ckp");
            for (int at = 0; at < bytes.length; at++) {
                for (int bit = 0; bit < 8; bit++) {
                    if (!everyBit && bit != at % 8) {
                        continue;
                    }
                    byte[] flipped = bytes.clone();
                    flipped[at] ^= (byte) (1 << bit);
                    Files.write(f.getKey(), flipped);
                    String variant = f.getKey().getFileName() + " bit " + bit + " of byte " + at;
                    assertRefused(backup, f.getKey(), bytes.length, variant, bit == at % 8);
                    variants++;
                }
            }
            Files.write(f.getKey(), bytes);
        }
        assertTrue(variants > 1000, "variants " + variants);
        BackupManifest.verify(backup);
    }

    @Test
    void anUnfinishedBackupAMissingFileAndABackupOpenedAsALogSinceAreRefused() throws Exception {
        Path backup = smallBackup();
        Path manifest = backup.resolve(BackupManifest.FILE_NAME);
        byte[] m = Files.readAllBytes(manifest);
        Files.delete(manifest);
        CorruptLogException e = assertThrows(CorruptLogException.class, () -> BackupManifest.verify(backup));
        assertTrue(e.getMessage().contains("no MANIFEST"), e.getMessage());
        Files.write(manifest, m);
        Path checkpoint = WalTestSupport.files(backup, ".ckp").get(0);
        byte[] c = Files.readAllBytes(checkpoint);
        Files.delete(checkpoint);
        e = assertThrows(CorruptLogException.class, () -> BackupManifest.verify(backup));
        assertEquals(checkpoint, e.file());
        assertTrue(e.getMessage().contains("missing"), e.getMessage());
        Files.write(checkpoint, c);
        try (Database<String, Long> db = Database.<String, Long>builder()
                .durability(Wal.full(backup, Codec.STRING, Codec.LONG))
                .open()) {
            db.put("later", 1L); // the backup directory itself opened as a log: it is a log now
        }
        e = assertThrows(
                CorruptLogException.class,
                () -> Database.<String, Long>builder()
                        .restore(backup, Codec.STRING, Codec.LONG)
                        .open());
        assertTrue(e.getMessage().contains("opened as a write-ahead log since"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BackupManifest.verify(tmp.resolve("none")));
    }

    @Test
    void aCrashOrPowerLossAtEveryFileOperationOfABackupLeavesTheWholeBackupOrARefusal() throws Exception {
        FakeStore<String, Long> store = new FakeStore<>();
        for (int i = 0; i < 20; i++) {
            store.replay(i + 1, "k" + i, (long) i);
        }
        TreeMap<String, Long> expected = new TreeMap<>(store.map);
        Backups.Source source = Backups.of(Codec.STRING, Codec.LONG, "natural", id -> null);
        FaultyIo counting = FaultyIo.counting();
        Backups.write(counting, tmp.resolve("counted"), store, source);
        int ops = counting.ops.get();
        assertTrue(ops > 8, "ops " + ops);
        Random rnd = new Random(42);
        int complete = 0;
        int refused = 0;
        for (int n = 1; n <= ops; n++) {
            for (boolean powerLoss : new boolean[] {false, true}) {
                Path target = tmp.resolve("crash-" + n + "-" + powerLoss);
                FaultyIo.Disk disk = new FaultyIo.Disk();
                FaultyIo io = FaultyIo.crashingAt(disk, n, FaultyIo.Mode.TEAR, rnd);
                String variant = "crash at op " + n + (powerLoss ? " and power loss" : "");
                UncheckedIOException failure = assertThrows(
                        UncheckedIOException.class, () -> Backups.write(io, target, store, source), variant);
                assertTrue(failure.getMessage().contains(target.toString()), failure.getMessage());
                if (powerLoss) {
                    io.powerLoss(rnd);
                }
                if (!Files.exists(target.resolve(BackupManifest.FILE_NAME))) {
                    assertThrows(CorruptLogException.class, () -> BackupManifest.verify(target), variant);
                    refused++;
                    continue;
                }
                BackupManifest.verify(target); // a MANIFEST is only renamed once everything is durable
                try (Database<String, Long> db = Database.<String, Long>builder()
                        .restore(target, Codec.STRING, Codec.LONG)
                        .open()) {
                    assertEquals(expected, new TreeMap<>(db.snapshot()), variant);
                }
                complete++;
            }
        }
        assertTrue(refused > 0 && complete > 0, "refused " + refused + ", complete " + complete);
    }
}
