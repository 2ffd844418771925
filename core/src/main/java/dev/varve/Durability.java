// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import dev.varve.spi.CommitLog;
import dev.varve.spi.StoreAccess;

/**
 * How committed transactions are kept: only in memory (the default, {@link #inMemory()}), or in a
 * write-ahead log ({@code dev.varve.wal.Wal.relaxed(...)} / {@code Wal.full(...)} from the
 * {@code varve-wal} module).
 *
 * <p>A {@code Durability} is a factory used once per {@link Database.Builder#open()}; it is
 * immutable and may be shared between threads.
 *
 * @param <K> key type
 * @param <V> value type
 */
public interface Durability<K, V> {

    /**
     * Keeps everything in memory: {@code commit()} returns as soon as the commit is visible, and
     * nothing survives {@link Database#close()} or a crash.
     *
     * @param <K> key type
     * @param <V> value type
     * @return the in-memory durability, a shared immutable instance
     */
    @SuppressWarnings("unchecked")
    static <K, V> Durability<K, V> inMemory() {
        return (Durability<K, V>) (Durability<?, ?>) InMemoryDurability.INSTANCE;
    }

    /**
     * Recovers the store's previous contents into {@code store} (replaying in commit order) and
     * returns the log that will receive every later commit. Called once by {@link
     * Database.Builder#open()} on the opening thread.
     *
     * @param store access to the empty store being opened
     * @return the open log, never {@code null}
     * @throws java.io.UncheckedIOException if the log cannot be read or written
     * @throws IllegalStateException if the log is corrupt or already open elsewhere; the message
     *     names the file and offset
     */
    CommitLog<K, V> open(StoreAccess<K, V> store);

    /**
     * A short description for reports and error messages, such as {@code "memory"} or {@code
     * "full(/var/lib/app)"}.
     *
     * @return the description
     */
    String describe();
}
