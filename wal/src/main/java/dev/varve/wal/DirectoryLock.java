// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Exclusive ownership of a log directory: an OS file lock on {@code <dir>/LOCK} keeps other
 * processes out, and a registry of the LOCK files this JVM holds, keyed by file identity (device
 * and inode), keeps a second open in this JVM out under any name of the directory (a symlink, a
 * bind mount, a hard link of LOCK). Thread-safe.
 */
final class DirectoryLock implements AutoCloseable {

    static final String LOCK_FILE = "LOCK";

    /** The locks this JVM holds, by LOCK's file key; guarded by itself. */
    private static final Map<Object, DirectoryLock> HELD = new HashMap<>();
    /**
     * Channels on a LOCK file that other code in this JVM locked: never closed (see note 2), kept
     * reachable so that no cleaner closes them. Guarded by {@link #HELD}.
     */
    private static final List<FileChannel> NEVER_CLOSED = new ArrayList<>();

    private final Path dir;
    private final Object key;
    private final FileChannel channel;
    private final FileLock lock;
    /** Guarded by {@link #HELD}. */
    private boolean released;

    /*
     * Implementation notes.
     *
     * FileChannel.tryLock takes a POSIX record lock (fcntl F_SETLK) on Linux and macOS. Such a
     * lock belongs to the process and the file (inode), not to the descriptor, and the kernel
     * drops it when the process closes ANY descriptor of that file. Hence:
     *
     * (1) This JVM holds at most one descriptor of a held LOCK file, the lock's own channel.
     *     Before opening a channel, acquire looks the file up in HELD by its identity, read with
     *     stat (Files.readAttributes opens no descriptor); creating LOCK (Files.createFile, which
     *     opens and closes a descriptor) only succeeds if it did not exist, so nobody held it.
     * (2) A descriptor of LOCK is closed only if this JVM holds no lock on that file: on a failed
     *     tryLock (another process holds it) the channel is closed; on
     *     OverlappingFileLockException (code outside this class holds it in this JVM) it is kept
     *     open forever in NEVER_CLOSED, as closing it would release that code's lock.
     * (3) HELD is read and written, and every channel on LOCK opened and closed, under the HELD
     *     monitor, so two opens racing in this JVM see each other.
     *
     * What this cannot prevent: code in this process that opens and closes LOCK itself (copying
     * the directory with Files.copy, a backup library, a virus scanner in-process) drops the OS
     * lock, after which another process can open the directory; opens in this JVM are still
     * refused by HELD. The Wal class javadoc says not to copy the directory while it is open.
     * NOTE: if LOCK is replaced (renamed over) between the stat and the open in acquire, the key
     * names the old file; nothing in Varve renames LOCK.
     */

    private DirectoryLock(Path dir, Object key, FileChannel channel, FileLock lock) {
        this.dir = dir;
        this.key = key;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the directory.
     *
     * @throws IllegalStateException if it is open already, in this process (under this or another
     *     name) or in another process
     * @throws UncheckedIOException if the lock file cannot be created, read or opened
     */
    static DirectoryLock acquire(Path dir) {
        Path real;
        try {
            real = dir.toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot resolve log directory " + dir, e);
        }
        Path file = real.resolve(LOCK_FILE);
        synchronized (HELD) {
            Object key;
            try {
                try {
                    Files.createFile(file); // (1): succeeds only if nobody can hold it
                } catch (FileAlreadyExistsException exists) {
                    // the usual case: opened before
                }
                key = identity(file);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot lock log directory " + real + ": " + e, e);
            }
            DirectoryLock held = HELD.get(key);
            if (held != null) {
                throw new IllegalStateException("log directory " + real + " is already open in this process"
                        + (held.dir.equals(real) ? "" : " (as " + held.dir + ")"));
            }
            FileChannel ch;
            try {
                ch = FileChannel.open(file, StandardOpenOption.WRITE);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot lock log directory " + real + ": " + e, e);
            }
            FileLock l;
            try {
                l = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                NEVER_CLOSED.add(ch); // (2)
                throw new IllegalStateException(
                        "log directory " + real + ": " + file + " is locked by other code in this process", e);
            } catch (IOException | RuntimeException e) {
                closeUnlocked(ch, e);
                if (e instanceof IOException io) {
                    throw new UncheckedIOException("cannot lock log directory " + real + ": " + e, io);
                }
                throw (RuntimeException) e;
            }
            if (l == null) {
                IllegalStateException e = new IllegalStateException(
                        "log directory " + real + " is locked by another process (lock on " + file + " is held)");
                closeUnlocked(ch, e); // (2): this process holds no lock on it
                throw e;
            }
            DirectoryLock d = new DirectoryLock(real, key, ch, l);
            HELD.put(key, d);
            return d;
        }
    }

    /** LOCK's identity (device and inode where the platform has them), read without opening it. */
    private static Object identity(Path file) throws IOException {
        Object key = Files.readAttributes(file, BasicFileAttributes.class).fileKey();
        return key != null ? key : file.toRealPath();
    }

    private static void closeUnlocked(FileChannel ch, Exception failure) {
        try {
            ch.close();
        } catch (IOException suppressed) {
            failure.addSuppressed(suppressed);
        }
    }

    /** The canonical directory path. */
    Path dir() {
        return dir;
    }

    /**
     * Releases the lock; idempotent, thread-safe.
     *
     * @throws UncheckedIOException if the lock or its file cannot be released (the registry entry
     *     is removed regardless)
     */
    @Override
    public void close() {
        synchronized (HELD) {
            if (released) {
                return;
            }
            released = true;
            try {
                lock.release();
            } catch (IOException e) {
                closeUnlocked(channel, e);
                throw new UncheckedIOException("cannot release lock on " + dir, e);
            } finally {
                HELD.remove(key);
            }
            try {
                channel.close();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot close lock file of " + dir, e);
            }
        }
    }
}
