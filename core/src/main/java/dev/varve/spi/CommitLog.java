package dev.varve.spi;

import java.util.concurrent.CompletableFuture;

/**
 * Where a database hands each committed transaction so that it survives a crash: the service
 * provider interface behind {@link dev.varve.Durability}.
 *
 * <p>The database calls {@link #append} once per read-write commit, inside its commit critical
 * section, so records arrive in strictly increasing commit-timestamp order and an implementation
 * may rely on that order (the log is then a prefix of the commit order at every moment). {@code
 * append} must not block on I/O: it enqueues and returns a future. All methods may be called from
 * any thread; {@link #append} is never called concurrently with itself.
 *
 * @param <K> key type
 * @param <V> value type
 */
public interface CommitLog<K, V> extends AutoCloseable {

    /**
     * Queues one commit record.
     *
     * @param record the committed writes and their commit timestamp; owned by the log from now on
     * @return a future completed (normally) once the record is as durable as the log promises, or
     *     exceptionally with the I/O failure that prevented it; never {@code null}. Callers may
     *     chain their own code on it, so an implementation must not complete it on a thread whose
     *     stalling would stall the log (its I/O thread)
     * @throws IllegalStateException if the log has failed or been closed; the database then
     *     refuses the commit before any version becomes visible
     */
    CompletableFuture<Void> append(CommitRecord<K, V> record);

    /**
     * Like {@link #append}, for a committer that blocks on the returned future and chains no code
     * on it: the log may complete this future on its I/O thread, sparing the waiter a hand-off to
     * another thread. The default simply calls {@link #append}.
     *
     * @param record the committed writes and their commit timestamp; owned by the log from now on
     * @return the future of {@link #append}
     * @throws IllegalStateException as {@link #append}
     */
    default CompletableFuture<Void> appendForBlockingWaiter(CommitRecord<K, V> record) {
        return append(record);
    }

    /**
     * Whether the database must keep each commit invisible to readers until the future {@link
     * #append} returned for it completes, so that no reader ever sees a commit a crash can take
     * away. An implementation that returns true must complete those futures only once the record
     * and every record appended before it are as durable as it promises (a log that makes records
     * durable in append order does). Read once, when the database opens. The default is false:
     * commits are visible as soon as they are installed.
     *
     * @return whether visibility waits for durability
     */
    default boolean visibleOnlyWhenDurable() {
        return false;
    }

    /**
     * Writes a checkpoint (a consistent image of the store) and drops the log segments it covers.
     * The in-memory log does nothing.
     *
     * @throws java.io.UncheckedIOException if the checkpoint could not be written
     * @throws IllegalStateException if the log has failed or been closed
     */
    void checkpoint();

    /**
     * Flushes and forces every record appended so far, completes their futures, stops any thread
     * the log owns and releases its files. Idempotent.
     *
     * @throws java.io.UncheckedIOException if the final flush failed (pending futures are then
     *     completed exceptionally with the same cause)
     */
    @Override
    void close();
}
