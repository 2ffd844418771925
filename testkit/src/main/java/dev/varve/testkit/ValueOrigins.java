// SPDX-License-Identifier: Apache-2.0
package dev.varve.testkit;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.Supplier;

/**
 * The recorder's identity registry: which recorded transactions put each value object into each
 * key, and which value objects were read from a key before any recorded put of them. It is how a
 * recorded read learns the version it saw: an in-memory Varve database returns from {@code get}
 * the very object that was {@code put}. Thread-safe.
 */
final class ValueOrigins {
    /** (map, key, value object) -> its origin. */
    private final ConcurrentHashMap<Placement, Origin> origins = new ConcurrentHashMap<>();
    /** Per map, the canonical object of each key (V5). */
    private final ConcurrentHashMap<String, ConcurrentSkipListMap<Object, Object>> keys = new ConcurrentHashMap<>();

    /*
     * Implementation notes.
     *
     * Invariants.
     *   V1  A value object put into (map, key) by a recorded transaction is registered before the
     *       put reaches the Varve transaction, so before any commit can publish it: a read that
     *       returns it finds the registration (the commit's publication, which the read
     *       synchronizes with, is ordered after the registration in the writer's thread).
     *   V2  A put is refused (IllegalArgumentException, before it reaches the transaction) if the
     *       same object is registered for that key by another transaction that is not known to
     *       have aborted, or was read from that key before any recorded put of it: two versions of
     *       one key would then be one object, and a read of it could not say which it saw. An
     *       object that only aborted transactions put may be put again (a retried body reusing
     *       its values): an aborted put installed no version.
     *   V3  A read that returns an object with no registered put for that key marks it read: the
     *       read saw the key's initial version (or a write the recorder did not see), and V2 keeps
     *       a later recorded put of the same object from shadowing it.
     *   V4  Reads are resolved in HistoryRecorder#history(), after the workload: a read saw the
     *       one committed writer whose last write of the key is that object. V2 makes it unique
     *       but decides on outcomes that may be changing at that moment (a concurrent commit), so
     *       history() checks again and refuses two. With none: an earlier write of a committed
     *       writer that overwrote it (G1b), an aborted writer's (G1a), an unfinished writer's
     *       (refused: the history is incomplete), or, with no put at all, the initial version.
     *   V5  Keys are canonical per map: the first key object that the map's order finds equal
     *       stands for every later one, so keys that Varve orders by a comparator but whose
     *       equals is identity (byte[]) are one key to the checker's equals and hashCode.
     *
     * Tolerated race. V2 asks another thread's transaction whether it finished (Transaction's
     * state is a plain field): a stale answer is "still active", which only refuses a put that a
     * fresh one might have allowed, or "not committed" while that thread is committing, which V4
     * catches.
     */

    /**
     * The canonical object of {@code key} in {@code map} (V5).
     *
     * @param order the map's comparator (null: natural ordering), asked once per map
     */
    Object canonicalKey(String map, Supplier<Comparator<?>> order, Object key) {
        ConcurrentSkipListMap<Object, Object> canonical = keys.get(map);
        if (canonical == null) {
            @SuppressWarnings("unchecked")
            Comparator<Object> cmp = (Comparator<Object>) order.get();
            canonical = keys.computeIfAbsent(map, m -> new ConcurrentSkipListMap<>(cmp));
        }
        Object previous = canonical.putIfAbsent(key, key);
        return previous == null ? key : previous;
    }

    /**
     * Registers {@code writer}'s put of {@code value} into (map, key) (V1), or refuses it (V2).
     *
     * @return the origin if this call registered {@code writer} (to pass to {@link #unput}),
     *     null if it was registered already
     * @throws IllegalArgumentException if the put would make two versions of the key one object
     */
    Origin put(RecordedTransaction<?, ?> writer, String map, Object key, Object value) {
        Origin origin = origins.computeIfAbsent(new Placement(map, key, value), p -> new Origin());
        synchronized (origin) {
            if (origin.firstReader != 0) {
                throw new IllegalArgumentException("T" + writer.id() + " puts into " + new TxnRecord.Slot(map, key)
                        + " the very object that T" + origin.firstReader + " read there (" + describe(value)
                        + "), a version from before the recording or written without the recorder. " + ADVICE);
            }
            for (RecordedTransaction<?, ?> other : origin.writers) {
                if (other != writer && other.probeOutcome() != RecordedTransaction.Outcome.ABORTED) {
                    throw new IllegalArgumentException("T" + writer.id() + " puts into " + new TxnRecord.Slot(map, key)
                            + " the very object that T" + other.id() + " put there (" + describe(value) + "). "
                            + ADVICE);
                }
            }
            if (origin.writers.contains(writer)) {
                return null;
            }
            origin.writers.add(writer);
        }
        return origin;
    }

    /** Undoes the {@link #put} that returned {@code origin}, after the transaction refused the put. */
    void unput(Origin origin, RecordedTransaction<?, ?> writer) {
        synchronized (origin) {
            origin.writers.remove(writer);
        }
    }

    /** Notes {@code reader}'s read of {@code value} from (map, key) (V3); returns its origin. */
    Origin read(RecordedTransaction<?, ?> reader, String map, Object key, Object value) {
        Origin origin = origins.computeIfAbsent(new Placement(map, key, value), p -> new Origin());
        synchronized (origin) {
            if (origin.writers.isEmpty() && origin.firstReader == 0) {
                origin.firstReader = reader.id();
            }
        }
        return origin;
    }

    private static final String ADVICE = "The recorder tells which version a read saw by the identity of the"
            + " value object it returned, so every put needs a new object: boxed small numbers"
            + " (Integer.valueOf(5)), string literals, Boolean.TRUE and enum constants are one shared object"
            + " each. Wrap such values in a record or class of your own, or build the history yourself with"
            + " TxnRecord, naming the versions read.";

    private static String describe(Object value) {
        String text = String.valueOf(value);
        if (text.length() > 80) {
            text = text.substring(0, 77) + "...";
        }
        return value.getClass().getName() + " " + text;
    }

    /** Who put one value object into one key, and whether it was read there before. */
    static final class Origin {
        /** The recorded transactions that put it there, in registration order. Guarded by this. */
        private final List<RecordedTransaction<?, ?>> writers = new ArrayList<>(1);
        /** The id of a transaction that read it before any recorded put, or 0. Guarded by this. */
        private long firstReader;

        synchronized List<RecordedTransaction<?, ?>> writers() {
            return new ArrayList<>(writers);
        }
    }

    /** A value object in a key: equal keys, the same object. */
    private static final class Placement {
        private final String map;
        private final Object key;
        private final Object value;
        private final int hash;

        Placement(String map, Object key, Object value) {
            this.map = map;
            this.key = key;
            this.value = value;
            this.hash = (map.hashCode() * 31 + key.hashCode()) * 31 + System.identityHashCode(value);
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof Placement)) {
                return false;
            }
            Placement p = (Placement) o;
            return value == p.value && map.equals(p.map) && Objects.equals(key, p.key);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}
