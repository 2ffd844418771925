// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import dev.varve.spi.CommitLog;
import dev.varve.spi.CommitRecord;
import java.util.concurrent.CompletableFuture;

/**
 * The no-op commit log of an in-memory database: every append is durable at once. Stateless and
 * thread-safe; one shared instance.
 */
public final class InMemoryLog implements CommitLog<Object, Object> {

    private static final InMemoryLog INSTANCE = new InMemoryLog();
    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

    private InMemoryLog() {}

    /**
     * The shared instance.
     *
     * @param <K> the key type
     * @param <V> the value type
     * @return the in-memory log
     */
    @SuppressWarnings("unchecked")
    public static <K, V> CommitLog<K, V> instance() {
        return (CommitLog<K, V>) (CommitLog<?, ?>) INSTANCE;
    }

    @Override
    public CompletableFuture<Void> append(CommitRecord<Object, Object> record) {
        return DONE;
    }

    @Override
    public void checkpoint() {}

    @Override
    public void close() {}
}
