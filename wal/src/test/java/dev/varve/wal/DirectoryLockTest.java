// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static dev.varve.wal.WalTestSupport.builder;
import static dev.varve.wal.WalTestSupport.open;
import static dev.varve.wal.WalTestSupport.probe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The directory lock against second opens through other names of the same files: the POSIX
 * record lock is dropped by closing any descriptor of LOCK in the owning process, so a second
 * open in this process must be refused before it opens one (issue 12, bug 3).
 */
class DirectoryLockTest {

    @TempDir
    Path tmp;

    private String lockedByAnotherProcess(Path dir) throws Exception {
        Path real = dir.toRealPath();
        return "REFUSED log directory " + real + " is locked by another process (lock on "
                + real.resolve(DirectoryLock.LOCK_FILE) + " is held)";
    }

    @Test
    void secondOpenThroughASymlinkIsRefusedInProcessAndTheFirstLockHolds() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("db"));
        Path link = Files.createSymbolicLink(tmp.resolve("link"), dir);
        try (WalLog<String, Long> log = open(builder(dir, Wal.Sync.FULL, FileIo.REAL), new FakeStore<>())) {
            IllegalStateException e = assertThrows(
                    IllegalStateException.class,
                    () -> open(builder(link, Wal.Sync.FULL, FileIo.REAL), new FakeStore<>()));
            assertEquals("log directory " + dir.toRealPath() + " is already open in this process", e.getMessage());
            assertEquals(lockedByAnotherProcess(dir), probe(dir));
            log.append(Rec.of(1, "a", 1L)).get(10, TimeUnit.SECONDS);
        }
        assertEquals("OPENED", probe(dir));
    }

    /**
     * A second name for LOCK that path resolution cannot see through (what a bind mount gives):
     * another directory whose LOCK is a hard link to the first one's.
     */
    @Test
    void secondOpenOfTheSameLockFileUnderAnotherNameIsRefusedAndTheFirstLockHolds() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("db"));
        Path other = Files.createDirectory(tmp.resolve("other"));
        try (WalLog<String, Long> log = open(builder(dir, Wal.Sync.FULL, FileIo.REAL), new FakeStore<>())) {
            Files.createLink(other.resolve(DirectoryLock.LOCK_FILE), dir.resolve(DirectoryLock.LOCK_FILE));
            IllegalStateException e = assertThrows(
                    IllegalStateException.class,
                    () -> open(builder(other, Wal.Sync.FULL, FileIo.REAL), new FakeStore<>()));
            assertEquals(lockedByAnotherProcess(dir), probe(dir), "the refused second open dropped the first lock");
            assertEquals(
                    "log directory " + other.toRealPath() + " is already open in this process (as " + dir.toRealPath()
                            + ")",
                    e.getMessage());
            log.append(Rec.of(1, "a", 1L)).get(10, TimeUnit.SECONDS);
        }
        assertEquals("OPENED", probe(dir));
    }

    /** The real case behind the hard-link test; needs mount rights (root), skipped elsewhere. */
    @Test
    void secondOpenThroughABindMountIsRefusedAndTheFirstLockHolds() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("db"));
        Path mnt = Files.createDirectory(tmp.resolve("mnt"));
        Process mount = new ProcessBuilder("mount", "--bind", dir.toString(), mnt.toString())
                .redirectErrorStream(true)
                .start();
        String why = new String(mount.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
        assumeTrue(
                mount.waitFor(30, TimeUnit.SECONDS) && mount.exitValue() == 0,
                "skipped: cannot bind-mount here (needs root): " + why);
        try (WalLog<String, Long> log = open(builder(dir, Wal.Sync.FULL, FileIo.REAL), new FakeStore<>())) {
            IllegalStateException e = assertThrows(
                    IllegalStateException.class,
                    () -> open(builder(mnt, Wal.Sync.FULL, FileIo.REAL), new FakeStore<>()));
            assertEquals(lockedByAnotherProcess(dir), probe(dir), "the refused second open dropped the first lock");
            assertEquals(
                    "log directory " + mnt.toRealPath() + " is already open in this process (as " + dir.toRealPath()
                            + ")",
                    e.getMessage());
            log.append(Rec.of(1, "a", 1L)).get(10, TimeUnit.SECONDS);
        } finally {
            new ProcessBuilder("umount", mnt.toString()).inheritIO().start().waitFor(30, TimeUnit.SECONDS);
        }
    }

    /**
     * What Wal's javadoc warns about: copying LOCK inside the owning process closes a descriptor
     * of it, which drops the OS lock; the in-process registry still refuses opens here.
     */
    @Test
    void copyingTheLockFileInsideTheProcessDropsTheOsLockAsDocumented() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("db"));
        try (WalLog<String, Long> log = open(builder(dir, Wal.Sync.FULL, FileIo.REAL), new FakeStore<>())) {
            assertEquals(lockedByAnotherProcess(dir), probe(dir));
            Files.copy(dir.resolve(DirectoryLock.LOCK_FILE), tmp.resolve("LOCK.copy"));
            IllegalStateException e = assertThrows(
                    IllegalStateException.class,
                    () -> open(builder(dir, Wal.Sync.FULL, FileIo.REAL), new FakeStore<>()));
            assertEquals("log directory " + dir.toRealPath() + " is already open in this process", e.getMessage());
            assertEquals("OPENED", probe(dir)); // the documented hole: another process gets in
            log.append(Rec.of(1, "a", 1L)).get(10, TimeUnit.SECONDS);
        }
    }
}
