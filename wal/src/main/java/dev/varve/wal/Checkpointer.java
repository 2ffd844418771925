// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import dev.varve.Codec;
import dev.varve.spi.StoreAccess;
import dev.varve.wal.Checkpoints.StoreUnavailableException;
import dev.varve.wal.events.CheckpointEvent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The checkpoints of one open log: writes each (on the caller's thread, or on its own background
 * thread every {@code checkpointEvery} logged bytes), deletes the checkpoint and the sealed
 * segments it supersedes, and fails the log at the {@value #MAX_FAILED_CHECKPOINTS}th failed
 * checkpoint in a row. Thread-safe; its only calls into the log go through {@link Owner}.
 */
final class Checkpointer<K, V> {

    /** This many failed checkpoints in a row fail the log: it can no longer be kept bounded (K4). */
    static final int MAX_FAILED_CHECKPOINTS = 3;

    private static final VarHandle REQUESTED;

    static {
        try {
            REQUESTED = MethodHandles.lookup().findVarHandle(Checkpointer.class, "requested", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * What a checkpointer needs from the log that owns it; the only calls it makes into the log.
     * None of them calls back into the checkpointer.
     */
    interface Owner {
        /** Whether the log's close() has begun (a volatile read; K2). */
        boolean closing();

        /**
         * Registers a background checkpoint as a user of the directory (K3) unless the log is
         * closing, has failed or has released the directory.
         *
         * @return whether it did; then {@link #release} must follow
         */
        boolean enterBackground();

        /**
         * Registers a foreground checkpoint as a user of the directory (K3); then {@link
         * #release} must follow.
         *
         * @throws IllegalStateException if the log has failed, is closing or has released the
         *     directory (the message names the directory and, for a failure, its cause)
         */
        void enterForeground();

        /** Drops the use of the directory registered by {@link #enterBackground} or {@link #enterForeground}. */
        void release();

        /** Fails the log (K4): every pending and later commit fails with {@code cause}. */
        void fail(Throwable cause);

        /** Counts a checkpoint written (the log's statistics). */
        default void checkpointed() {}

        /** Reports a failed background checkpoint to the database's failure listener. */
        default void checkpointFailed(Throwable failure) {}
    }

    // ---- configuration (immutable) ----
    private final FileIo io;
    private final Path dir;
    private final StoreAccess<K, V> store;
    /** The codecs of every open map, and the recovered bytes of the others (MapCatalog). */
    private final MapCatalog maps;

    private final long checkpointEvery;
    private final Owner owner;
    /** {@code null} when background checkpoints are off. */
    private final Thread thread;

    // ---- shared between threads ----
    /** Sealed (no longer written) segments by first commit timestamp; the writer adds, checkpoints remove (K5). */
    private final ConcurrentSkipListMap<Long, Recovery.Segment> sealed = new ConcurrentSkipListMap<>();
    /** Guards the checkpoint state below and is held by every checkpoint from start to end (K1). */
    private final ReentrantLock lock = new ReentrantLock();
    /** Set by the writer when the log grew by checkpointEvery bytes; cleared by the background thread (K6). */
    private volatile boolean requested;
    /** The latest background checkpoint failure, cleared by a successful checkpoint; for close() and tests (K4). */
    private volatile UncheckedIOException lastFailure;

    // ---- guarded by lock ----
    private long checkpointTs;
    private Path checkpointFile;
    private int failedInARow;

    // ---- confined to the log's writer thread ----
    private long bytesSinceCheckpoint;

    /*
     * Implementation notes.
     *
     * Checkpoints run on the caller's thread (checkpoint()) or on this class's background thread,
     * never on the log's writer: the image comes from StoreAccess.readSnapshot (MVCC, no
     * blocking), lands in checkpoint.tmp, is forced and renamed (Checkpoints.write).
     *
     * Invariants.
     * (K1) One checkpoint at a time: each runs from its first file access to its last under
     *      `lock`, which also guards checkpointTs, checkpointFile and failedInARow. So awaitStopped
     *      waits for the checkpoint in flight by taking the lock.
     * (K2) None starts once close() has begun: each asks the Owner, after taking the lock, whether
     *      the log is closing (or failed) before it uses the directory. The log sets its closing
     *      flag before close() calls awaitStopped, so a checkpoint that takes the lock after
     *      awaitStopped returned sees the flag and refuses.
     * (K3) Each checkpoint in flight is a user of the directory (WalLog W4): it registers through
     *      Owner.enter* under the lock before its first file access and drops the use
     *      (Owner.release) after its last, so the directory lock outlives it even when close()
     *      stops waiting for it.
     * (K4) Failure counting. A failed checkpoint (ENOSPC in checkpoint.tmp, a codec that throws)
     *      leaves the log intact: nothing is deleted before the new checkpoint is renamed (K5), and
     *      Checkpoints.write deletes checkpoint.tmp on every failure. So one does not fail the
     *      log, foreground or background alike: a foreground one is thrown to the caller, a
     *      background one is kept in lastFailure (close() throws it unless a later checkpoint
     *      succeeds) and retried at the next trigger. failedInARow counts both kinds since the
     *      last success, and the MAX_FAILED_CHECKPOINTS-th in a row fails the log through
     *      Owner.fail, since the log's size is then unbounded. An Error fails the log at once. A
     *      StoreUnavailableException is no failure: the database is closing.
     * (K5) Only what a durable checkpoint covers is deleted, after it is durable (Checkpoints
     *      (2), (3)): the checkpoint it replaces, then the sealed segments whose last commit it
     *      covers, oldest first, so a crash in the middle leaves a contiguous suffix (checked by
     *      the prev-ts field of each segment header). The open segment is never in `sealed`: the
     *      writer adds a segment only as it rolls to the next one, after forcing it.
     * (K6) No lost trigger. The writer sets `requested` (release) and then unparks the background
     *      thread, which parks only while it reads `requested` (acquire) false and the log not
     *      closing, and re-reads both after every return from park: a set before its read is seen,
     *      a set after it comes with an unpark that makes the park return. The flag is cleared
     *      before the checkpoint starts, so a trigger during a checkpoint causes one more; triggers
     *      in between coalesce.
     */

    /**
     * A checkpointer for the log of {@code dir}, starting from what recovery found; its
     * background thread (when {@code checkpointEvery > 0}) starts with {@link #start}.
     */
    Checkpointer(
            FileIo io,
            Path dir,
            StoreAccess<K, V> store,
            Codec<K> keyCodec,
            Codec<V> valueCodec,
            long checkpointEvery,
            Recovery.Result recovered,
            Owner owner) {
        this(io, dir, store, MapCatalog.unsaved(keyCodec, valueCodec), checkpointEvery, recovered, owner);
    }

    /** As above, for every map of {@code maps}. */
    Checkpointer(
            FileIo io,
            Path dir,
            StoreAccess<K, V> store,
            MapCatalog maps,
            long checkpointEvery,
            Recovery.Result recovered,
            Owner owner) {
        this.io = io;
        this.dir = dir;
        this.store = store;
        this.maps = maps;
        this.checkpointEvery = checkpointEvery;
        this.owner = owner;
        this.checkpointTs = recovered.checkpointTs();
        this.checkpointFile = recovered.checkpoint();
        for (Recovery.Segment s : recovered.segments()) {
            sealed.put(s.firstTs(), s);
        }
        this.thread =
                checkpointEvery > 0 ? new Thread(this::backgroundLoop, "varve-wal-checkpoint[" + dir + "]") : null;
    }

    // ---- accessors: the name states the memory-ordering mode where it differs from the field's ----

    /** Pairs with {@link #getRequestedAcquire}; followed by an unpark of the background thread (K6). */
    private void setRequestedRelease(boolean v) {
        REQUESTED.setRelease(this, v);
    }

    private boolean getRequestedAcquire() {
        return (boolean) REQUESTED.getAcquire(this);
    }

    // ---- called by the log ----

    /** Starts the background thread, if background checkpoints are on. */
    void start() {
        if (thread != null) {
            thread.setDaemon(true);
            thread.start();
        }
    }

    /** A segment the writer sealed (forced and closed) as it rolled to the next; writer thread only. */
    void sealed(Recovery.Segment segment) {
        sealed.put(segment.firstTs(), segment);
    }

    /** Counts {@code bytes} more written to the log; triggers a background checkpoint when due. Writer thread only. */
    void logged(long bytes) {
        bytesSinceCheckpoint += bytes;
        if (thread != null && bytesSinceCheckpoint >= checkpointEvery) {
            bytesSinceCheckpoint = 0;
            setRequestedRelease(true);
            LockSupport.unpark(thread); // NOTE: set, then unpark: no wake-up is lost (K6)
        }
    }

    /**
     * Writes a checkpoint on the caller's thread and deletes what it covers (K5). A failure
     * leaves the log writable and deletes checkpoint.tmp; the {@value #MAX_FAILED_CHECKPOINTS}th
     * in a row, foreground or background, fails the log (K4).
     *
     * @throws UncheckedIOException if a file operation or a codec failed (the message names the
     *     directory and the cause)
     * @throws IllegalStateException if the log has failed or is closing (see {@link
     *     Owner#enterForeground}), or the store refused the snapshot
     */
    void checkpoint() {
        lock.lock(); // K1
        try {
            owner.enterForeground(); // K2, K3
            try {
                run();
                succeeded();
            } catch (IOException e) {
                failed(e);
                throw new UncheckedIOException("checkpoint in " + dir + " failed: " + e, e);
            } catch (StoreUnavailableException e) {
                throw e; // the database is closing; not a checkpoint failure (K4)
            } catch (RuntimeException e) {
                failed(e);
                throw e;
            } finally {
                owner.release(); // K3
            }
        } finally {
            lock.unlock();
        }
    }

    /** Wakes the background thread so that it sees the log closing (K6). */
    void wake() {
        if (thread != null) {
            LockSupport.unpark(thread);
        }
    }

    /**
     * Waits until the background thread has exited and no checkpoint is in flight, or the
     * deadline passes. Call after the log's closing flag is set (K2).
     *
     * @param deadlineNanos a {@link System#nanoTime} value
     * @return whether no checkpoint is in flight
     */
    boolean awaitStopped(long deadlineNanos) {
        if (thread != null) {
            Threads.join(thread, deadlineNanos);
        }
        try {
            if (!lock.tryLock(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                return false;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        lock.unlock(); // later checkpoints see `closing` under the lock and refuse (K2)
        return true;
    }

    /**
     * The latest background checkpoint failure, if no checkpoint succeeded since (K4).
     *
     * @return the failure (message names the directory and the cause), or {@code null}
     */
    UncheckedIOException lastFailure() {
        return lastFailure;
    }

    /** Timestamp of the newest durable checkpoint (0: none). */
    long checkpointTimestamp() {
        lock.lock();
        try {
            return checkpointTs;
        } finally {
            lock.unlock();
        }
    }

    /** The sealed segments' first commit timestamps. */
    java.util.Set<Long> sealedSegments() {
        return java.util.Set.copyOf(sealed.keySet());
    }

    // ---- background thread ----

    private void backgroundLoop() {
        while (true) {
            while (!getRequestedAcquire() && !owner.closing()) { // K6
                LockSupport.park(this);
            }
            if (owner.closing()) {
                return;
            }
            setRequestedRelease(false);
            lock.lock(); // K1
            try {
                if (!owner.enterBackground()) { // K2, K3
                    return;
                }
                try {
                    run();
                    succeeded();
                } finally {
                    owner.release(); // K3
                }
            } catch (StoreUnavailableException e) {
                // NOTE: the database closes its store before it closes the log, so a background
                // checkpoint racing close() finds readSnapshot refused. Benign: the log is intact,
                // close() follows, and checkpoint.tmp is already deleted.
                return;
            } catch (Exception e) { // not swallowed: kept for close(), counted, retried at the next trigger (K4)
                lastFailure = new UncheckedIOException(
                        "background checkpoint of " + dir + " failed: " + e,
                        e instanceof IOException io ? io : new IOException(e));
                Recovery.LOG.log(
                        System.Logger.Level.WARNING,
                        "background checkpoint of " + dir + " failed (retried at the next trigger): " + e,
                        e);
                owner.checkpointFailed(lastFailure);
                failed(e);
            } catch (Throwable t) { // an Error: the log fails and every later commit says why (K4)
                owner.fail(t);
                return;
            } finally {
                lock.unlock();
            }
        }
    }

    // ---- under lock ----

    private void succeeded() {
        failedInARow = 0;
        lastFailure = null;
    }

    /** Fails the log at the {@value #MAX_FAILED_CHECKPOINTS}th in a row (K4). */
    private void failed(Exception e) {
        if (++failedInARow >= MAX_FAILED_CHECKPOINTS) {
            owner.fail(new IOException(
                    failedInARow + " checkpoints in a row failed, so the log can no longer"
                            + " be kept bounded; the last: " + e,
                    e));
        }
    }

    private void run() throws IOException {
        CheckpointEvent event = new CheckpointEvent();
        event.begin();
        Checkpoints.Written w = Checkpoints.write(io, dir, store, maps, checkpointTs);
        if (w == null) {
            return;
        }
        if (event.shouldCommit()) {
            event.snapshotTimestamp = w.snapshotTs();
            event.entries = w.entries();
            event.commit();
        }
        Path old = checkpointFile;
        checkpointTs = w.snapshotTs();
        checkpointFile = w.file();
        owner.checkpointed();
        Recovery.LOG.log(
                System.Logger.Level.DEBUG,
                "checkpoint written: {0} (snapshot timestamp {1}, {2} entries)",
                w.file(),
                w.snapshotTs(),
                w.entries());
        if (old != null && !old.equals(w.file())) {
            io.delete(old);
        }
        boolean deleted = false;
        for (Iterator<Map.Entry<Long, Recovery.Segment>> it = sealed.entrySet().iterator(); it.hasNext(); ) {
            Recovery.Segment s = it.next().getValue();
            if (s.lastTs() > w.snapshotTs()) {
                break; // oldest first: what remains is a contiguous suffix (K5)
            }
            io.delete(s.path());
            it.remove();
            deleted = true;
        }
        if (deleted || old != null) {
            io.forceDirectory(dir);
        }
    }
}
