// SPDX-License-Identifier: Apache-2.0
package dev.varve.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Change;
import dev.varve.CommitEvent;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Collects what a change feed delivers; requests {@code initial} events, then one per event if
 * {@code eager}. Thread-safe to read while the feed delivers.
 *
 * @param <K> key type
 * @param <V> value type
 */
public final class FeedCollector<K, V> implements Flow.Subscriber<CommitEvent<K, V>> {
    /** The events in the order onNext was given them. */
    public final List<CommitEvent<K, V>> events = new CopyOnWriteArrayList<>();
    /** The onError signal, if any. */
    public final AtomicReference<Throwable> error = new AtomicReference<>();
    /** Whether onComplete was signalled. */
    public final AtomicBoolean completed = new AtomicBoolean();

    private final long initial;
    private final boolean eager;
    /** The subscription onSubscribe gave. */
    public volatile Flow.Subscription subscription;

    /**
     * A collector.
     *
     * @param initial the events requested in onSubscribe (0 for none)
     * @param eager whether to request one more after each event
     */
    public FeedCollector(long initial, boolean eager) {
        this.initial = initial;
        this.eager = eager;
    }

    /**
     * A collector that requests everything at once.
     *
     * @param <K> key type
     * @param <V> value type
     * @return the collector
     */
    public static <K, V> FeedCollector<K, V> unbounded() {
        return new FeedCollector<>(Long.MAX_VALUE, false);
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        if (initial > 0) {
            s.request(initial);
        }
    }

    @Override
    public void onNext(CommitEvent<K, V> item) {
        events.add(item);
        if (eager) {
            subscription.request(1);
        }
    }

    @Override
    public void onError(Throwable t) {
        error.set(t);
    }

    @Override
    public void onComplete() {
        completed.set(true);
    }

    /**
     * The commit timestamp of the last event, or -1 if none came.
     *
     * @return the timestamp
     */
    public long lastTs() {
        return events.isEmpty() ? -1 : events.get(events.size() - 1).commitTimestamp();
    }

    /**
     * The commit timestamps of the events, in the order they came.
     *
     * @return the timestamps
     */
    public List<Long> timestamps() {
        return events.stream().map(CommitEvent::commitTimestamp).toList();
    }

    /**
     * Applies every event to {@code state}, checking commit order and exactly-once.
     *
     * @param state the state the events start from (changed)
     * @param after the timestamp the watch started after
     * @return {@code state}
     */
    public TreeMap<K, V> applyTo(TreeMap<K, V> state, long after) {
        long previous = after;
        for (CommitEvent<K, V> e : events) {
            assertTrue(e.commitTimestamp() > previous, "out of order or repeated: " + e + " after " + previous);
            previous = e.commitTimestamp();
            for (Change<K, V> c : e.changes()) {
                if (c.value() == null) {
                    state.remove(c.key());
                } else {
                    state.put(c.key(), c.value());
                }
            }
        }
        return state;
    }
}
