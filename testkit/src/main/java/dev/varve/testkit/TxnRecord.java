// SPDX-License-Identifier: Apache-2.0
package dev.varve.testkit;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One transaction of a {@link History}: its id, snapshot and commit timestamps, and what it did
 * in order — the reads (each naming the transaction whose version it saw), the writes and
 * removals, and the scans of key ranges. {@link HistoryRecorder} builds these from a recorded
 * workload; build them yourself with {@link #committed} or {@link #aborted} when your values
 * already say who wrote them (a value carrying its writer's id, say).
 *
 * <p><b>Keys and maps.</b> A key is any non-null object compared by {@link Object#equals} and
 * {@link Object#hashCode} (so not a bare {@code byte[]}), qualified by the name of the map it
 * lives in: {@link #DEFAULT_MAP} for a database's default map, {@link dev.varve.NamedMap#name()}
 * for a named one. The same key in two maps is two keys.
 *
 * <p><b>Versions.</b> Every key starts at its initial version (whatever it held before the
 * history, present or absent), then has one version per committed transaction that wrote it, in
 * commit-timestamp order (Adya's version order). A read names the version it saw by its writer's
 * id, or {@link #INITIAL}. A read that found nothing ({@link Builder#readAbsent}) cannot name a
 * version, so the checker places it at the reader's snapshot: it saw the latest removal committed
 * at or before {@link #snapshotTimestamp()}, or the initial version. Scans are the same for the
 * keys they did not return.
 *
 * <p>Immutable and thread-safe.
 */
public final class TxnRecord {
    /** The writer id that names a key's initial version: what it held before the history. */
    public static final long INITIAL = 0;

    /**
     * The map name of a database's default map (the empty string, which no named map can have,
     * as {@link dev.varve.Database#openMap(String)} refuses it).
     */
    public static final String DEFAULT_MAP = "";

    private final long id;
    private final long snapshotTs;
    /** The commit timestamp; -1 for an aborted transaction. */
    private final long commitTs;

    private final List<Read> reads;
    private final List<Write> writes;
    private final List<Scan> scans;
    /** Each written key's last write (the version this transaction installs). */
    private final Map<Slot, Write> finalWrites;
    /** The sequence number of each written key's first write (to tell own reads apart). */
    private final Map<Slot, Integer> firstWriteSeq;

    private TxnRecord(Builder b) {
        this.id = b.id;
        this.snapshotTs = b.snapshotTs;
        this.commitTs = b.commitTs;
        this.reads = List.copyOf(b.reads);
        this.writes = List.copyOf(b.writes);
        this.scans = List.copyOf(b.scans);
        Map<Slot, Write> last = new LinkedHashMap<>();
        Map<Slot, Integer> first = new HashMap<>();
        for (Write w : writes) {
            last.put(w.slot(), w);
            first.putIfAbsent(w.slot(), w.seq());
        }
        this.finalWrites = Collections.unmodifiableMap(last);
        this.firstWriteSeq = Collections.unmodifiableMap(first);
    }

    /**
     * Starts the record of a committed transaction.
     *
     * @param id the transaction's id, unique in its history; positive ({@link #INITIAL} is taken)
     * @param snapshotTimestamp its snapshot timestamp ({@link dev.varve.Transaction#snapshotTimestamp()})
     * @param commitTimestamp its commit timestamp ({@link dev.varve.Transaction#commitTimestamp()}),
     *     which orders its writes among every other writer's: two transactions that wrote the same
     *     key must have different commit timestamps
     * @return a builder for the transaction's operations
     * @throws IllegalArgumentException if {@code id <= 0}, {@code snapshotTimestamp < 0} or {@code
     *     commitTimestamp < snapshotTimestamp}
     */
    public static Builder committed(long id, long snapshotTimestamp, long commitTimestamp) {
        if (commitTimestamp < snapshotTimestamp) {
            throw new IllegalArgumentException("T" + id + ": commit timestamp " + commitTimestamp
                    + " is below its snapshot timestamp " + snapshotTimestamp);
        }
        return new Builder(id, snapshotTimestamp, commitTimestamp);
    }

    /**
     * Starts the record of a transaction that did not commit. Its writes install no version; a
     * committed transaction that read one of them read an aborted write (Adya's G1a), which
     * {@link History#check()} reports.
     *
     * @param id the transaction's id, unique in its history; positive
     * @param snapshotTimestamp its snapshot timestamp
     * @return a builder for the transaction's operations (its reads and scans are ignored)
     * @throws IllegalArgumentException if {@code id <= 0} or {@code snapshotTimestamp < 0}
     */
    public static Builder aborted(long id, long snapshotTimestamp) {
        return new Builder(id, snapshotTimestamp, -1);
    }

    /**
     * The transaction's id.
     *
     * @return the id, positive
     */
    public long id() {
        return id;
    }

    /**
     * The snapshot timestamp: the transaction read the commits at or below it.
     *
     * @return the snapshot timestamp
     */
    public long snapshotTimestamp() {
        return snapshotTs;
    }

    /**
     * Whether the transaction committed.
     *
     * @return true for a record from {@link #committed}
     */
    public boolean isCommitted() {
        return commitTs >= 0;
    }

    /**
     * The commit timestamp.
     *
     * @return the commit timestamp
     * @throws IllegalStateException if the transaction did not commit
     */
    public long commitTimestamp() {
        if (commitTs < 0) {
            throw new IllegalStateException(this + " did not commit: it has no commit timestamp");
        }
        return commitTs;
    }

    /**
     * The transaction as the checker prints it, e.g. {@code "T3 (snapshot 4, commit 6)"} or
     * {@code "T5 (snapshot 4, aborted)"}.
     *
     * @return the id and timestamps
     */
    @Override
    public String toString() {
        return "T" + id + " (snapshot " + snapshotTs + (commitTs >= 0 ? ", commit " + commitTs : ", aborted") + ")";
    }

    /**
     * The transaction with all its operations, in order, e.g. {@code "T3 (snapshot 4, commit 6):
     * read key 1 from T2, write key 7"}.
     *
     * @return a description for diagnostics
     */
    public String describe() {
        List<Op> ops = new ArrayList<>(reads.size() + writes.size() + scans.size());
        ops.addAll(reads);
        ops.addAll(writes);
        ops.addAll(scans);
        ops.sort(Comparator.comparingInt(Op::seq));
        StringBuilder sb = new StringBuilder(toString()).append(':');
        String sep = " ";
        for (Op op : ops) {
            sb.append(sep).append(op);
            sep = ", ";
        }
        return ops.isEmpty() ? sb.append(" nothing").toString() : sb.toString();
    }

    // ---- package-private: the checker's view ------------------------------------------------

    List<Read> reads() {
        return reads;
    }

    List<Write> writes() {
        return writes;
    }

    List<Scan> scans() {
        return scans;
    }

    Map<Slot, Write> finalWrites() {
        return finalWrites;
    }

    /** Whether this transaction had written {@code slot} before its operation number {@code seq}. */
    boolean wroteBefore(Slot slot, int seq) {
        Integer first = firstWriteSeq.get(slot);
        return first != null && first < seq;
    }

    /** A key of a map: the unit of versions and conflicts. */
    record Slot(String map, Object key) {
        @Override
        public String toString() {
            return DEFAULT_MAP.equals(map) ? "key " + text(key) : "key " + text(key) + " in " + map;
        }
    }

    /** How a read names the version it saw. */
    enum ReadKind {
        /** A value: the version of {@code writer}, or {@link #INITIAL}. */
        VALUE,
        /** Nothing: placed at the reader's snapshot. */
        ABSENT,
        /** A value that {@code writer} wrote and then overwrote itself (Adya's G1b). */
        INTERMEDIATE
    }

    /** An operation with its position in the transaction. */
    interface Op {
        int seq();
    }

    record Read(int seq, Slot slot, ReadKind kind, long writer) implements Op {
        @Override
        public String toString() {
            switch (kind) {
                case ABSENT:
                    return "read " + slot + " absent";
                case INTERMEDIATE:
                    return "read " + slot + " from an overwritten write of T" + writer;
                default:
                    return "read " + slot + (writer == INITIAL ? " initial" : " from T" + writer);
            }
        }
    }

    /** A write: {@code alive} for a put, not for a removal (a dead version, a tombstone). */
    record Write(int seq, Slot slot, boolean alive) implements Op {
        @Override
        public String toString() {
            return (alive ? "write " : "remove ") + slot;
        }
    }

    /** A scan of {@code [from, to)} in {@code order}; a null bound is open. */
    record Scan(int seq, String map, Object from, Object to, Comparator<Object> order) implements Op {
        /** Whether {@code key} is in the range. */
        boolean contains(Object key) {
            return (from == null || order.compare(from, key) <= 0) && (to == null || order.compare(key, to) < 0);
        }

        String range() {
            return "[" + (from == null ? "start" : text(from)) + ", " + (to == null ? "end" : text(to)) + ")"
                    + (DEFAULT_MAP.equals(map) ? "" : " in " + map);
        }

        @Override
        public String toString() {
            return "scan " + range();
        }
    }

    /** Natural ordering as a comparator of objects (keys that are not comparable throw ClassCastException). */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static Comparator<Object> naturalOrder() {
        return (Comparator) Comparator.naturalOrder();
    }

    /** A key or bound as printed: arrays by their elements. */
    static String text(Object o) {
        if (o == null || !o.getClass().isArray()) {
            return String.valueOf(o);
        }
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0, n = java.lang.reflect.Array.getLength(o); i < n; i++) {
            sb.append(i == 0 ? "" : ", ").append(text(java.lang.reflect.Array.get(o, i)));
        }
        return sb.append(']').toString();
    }

    /**
     * Builds a {@link TxnRecord}, one operation at a time in the order the transaction did them.
     * A read of a key after this transaction wrote it is a read of its own write and adds no
     * dependency. Not thread-safe.
     */
    public static final class Builder {
        private final long id;
        private final long snapshotTs;
        private final long commitTs;
        private final List<Read> reads = new ArrayList<>();
        private final List<Write> writes = new ArrayList<>();
        private final List<Scan> scans = new ArrayList<>();
        private int seq;

        private Builder(long id, long snapshotTs, long commitTs) {
            if (id <= 0) {
                throw new IllegalArgumentException(
                        "transaction id " + id + " must be positive (0 names the initial" + " versions)");
            }
            if (snapshotTs < 0) {
                throw new IllegalArgumentException("T" + id + ": snapshot timestamp " + snapshotTs + " is negative");
            }
            this.id = id;
            this.snapshotTs = snapshotTs;
            this.commitTs = commitTs;
        }

        /**
         * A read of {@code key} in the default map that returned the value {@code writer} wrote.
         *
         * @param key the key
         * @param writer the id of the transaction whose version the read returned, or {@link
         *     #INITIAL}
         * @return this builder
         * @throws NullPointerException if {@code key} is null
         * @throws IllegalArgumentException if {@code writer < 0}
         */
        public Builder read(Object key, long writer) {
            return read(DEFAULT_MAP, key, writer);
        }

        /**
         * A read of {@code key} in the map {@code map} that returned the value {@code writer}
         * wrote.
         *
         * @param map the map's name ({@link #DEFAULT_MAP} for the default map)
         * @param key the key
         * @param writer the id of the transaction whose version the read returned, or {@link
         *     #INITIAL}
         * @return this builder
         * @throws NullPointerException if {@code map} or {@code key} is null
         * @throws IllegalArgumentException if {@code writer < 0}
         */
        public Builder read(String map, Object key, long writer) {
            if (writer < 0) {
                throw new IllegalArgumentException("T" + id + ": writer id " + writer + " is negative");
            }
            reads.add(new Read(seq++, slot(map, key), ReadKind.VALUE, writer));
            return this;
        }

        /**
         * A read of {@code key} in the default map that found no value.
         *
         * @param key the key
         * @return this builder
         * @throws NullPointerException if {@code key} is null
         */
        public Builder readAbsent(Object key) {
            return readAbsent(DEFAULT_MAP, key);
        }

        /**
         * A read of {@code key} in the map {@code map} that found no value: a read of the
         * latest removal of it at or before the snapshot timestamp, or of its initial version.
         *
         * @param map the map's name
         * @param key the key
         * @return this builder
         * @throws NullPointerException if {@code map} or {@code key} is null
         */
        public Builder readAbsent(String map, Object key) {
            reads.add(new Read(seq++, slot(map, key), ReadKind.ABSENT, INITIAL));
            return this;
        }

        /** A read of a value that {@code writer} overwrote itself (the recorder finds these). */
        Builder readIntermediate(String map, Object key, long writer) {
            reads.add(new Read(seq++, slot(map, key), ReadKind.INTERMEDIATE, writer));
            return this;
        }

        /**
         * A write (put) of {@code key} in the default map.
         *
         * @param key the key
         * @return this builder
         * @throws NullPointerException if {@code key} is null
         */
        public Builder write(Object key) {
            return write(DEFAULT_MAP, key);
        }

        /**
         * A write (put) of {@code key} in the map {@code map}. A key written twice installs one
         * version, its last write.
         *
         * @param map the map's name
         * @param key the key
         * @return this builder
         * @throws NullPointerException if {@code map} or {@code key} is null
         */
        public Builder write(String map, Object key) {
            writes.add(new Write(seq++, slot(map, key), true));
            return this;
        }

        /**
         * A removal of {@code key} from the default map.
         *
         * @param key the key
         * @return this builder
         * @throws NullPointerException if {@code key} is null
         */
        public Builder remove(Object key) {
            return remove(DEFAULT_MAP, key);
        }

        /**
         * A removal of {@code key} from the map {@code map}: a write of a dead version (a
         * tombstone), whether or not the key was present.
         *
         * @param map the map's name
         * @param key the key
         * @return this builder
         * @throws NullPointerException if {@code map} or {@code key} is null
         */
        public Builder remove(String map, Object key) {
            writes.add(new Write(seq++, slot(map, key), false));
            return this;
        }

        /**
         * A scan of the keys {@code [from, to)} of the default map in their natural order.
         *
         * @param from the first key of the range, or null for no lower bound
         * @param to the key after the range, or null for no upper bound
         * @param <T> the key type
         * @return this builder
         * @throws IllegalArgumentException if {@code from} is after {@code to}
         */
        public <T extends Comparable<? super T>> Builder scan(T from, T to) {
            return scan(DEFAULT_MAP, from, to, Comparator.naturalOrder());
        }

        /**
         * A scan of the keys {@code [from, to)} of the map {@code map} in their natural order.
         *
         * @param map the map's name
         * @param from the first key of the range, or null for no lower bound
         * @param to the key after the range, or null for no upper bound
         * @param <T> the key type
         * @return this builder
         * @throws NullPointerException if {@code map} is null
         * @throws IllegalArgumentException if {@code from} is after {@code to}
         */
        public <T extends Comparable<? super T>> Builder scan(String map, T from, T to) {
            return scan(map, from, to, Comparator.naturalOrder());
        }

        /**
         * A scan of the keys {@code [from, to)} of the map {@code map} in the order {@code order}
         * (the map's own, for the scan to mean what it did in the database). It read every key in
         * the range: the ones it returned (record those as {@link #read reads}) and the ones it
         * found absent, whose later insertion by another transaction is a phantom (a predicate
         * anti-dependency).
         *
         * @param map the map's name
         * @param from the first key of the range, or null for no lower bound
         * @param to the key after the range, or null for no upper bound
         * @param order the map's key order
         * @param <T> the key type
         * @return this builder
         * @throws NullPointerException if {@code map} or {@code order} is null
         * @throws IllegalArgumentException if {@code from} is after {@code to} in {@code order}
         */
        @SuppressWarnings("unchecked")
        public <T> Builder scan(String map, T from, T to, Comparator<? super T> order) {
            Objects.requireNonNull(map, "map");
            Objects.requireNonNull(order, "order");
            if (from != null && to != null && order.compare(from, to) > 0) {
                throw new IllegalArgumentException(
                        "T" + id + ": scan from " + text(from) + " to " + text(to) + ": from is after to");
            }
            scans.add(new Scan(seq++, map, from, to, (Comparator<Object>) order));
            return this;
        }

        /**
         * The record.
         *
         * @return an immutable record of the operations added so far
         */
        public TxnRecord build() {
            return new TxnRecord(this);
        }

        private static Slot slot(String map, Object key) {
            return new Slot(Objects.requireNonNull(map, "map"), Objects.requireNonNull(key, "key"));
        }
    }
}
