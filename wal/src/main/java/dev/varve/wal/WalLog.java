// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import dev.varve.Codec;
import dev.varve.spi.CommitLog;
import dev.varve.spi.CommitRecord;
import dev.varve.spi.StoreAccess;
import dev.varve.wal.events.LogForceEvent;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.jctools.queues.atomic.MpscUnboundedAtomicArrayQueue;

/**
 * The open write-ahead log of one directory: committing threads {@link #append} encoded records
 * to an MPSC queue; one writer thread writes each waiting group with one write call, forces once
 * per group (as the {@link FlushPolicy} decides), and completes the group's futures.
 */
final class WalLog<K, V> implements CommitLog<K, V> {

    private static final int RUNNING = 0;
    private static final int PARKED = 1;
    /** The longest close() waits after interrupting a writer that outlived closeTimeout (ns). */
    private static final long INTERRUPT_GRACE_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** How long the writer spins for new records before parking, after a write (ns; see the notes). */
    private static final long SPIN_BEFORE_PARK_NANOS = 20_000;

    private static final VarHandle WRITER_STATE;
    private static final VarHandle FAILURE;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            WRITER_STATE = l.findVarHandle(WalLog.class, "writerState", int.class);
            FAILURE = l.findVarHandle(WalLog.class, "failure", Throwable.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** One queued commit: its encoded record and the future the committer waits on. */
    static final class Pending {
        final long ts;
        final byte[] bytes;
        final long enqueuedNanos;
        final CompletableFuture<Void> future = new CompletableFuture<>();
        /** Only a blocked committer waits on it: the writer may complete it directly. */
        final boolean direct;

        Pending(long ts, byte[] bytes, long enqueuedNanos, boolean direct) {
            this.ts = ts;
            this.bytes = bytes;
            this.enqueuedNanos = enqueuedNanos;
            this.direct = direct;
        }
    }

    // ---- configuration (immutable) ----
    private final WalOptions options;
    private final Path dir;
    private final FileIo io;
    private final Codec<K> keyCodec;
    private final Codec<V> valueCodec;
    /** Every map's entry and codecs, and the recovered bytes of maps not opened yet. */
    private final MapCatalog maps;

    private final FlushPolicy policy;
    private final boolean full;
    private final DirectoryLock lock;

    // ---- shared between threads ----
    private final MpscUnboundedAtomicArrayQueue<Pending> queue = new MpscUnboundedAtomicArrayQueue<>(1024);
    private final Thread writer;
    /**
     * Completes durable futures, one hand-off per group, so that what committers chain on them
     * never runs on (or delays) the writer thread.
     */
    private final ExecutorService completer;
    /** The completer's thread once started, joined by close(). */
    private volatile Thread completerThread;
    /** The database's store: where background failures are reported (its failure listener). */
    private final StoreAccess<K, V> store;
    /** What {@link #stats()} reports. */
    private final LogCounters counters = new LogCounters();
    /** Writes checkpoints and deletes what they cover; its background thread is off when checkpointEvery is 0. */
    private final Checkpointer<K, V> checkpointer;
    /** {@link #RUNNING} or {@link #PARKED}; see the notes (wake-up protocol). */
    private volatile int writerState;
    /** The first failure; set once, never cleared. */
    private volatile Throwable failure;

    private volatile boolean closing;
    private volatile boolean writerExited;
    /**
     * The newest commit timestamp a caller of {@link #forceThrough} waits to see forced; raised
     * by CAS. Pairs with the writer's volatile read in its loop and in idle (wake-up protocol,
     * like an append's offer).
     */
    private volatile long forceThroughTs;
    /** Every record with a timestamp at or below it is written and forced; written by the writer. */
    private volatile long forcedThroughTs;
    /** Set by {@link #close()} once; makes close idempotent. */
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    /**
     * Who still uses the directory: the open log (dropped by close), the writer thread (dropped
     * as it exits) and each checkpoint in flight. The last to drop releases the segment and the
     * lock (W4).
     */
    private final AtomicInteger directoryUsers = new AtomicInteger(2);
    /**
     * Orders the writer's decision to acknowledge a group against a failure set from another
     * thread (W5). Held only for the check, never across I/O or a completion.
     */
    private final ReentrantLock acknowledgeLock = new ReentrantLock();

    // ---- confined to the core's commit critical section (append is never concurrent with itself) ----
    private long lastAppendedTs;

    // ---- confined to the writer thread ----
    private final ByteBuffer batch;
    private final ArrayList<Pending> group = new ArrayList<>();
    /** FULL: written, not yet forced, futures not completed. */
    private final ArrayList<Pending> awaitingForce = new ArrayList<>();

    private FileIo.Channel segment;
    private Path segmentPath;
    private long segmentFirstTs;
    private long segmentPos;
    /** {@link #segmentPos} at the open segment's last force. */
    private long segmentForcedPos;
    /** The forced offset the open segment's last marker states (RecordFormat, forced marker). */
    private long segmentMarkedPos;

    private long lastWrittenTs;
    private int unforcedRecords;
    private long unforcedBytes;
    private long oldestUnforcedNanos;
    /** When the writer last found records to write (System.nanoTime). */
    private long lastWorkNanos;

    /*
     * Implementation notes.
     *
     * Structure. Committers (inside the core's commit critical section, so one at a time and in
     * commit-timestamp order) encode their record and offer a Pending to an unbounded JCTools MPSC
     * queue, whose order is therefore the commit order. One writer thread is the queue's only
     * consumer and the only user of the open segment channel:
     *
     *     append ──offer──▶ [ MPSC queue ] ──drain──▶ writer: batch buffer ─write─▶ log-<ts>.seg
     *                                                           │                      │
     *                                                           └──── force (policy) ◀─┘
     *                                                                     │
     *                                            complete futures ◀───────┘ (FULL: after force;
     *                                                                         RELAXED: after write)
     *
     * Group-commit loop (the writer): drain everything queued (up to maxBatchBytes) into one
     * buffer and write it with one positional write, rolling to a new segment at record
     * boundaries; then ask the FlushPolicy with (age of the oldest unforced record, unforced
     * bytes, unforced records): force now, wait at most d ns, or idle. In FULL with the default
     * zero interval every group is forced at once, and the commits that arrive during a force form
     * the next group, so forces per second stay near the device's fsync rate however many
     * committers wait (the loop of BookKeeper's Journal; no I/O error is swallowed, see Failure).
     * Before parking, a writer that wrote within SPIN_BEFORE_PARK_NANOS spins that long: a
     * committer about to append again then finds it awake and pays for no unpark. The spin ends
     * at the first record, so it costs CPU only while the log has nothing else to do.
     *
     * Invariants. (W1) The bytes of the log are a prefix of the commit order: the queue is FIFO,
     * writes are sequential and the writer stops at the first failure. (W2) A future completes
     * normally only after its record is written (RELAXED) or written and forced (FULL) and only if
     * no failure came first; otherwise it completes exceptionally with the failure — an unknown
     * outcome, not a lost commit: the record may be on disk and reappear after reopen. (W3) Every
     * Pending that enters the queue is completed: by the writer, or by the writer's final drain,
     * or by append itself when it sees the writer gone (exit protocol below). (W4) The directory
     * lock is held while any thread may still touch the directory's files: directoryUsers counts
     * the open log, the writer and each checkpoint in flight; whoever drops it to zero closes the
     * segment and releases the lock. So when close() gives up on a writer stuck in the kernel, the
     * stuck write still lands in a directory nobody else has opened, and the writer releases it
     * on exit. The atomic decrements order each user's last file access before the release.
     * (W5) Never acknowledge after a failure: a failure set by another thread (close() giving up,
     * failed checkpoints) is CASed under acknowledgeLock, and the writer decides under the same
     * lock, after the write or force, whether a group completes normally. A group decided before
     * the failure may still complete after it (its record was durable before it).
     * (W6) Forced markers (RecordFormat): a marker states segmentForcedPos and is written only
     * after the force that made it true, at the head of the next group's write or, if the writer
     * is about to park first, in a write of its own; never forced for its own sake, except the
     * last one at close(). segmentMarkedPos is what the last marker stated, so each force gets at
     * most one marker, and a busy log pays 21 bytes per group and no extra write.
     *
     * Wake-up protocol (no spinning when idle, prompt wake on append). Dekker-style over two
     * volatile locations, writerState and the queue's producer index:
     *     writer: writerState = PARKED (volatile)  ; if queue.isEmpty() (volatile reads) then park
     *     append: queue.offer (CAS on producer index) ; if writerState == PARKED then CAS→RUNNING, unpark
     * Both first store, then load the other location, with sequentially consistent accesses, so at
     * least one sees the other's store: either the writer sees the record and does not park, or
     * the appender sees PARKED and unparks (a permit given before park makes park return). The CAS
     * lets only one appender pay for the unpark. Spurious wake-ups just loop.
     *
     * Exit protocol. The writer sets writerExited (volatile) and then drains and fails whatever is
     * still queued. An append that raced with close or a failure offers, then reads writerExited:
     * if it reads false, its offer precedes the writer's final drain in the synchronization order,
     * so the drain finds it; if true, the append fails its own future. A future completed twice
     * keeps the first outcome, and both are failures.
     *
     * Failure. The first Throwable from write/force/segment roll, close() giving up on the writer,
     * or the checkpointer (Checkpointer K4: failed checkpoints in a row), is CASed into `failure`.
     * The writer then fails every record awaiting force and every record still queued with an
     * UncheckedIOException carrying it, and exits; append reads `failure` first and throws
     * IllegalStateException naming it. A failure from another thread finds the writer's written
     * bytes intact, so the writer forces them before it exits (RELAXED acknowledged them). Its own
     * I/O failures are not retried: after a failed fsync the page cache state is unknown
     * (PostgreSQL "fsyncgate"), so only reopening (recovery from what is on disk) is safe.
     *
     * Checkpoints are the Checkpointer's (its notes, K1-K6), never run on the writer. The writer
     * only hands it each segment it seals (in roll) and the bytes of each group it writes (the
     * trigger); the checkpointer reaches the log only through Checkpointer.Owner.
     */

    WalLog(
            WalOptions options,
            Codec<K> keyCodec,
            Codec<V> valueCodec,
            StoreAccess<K, V> store,
            DirectoryLock lock,
            Recovery.Result recovered) {
        this(options, keyCodec, valueCodec, store, lock, recovered, MapCatalog.unsaved(keyCodec, valueCodec));
    }

    WalLog(
            WalOptions options,
            Codec<K> keyCodec,
            Codec<V> valueCodec,
            StoreAccess<K, V> store,
            DirectoryLock lock,
            Recovery.Result recovered,
            MapCatalog maps) {
        this.maps = maps;
        this.store = store;
        this.options = options;
        this.dir = options.dir();
        this.io = options.io();
        this.keyCodec = keyCodec;
        this.valueCodec = valueCodec;
        this.policy = options.flushPolicy();
        this.full = options.sync() == Wal.Sync.FULL;
        this.lock = lock;
        this.batch = ByteBuffer.allocateDirect(options.maxBatchBytes());
        this.lastAppendedTs = recovered.lastTs();
        this.lastWrittenTs = recovered.lastTs();
        this.completer = Executors.newSingleThreadExecutor(task -> {
            Thread t = new Thread(task, "varve-wal-completer[" + dir + "]");
            t.setDaemon(true);
            completerThread = t;
            return t;
        });
        this.writer = new Thread(this::writerMain, "varve-wal-writer[" + dir + "]");
        this.writer.setDaemon(true);
        this.checkpointer =
                new Checkpointer<>(io, dir, store, maps, options.checkpointEvery(), recovered, new CheckpointerOwner());
        this.writer.start();
        checkpointer.start();
    }

    // ---- accessors: only where the mode differs from the field's declaration (package-info) ----

    /**
     * A volatile CAS; pairs with the writer's volatile stores of writerState in idle (wake-up
     * protocol): of the appenders that see PARKED, one unparks.
     */
    private boolean casWriterState(int expect, int update) {
        return WRITER_STATE.compareAndSet(this, expect, update);
    }

    /** An acquire load; pairs with the CAS in {@link #casFailure}: the cause's fields are visible. */
    private Throwable getFailureAcquire() {
        return (Throwable) FAILURE.getAcquire(this);
    }

    /** A volatile CAS from null, so the first failure stays; pairs with {@link #getFailureAcquire}. */
    private boolean casFailure(Throwable cause) {
        boolean first = FAILURE.compareAndSet(this, null, cause);
        if (first) {
            Recovery.LOG.log(
                    System.Logger.Level.ERROR,
                    "the log in " + dir + " failed; every later commit is refused: " + cause,
                    cause);
            store.backgroundFailure(dev.varve.Database.FailureKind.LOG, cause); // queued: returns at once
        }
        return first;
    }

    // ---- CommitLog ----

    @Override
    public CompletableFuture<Void> append(CommitRecord<K, V> record) {
        return append(record, false);
    }

    @Override
    public CompletableFuture<Void> appendForBlockingWaiter(CommitRecord<K, V> record) {
        return append(record, true);
    }

    /**
     * {@inheritDoc}
     *
     * <p>The map catalog file ({@link MapCatalog}) is written and forced before this returns for
     * a new map.
     */
    @Override
    public <K2, V2> int openMap(dev.varve.spi.MapDefinition<K2, V2> map, dev.varve.spi.MapReplay<K2, V2> replay) {
        Objects.requireNonNull(map, "map");
        checkAccepting();
        int id;
        try {
            id = maps.open(map);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(
                    "cannot record map '" + map.name() + "' in the catalog of " + dir + ": " + e, e);
        }
        maps.replayRecovered(id, map, replay);
        return id;
    }

    /**
     * {@inheritDoc}
     *
     * <p>First waits until every commit at or below {@code throughTs} is forced (also under
     * RELAXED), then writes the catalog without the map: a drop never becomes durable before a
     * commit that preceded it.
     */
    @Override
    public java.util.NavigableSet<String> recordedMapNames() {
        return maps.names();
    }

    @Override
    public int recordedMapId(String name) {
        return maps.idOf(name);
    }

    @Override
    public void dropMap(int id, String name, long throughTs) {
        forceThrough(throughTs);
        try {
            maps.drop(id);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(
                    "cannot record the drop of map '" + name + "' in the catalog of " + dir + ": " + e, e);
        }
    }

    private CompletableFuture<Void> append(CommitRecord<K, V> record, boolean direct) {
        Objects.requireNonNull(record, "record");
        checkAccepting(); // NOTE: a failure or close() right after it is caught by the exit protocol below
        long ts = record.commitTimestamp();
        if (ts <= lastAppendedTs) {
            throw new IllegalStateException("commit timestamp " + ts + " is not above the last one logged, "
                    + lastAppendedTs + ": the log must receive commits in increasing timestamp order");
        }
        byte[] bytes;
        try {
            bytes = RecordFormat.encode(record, maps);
        } catch (RuntimeException e) {
            throw new IllegalStateException("cannot log commit " + ts + ": " + e.getMessage(), e);
        }
        lastAppendedTs = ts;
        Pending p = new Pending(ts, bytes, System.nanoTime(), direct);
        queue.offer(p); // CAS on the producer index: the store half of the wake-up protocol
        if (writerState == PARKED && casWriterState(PARKED, RUNNING)) {
            LockSupport.unpark(writer);
        }
        if (writerExited) { // exit protocol: the writer may have drained already
            Throwable cause = getFailureAcquire();
            p.future.completeExceptionally(cause != null ? failed(cause) : closedError());
        }
        return p.future;
    }

    /** Whether readers must not see a commit before its record is durable (see Wal.Builder). */
    @Override
    public boolean visibleOnlyWhenDurable() {
        return options.visibleOnlyWhenDurable();
    }

    /**
     * {@inheritDoc} A failure leaves the log writable (its records are intact) and deletes
     * checkpoint.tmp; only {@value Checkpointer#MAX_FAILED_CHECKPOINTS} failed checkpoints in a
     * row, foreground or background, fail the log (Checkpointer K4).
     */
    @Override
    public void checkpoint() {
        checkUsable();
        checkpointer.checkpoint();
    }

    /**
     * {@inheritDoc} Writes into another directory only: this log's files, its checkpointer and
     * its writer are untouched (Backups B1, B2). Also works after the log failed (the image holds
     * the visible commits, as a checkpoint would).
     */
    @Override
    public dev.varve.Backup backup(Path target) {
        Objects.requireNonNull(target, "target");
        if (closing) {
            throw new IllegalStateException("write-ahead log " + dir + " is closed");
        }
        return Backups.write(options.io(), target, store, Backups.of(maps));
    }

    /**
     * {@inheritDoc} Waits at most {@code closeTimeout} for the writer and any checkpoint in
     * flight; a writer still running then is interrupted and the log fails, but the directory
     * stays locked until that thread exits (it may still write). Called from a continuation of a
     * commit future (the completer thread), it does not wait for that thread: futures completed
     * by the final flush complete once the continuation returns.
     *
     * A second call, from another thread, returns once the first has flushed and released
     * everything (from the completer thread it returns at once).
     *
     * @throws UncheckedIOException also if the last background checkpoint failed and none
     *     succeeded since (every record is flushed and forced all the same), and if the log had
     *     failed and the writer's force of records RELAXED had acknowledged failed too
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            // A second close returns once the first has flushed and released everything, unless it
            // runs on the completer thread, which the first may be waiting for.
            if (Thread.currentThread() != completerThread) {
                awaitFirstClose();
            }
            return;
        }
        try {
            closeOnce();
        } finally {
            firstCloseDone.countDown();
        }
    }

    /** Counted down when the first close() returns or throws. */
    private final java.util.concurrent.CountDownLatch firstCloseDone = new java.util.concurrent.CountDownLatch(1);

    private void awaitFirstClose() {
        boolean interrupted = false;
        while (true) {
            try {
                firstCloseDone.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A force the writer tried after the log had failed, so that records RELAXED had already
     * acknowledged would not be lost, and that failed too: those records may be lost, and close()
     * says so whenever the log failed (null otherwise). Written by the writer, read by close().
     */
    private volatile IOException strandedForce;

    private void closeOnce() {
        Throwable before = getFailureAcquire();
        boolean onCompleter = Thread.currentThread() == completerThread;
        closing = true;
        LockSupport.unpark(writer);
        long timeout = options.closeTimeoutNanos();
        long deadline = System.nanoTime() + timeout;
        String stillRunning = null;
        try {
            checkpointer.wake();
            Threads.join(writer, deadline); // first: a slow checkpoint must not use up the writer's time
            if (writer.isAlive()) { // stuck in the kernel, most likely
                fail(new IOException("log writer of " + dir + " did not stop within "
                        + TimeUnit.NANOSECONDS.toMillis(timeout) + " ms"));
                writer.interrupt();
                long grace = Math.min(timeout, INTERRUPT_GRACE_NANOS);
                Threads.join(writer, System.nanoTime() + grace);
                if (writer.isAlive()) {
                    stillRunning = "it is still running " + TimeUnit.NANOSECONDS.toMillis(grace)
                            + " ms after an interrupt, and the directory stays locked until it stops";
                }
            }
            completer.shutdown(); // after the writer: its last groups are queued already
            if (!onCompleter) { // on it, waiting would wait for this very call to return
                try {
                    if (!completer.awaitTermination(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                        completer.shutdownNow();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    completer.shutdownNow();
                }
                Thread completing = completerThread;
                if (completing != null) {
                    Threads.join(completing, deadline); // terminated executors may still be leaving their thread
                }
            }
            if (!checkpointer.awaitStopped(deadline)) {
                stillRunning = (stillRunning != null ? stillRunning + "; " : "") + "a checkpoint still running after "
                        + TimeUnit.NANOSECONDS.toMillis(timeout) + " ms keeps the directory locked until it ends";
            }
        } finally {
            dropDirectory(); // the open log's use; the writer and checkpoints drop theirs as they end
        }
        // NOTE: a writer still running may set strandedForce later; close() then throws for the running writer
        IOException stranded = strandedForce;
        if (stranded != null) {
            throw new UncheckedIOException(
                    "write-ahead log " + dir + " was closed, but records it had acknowledged"
                            + " (RELAXED) were never forced: the force after the log failed failed too: " + stranded,
                    stranded);
        }
        Throwable after = getFailureAcquire();
        if (before == null && after != null) {
            throw new UncheckedIOException(
                    "write-ahead log " + dir + " failed while closing: " + after
                            + (stillRunning != null ? "; " + stillRunning : ""),
                    after instanceof IOException io ? io : new IOException(after));
        }
        if (stillRunning != null) {
            throw new UncheckedIOException(
                    "write-ahead log " + dir + " closed, but " + stillRunning, new IOException(stillRunning));
        }
        UncheckedIOException cf = checkpointer.lastFailure();
        if (before == null && cf != null) {
            throw new UncheckedIOException(
                    "write-ahead log " + dir + " was closed, every record forced, but its last"
                            + " background checkpoint had failed: " + cf.getMessage(),
                    cf.getCause());
        }
    }

    /** Registers a user of the directory (W4); false once it has been released. */
    private boolean useDirectory() {
        int n;
        do {
            n = directoryUsers.get();
            if (n == 0) {
                return false;
            }
        } while (!directoryUsers.compareAndSet(n, n + 1));
        return true;
    }

    /**
     * Drops one user of the directory; the last closes the segment and releases the lock
     * (W4). A failure to do so is recorded as the log's failure (or added to it).
     */
    private void dropDirectory() {
        if (directoryUsers.decrementAndGet() != 0) {
            return;
        }
        try {
            if (segment != null) { // the writer's last use happens-before: it dropped first
                segment.close();
            }
        } catch (IOException e) {
            recordLate(e);
        } finally {
            try {
                lock.close();
            } catch (RuntimeException e) {
                recordLate(e);
            }
        }
    }

    /** Records a failure that may come after the log already failed (then adds it to that failure). */
    private void recordLate(Throwable t) {
        if (!casFailure(t)) {
            Throwable first = getFailureAcquire();
            if (first != t) {
                first.addSuppressed(t);
            }
        }
    }

    private void checkUsable() {
        Throwable f = getFailureAcquire();
        if (f != null) {
            throw refused(f);
        }
        if (closing) {
            throw new IllegalStateException("write-ahead log " + dir + " is closed");
        }
    }

    private IllegalStateException refused(Throwable f) {
        return new IllegalStateException(
                "write-ahead log " + dir + " failed and refuses writes until the database is reopened: " + f, f);
    }

    private UncheckedIOException failed(Throwable f) {
        return new UncheckedIOException(
                "write-ahead log " + dir + " failed; the commit's outcome is unknown (its"
                        + " record may be on disk and reappear after reopening): " + f,
                f instanceof IOException io ? io : new IOException(f));
    }

    private IllegalStateException closedError() {
        return new IllegalStateException("write-ahead log " + dir + " was closed before this commit was logged");
    }

    /**
     * Marks the log failed from a thread other than the writer and wakes the writer so it forces
     * what it wrote and fails what is pending. Under acknowledgeLock (W5).
     */
    private void fail(Throwable cause) {
        acknowledgeLock.lock();
        try {
            casFailure(cause);
        } finally {
            acknowledgeLock.unlock();
        }
        LockSupport.unpark(writer);
    }

    /** The checkpointer's only way into the log: the directory's users (W4), closing and failure. */
    private final class CheckpointerOwner implements Checkpointer.Owner {
        @Override
        public boolean closing() {
            return closing;
        }

        @Override
        public boolean enterBackground() {
            // NOTE: the log may fail just after; harmless: the checkpoint stays a valid image
            // (Checkpoints notes) and the directory stays locked until it drops its use
            return !closing && getFailureAcquire() == null && useDirectory();
        }

        @Override
        public void enterForeground() {
            checkUsable(); // NOTE: the log may fail just after; harmless, as in enterBackground
            if (!useDirectory()) {
                throw new IllegalStateException("write-ahead log " + dir + " is closed");
            }
        }

        @Override
        public void release() {
            dropDirectory();
        }

        @Override
        public void fail(Throwable cause) {
            WalLog.this.fail(cause);
        }

        @Override
        public void checkpointed() {
            counters.checkpointed();
        }

        @Override
        public void checkpointFailed(Throwable failure) {
            store.backgroundFailure(dev.varve.Database.FailureKind.CHECKPOINT, failure);
        }
    }

    // ---- writer thread ----

    private void writerMain() {
        Error fatal = null;
        try {
            groupCommitLoop();
        } catch (Throwable t) { // every failure is recorded and handed to the waiting committers
            recordLate(t);
            if (t instanceof Error e) {
                fatal = e;
            }
        } finally {
            Throwable f = getFailureAcquire();
            if (f != null) {
                UncheckedIOException ex = failed(f);
                for (Pending p : awaitingForce) {
                    p.future.completeExceptionally(ex);
                }
                for (Pending p : group) {
                    p.future.completeExceptionally(ex);
                }
                awaitingForce.clear();
                group.clear();
            }
            writerExited = true; // exit protocol: then drain
            Pending p;
            while ((p = queue.poll()) != null) {
                p.future.completeExceptionally(f != null ? failed(f) : closedError());
            }
            dropDirectory(); // W4: after the writer's last file access
        }
        if (fatal != null) {
            throw fatal; // not swallowed: the committers got it too, and so does the uncaught handler
        }
    }

    private void groupCommitLoop() throws IOException {
        while (true) {
            if (getFailureAcquire() != null) {
                // failed from another thread (close() gave up, checkpoints failed): the bytes
                // written are intact, and RELAXED acknowledged them; writerMain fails the rest
                if (segment != null && segmentPos > segmentForcedPos) {
                    try {
                        forceSegment();
                    } catch (IOException e) {
                        strandedForce = e; // close() reports it, even though the log failed before
                        throw e;
                    }
                    segmentForcedPos = segmentPos;
                }
                return;
            }
            boolean wrote = drainAndWrite();
            if (wrote) {
                lastWorkNanos = System.nanoTime();
            }
            serveForceRequest();
            if (!wrote && closing && queue.isEmpty()) {
                if (unforcedRecords > 0) {
                    force();
                }
                writeMarkerIfBehind();
                if (segment != null && segmentPos > segmentForcedPos) {
                    forceSegment(); // the last marker of a closed log is durable: its last group is vouched for
                    segmentForcedPos = segmentPos;
                }
                return;
            }
            long d = policy.decide(System.nanoTime() - oldestUnforcedNanos, unforcedBytes, unforcedRecords);
            if (d == FlushPolicy.FORCE_NOW) {
                force();
            } else if (!wrote) {
                idle(d);
            }
        }
    }

    /**
     * Waits for records after a drain that found none. If the writer wrote within {@link
     * #SPIN_BEFORE_PARK_NANOS}, it first spins that long at most and returns at the first record
     * queued. Otherwise, or if none came, it writes the marker the last force is owed (W6) and
     * parks (wake-up protocol) unless a record is queued or the log is closing or failed;
     * the park ends at an append, close(), a failure, after {@code nanos} ({@link
     * FlushPolicy#IDLE}: no limit), or spuriously. The caller loops either way.
     *
     * @throws IOException if writing the marker fails
     * @throws InterruptedIOException if the writer was interrupted (close() giving up on it)
     */
    private void idle(long nanos) throws IOException {
        long now = System.nanoTime();
        if (now - lastWorkNanos < SPIN_BEFORE_PARK_NANOS) {
            long until = now + SPIN_BEFORE_PARK_NANOS;
            while (queue.isEmpty() && System.nanoTime() < until) {
                Thread.onSpinWait();
            }
            if (!queue.isEmpty()) {
                return;
            }
        }
        writeMarkerIfBehind(); // before sleeping: the last forced group gets its marker without waiting for the next
        writerState = PARKED; // the store half of the wake-up protocol
        if (queue.isEmpty() && !closing && getFailureAcquire() == null && forceThroughTs <= forcedThroughTs) {
            if (nanos == FlushPolicy.IDLE) {
                LockSupport.park(this);
            } else {
                LockSupport.parkNanos(this, nanos);
            }
        }
        writerState = RUNNING;
        if (Thread.interrupted()) {
            throw new InterruptedIOException("log writer interrupted");
        }
    }

    /** Drains up to one batch of records from the queue and writes them; true if it wrote any. */
    private boolean drainAndWrite() throws IOException {
        long groupBytes = 0;
        Pending p;
        while (groupBytes < options.maxBatchBytes() && (p = queue.relaxedPoll()) != null) {
            group.add(p);
            groupBytes += p.bytes.length;
        }
        if (group.isEmpty()) {
            return false;
        }
        batch.clear();
        if (segment != null && segmentForcedPos > segmentMarkedPos) {
            // Rides in this write (at segmentPos: the batch is empty), so it costs no force of its own.
            RecordFormat.putMarker(batch, segmentPos, segmentForcedPos, segmentFirstTs);
            segmentMarkedPos = segmentForcedPos;
        }
        for (Pending r : group) {
            int len = r.bytes.length;
            if (segment == null
                    || (segmentPos + batch.position() + len > options.segmentSize()
                            && segmentPos + batch.position() > RecordFormat.SEGMENT_HEADER_BYTES)) {
                writeBatch();
                roll(r.ts);
            }
            if (len > batch.remaining()) {
                writeBatch();
            }
            if (len > batch.capacity()) {
                segment.write(ByteBuffer.wrap(r.bytes), segmentPos);
                segmentPos += len;
            } else {
                batch.put(r.bytes);
            }
            lastWrittenTs = r.ts;
        }
        writeBatch();
        if (unforcedRecords == 0) {
            oldestUnforcedNanos = group.get(0).enqueuedNanos;
        }
        unforcedRecords += group.size();
        unforcedBytes += groupBytes;
        counters.written(groupBytes, group.size());
        if (full) {
            awaitingForce.addAll(group);
        } else {
            completeDurable(group); // RELAXED promise: written to the file
        }
        group.clear();
        checkpointer.logged(groupBytes);
        return true;
    }

    /**
     * Writes, unforced, a marker stating the open segment's forced offset if no marker states it
     * yet.
     *
     * @return whether it wrote one
     */
    private boolean writeMarkerIfBehind() throws IOException {
        if (segment == null || segmentForcedPos <= segmentMarkedPos) {
            return false;
        }
        segment.write(RecordFormat.marker(segmentPos, segmentForcedPos, segmentFirstTs), segmentPos);
        segmentPos += RecordFormat.MARKER_RECORD_BYTES;
        segmentMarkedPos = segmentForcedPos;
        return true;
    }

    private void writeBatch() throws IOException {
        if (batch.position() == 0) {
            return;
        }
        batch.flip();
        int n = batch.remaining();
        segment.write(batch, segmentPos);
        segmentPos += n;
        batch.clear();
    }

    /**
     * Completes a group's futures: those only a blocked committer waits on, here (waking it
     * directly); the others — which may carry the caller's code — on the completer thread in one
     * submission (here, if close() already shut the completer down).
     */
    private void completeDurable(java.util.List<Pending> done) {
        Throwable f;
        acknowledgeLock.lock(); // W5: the decision is ordered against fail()
        try {
            f = getFailureAcquire();
        } finally {
            acknowledgeLock.unlock();
        }
        if (f != null) {
            UncheckedIOException ex = failed(f);
            for (Pending p : done) {
                p.future.completeExceptionally(ex);
            }
            return;
        }
        int handOff = 0;
        for (Pending p : done) {
            if (p.direct) {
                p.future.complete(null);
            } else {
                handOff++;
            }
        }
        if (handOff == 0) {
            return;
        }
        Pending[] batch = new Pending[handOff];
        int i = 0;
        for (Pending p : done) {
            if (!p.direct) {
                batch[i++] = p;
            }
        }
        Runnable completeAll = () -> {
            for (Pending p : batch) {
                p.future.complete(null);
            }
        };
        try {
            completer.execute(completeAll);
        } catch (RejectedExecutionException e) {
            completeAll.run();
        }
    }

    /** Forces the open segment and completes the futures waiting for it (FULL). */
    /**
     * Refuses work once the log failed or is closing.
     *
     * @throws IllegalStateException naming the failure, or saying the log is closed
     */
    private void checkAccepting() {
        Throwable f = getFailureAcquire();
        if (f != null) {
            throw refused(f);
        }
        if (closing) {
            throw new IllegalStateException("write-ahead log " + dir + " is closed");
        }
    }

    /**
     * Forces what is written once every record a {@link #forceThrough} caller waits for is
     * written (also under RELAXED); writer thread only.
     */
    private void serveForceRequest() throws IOException {
        long want = forceThroughTs;
        if (want <= forcedThroughTs || lastWrittenTs < want) {
            return; // nothing asked, or its records are still queued
        }
        long through = lastWrittenTs;
        if (unforcedRecords > 0) {
            force();
        } else if (segment != null && segmentPos > segmentForcedPos) {
            forceSegment();
            segmentForcedPos = segmentPos;
        }
        forcedThroughTs = through;
    }

    /**
     * Waits until every record with a commit timestamp at or below {@code ts} is written and
     * forced, whatever the sync mode: what dropMap makes durable after it must not outlive the
     * commits before it (RELAXED's prefix promise).
     *
     * @throws IllegalStateException if the log failed or is closed first
     */
    private void forceThrough(long ts) {
        long current = forceThroughTs;
        while (ts > current && !FORCE_THROUGH.compareAndSet(this, current, ts)) {
            current = forceThroughTs;
        }
        if (writerState == PARKED && casWriterState(PARKED, RUNNING)) {
            LockSupport.unpark(writer);
        }
        while (forcedThroughTs < ts) {
            checkAccepting();
            if (writerExited) {
                throw new IllegalStateException("write-ahead log " + dir + " is closed");
            }
            LockSupport.parkNanos(20_000);
        }
    }

    private static final java.lang.invoke.VarHandle FORCE_THROUGH;

    static {
        try {
            FORCE_THROUGH =
                    java.lang.invoke.MethodHandles.lookup().findVarHandle(WalLog.class, "forceThroughTs", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Forces the open segment, timed and counted (LogCounters). */
    private void forceSegment() throws IOException {
        timedForce(segment);
    }

    private void timedForce(FileIo.Channel ch) throws IOException {
        LogForceEvent event = new LogForceEvent();
        event.begin();
        long start = System.nanoTime();
        ch.force();
        counters.forced(System.nanoTime() - start);
        if (event.shouldCommit()) {
            event.records = unforcedRecords; // what this force makes durable (force() resets them after)
            event.bytes = unforcedBytes;
            event.commit();
        }
    }

    private void force() throws IOException {
        forceSegment();
        segmentForcedPos = segmentPos;
        completeDurable(awaitingForce); // FULL promise: written and forced
        awaitingForce.clear();
        unforcedRecords = 0;
        unforcedBytes = 0;
    }

    /** Seals the open segment (forcing it) and starts {@code log-<firstTs>.seg}. */
    private void roll(long firstTs) throws IOException {
        long prevTs = lastWrittenTs;
        if (segment != null) {
            // Force whatever this segment got since its last force: earlier groups' records
            // (unforcedRecords) and also the head of the current group, written just before this
            // roll and not yet counted. A newer segment must never be durable over an older one's
            // unforced tail: recovery would find a damaged record followed by newer segments.
            if (segmentPos > segmentForcedPos) {
                forceSegment();
                segmentForcedPos = segmentPos;
            }
            segment.close();
            checkpointer.sealed(new Recovery.Segment(segmentFirstTs, segmentPath, prevTs));
            segment = null;
        }
        Path path = dir.resolve(RecordFormat.segmentName(firstTs));
        FileIo.Channel ch = io.create(path);
        segment = ch;
        segmentPath = path;
        segmentFirstTs = firstTs;
        ch.write(RecordFormat.segmentHeader(firstTs, prevTs), 0);
        timedForce(ch);
        io.forceDirectory(dir);
        segmentPos = RecordFormat.SEGMENT_HEADER_BYTES;
        segmentForcedPos = segmentPos;
        segmentMarkedPos = segmentPos; // nothing to vouch for yet
    }

    // ---- introspection for tests ----

    /** Timestamp of the newest durable checkpoint (0: none). */
    long checkpointTimestamp() {
        return checkpointer.checkpointTimestamp();
    }

    /**
     * The latest background checkpoint failure, if no checkpoint succeeded since.
     *
     * @return the failure (message names the directory and the cause), or {@code null}
     */
    @Override
    public UncheckedIOException checkpointFailure() {
        return checkpointer.lastFailure();
    }

    @Override
    public dev.varve.LogStats stats() {
        return counters.read();
    }

    @Override
    public Throwable failure() {
        return getFailureAcquire();
    }

    /** The sealed segments' first commit timestamps. */
    java.util.Set<Long> sealedSegments() {
        return checkpointer.sealedSegments();
    }
}
