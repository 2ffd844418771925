// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import dev.varve.internal.events.CommitEvent;
import dev.varve.internal.mvcc.CommitProtocol;
import dev.varve.internal.mvcc.MapIndex;
import dev.varve.internal.mvcc.Store;
import dev.varve.internal.mvcc.WriteSet;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.UnaryOperator;

/**
 * The autocommit operations on one map, behind {@link Database}'s own (the default map) and
 * {@link NamedMap}'s; each public method there documents its behaviour. Thread-safe.
 *
 * @param <K> the map's key type
 * @param <V> the map's value type
 */
final class MapOps<K, V> {
    private final CommitProtocol<?, ?> commits;
    private final Store<?, ?> store;
    private final MapIndex<K, V> map;

    MapOps(CommitProtocol<?, ?> commits, MapIndex<K, V> map) {
        this.commits = commits;
        this.store = commits.store();
        this.map = map;
    }

    V get(K key) {
        Objects.requireNonNull(key, "key");
        store.checkOpen();
        map.checkNotDropped();
        store.counters().reads(1);
        return store.readLatest(map, key);
    }

    boolean containsKey(K key) {
        return get(key) != null;
    }

    V put(K key, V value) {
        Objects.requireNonNull(value, "value");
        return autocommit(key, previous -> value).previous();
    }

    V remove(K key) {
        return autocommit(key, previous -> WriteSet.TOMBSTONE).previous();
    }

    V putIfAbsent(K key, V value) {
        Objects.requireNonNull(value, "value");
        return autocommit(key, previous -> previous == null ? value : null).previous();
    }

    V replace(K key, V value) {
        Objects.requireNonNull(value, "value");
        return autocommit(key, previous -> previous == null ? null : value).previous();
    }

    boolean replace(K key, V expected, V newValue) {
        Objects.requireNonNull(expected, "expected");
        Objects.requireNonNull(newValue, "newValue");
        CommitProtocol.AutocommitResult<V> r = autocommit(key, previous -> expected.equals(previous) ? newValue : null);
        return r.durable() != null;
    }

    boolean remove(K key, V expected) {
        Objects.requireNonNull(expected, "expected");
        CommitProtocol.AutocommitResult<V> r =
                autocommit(key, previous -> expected.equals(previous) ? WriteSet.TOMBSTONE : null);
        return r.durable() != null;
    }

    V compute(K key, UnaryOperator<V> update) {
        Objects.requireNonNull(update, "update");
        Object[] computed = new Object[1];
        autocommit(key, previous -> {
            @SuppressWarnings("unchecked")
            V next = update.apply((V) previous);
            computed[0] = next;
            return next == null ? WriteSet.TOMBSTONE : next;
        });
        @SuppressWarnings("unchecked")
        V result = (V) computed[0];
        return result;
    }

    private CommitProtocol.AutocommitResult<V> autocommit(K key, UnaryOperator<Object> decide) {
        Objects.requireNonNull(key, "key");
        map.index().checkKey(key); // reject keys the index cannot order before latching
        CommitEvent event = new CommitEvent();
        event.begin();
        CommitProtocol.AutocommitResult<V> r = commits.writeLatest(map, key, decide);
        CompletableFuture<Void> durable = r.durable();
        long waitFrom = 0;
        if (durable != null && !(durable.isDone() && !durable.isCompletedExceptionally())) {
            waitFrom = event.isEnabled() ? System.nanoTime() : 0;
            try {
                durable.join();
            } catch (CompletionException e) {
                throw new TransactionException(
                        "autocommit write of " + key + " has an unknown outcome: the commit log"
                                + " failed before it was durable (it is visible in memory and may or may not be recovered)",
                        e.getCause());
            }
        }
        if (durable != null) {
            store.publishVisible(r.commitTs()); // deferred visibility: the writer reads its own write
            if (event.shouldCommit()) {
                event.kind = "autocommit";
                event.commitTimestamp = r.commitTs();
                event.keys = 1;
                event.maps = 1;
                event.durabilityWait = waitFrom == 0 ? 0 : System.nanoTime() - waitFrom;
                event.commit();
            }
        } else if (r.commitTs() > 0) {
            commits.awaitVisible(r.commitTs(), "whose value was read"); // deferred visibility: only durable values
        }
        return r;
    }
}
