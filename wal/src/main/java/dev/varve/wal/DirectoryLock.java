package dev.varve.wal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Exclusive ownership of a log directory: an OS file lock on {@code <dir>/LOCK} keeps other
 * processes out, and a static set of canonical paths keeps a second open in this JVM out (the
 * OS lock is per process, and {@link FileChannel#tryLock} throws {@link
 * OverlappingFileLockException} in-process).
 */
final class DirectoryLock implements AutoCloseable {

    static final String LOCK_FILE = "LOCK";

    private static final Set<Path> OPEN_IN_THIS_JVM = ConcurrentHashMap.newKeySet();

    private final Path dir;
    private final FileChannel channel;
    private final FileLock lock;
    private boolean released;

    private DirectoryLock(Path dir, FileChannel channel, FileLock lock) {
        this.dir = dir;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the directory.
     *
     * @throws IllegalStateException if it is open already, here or in another process
     * @throws UncheckedIOException if the lock file cannot be opened
     */
    static DirectoryLock acquire(Path dir) {
        Path real;
        try {
            real = dir.toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot resolve log directory " + dir, e);
        }
        if (!OPEN_IN_THIS_JVM.add(real)) {
            throw new IllegalStateException("log directory " + real + " is already open in this process");
        }
        FileChannel ch = null;
        try {
            ch = FileChannel.open(real.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock l;
            try {
                l = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                l = null;
            }
            if (l == null) {
                throw new IllegalStateException("log directory " + real + " is already open in another process (lock on "
                        + real.resolve(LOCK_FILE) + " is held)");
            }
            return new DirectoryLock(real, ch, l);
        } catch (IOException | RuntimeException e) {
            OPEN_IN_THIS_JVM.remove(real);
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            if (e instanceof IOException io) {
                throw new UncheckedIOException("cannot lock log directory " + real, io);
            }
            throw (RuntimeException) e;
        }
    }

    /** The canonical directory path. */
    Path dir() {
        return dir;
    }

    /** Releases the lock; idempotent. Not thread-safe (called from {@code close()} once). */
    @Override
    public void close() {
        if (released) {
            return;
        }
        released = true;
        try {
            lock.release();
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot release lock on " + dir, e);
        } finally {
            OPEN_IN_THIS_JVM.remove(dir);
        }
    }
}
