// SPDX-License-Identifier: Apache-2.0
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
     * Writes a backup of every map at one snapshot into {@code target} (see {@code
     * Database.backup}), with the codecs this log writes its records with, without blocking
     * readers or writers. The default refuses: a log that cannot write backups.
     *
     * @param target the backup directory: absent, or an empty directory
     * @return what was written
     * @throws UnsupportedOperationException if this log cannot write backups (the default)
     * @throws IllegalArgumentException if {@code target} is a file or a non-empty directory
     * @throws java.io.UncheckedIOException if writing failed
     * @throws IllegalStateException if the log has been closed
     */
    default dev.varve.Backup backup(java.nio.file.Path target) {
        throw new UnsupportedOperationException(getClass().getName() + " cannot write backups");
    }

    /**
     * Why the log refuses commits, for {@code Database.health()}: the failure that stopped it (a
     * failed write or force, or too many failed checkpoints), or null while it accepts them.
     * Thread-safe; cheap.
     *
     * @return the failure, or null
     */
    default Throwable failure() {
        return null;
    }

    /**
     * The latest background checkpoint failure, if no checkpoint succeeded since, for {@code
     * Database.health()}. Thread-safe; cheap.
     *
     * @return the failure, or null
     */
    default Throwable checkpointFailure() {
        return null;
    }

    /**
     * What the log has written and forced so far (see {@link dev.varve.LogStats}). Thread-safe,
     * cheap. The default, for logs that keep no statistics: {@link dev.varve.LogStats#NONE}.
     *
     * @return the statistics now
     */
    default dev.varve.LogStats stats() {
        return dev.varve.LogStats.NONE;
    }

    /**
     * Flushes and forces every record appended so far, completes their futures, stops any thread
     * the log owns and releases its files. Idempotent.
     *
     * @throws java.io.UncheckedIOException if the final flush failed (pending futures are then
     *     completed exceptionally with the same cause)
     */
    @Override
    void close();

    /**
     * Opens the named map {@code map} in the log: if the log (or its checkpoint) holds a map of
     * that name, checks that it was created with the same codec ids and comparator id and gives
     * its recovered state to {@code replay} (before returning); otherwise records the new map
     * durably, so that every later record that writes it can be recovered. Later records carry
     * the returned id ({@link CommitRecord#map}), encoded with these codecs.
     *
     * <p>Called by the database, one call at a time, before the map is used; may run while other
     * threads append and checkpoint.
     *
     * @param map the map's name, codecs and order
     * @param replay receives the map's recovered state
     * @param <K2> the map's key type
     * @param <V2> the map's value type
     * @return the map's id, at least 1 (never one of a map dropped before)
     * @throws IllegalArgumentException if the log holds the map with other codecs or another
     *     order (the message names the map, what the log holds and what was given), or its
     *     recovered bytes do not decode with the given codecs
     * @throws UnsupportedOperationException if this log cannot record named maps (the default)
     * @throws java.io.UncheckedIOException if recording the map failed
     */
    default <K2, V2> int openMap(MapDefinition<K2, V2> map, MapReplay<K2, V2> replay) {
        throw new UnsupportedOperationException(getClass().getName() + " does not record named maps");
    }

    /**
     * Records durably that the named map {@code id} was dropped: recovery then skips its records
     * (those already logged and any still appended before the database stops the map's
     * commits), and its name may be opened again as a new map (with a new id). The drop must not
     * become durable before the commits up to {@code throughTs}: a log that can lose unforced
     * records forces them first, so what survives a crash stays a prefix of the commit order with
     * the drop in its place.
     *
     * @param id the map's id
     * @param name the map's name
     * @param throughTs the newest commit timestamp handed out before the drop
     * @throws java.io.UncheckedIOException if recording the drop failed (the map is not dropped)
     * @throws IllegalStateException if the log failed or is closed
     */
    default void dropMap(int id, String name, long throughTs) {}

    /**
     * The names of the named maps this log holds, opened in this run or not.
     *
     * @return a new sorted set (empty for a log that records no named maps)
     */
    default java.util.NavigableSet<String> recordedMapNames() {
        return new java.util.TreeSet<>();
    }

    /**
     * The id of the named map {@code name} if this log holds it.
     *
     * @param name the map's name
     * @return its id, or -1 if the log holds no map of that name
     */
    default int recordedMapId(String name) {
        return -1;
    }
}
