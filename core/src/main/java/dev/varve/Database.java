// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import dev.varve.internal.mvcc.ChangeFeed;
import dev.varve.internal.mvcc.CommitProtocol;
import dev.varve.internal.mvcc.MapIndex;
import dev.varve.internal.mvcc.Store;
import dev.varve.internal.mvcc.StoreCounters;
import dev.varve.internal.mvcc.VacuumScheduler;
import dev.varve.spi.CommitLog;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.NavigableSet;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * An ordered, in-memory key-value map with cross-thread ACID transactions: multi-version
 * concurrency control over a concurrent skiplist, snapshot isolation, and serializable snapshot
 * isolation (the default) that aborts write skew and phantoms instead of committing them.
 *
 * <pre>{@code
 * try (Database<String, Long> db = Database.<String, Long>builder().open()) {
 *     db.put("alice", 100L);
 *     long total = db.transact(tx -> tx.get("alice") + 1);
 * }
 * }</pre>
 *
 * <p><b>Thread-safety.</b> Every method may be called from any thread at any time. Readers never
 * block and never take a lock; committers latch the keys they write (a writer of a latched key
 * waits for it) and then serialize on one short critical section that does no I/O. Effects of a transaction whose {@code commit()} returned (or of an autocommit write that
 * returned) happen-before every read in a snapshot taken afterwards.
 *
 * <p><b>Nulls.</b> Keys and values are never {@code null} ({@link NullPointerException}), as in
 * {@link java.util.concurrent.ConcurrentSkipListMap}.
 *
 * <p><b>Closing.</b> {@link #close()} stops the background vacuum thread, flushes and closes the
 * commit log, and makes every later call (on the database and on its open transactions and
 * snapshots) throw {@link IllegalStateException}.
 *
 * @param <K> key type
 * @param <V> value type
 */
public final class Database<K, V> implements AutoCloseable {
    private final CommitProtocol<K, V> commits;
    private final Store<K, V> store;
    private final Options<K, V> options;
    /** The background vacuum, or null when committers vacuum (no autoVacuum period). */
    private final VacuumScheduler vacuumScheduler;
    /** The autocommit operations on the default map. */
    private final MapOps<K, V> ops;
    /** The retry policy the builder configured. */
    private final RetryPolicy defaultRetry;
    /** The registered MBean, or null without {@code jmx(true)}. */
    private final DatabaseBean bean;
    /** Serializes openMap and dropMap (the store's catalog and the log's). */
    private final Object mapCatalogLock = new Object();
    /** In memory: the codecs each named map was last opened with (by id), for {@link #backup}. */
    private final java.util.Map<Integer, Codec<?>[]> backupCodecs = new java.util.concurrent.ConcurrentHashMap<>();

    private Database(Options<K, V> options) {
        this.options = options;
        this.store = new Store<>(options.comparator, options.maxRetainedSsiRecords);
        store.limitTransactions(options.maxTransactionAgeNanos, options.leakTracking);
        store.failureListener(options.failureListener);
        this.commits = new CommitProtocol<>(store);
        this.ops = new MapOps<>(commits, store.defaultMap());
        this.defaultRetry = new RetryPolicy(
                options.maxAttempts,
                Duration.ofNanos(options.initialBackoffNanos),
                Duration.ofNanos(options.maxBackoffNanos));
        if (options.autoVacuum == null) {
            store.vacuumByCommitters(); // before recovery, and before any other thread sees the store
        }
        CommitLog<K, V> log = options.durability.open(store);
        store.attachLog(Objects.requireNonNull(log, "durability returned no commit log"));
        if (options.retainHistoryMillis > 0) {
            store.retainHistory(options.retainHistoryMillis);
        }
        this.vacuumScheduler =
                options.autoVacuum == null ? null : new VacuumScheduler(store, options.autoVacuum.toNanos());
        DatabaseBean registered = null;
        if (options.jmx) {
            try {
                registered = DatabaseBean.register(this, options.name);
            } catch (RuntimeException e) {
                closeEngine(); // opened for nothing: stop the vacuum thread and release the log
                throw e;
            }
        }
        this.bean = registered;
    }

    // ---- builders ---------------------------------------------------------------------------

    /**
     * A builder for a database whose keys are ordered by their natural ordering.
     *
     * @param <K> key type, naturally ordered
     * @param <V> value type
     * @return a new builder with the defaults: in memory, no background vacuum, {@value
     *     Builder#DEFAULT_MAX_ATTEMPTS} attempts per {@link #transact}
     */
    public static <K extends Comparable<? super K>, V> Builder<K, V> builder() {
        return new Builder<>(null);
    }

    /**
     * A builder for a database whose keys are ordered by {@code comparator}.
     *
     * @param comparator the key order; must be consistent with equals for the map views to obey
     *     the {@link java.util.Map} contract
     * @param <K> key type
     * @param <V> value type
     * @return a new builder with the defaults (see {@link #builder()})
     * @throws NullPointerException if {@code comparator} is null
     */
    public static <K, V> Builder<K, V> builder(Comparator<? super K> comparator) {
        return new Builder<>(Objects.requireNonNull(comparator, "comparator"));
    }

    /**
     * A builder whose types are given as classes, so that a chain infers them: {@code
     * Database.builder(Long.class, String.class).autoVacuum(p).open()} is a {@code Database<Long,
     * String>} without {@code Database.<Long, String>builder()}.
     *
     * @param keyType the key class, naturally ordered
     * @param valueType the value class
     * @param <K> key type
     * @param <V> value type
     * @return a new builder with the defaults (see {@link #builder()})
     * @throws NullPointerException if a class is null
     */
    public static <K extends Comparable<? super K>, V> Builder<K, V> builder(Class<K> keyType, Class<V> valueType) {
        Objects.requireNonNull(keyType, "keyType");
        Objects.requireNonNull(valueType, "valueType");
        return new Builder<>(null);
    }

    /**
     * Opens an in-memory database with the defaults, its types inferred from the target: {@code
     * Database<Long, String> db = Database.open();}.
     *
     * @param <K> key type, naturally ordered
     * @param <V> value type
     * @return the open database
     */
    public static <K extends Comparable<? super K>, V> Database<K, V> open() {
        return Database.<K, V>builder().open();
    }

    /**
     * Configures and opens a {@link Database}. Each setter validates its argument at once and
     * names the option in its error. Not thread-safe; {@link #open()} may be called more than
     * once (each call opens a separate database).
     *
     * @param <K> key type
     * @param <V> value type
     */
    public static final class Builder<K, V> {
        /** Attempts {@link Database#transact} makes before giving up, unless configured. */
        public static final int DEFAULT_MAX_ATTEMPTS = 20;

        private final Comparator<? super K> comparator;
        private Durability<K, V> durability = Durability.inMemory();
        private Duration autoVacuum;
        private int maxAttempts = DEFAULT_MAX_ATTEMPTS;
        private Duration initialBackoff = RetryPolicy.DEFAULT_INITIAL_BACKOFF;
        private Duration maxBackoff = RetryPolicy.DEFAULT_MAX_BACKOFF;
        private int maxRetainedSsiRecords = 10_000;
        private String name;
        private boolean jmx;
        private Duration maxTransactionAge;
        private boolean leakTracking;
        private FailureListener failureListener;
        private Duration retainHistory;
        private Path restoreFrom;
        private Codec<K> restoreKeyCodec;
        private Codec<V> restoreValueCodec;

        private Builder(Comparator<? super K> comparator) {
            this.comparator = comparator;
        }

        /**
         * Where commits are kept: {@link Durability#inMemory()} (the default) or a write-ahead log
         * from the {@code varve-wal} module.
         *
         * @param durability the durability
         * @return this builder
         * @throws NullPointerException if {@code durability} is null
         */
        public Builder<K, V> durability(Durability<K, V> durability) {
            this.durability = Objects.requireNonNull(durability, "durability");
            return this;
        }

        /**
         * Runs vacuum on one background daemon thread every {@code period} (measured from the end
         * of one pass to the start of the next). Off by default: then committers vacuum what they
         * removed themselves (every 256 commits, a pass over the keys written since, whose cost is
         * proportional to those writes), so memory and scan costs stay bounded under a steady
         * workload, but only the background vacuum settles values and runs full passes. {@link
         * Database#vacuum()} (a full pass) always works.
         *
         * @param period time between passes, at least 1 ms
         * @return this builder
         * @throws NullPointerException if {@code period} is null
         * @throws IllegalArgumentException if {@code period} is shorter than 1 ms
         */
        public Builder<K, V> autoVacuum(Duration period) {
            Objects.requireNonNull(period, "autoVacuum");
            if (period.compareTo(Duration.ofMillis(1)) < 0) {
                throw new IllegalArgumentException("autoVacuum period must be at least 1 ms, was " + period);
            }
            this.autoVacuum = period;
            return this;
        }

        /**
         * How many times {@link Database#transact} and {@link Database#transactAsync} run a
         * transaction that fails with {@link SerializationFailureException} before rethrowing.
         *
         * @param maxAttempts attempts, at least 1 (1 means no retry); default {@value
         *     #DEFAULT_MAX_ATTEMPTS}
         * @return this builder
         * @throws IllegalArgumentException if {@code maxAttempts} is below 1
         */
        public Builder<K, V> maxAttempts(int maxAttempts) {
            if (maxAttempts < 1) {
                throw new IllegalArgumentException("maxAttempts must be at least 1, was " + maxAttempts);
            }
            this.maxAttempts = maxAttempts;
            return this;
        }

        /**
         * The backoff between retries of {@link Database#transact}: before attempt {@code n+1} it
         * waits a random time between 0 and {@code min(max, initial * 2^(n-1))} ("full jitter");
         * an {@code initial} of zero means no backoff at all. Defaults: 50 µs initial, 20 ms max.
         *
         * @param initial the first backoff bound, at least 0
         * @param max the cap, at least {@code initial}
         * @return this builder
         * @throws NullPointerException if either is null
         * @throws IllegalArgumentException if {@code initial} is negative or {@code max < initial}
         */
        public Builder<K, V> retryBackoff(Duration initial, Duration max) {
            Objects.requireNonNull(initial, "retryBackoff initial");
            Objects.requireNonNull(max, "retryBackoff max");
            if (initial.isNegative()) {
                throw new IllegalArgumentException("retryBackoff initial must not be negative, was " + initial);
            }
            if (max.compareTo(initial) < 0) {
                throw new IllegalArgumentException(
                        "retryBackoff max (" + max + ") must be at least initial (" + initial + ")");
            }
            this.initialBackoff = initial;
            this.maxBackoff = max;
            return this;
        }

        /**
         * How many committed-transaction records the SSI conflict graph keeps in full before it
         * folds the oldest into a conservative summary (which may cause extra aborts but keeps
         * memory bounded under a long-running transaction).
         *
         * @param records at least 1; default 10,000
         * @return this builder
         * @throws IllegalArgumentException if {@code records} is below 1
         */
        public Builder<K, V> maxRetainedSsiRecords(int records) {
            if (records < 1) {
                throw new IllegalArgumentException("maxRetainedSsiRecords must be at least 1, was " + records);
            }
            this.maxRetainedSsiRecords = records;
            return this;
        }

        /**
         * Keeps history: vacuum keeps every version that a snapshot taken at any moment within
         * the last {@code window} could read, so {@link Database#snapshotAt(long)} reads as of
         * any commit in the window and {@link Database#watch(Object, Object, long) watch} can
         * replay from it. The window is measured in wall-clock time ({@link
         * System#currentTimeMillis()}, millisecond resolution) from the moment the database
         * opened; history from before the open (the log's) is not kept. Off by default. The cost
         * is memory: every version written within the window stays ({@link Gauges#versions()}),
         * and committers read the clock once per commit.
         *
         * @param window how far back to keep history; positive
         * @return this builder
         * @throws NullPointerException if {@code window} is null
         * @throws IllegalArgumentException if {@code window} is zero, negative, or under 1 ms
         */
        public Builder<K, V> retainHistory(Duration window) {
            Objects.requireNonNull(window, "retainHistory");
            if (window.isNegative() || window.toMillis() < 1) {
                throw new IllegalArgumentException("retainHistory must be at least 1 ms, got " + window);
            }
            this.retainHistory = window;
            return this;
        }

        /**
         * Names the database, for operators: the name of its MBean (see {@link #jmx}) and of
         * {@link Database#name()}. Unnamed by default.
         *
         * @param name a name, not blank, without the characters {@code , = : " * ?} or a newline
         *     (it is a JMX object name's value unquoted)
         * @return this builder
         * @throws NullPointerException if {@code name} is null
         * @throws IllegalArgumentException if {@code name} is blank or holds one of those characters
         */
        public Builder<K, V> name(String name) {
            Objects.requireNonNull(name, "name");
            if (name.isBlank()) {
                throw new IllegalArgumentException("name must not be blank");
            }
            DatabaseBean.objectName(name); // throws IllegalArgumentException naming the problem
            this.name = name;
            return this;
        }

        /**
         * Whether {@link #open()} registers the database's {@link DatabaseMXBean} with the
         * platform MBean server as {@code dev.varve:type=Database,name=<name>}; {@link
         * Database#close()} unregisters it. Off by default; needs a {@link #name(String)}.
         *
         * @param enabled true to register the MBean
         * @return this builder
         */
        public Builder<K, V> jmx(boolean enabled) {
            this.jmx = enabled;
            return this;
        }

        /**
         * Bounds how long a transaction may stay open: one older than {@code age} has its snapshot
         * pin released by the next periodic watermark refresh (every 256 commits) or vacuum pass,
         * so vacuum can move past its snapshot, and is rolled back with a {@link
         * TransactionException} naming its age and the bound at its next operation or commit
         * (also a read that raced the release). Off by default. Each transaction then reads the
         * clock once when it begins ({@code System.nanoTime}). Snapshot views ({@link
         * Database#snapshot()}) are not bounded.
         *
         * @param age the longest a transaction may stay open, at least 1 ms
         * @return this builder
         * @throws NullPointerException if {@code age} is null
         * @throws IllegalArgumentException if {@code age} is shorter than 1 ms
         */
        public Builder<K, V> maxTransactionAge(Duration age) {
            Objects.requireNonNull(age, "maxTransactionAge");
            if (age.compareTo(Duration.ofMillis(1)) < 0) {
                throw new IllegalArgumentException("maxTransactionAge must be at least 1 ms, was " + age);
            }
            this.maxTransactionAge = age;
            return this;
        }

        /**
         * Whether each transaction records where it was begun (a stack trace, a few microseconds
         * per {@code begin()}), so that a leaked one is reported with its begin site. Leaks are
         * detected and released either way: a transaction that becomes unreachable while open
         * has its snapshot pin released by the next periodic refresh or vacuum pass after the
         * garbage collector clears it, and is counted ({@link Counters#leakedTransactions()})
         * and logged at WARNING on the {@code dev.varve} logger. Off by default.
         *
         * @param enabled true to record begin sites (and begin times, for {@link
         *     Database#openTransactions()})
         * @return this builder
         */
        public Builder<K, V> leakTracking(boolean enabled) {
            this.leakTracking = enabled;
            return this;
        }

        /**
         * Who hears of a failure in the background: a failed vacuum pass (background or a
         * committer's), a failed background checkpoint, the log's failure (after which it refuses
         * every commit). Each is delivered once, as it happens, on a daemon thread of the
         * database's ({@code varve-failure-listener}), never on the failing thread or under an
         * engine lock; an exception the listener throws is logged and dropped. {@link
         * Database#health()} reports the same failures when polled. None by default (the
         * failures are logged either way).
         *
         * @param listener the listener
         * @return this builder
         * @throws NullPointerException if {@code listener} is null
         */
        public Builder<K, V> failureListener(FailureListener listener) {
            this.failureListener = Objects.requireNonNull(listener, "failureListener");
            return this;
        }

        /**
         * Opens the database from the backup in {@code backup} ({@link Database#backup(Path)}),
         * using the codecs of the durability (a write-ahead log): {@link #open()} first verifies
         * the whole backup (its manifest checksum, every file's size and CRC32C, every record's
         * CRC, the entry counts and codec ids), then copies it into the log's directory, which
         * must be absent or empty, and opens that as usual. For an in-memory database use {@link
         * #restore(Path, Codec, Codec)}. A damaged or truncated backup fails {@code open()} with
         * {@code dev.varve.wal.CorruptLogException} naming the file and byte offset; nothing is
         * loaded then. Named maps come back at their first {@code openMap} with codecs, as after a
         * restart of a durable database. Needs {@code varve-wal} on the class or module path.
         *
         * @param backup the backup directory (read, never written)
         * @return this builder
         * @throws NullPointerException if {@code backup} is null
         */
        public Builder<K, V> restore(Path backup) {
            this.restoreFrom = Objects.requireNonNull(backup, "backup");
            this.restoreKeyCodec = null;
            this.restoreValueCodec = null;
            return this;
        }

        /**
         * Opens the database from the backup in {@code backup}, like {@link #restore(Path)}, with
         * the given codecs for the default map: needed to restore into memory (the default
         * durability), where they must have the ids the backup records. Later named maps of the
         * restored database, like its restored ones, are opened with codecs ({@code openMap(name,
         * keyCodec, valueCodec)}), as in a durable database.
         *
         * @param backup the backup directory (read, never written)
         * @param keyCodec the codec of the default map's keys
         * @param valueCodec the codec of the default map's values
         * @return this builder
         * @throws NullPointerException if an argument is null
         */
        public Builder<K, V> restore(Path backup, Codec<K> keyCodec, Codec<V> valueCodec) {
            this.restoreFrom = Objects.requireNonNull(backup, "backup");
            this.restoreKeyCodec = Objects.requireNonNull(keyCodec, "keyCodec");
            this.restoreValueCodec = Objects.requireNonNull(valueCodec, "valueCodec");
            return this;
        }

        /**
         * Opens the database: recovers from the log when durable, starts the background vacuum
         * if configured, and registers the MBean if {@link #jmx(boolean) jmx(true)}.
         *
         * @return the open database
         * @throws java.io.UncheckedIOException if the log cannot be read or written
         * @throws IllegalArgumentException if {@code jmx(true)} was set without a {@code name}
         * @throws IllegalStateException if the log is corrupt or already open, or if {@code
         *     jmx(true)} and an open database of the same name is registered (nothing is left
         *     open then); also if the backup to {@link #restore(Path) restore} is damaged or
         *     truncated, or has no codecs to restore into memory with
         * @throws UnsupportedOperationException if a backup is to be restored and {@code
         *     varve-wal} is not on the path
         */
        public Database<K, V> open() {
            if (jmx && name == null) {
                throw new IllegalArgumentException(
                        "jmx(true) needs a name(...): the MBean is named after the database");
            }
            Durability<K, V> opened = restoreFrom == null
                    ? durability
                    : dev.varve.spi.BackupFormat.find()
                            .restore(restoreFrom, durability, restoreKeyCodec, restoreValueCodec);
            return new Database<>(new Options<>(
                    comparator,
                    opened,
                    autoVacuum,
                    maxAttempts,
                    initialBackoff.toNanos(),
                    maxBackoff.toNanos(),
                    maxRetainedSsiRecords,
                    name,
                    jmx,
                    maxTransactionAge == null ? 0 : maxTransactionAge.toNanos(),
                    leakTracking,
                    failureListener,
                    retainHistory == null ? 0 : retainHistory.toMillis()));
        }
    }

    /** The immutable options a database was opened with. */
    private record Options<K, V>(
            Comparator<? super K> comparator,
            Durability<K, V> durability,
            Duration autoVacuum,
            int maxAttempts,
            long initialBackoffNanos,
            long maxBackoffNanos,
            int maxRetainedSsiRecords,
            String name,
            boolean jmx,
            long maxTransactionAgeNanos,
            boolean leakTracking,
            FailureListener failureListener,
            long retainHistoryMillis) {}

    /** What failed in the background (see {@link Builder#failureListener}). */
    public enum FailureKind {
        /** The commit log failed: it refuses every commit until the database is reopened. */
        LOG,
        /** A background checkpoint failed (retried at the next trigger; several in a row fail the log). */
        CHECKPOINT,
        /** A vacuum pass failed (the next one runs as scheduled). */
        VACUUM
    }

    /** Hears of failures in the background (see {@link Builder#failureListener}). */
    @FunctionalInterface
    public interface FailureListener {
        /**
         * Called once per failure, on the database's listener thread.
         *
         * @param kind what failed
         * @param failure why
         */
        void failed(FailureKind kind, Throwable failure);
    }

    // ---- transactions -----------------------------------------------------------------------

    /**
     * Begins a {@link Isolation#SERIALIZABLE} transaction; its snapshot is taken now.
     *
     * @return the transaction; use it in try-with-resources
     * @throws IllegalStateException if the database is closed
     */
    public Transaction<K, V> begin() {
        return begin(Isolation.SERIALIZABLE);
    }

    /**
     * Begins a transaction at {@code isolation}; its snapshot is taken now.
     *
     * @param isolation the isolation level
     * @return the transaction; use it in try-with-resources
     * @throws NullPointerException if {@code isolation} is null
     * @throws IllegalStateException if the database is closed
     */
    public Transaction<K, V> begin(Isolation isolation) {
        Objects.requireNonNull(isolation, "isolation");
        store.checkOpen();
        return new Transaction<>(commits, isolation, false);
    }

    /**
     * Runs {@code work} in a {@link Isolation#SERIALIZABLE} transaction and commits it; on {@link
     * SerializationFailureException} runs it again from a new snapshot, after a backoff with
     * jitter, up to the configured number of attempts. {@code work} may run several times, so it
     * must have no effects outside the transaction. If {@code work} commits or rolls back itself,
     * its result is returned as is.
     *
     * @param work the transaction body
     * @param <R> result type
     * @return what {@code work} returned in the attempt that committed
     * @throws SerializationFailureException the last failure, with {@link
     *     SerializationFailureException#attempts()}, when every attempt failed (or the thread was
     *     interrupted while backing off; the interrupt status is kept)
     * @throws RuntimeException whatever {@code work} threw (the transaction is rolled back,
     *     nothing is retried)
     * @throws IllegalStateException if the database is closed
     */
    public <R> R transact(Function<? super Transaction<K, V>, ? extends R> work) {
        return transact(Isolation.SERIALIZABLE, work);
    }

    /**
     * Like {@link #transact(Function)} at the given isolation level.
     *
     * @param isolation the isolation level
     * @param work the transaction body
     * @param <R> result type
     * @return what {@code work} returned in the attempt that committed
     * @throws SerializationFailureException see {@link #transact(Function)}
     * @throws RuntimeException whatever {@code work} threw
     * @throws IllegalStateException if the database is closed
     */
    public <R> R transact(Isolation isolation, Function<? super Transaction<K, V>, ? extends R> work) {
        Objects.requireNonNull(work, "work");
        return call(defaultRetry, isolation, work::apply);
    }

    /**
     * Like {@link #transact(Function)}, retrying as {@code retry} says instead of as the database
     * was configured.
     *
     * @param retry the retry policy for this call
     * @param isolation the isolation level
     * @param work the transaction body
     * @param <R> result type
     * @return what {@code work} returned in the attempt that committed
     * @throws NullPointerException if an argument is null
     * @throws SerializationFailureException see {@link #transact(Function)}
     * @throws RuntimeException whatever {@code work} threw
     * @throws IllegalStateException if the database is closed
     */
    public <R> R transact(
            RetryPolicy retry, Isolation isolation, Function<? super Transaction<K, V>, ? extends R> work) {
        Objects.requireNonNull(work, "work");
        return call(retry, isolation, work::apply);
    }

    /**
     * {@link #transact(Function)} for a body that returns nothing: {@code db.run(tx -> tx.put(k,
     * v))}.
     *
     * @param work the transaction body
     * @throws NullPointerException if {@code work} is null
     * @throws SerializationFailureException see {@link #transact(Function)}
     * @throws RuntimeException whatever {@code work} threw
     * @throws IllegalStateException if the database is closed
     */
    public void run(Consumer<? super Transaction<K, V>> work) {
        run(Isolation.SERIALIZABLE, work);
    }

    /**
     * {@link #run(Consumer)} at the given isolation level.
     *
     * @param isolation the isolation level
     * @param work the transaction body
     * @throws NullPointerException if an argument is null
     * @throws SerializationFailureException see {@link #transact(Function)}
     * @throws RuntimeException whatever {@code work} threw
     * @throws IllegalStateException if the database is closed
     */
    public void run(Isolation isolation, Consumer<? super Transaction<K, V>> work) {
        Objects.requireNonNull(work, "work");
        call(defaultRetry, isolation, tx -> {
            work.accept(tx);
            return null;
        });
    }

    /**
     * {@link #transact(Function)} for a body that may throw a checked exception, which is
     * rethrown as it is (not wrapped), after the transaction is rolled back; it is not retried.
     *
     * @param work the transaction body
     * @param <R> result type
     * @param <X> the checked exception {@code work} may throw
     * @return what {@code work} returned in the attempt that committed
     * @throws X what {@code work} threw
     * @throws NullPointerException if {@code work} is null
     * @throws SerializationFailureException see {@link #transact(Function)}
     * @throws IllegalStateException if the database is closed
     */
    public <R, X extends Exception> R call(TransactionBody<K, V, ? extends R, X> work) throws X {
        return call(defaultRetry, Isolation.SERIALIZABLE, work);
    }

    /**
     * {@link #call(TransactionBody)} with a retry policy and an isolation level: the form every
     * other {@code transact}, {@code run} and {@code call} method runs through.
     *
     * @param retry the retry policy for this call
     * @param isolation the isolation level
     * @param work the transaction body
     * @param <R> result type
     * @param <X> the checked exception {@code work} may throw
     * @return what {@code work} returned in the attempt that committed
     * @throws X what {@code work} threw (the transaction is rolled back, nothing is retried)
     * @throws NullPointerException if an argument is null
     * @throws SerializationFailureException the last failure, with {@link
     *     SerializationFailureException#attempts()}, when every attempt failed (or the thread was
     *     interrupted while backing off; the interrupt status is kept)
     * @throws IllegalStateException if the database is closed
     */
    public <R, X extends Exception> R call(
            RetryPolicy retry, Isolation isolation, TransactionBody<K, V, ? extends R, X> work) throws X {
        Objects.requireNonNull(retry, "retry");
        Objects.requireNonNull(isolation, "isolation");
        Objects.requireNonNull(work, "work");
        for (int attempt = 1; ; attempt++) {
            try (Transaction<K, V> tx = begin(isolation)) {
                R result = work.apply(tx);
                if (tx.isActive()) {
                    tx.commit();
                }
                return result;
            } catch (SerializationFailureException e) {
                if (attempt >= retry.maxAttempts()) {
                    throw e.afterAttempts(attempt);
                }
                LockSupport.parkNanos(retry.backoffNanos(attempt));
                if (Thread.currentThread().isInterrupted()) {
                    throw e.afterAttempts(attempt);
                }
            }
        }
    }

    /**
     * Runs {@link #transact(Function)} asynchronously: {@code work} runs on {@code executor}, the
     * commit waits for durability without blocking a thread, and retries are scheduled after
     * their backoff instead of sleeping.
     *
     * @param work the transaction body, run on {@code executor}
     * @param executor where {@code work} runs
     * @param <R> result type
     * @return a future of the result, completed on {@code executor}; completed exceptionally
     *     with the last {@link SerializationFailureException} (after all attempts), with what
     *     {@code work} threw, with {@link IllegalStateException} if the database closed, or, if
     *     {@code executor} rejects a hand-off (an attempt, or the completion), on the rejecting
     *     thread with a {@link TransactionException} whose message says whether the transaction
     *     committed ("the transaction committed, ..." or "the transaction did not commit: ...")
     * @throws NullPointerException if an argument is null
     */
    public <R> CompletableFuture<R> transactAsync(
            Function<? super Transaction<K, V>, ? extends R> work, Executor executor) {
        return transactAsync(Isolation.SERIALIZABLE, work, executor);
    }

    /**
     * Like {@link #transactAsync(Function, Executor)} at the given isolation level.
     *
     * @param isolation the isolation level
     * @param work the transaction body, run on {@code executor}
     * @param executor where {@code work} runs
     * @param <R> result type
     * @return a future of the result (see {@link #transactAsync(Function, Executor)})
     * @throws NullPointerException if an argument is null
     */
    public <R> CompletableFuture<R> transactAsync(
            Isolation isolation, Function<? super Transaction<K, V>, ? extends R> work, Executor executor) {
        Objects.requireNonNull(isolation, "isolation");
        Objects.requireNonNull(work, "work");
        Objects.requireNonNull(executor, "executor");
        CompletableFuture<R> result = new CompletableFuture<>();
        attemptAsync(isolation, work, executor, 0, 1, result);
        return result;
    }

    private <R> void attemptAsync(
            Isolation isolation,
            Function<? super Transaction<K, V>, ? extends R> work,
            Executor executor,
            long delayNanos,
            int attempt,
            CompletableFuture<R> result) {
        // Every hand-off to the caller's executor may be rejected; each rejection completes the
        // result, saying whether the transaction committed, so the future never hangs.
        Executor startOn = task -> {
            try {
                executor.execute(task);
            } catch (RejectedExecutionException rejected) {
                result.completeExceptionally(new TransactionException(
                        "the transaction did not commit: the executor" + " rejected attempt " + attempt, rejected));
            }
        };
        Executor start =
                delayNanos > 0 ? CompletableFuture.delayedExecutor(delayNanos, TimeUnit.NANOSECONDS, startOn) : startOn;
        CompletableFuture.supplyAsync(
                        () -> {
                            Transaction<K, V> tx = begin(isolation);
                            try {
                                R value = work.apply(tx);
                                if (!tx.isActive()) {
                                    return CompletableFuture.<R>completedFuture(value);
                                }
                                return tx.commitAsync().thenApply(ts -> value);
                            } finally {
                                tx.close(); // no-op once committed; rolls back if work threw
                            }
                        },
                        start)
                .thenCompose(f -> f)
                .whenComplete((value, failure) -> {
                    try {
                        // The result completes on the caller's executor, never on the log's threads.
                        executor.execute(
                                () -> settleAttempt(isolation, work, executor, attempt, result, value, failure));
                    } catch (RejectedExecutionException rejected) {
                        if (failure == null) {
                            result.completeExceptionally(new TransactionException(
                                    "the transaction committed, but the executor rejected completing its future",
                                    rejected));
                        } else {
                            TransactionException e = new TransactionException(
                                    "the transaction did not commit: " + unwrap(failure)
                                            + "; and the executor rejected completing its future",
                                    unwrap(failure));
                            e.addSuppressed(rejected);
                            result.completeExceptionally(e);
                        }
                    }
                });
    }

    private <R> void settleAttempt(
            Isolation isolation,
            Function<? super Transaction<K, V>, ? extends R> work,
            Executor executor,
            int attempt,
            CompletableFuture<R> result,
            R value,
            Throwable failure) {
        if (failure == null) {
            result.complete(value);
            return;
        }
        Throwable cause = unwrap(failure);
        if (cause instanceof SerializationFailureException) {
            SerializationFailureException sfe = (SerializationFailureException) cause;
            if (attempt >= options.maxAttempts || store.isClosed()) {
                result.completeExceptionally(sfe.afterAttempts(attempt));
            } else {
                attemptAsync(isolation, work, executor, defaultRetry.backoffNanos(attempt), attempt + 1, result);
            }
        } else {
            result.completeExceptionally(cause);
        }
    }

    private static Throwable unwrap(Throwable failure) {
        return failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    }

    /** Full-jitter exponential backoff before attempt {@code attempt + 1}, in ns. */
    /**
     * The backoff bound before attempt {@code attempt + 1}: {@code min(max, initial * 2^(attempt-1))}
     * without overflow; 0 when {@code initial} is 0.
     */
    static long backoffBound(long initialNanos, long maxNanos, int attempt) {
        int shift = Math.min(attempt - 1, 62);
        return initialNanos > (maxNanos >>> shift) ? maxNanos : initialNanos << shift;
    }

    // ---- autocommit operations ----------------------------------------------------------------

    /**
     * The latest committed value of {@code key}. Takes no snapshot pin, tracks nothing, never
     * aborts.
     *
     * @param key the key
     * @return the value, or {@code null} if absent
     * @throws NullPointerException if {@code key} is null
     * @throws ClassCastException if {@code key} cannot be compared with the database's keys
     * @throws IllegalStateException if the database is closed
     */
    public V get(K key) {
        return ops.get(key);
    }

    /**
     * Whether {@code key} has a committed value now.
     *
     * @param key the key
     * @return true if {@link #get} would return a value
     * @throws NullPointerException if {@code key} is null
     * @throws ClassCastException if {@code key} cannot be compared with the database's keys
     * @throws IllegalStateException if the database is closed
     */
    public boolean containsKey(K key) {
        return ops.containsKey(key);
    }

    /**
     * Sets {@code key} to {@code value} in a transaction of its own, and waits until it is as
     * durable as configured. Never aborts.
     *
     * @param key the key
     * @param value the value
     * @return the previous value, or {@code null} if absent
     * @throws NullPointerException if {@code key} or {@code value} is null
     * @throws ClassCastException if {@code key} cannot be compared with the database's keys
     * @throws TransactionException if the commit log failed (see {@link Transaction#commit()})
     * @throws IllegalStateException if the database is closed or read-only after a log failure
     */
    public V put(K key, V value) {
        return ops.put(key, value);
    }

    /**
     * Removes {@code key} in a transaction of its own (see {@link #put}).
     *
     * @param key the key
     * @return the removed value, or {@code null} if it was absent (then nothing is written)
     * @throws NullPointerException if {@code key} is null
     * @throws ClassCastException if {@code key} cannot be compared with the database's keys
     * @throws TransactionException if the commit log failed
     * @throws IllegalStateException if the database is closed or read-only after a log failure
     */
    public V remove(K key) {
        return ops.remove(key);
    }

    /**
     * Sets {@code key} to {@code value} only if it is absent, atomically.
     *
     * @param key the key
     * @param value the value
     * @return the existing value (and nothing was written), or {@code null} if {@code value} was
     *     stored
     * @throws NullPointerException if {@code key} or {@code value} is null
     * @throws ClassCastException if {@code key} cannot be compared with the database's keys
     * @throws TransactionException if the commit log failed
     * @throws IllegalStateException if the database is closed or read-only after a log failure
     */
    public V putIfAbsent(K key, V value) {
        return ops.putIfAbsent(key, value);
    }

    /**
     * Sets {@code key} to {@code value} only if it is present, atomically.
     *
     * @param key the key
     * @param value the new value
     * @return the previous value, or {@code null} if the key was absent (nothing was written)
     * @throws NullPointerException if {@code key} or {@code value} is null
     * @throws ClassCastException if {@code key} cannot be compared with the database's keys
     * @throws TransactionException if the commit log failed
     * @throws IllegalStateException if the database is closed or read-only after a log failure
     */
    public V replace(K key, V value) {
        return ops.replace(key, value);
    }

    /**
     * Sets {@code key} to {@code newValue} only if its value equals {@code expected}, atomically
     * (compare-and-set).
     *
     * @param key the key
     * @param expected the value the key must have
     * @param newValue the new value
     * @return whether the value was replaced
     * @throws NullPointerException if any argument is null
     * @throws ClassCastException if {@code key} cannot be compared with the database's keys
     * @throws TransactionException if the commit log failed
     * @throws IllegalStateException if the database is closed or read-only after a log failure
     */
    public boolean replace(K key, V expected, V newValue) {
        return ops.replace(key, expected, newValue);
    }

    /**
     * Removes {@code key} only if its value equals {@code expected}, atomically.
     *
     * @param key the key
     * @param expected the value the key must have
     * @return whether the key was removed
     * @throws NullPointerException if {@code key} or {@code expected} is null
     * @throws ClassCastException if {@code key} cannot be compared with the database's keys
     * @throws TransactionException if the commit log failed
     * @throws IllegalStateException if the database is closed or read-only after a log failure
     */
    public boolean remove(K key, V expected) {
        return ops.remove(key, expected);
    }

    /**
     * Replaces the value of {@code key} with {@code update.apply(current)} atomically, in a
     * transaction of its own that never aborts; {@code update} receives {@code null} when the key
     * is absent and may return {@code null} to remove it. {@code update} runs once, while the key
     * is latched: other writers of this key wait until it returns, so keep it short, and do not
     * write to this database from it (a write to the same key would wait for itself).
     *
     * @param key the key
     * @param update computes the new value from the current one
     * @return the new value, or {@code null} if the key is now absent
     * @throws NullPointerException if {@code key} or {@code update} is null
     * @throws ClassCastException if {@code key} cannot be compared with the database's keys
     * @throws TransactionException if the commit log failed
     * @throws IllegalStateException if the database is closed or read-only after a log failure
     */
    public V compute(K key, UnaryOperator<V> update) {
        return ops.compute(key, update);
    }

    // ---- named maps ----------------------------------------------------------------------------

    /*
     * Named maps share everything but their index with the default map (MapIndex's notes): the
     * commit clock, the visible timestamp, the commit lock and its protocol, the snapshot pins,
     * the conflict graph and the log. A commit's writes to any number of maps are latched map by
     * map in id order (CommitProtocol L1 then holds over (map id, key)), validated together,
     * stamped with one commit timestamp and published by one visibleTs write.
     */

    /**
     * Opens the named map {@code name} of an in-memory database with its keys' natural ordering,
     * creating it (empty) if there is none of that name. See {@link #openMap(String, Comparator)}.
     *
     * @param name the map's name (not empty)
     * @param <K2> the map's key type (naturally ordered)
     * @param <V2> the map's value type
     * @return a handle to the map
     * @throws NullPointerException if {@code name} is null
     * @throws IllegalArgumentException if {@code name} is empty, the map exists with a comparator,
     *     or the database is durable (its maps need codecs: {@link #openMap(String, Codec, Codec)})
     * @throws IllegalStateException if the database is closed
     */
    public <K2 extends Comparable<? super K2>, V2> NamedMap<K2, V2> openMap(String name) {
        return open(name, null, null, null);
    }

    /**
     * Opens the named map {@code name} of an in-memory database ordered by {@code comparator},
     * creating it (empty) if there is none of that name. A database holds any number of named
     * maps beside its default map (the keys of {@code Database}'s own methods), each with its own
     * key and value types and order; one transaction reads and writes any of them ({@link
     * Transaction#map(NamedMap)}) and commits them atomically, and a snapshot reads them all at
     * one timestamp ({@link Snapshot#map(NamedMap)}). Opening an existing map again returns a new
     * handle to the same map; its comparator must be the one it was created with (the same
     * instance, or one that {@code equals} it: keep the comparator in a constant, since two
     * lambdas written in two places are never equal). The key
     * and value types are not known at run time: opening a map with other types than it holds
     * fails later, with a ClassCastException (a durable map's codec ids are checked instead).
     *
     * <p>Thread-safe; opens and drops are serialized, and take the commit lock briefly.
     *
     * @param name the map's name (not empty)
     * @param comparator the key order
     * @param <K2> the map's key type
     * @param <V2> the map's value type
     * @return a handle to the map
     * @throws NullPointerException if {@code name} or {@code comparator} is null
     * @throws IllegalArgumentException if {@code name} is empty, the map exists with natural
     *     ordering or another comparator (the message says which), or the database is durable
     * @throws IllegalStateException if the database is closed
     */
    public <K2, V2> NamedMap<K2, V2> openMap(String name, Comparator<? super K2> comparator) {
        Objects.requireNonNull(comparator, "comparator");
        return open(name, comparator, null, null);
    }

    /**
     * Opens the named map {@code name} with its keys' natural ordering and the codecs a durable
     * database writes it to its log with; see {@link #openMap(String, Comparator, Codec, Codec)}.
     *
     * @param name the map's name (not empty)
     * @param keyCodec the codec of its keys
     * @param valueCodec the codec of its values
     * @param <K2> the map's key type (naturally ordered)
     * @param <V2> the map's value type
     * @return a handle to the map
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException as {@link #openMap(String, Comparator, Codec, Codec)}
     * @throws IllegalStateException if the database is closed
     * @throws java.io.UncheckedIOException if the log could not record a new map
     */
    public <K2 extends Comparable<? super K2>, V2> NamedMap<K2, V2> openMap(
            String name, Codec<K2> keyCodec, Codec<V2> valueCodec) {
        Objects.requireNonNull(keyCodec, "keyCodec");
        Objects.requireNonNull(valueCodec, "valueCodec");
        return open(name, null, keyCodec, valueCodec);
    }

    /**
     * Opens the named map {@code name}, ordered by {@code comparator}, with the codecs a durable
     * database writes it to its log with (an in-memory database only checks them on a reopen).
     * In a durable database the log records the map's name, its codecs' {@link Codec#id() ids}
     * and its order when the map is created, and its writes, atomically with every other map's in
     * the same commit; after a restart, the first {@code openMap} of the name gets the map's
     * recovered state. Opening it with codecs or an order other than those it was created with
     * is refused, with a message that names the map, what the log holds and what was given (an
     * undeclared codec id, "", is not compared; see {@link
     * dev.varve.spi.MapDefinition#comparatorId}).
     *
     * @param name the map's name (not empty)
     * @param comparator the key order
     * @param keyCodec the codec of its keys
     * @param valueCodec the codec of its values
     * @param <K2> the map's key type
     * @param <V2> the map's value type
     * @return a handle to the map
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code name} is empty, or the map exists with another
     *     order or other codecs, or its recovered bytes do not decode with these codecs
     * @throws IllegalStateException if the database is closed
     * @throws java.io.UncheckedIOException if the log could not record a new map
     */
    public <K2, V2> NamedMap<K2, V2> openMap(
            String name, Comparator<? super K2> comparator, Codec<K2> keyCodec, Codec<V2> valueCodec) {
        Objects.requireNonNull(comparator, "comparator");
        Objects.requireNonNull(keyCodec, "keyCodec");
        Objects.requireNonNull(valueCodec, "valueCodec");
        return open(name, comparator, keyCodec, valueCodec);
    }

    private boolean inMemory() {
        return store.log() instanceof dev.varve.internal.mvcc.InMemoryLog;
    }

    private <K2, V2> NamedMap<K2, V2> open(
            String name, Comparator<? super K2> comparator, Codec<K2> keyCodec, Codec<V2> valueCodec) {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("a map name must not be empty");
        }
        store.checkOpen();
        boolean durable = !inMemory();
        if (durable && keyCodec == null) {
            throw new IllegalArgumentException("map '" + name + "': this database is durable (" + durability()
                    + "), so its maps need codecs: openMap(name, keyCodec, valueCodec)");
        }
        if (keyCodec != null) { // a round-trip check in debug mode (Codec#checked)
            keyCodec = Codec.checkedIfEnabled(keyCodec);
            valueCodec = Codec.checkedIfEnabled(valueCodec);
        }
        String keyId = keyCodec == null ? "" : keyCodec.id();
        String valueId = valueCodec == null ? "" : valueCodec.id();
        synchronized (mapCatalogLock) {
            @SuppressWarnings("unchecked")
            MapIndex<K2, V2> map = (MapIndex<K2, V2>) store.namedMap(name);
            if (map != null) {
                checkSameMap(map, comparator, keyId, valueId);
            } else if (durable) {
                dev.varve.spi.MapDefinition<K2, V2> definition =
                        new dev.varve.spi.MapDefinition<>(name, keyCodec, valueCodec, comparator);
                java.util.List<Object[]> recovered = new java.util.ArrayList<>();
                int id = store.log().openMap(definition, (ts, k, v) -> recovered.add(new Object[] {ts, k, v}));
                map = store.createMap(id, name, comparator, keyId, valueId, sink -> {
                    for (Object[] r : recovered) {
                        @SuppressWarnings("unchecked")
                        K2 k = (K2) r[1];
                        @SuppressWarnings("unchecked")
                        V2 v = (V2) r[2];
                        sink.replay((Long) r[0], k, v);
                    }
                });
            } else {
                map = store.createMap(store.nextMapId(), name, comparator, keyId, valueId, null);
            }
            if (keyCodec != null && !durable) {
                backupCodecs.put(map.id(), new Codec<?>[] {keyCodec, valueCodec});
            }
            return new NamedMap<>(this, new MapOps<>(commits, map), map);
        }
    }

    /** Refuses to reopen {@code map} with another order or other (declared) codecs than it has. */
    private static void checkSameMap(MapIndex<?, ?> map, Comparator<?> given, String keyId, String valueId) {
        Comparator<?> existing = map.userComparator();
        // Equal, not "of the same class": Comparator.comparing(...) returns one lambda class for
        // every key extractor, so the class says nothing about the order.
        boolean same = existing == null ? given == null : existing.equals(given);
        if (!same) {
            throw new IllegalArgumentException(map.describe() + " exists with " + describeOrder(existing)
                    + "; it cannot be opened with " + describeOrder(given));
        }
        if (differs(map.keyCodecId(), keyId) || differs(map.valueCodecId(), valueId)) {
            throw new IllegalArgumentException(map.describe() + " exists with key codec '" + map.keyCodecId()
                    + "' and value codec '" + map.valueCodecId() + "'; it cannot be opened with key codec '"
                    + keyId + "' and value codec '" + valueId + "'");
        }
    }

    /** Whether two codec ids are both declared and differ. */
    private static boolean differs(String a, String b) {
        return !a.isEmpty() && !b.isEmpty() && !a.equals(b);
    }

    private static String describeOrder(Comparator<?> comparator) {
        return comparator == null
                ? "natural ordering"
                : "comparator " + comparator.getClass().getName();
    }

    /**
     * The names of this database's named maps (not dropped), in ascending order; in a durable
     * database, also those its log holds that were not opened since it was reopened.
     *
     * @return a new sorted set of the names (later opens and drops do not change it)
     * @throws IllegalStateException if the database is closed
     */
    public NavigableSet<String> mapNames() {
        store.checkOpen();
        NavigableSet<String> names = store.mapNames();
        if (!inMemory()) {
            names.addAll(store.log().recordedMapNames()); // also those not opened since the restart
        }
        return names;
    }

    /**
     * Drops the named map {@code name} and everything in it (in a durable database, also a map
     * its log holds that was not opened since it was reopened). Not transactional: it takes effect
     * at once, for every transaction; in a durable database it is durable when this returns, and
     * never before the commits that preceded it (their records are forced first, also under
     * RELAXED). Afterwards every handle to the map, and every view of it in a
     * transaction or snapshot, throws {@link IllegalStateException} at its next use; a
     * transaction that wrote to it fails its commit with {@link IllegalStateException} (nothing of
     * it is committed). Opening the name again creates a new, empty map. Thread-safe; takes the
     * commit lock briefly.
     *
     * @param name the map's name
     * @return whether a map of that name existed
     * @throws NullPointerException if {@code name} is null
     * @throws IllegalStateException if the database is closed
     */
    public boolean dropMap(String name) {
        Objects.requireNonNull(name, "name");
        synchronized (mapCatalogLock) {
            MapIndex<?, ?> map = store.namedMap(name);
            if (map == null) {
                int recorded = inMemory() ? -1 : store.log().recordedMapId(name);
                if (recorded < 0) {
                    return false;
                }
                // Not opened since the restart: only the log holds it.
                store.log().dropMap(recorded, name, store.lastCommitTimestamp());
                return true;
            }
            if (!inMemory()) {
                // The log first: once the drop is durable recovery skips the map's records, so the
                // commits still writing it until the store's drop below are dropped with it; and
                // if the log cannot record it, nothing is dropped.
                store.log().dropMap(map.id(), name, store.lastCommitTimestamp());
            }
            return store.dropMap(name);
        }
    }

    /** Keys in every map's index (saturating at Integer.MAX_VALUE). */
    private int indexedKeys() {
        long n = 0;
        for (MapIndex<?, ?> map : store.maps()) {
            if (map != null) {
                n += map.index().size();
            }
        }
        return (int) Math.min(Integer.MAX_VALUE, n);
    }

    /** The store, for the handles of this database's maps. */
    Store<K, V> store() {
        return store;
    }

    // ---- snapshots, maintenance --------------------------------------------------------------

    /**
     * A read-only view of the latest committed state, frozen at this moment (see {@link
     * Snapshot}). Close it when done so vacuum can reclaim the versions it pins.
     *
     * @return the snapshot
     * @throws IllegalStateException if the database is closed
     */
    public Snapshot<K, V> snapshot() {
        store.checkOpen();
        return new SnapshotMap<>(new Transaction<>(commits, Isolation.SNAPSHOT, true));
    }

    /**
     * A read-only view of the latest committed state at the isolation level {@code isolation}
     * (see {@link Snapshot}). Close it when done so vacuum can reclaim the versions it pins.
     *
     * <p>{@link Isolation#SNAPSHOT} gives the same view as {@link #snapshot()}: one consistent
     * state, which a concurrent SERIALIZABLE transaction can still make non-serializable (the
     * read-only anomaly of Fekete, O'Neil and O'Neil, SIGMOD Record 2004: the view may show a
     * commit whose effects a concurrent transaction's commit later contradicts).
     *
     * <p>{@link Isolation#SERIALIZABLE} waits for a <em>safe snapshot</em> (Ports and Grittner,
     * "Serializable Snapshot Isolation in PostgreSQL", VLDB 2012, §4.2-4.3; PostgreSQL's {@code
     * SERIALIZABLE READ ONLY DEFERRABLE}): it takes a snapshot, then waits until every
     * SERIALIZABLE transaction that may write ({@link #begin(Isolation)}, not a snapshot) and was
     * open at that snapshot has committed or rolled back. If none of those committed with an
     * rw-antidependency to a commit the snapshot holds (it read a value that such a commit had
     * overwritten), the snapshot is safe and is returned; otherwise it is released and a fresh one
     * taken. The view then reads with no read set and never aborts, and what it shows is a state
     * of a serial order of every SERIALIZABLE transaction: it can see no serialization anomaly.
     * The wait is bounded by how long those transactions stay open (not by later ones, so a steady
     * stream of writers cannot starve it); a transaction left open holds it up, unless {@link
     * Builder#maxTransactionAge} expires it (the waiting caller releases expired transactions
     * itself, so this holds on an idle database too). Never call it while the calling thread
     * holds such a transaction open, begun before an unrelated commit: it would wait for itself.
     * With a log that makes commits visible only when durable, an unsafe snapshot is retaken only
     * once the commit that made it unsafe is visible. It polls: spins and yields briefly, then
     * parks from 1 µs doubling to 1 ms between checks; it holds no lock while it waits.
     * Thread-safe.
     *
     * @param isolation {@link Isolation#SNAPSHOT} or {@link Isolation#SERIALIZABLE}
     * @return the snapshot; for SERIALIZABLE, at a safe snapshot timestamp
     * @throws NullPointerException if {@code isolation} is null
     * @throws IllegalStateException if the database is closed, or closes while it waits
     * @throws TransactionException if the thread is interrupted while it waits (its interrupt
     *     status is set again), or the commit log failed before a commit it waits for was durable
     */
    public Snapshot<K, V> snapshot(Isolation isolation) {
        Objects.requireNonNull(isolation, "isolation");
        if (isolation == Isolation.SNAPSHOT) {
            return snapshot();
        }
        while (true) {
            store.checkOpen();
            Transaction<K, V> view = new Transaction<>(commits, Isolation.SERIALIZABLE, true);
            long pivot;
            try {
                pivot = store.awaitSafeSnapshot(view.snapshotTimestamp());
            } catch (RuntimeException | Error e) {
                view.close();
                throw e;
            }
            if (pivot < 0) {
                return new SnapshotMap<>(view);
            }
            view.close(); // unsafe: a fresh snapshot, once past the pivot (deferred visibility: D4)
            // NOTE: a pivot whose commit failed after its entry was recorded (SafeSnapshots S2:
            // spurious) is waited for until a later commit takes its timestamp, the log fails,
            // the store closes, or the caller is interrupted.
            commits.awaitVisible(pivot, "which made a snapshot unsafe");
        }
    }

    /**
     * A read-only view of every map as of the commit timestamp {@code commitTimestamp}: what a
     * snapshot taken just after that commit read (see {@link Snapshot}). Readable timestamps are
     * those at or above {@link Gauges#oldestReadableTimestamp()}: within the {@link
     * Builder#retainHistory history window}, or at or above a snapshot or transaction still open
     * (so a snapshot's own timestamp stays readable while it is open). Close it when done.
     *
     * @param commitTimestamp the commit timestamp to read as of, at most the visible one
     * @return the snapshot
     * @throws SnapshotTooOldException if vacuum may have reclaimed versions it would read; it
     *     names the oldest readable timestamp
     * @throws IllegalArgumentException if {@code commitTimestamp} is negative or above the newest
     *     visible commit
     * @throws IllegalStateException if the database is closed
     */
    public Snapshot<K, V> snapshotAt(long commitTimestamp) {
        store.checkOpen();
        long visible = store.visibleTs();
        if (commitTimestamp < 0 || commitTimestamp > visible) {
            throw new IllegalArgumentException(
                    "snapshotAt(" + commitTimestamp + "): the newest visible commit timestamp is " + visible);
        }
        return new SnapshotMap<>(new Transaction<>(commits, commitTimestamp));
    }

    /**
     * The newest commit timestamp at or before the wall-clock instant {@code instant}, at
     * millisecond resolution, for {@link #snapshotAt(long)}. Needs {@link Builder#retainHistory}.
     * Thread-safe.
     *
     * @param instant the instant
     * @return the commit timestamp (the visible one for an instant at or after the newest commit)
     * @throws NullPointerException if {@code instant} is null
     * @throws SnapshotTooOldException if the instant is before the retained history (or before
     *     the database opened)
     * @throws IllegalStateException if history is not retained, or the database is closed
     */
    public long timestampAt(java.time.Instant instant) {
        Objects.requireNonNull(instant, "instant");
        store.checkOpen();
        if (!store.retainsHistory()) {
            throw new IllegalStateException(
                    "timestampAt needs history: open the database with Database.builder().retainHistory(window)");
        }
        long ts = store.timestampAt(instant.toEpochMilli());
        if (ts < 0) {
            long oldest = store.pins().oldestReadable();
            throw new SnapshotTooOldException(
                    "instant " + instant + " is before the retained history; the oldest commit timestamp"
                            + " still available is " + oldest,
                    oldest,
                    oldest);
        }
        return ts;
    }

    // ---- the change feed ---------------------------------------------------------------------

    /**
     * A change feed of the default map's keys in [{@code fromKey}, {@code toKey}): see {@link
     * #watch(List, long, java.util.concurrent.Executor, int)}.
     *
     * @param fromKey the first key watched, or null for the map's first
     * @param toKey the key after the last one watched, or null for no end
     * @param afterTimestamp deliver the commits with a timestamp above it
     * @return a publisher; each subscriber gets its own stream
     * @throws SnapshotTooOldException if the commits after {@code afterTimestamp} are no longer retained
     * @throws IllegalArgumentException if {@code afterTimestamp} is negative or above the newest commit
     * @throws IllegalStateException if the database is closed
     */
    public java.util.concurrent.Flow.Publisher<CommitEvent<K, V>> watch(K fromKey, K toKey, long afterTimestamp) {
        return watchRanges(
                List.of(new ChangeFeed.Range(store.defaultMap(), fromKey, toKey)),
                false,
                afterTimestamp,
                null,
                ChangeFeed.DEFAULT_BUFFER);
    }

    /**
     * A change feed of the keys in [{@code fromKey}, {@code toKey}) of {@code map}: see {@link
     * #watch(List, long, java.util.concurrent.Executor, int)}.
     *
     * @param map the map
     * @param fromKey the first key watched, or null for the map's first
     * @param toKey the key after the last one watched, or null for no end
     * @param afterTimestamp deliver the commits with a timestamp above it
     * @param <K2> the map's key type
     * @param <V2> the map's value type
     * @return a publisher; each subscriber gets its own stream
     * @throws NullPointerException if {@code map} is null
     * @throws SnapshotTooOldException if the commits after {@code afterTimestamp} are no longer retained
     * @throws IllegalArgumentException if {@code map} belongs to another database, or {@code
     *     afterTimestamp} is negative or above the newest commit
     * @throws IllegalStateException if the map was dropped or the database is closed
     */
    public <K2, V2> java.util.concurrent.Flow.Publisher<CommitEvent<K2, V2>> watch(
            NamedMap<K2, V2> map, K2 fromKey, K2 toKey, long afterTimestamp) {
        return watchRanges(
                List.of(WatchRange.of(map, fromKey, toKey).range(this)),
                false,
                afterTimestamp,
                null,
                ChangeFeed.DEFAULT_BUFFER);
    }

    /**
     * A change feed of every key of {@code map}: see {@link #watch(List, long,
     * java.util.concurrent.Executor, int)}.
     *
     * @param map the map
     * @param afterTimestamp deliver the commits with a timestamp above it
     * @param <K2> the map's key type
     * @param <V2> the map's value type
     * @return a publisher; each subscriber gets its own stream
     * @throws NullPointerException if {@code map} is null
     * @throws SnapshotTooOldException if the commits after {@code afterTimestamp} are no longer retained
     * @throws IllegalArgumentException as {@link #watch(NamedMap, Object, Object, long)}
     * @throws IllegalStateException if the map was dropped or the database is closed
     */
    public <K2, V2> java.util.concurrent.Flow.Publisher<CommitEvent<K2, V2>> watch(
            NamedMap<K2, V2> map, long afterTimestamp) {
        return watch(map, null, null, afterTimestamp);
    }

    /**
     * A change feed of every map, present and future, whole: see {@link #watch(List, long,
     * java.util.concurrent.Executor, int)}. Each {@link Change#map()} names its map.
     *
     * @param afterTimestamp deliver the commits with a timestamp above it
     * @return a publisher; each subscriber gets its own stream
     * @throws SnapshotTooOldException if the commits after {@code afterTimestamp} are no longer retained
     * @throws IllegalArgumentException if {@code afterTimestamp} is negative or above the newest commit
     * @throws IllegalStateException if the database is closed
     */
    public java.util.concurrent.Flow.Publisher<CommitEvent<Object, Object>> watchAll(long afterTimestamp) {
        return watchRanges(List.of(), true, afterTimestamp, null, ChangeFeed.DEFAULT_BUFFER);
    }

    /**
     * A change feed: for each committed transaction with a commit timestamp above {@code
     * afterTimestamp} that wrote a key in any of {@code ranges}, one {@link CommitEvent} with its
     * commit timestamp and all of its writes in those ranges (in every map they cover), in
     * commit-timestamp order, each commit exactly once and never a part of one. A commit that
     * wrote only outside the ranges yields no event.
     *
     * <p><b>Cold, per subscriber.</b> Each {@code subscribe} starts its own stream from {@code
     * afterTimestamp} ({@link java.util.concurrent.Flow} rules: {@code onSubscribe} first, events
     * only as requested with {@code request(n)}); a subscriber subscribed twice is given two
     * independent streams (Flow rule 2.5 has it cancel the second). Commits already made after {@code
     * afterTimestamp} are replayed from the version chains first (on the database's own
     * threads, at the subscriber's pace: a replay waits while the buffer is full, and holds
     * back up to 65,536 live commits meanwhile, or {@code bufferCapacity} if larger, before it
     * fails as fallen behind), so <b>list-then-watch has no
     * gap</b>: read {@link #snapshot()}, then watch from its {@link
     * Snapshot#snapshotTimestamp()}, keeping the snapshot open until {@code subscribe} returned
     * (an open snapshot keeps the versions the replay reads; so does {@link
     * Builder#retainHistory}). If they are no longer retained, {@code watch} throws {@link
     * SnapshotTooOldException}, or, if they are reclaimed between {@code watch} and {@code
     * subscribe}, the subscriber gets it as {@code onError}: never a silent gap.
     *
     * <p><b>Delivery</b> never runs in the commit critical section and never blocks a committer:
     * a dispatcher thread routes each commit once it is visible and as durable as an
     * acknowledged commit is in the log's mode, whether it is delivered live or replayed.
     * With {@code Wal}'s {@code FULL}: written and forced, so no crash or power loss takes back
     * a delivered commit (new snapshots may see the commit before its force, unless {@code
     * visibleOnlyWhenDurable} is set; its event waits for the force either way). With {@code RELAXED}: written to the log file but not yet forced, so a
     * delivered commit survives a crash of the process, but an OS crash or a power loss may
     * take back the last commits delivered (at most those of the last unforced interval), as it
     * takes them from the database. In memory: at once. Events go into a buffer of {@code
     * bufferCapacity} events per subscriber, delivered on {@code executor} (a {@link
     * java.util.concurrent.SubmissionPublisher} per subscriber). A subscriber whose buffer is
     * full is failed with {@link FellBehindException}, which gives the last timestamp it was
     * given, to resume from; it never makes the database hold more. When the database closes,
     * each subscriber receives the events already buffered, then {@code onComplete}. A commit
     * whose log write or force failed (its outcome is unknown) is never delivered: a failed
     * commit log fails every subscriber with a {@link TransactionException} that names the
     * commit it was waiting for. Thread-safe. Costs nothing while nobody watches.
     *
     * @param ranges the key ranges watched (at least one)
     * @param afterTimestamp deliver the commits with a timestamp above it
     * @param executor where events are delivered, or null for the database's own daemon threads
     *     (named {@code varve-watch-N}, stopped at close)
     * @param bufferCapacity events buffered per subscriber before it is failed as fallen
     *     behind; positive (rounded up to a power of two)
     * @return a publisher; each subscriber gets its own stream
     * @throws NullPointerException if {@code ranges} is or holds null
     * @throws SnapshotTooOldException if the commits after {@code afterTimestamp} are no longer retained
     * @throws IllegalArgumentException if {@code ranges} is empty or names another database's
     *     map, {@code bufferCapacity} is not positive, or {@code afterTimestamp} is negative or
     *     above the newest commit
     * @throws IllegalStateException if a map was dropped or the database is closed
     */
    public java.util.concurrent.Flow.Publisher<CommitEvent<Object, Object>> watch(
            List<WatchRange> ranges, long afterTimestamp, java.util.concurrent.Executor executor, int bufferCapacity) {
        Objects.requireNonNull(ranges, "ranges");
        if (ranges.isEmpty()) {
            throw new IllegalArgumentException("watch needs at least one range");
        }
        List<ChangeFeed.Range> internal = new java.util.ArrayList<>();
        for (WatchRange r : ranges) {
            internal.add(Objects.requireNonNull(r, "range").range(this));
        }
        return watchRanges(internal, false, afterTimestamp, executor, bufferCapacity);
    }

    private <E> java.util.concurrent.Flow.Publisher<E> watchRanges(
            List<ChangeFeed.Range> ranges,
            boolean everyMap,
            long afterTimestamp,
            java.util.concurrent.Executor executor,
            int bufferCapacity) {
        store.checkOpen();
        if (bufferCapacity < 1) {
            throw new IllegalArgumentException("bufferCapacity must be positive, got " + bufferCapacity);
        }
        long newest = store.lastCommitTimestamp();
        if (afterTimestamp < 0 || afterTimestamp > newest) {
            throw new IllegalArgumentException(
                    "watch after " + afterTimestamp + ": the newest commit timestamp is " + newest);
        }
        for (ChangeFeed.Range r : ranges) {
            r.map().checkNotDropped();
        }
        long oldest = store.pins().oldestReadable();
        if (afterTimestamp < oldest && afterTimestamp < store.visibleTs()) {
            throw new SnapshotTooOldException(afterTimestamp, oldest); // fail at once (etcd's "compacted")
        }
        return store.changeFeed()
                .publisher(new ChangeFeed.Spec(ranges, everyMap), afterTimestamp, executor, bufferCapacity);
    }

    /**
     * Reclaims versions no open transaction or snapshot can read, keys whose only version is an
     * old tombstone, and SSI records no open transaction overlaps. Runs concurrently with readers
     * and writers without blocking them.
     *
     * @return what was reclaimed
     * @throws IllegalStateException if the database is closed
     */
    public VacuumResult vacuum() {
        store.checkOpen();
        return store.vacuum();
    }

    /**
     * Writes a checkpoint of the current state to the commit log and drops the log segments it
     * covers; does nothing in memory.
     *
     * @throws java.io.UncheckedIOException if the checkpoint could not be written
     * @throws IllegalStateException if the database is closed or its log failed
     */
    public void checkpoint() {
        store.checkOpen();
        store.log().checkpoint();
    }

    /**
     * Writes a backup of a durable database (or of one restored into memory): a consistent image
     * of every map at one snapshot timestamp, written while readers and writers go on (the
     * snapshot is pinned, no lock is held while writing), with the codecs its log writes records
     * with. The directory {@code target} then holds a checkpoint and the map catalog in the log's
     * format, and a {@code MANIFEST} (format version, maps with their codec and comparator ids
     * and entry counts, the snapshot timestamp, each file's size and CRC32C), written last: a
     * directory without a {@code MANIFEST} is an unfinished backup, which restore refuses. Load it
     * with {@link Builder#restore(Path)}, or open a copy of it as a write-ahead log directory.
     *
     * <p>A named map opened, or dropped, while the backup runs may be in it or not (opening and
     * dropping maps is not transactional). Thread-safe; several backups may run at once, each
     * into its own directory.
     *
     * @param target the backup directory: absent (it is created, with its parents) or empty
     * @return what was written
     * @throws NullPointerException if {@code target} is null
     * @throws IllegalArgumentException if {@code target} is a file or a non-empty directory
     * @throws IllegalStateException if the database is closed, its log failed, or it is in memory
     *     (its default map has no codecs: use {@link #backup(Path, Codec, Codec)})
     * @throws UnsupportedOperationException if its log cannot write backups
     * @throws java.io.UncheckedIOException if writing failed (nothing complete-looking is left)
     */
    public Backup backup(Path target) {
        Objects.requireNonNull(target, "target");
        store.checkOpen();
        if (inMemory()) {
            throw new IllegalStateException("an in-memory database has no codecs for its default map:"
                    + " back it up with backup(dir, keyCodec, valueCodec)");
        }
        return store.log().backup(target);
    }

    /**
     * Writes a backup of an in-memory database, like {@link #backup(Path)}, encoding the default
     * map's keys and values with the given codecs and each named map with the codecs it was last
     * opened with ({@link #openMap(String, Codec, Codec)}). Needs {@code varve-wal} on the class or
     * module path (it writes the format). Restore it with {@link Builder#restore(Path, Codec,
     * Codec)}.
     *
     * @param target the backup directory: absent (it is created, with its parents) or empty
     * @param keyCodec the codec of the default map's keys
     * @param valueCodec the codec of the default map's values
     * @return what was written
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code target} is a file or a non-empty directory, or
     *     the database is durable (it writes with its log's codecs: use {@link #backup(Path)})
     * @throws IllegalStateException if the database is closed, or a named map was never opened
     *     with codecs (the message names it)
     * @throws UnsupportedOperationException if {@code varve-wal} is not on the path
     * @throws java.io.UncheckedIOException if writing failed (nothing complete-looking is left)
     */
    public Backup backup(Path target, Codec<K> keyCodec, Codec<V> valueCodec) {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(keyCodec, "keyCodec");
        Objects.requireNonNull(valueCodec, "valueCodec");
        store.checkOpen();
        if (!inMemory()) {
            throw new IllegalArgumentException("this database is durable (" + durability()
                    + ") and is backed up with its log's codecs: use backup(dir)");
        }
        for (dev.varve.internal.mvcc.MapIndex<?, ?> map : store.maps()) {
            if (map != null && map.id() != dev.varve.internal.mvcc.MapIndex.DEFAULT) {
                backupDefinition(map.id()); // refuse a map without codecs before writing anything
            }
        }
        return dev.varve.spi.BackupFormat.find().write(target, store, keyCodec, valueCodec, this::backupDefinition);
    }

    /** The definition of named map {@code id} for a backup in memory, or null if it was dropped. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private dev.varve.spi.MapDefinition<?, ?> backupDefinition(int id) {
        dev.varve.internal.mvcc.MapIndex<?, ?>[] maps = store.maps();
        dev.varve.internal.mvcc.MapIndex<?, ?> map = id < maps.length ? maps[id] : null;
        if (map == null) {
            return null; // dropped since
        }
        Codec<?>[] codecs = backupCodecs.get(id);
        if (codecs == null) {
            throw new IllegalStateException(map.describe() + " was opened without codecs, so it cannot be backed"
                    + " up: open it once with openMap(name, keyCodec, valueCodec) (or with a comparator) first");
        }
        return new dev.varve.spi.MapDefinition(map.name(), codecs[0], codecs[1], map.userComparator());
    }

    /**
     * The name given to the builder ({@link Builder#name(String)}).
     *
     * @return the name, or null if the database is unnamed
     */
    public String name() {
        return options.name;
    }

    /**
     * A description of how commits are kept, such as {@code "memory"}.
     *
     * @return the durability description
     */
    public String durability() {
        return options.durability.describe();
    }

    /**
     * Every statistic in one racy but cheap reading: the {@link #counters()} and {@link
     * #gauges()} of this moment, flattened, and the last vacuum failure.
     *
     * @return the current statistics
     * @throws IllegalStateException if the database is closed
     */
    public Stats stats() {
        store.checkOpen();
        long visible = store.visibleTs();
        long oldest = store.watermark();
        StoreCounters.Reading counted = store.counters().read();
        return new Stats(
                counted.commits() + counted.autocommitWrites(),
                counted.writeWriteAborts(),
                counted.dangerousStructureAborts(),
                visible,
                oldest,
                Duration.ofNanos(store.oldestSnapshotAgeNanos(oldest, visible)),
                store.pins().pinnedCount(),
                indexedKeys(),
                store.ssiRetainedRecords(),
                counted.vacuumRuns(),
                counted.reclaimedVersions(),
                counted.reclaimedKeys(),
                versions(),
                liveKeys(),
                lastVacuumFailure(counted),
                store.pins().oldestReadable());
    }

    /**
     * The monotonic counters: what happened since the database was opened. Subtract an earlier
     * reading with {@link Counters#minus} for an interval (as with Caffeine's {@code
     * CacheStats}). Thread-safe and cheap (no lock); each counter is exact, but a reading taken
     * while commits run is not one atomic cut across counters.
     *
     * @return the counters now
     * @throws IllegalStateException if the database is closed
     */
    public Counters counters() {
        store.checkOpen();
        StoreCounters.Reading counted = store.counters().read();
        return new Counters(
                counted.commits(),
                counted.readOnlyCommits() + store.pins().readOnlyCommits(),
                counted.autocommitWrites(),
                counted.writeWriteAborts(),
                counted.dangerousStructureAborts(),
                counted.vacuumRuns(),
                counted.reclaimedVersions(),
                counted.reclaimedKeys(),
                counted.leakedTransactions(),
                counted.expiredTransactions(),
                counted.reads() + store.pins().reads());
    }

    /**
     * What the database holds now. Thread-safe and cheap (no lock, no scan): {@code liveKeys} and
     * {@code versions} are exact between commits (off by the keys of commits in flight); {@code
     * oldestSnapshotAge} is as of the last watermark refresh (at most every 256 commits, or the
     * last vacuum pass).
     *
     * @return the gauges now
     * @throws IllegalStateException if the database is closed
     */
    public Gauges gauges() {
        store.checkOpen();
        long visible = store.visibleTs();
        long oldest = store.watermark();
        return new Gauges(
                visible,
                oldest,
                Duration.ofNanos(store.oldestSnapshotAgeNanos(oldest, visible)),
                store.pins().pinnedCount(),
                liveKeys(),
                versions(),
                indexedKeys(),
                store.ssiRetainedRecords(),
                store.pins().oldestReadable());
    }

    /**
     * What the commit log has written and forced since the database was opened: bytes, records,
     * forces (so the group size), checkpoints and force latencies. Thread-safe, cheap. All zero
     * for an in-memory database.
     *
     * @return the log's statistics now
     * @throws IllegalStateException if the database is closed
     */
    public LogStats logStats() {
        store.checkOpen();
        return store.log().stats();
    }

    /**
     * The transactions open now, the oldest snapshot first (snapshot views are counted by {@link
     * Gauges#openSnapshots()} but not listed). Thread-safe; weakly consistent with transactions
     * beginning and ending meanwhile; costs a scan of the pin registry.
     *
     * @return the open transactions
     * @throws IllegalStateException if the database is closed
     */
    public List<OpenTransaction> openTransactions() {
        store.checkOpen();
        List<OpenTransaction> open = new ArrayList<>();
        long now = System.nanoTime();
        store.pins().forEachOpen(pin -> {
            long began = pin.beginNanos();
            Throwable site = pin.begunAt();
            open.add(new OpenTransaction(
                    pin.snapshotTs(),
                    began == 0 ? null : Duration.ofNanos(now - began),
                    site == null ? null : List.of(site.getStackTrace())));
        });
        open.sort(Comparator.comparingLong(OpenTransaction::snapshotTimestamp));
        return open;
    }

    /**
     * One open transaction, as {@link Database#openTransactions()} lists it.
     *
     * @param snapshotTimestamp the snapshot timestamp it reads at (what it holds vacuum back to)
     * @param age how long it has been open; null unless {@link Builder#maxTransactionAge} or
     *     {@link Builder#leakTracking} is set (reading the clock at every begin costs)
     * @param begunAt where it was begun (the stack at {@code begin()}); null unless {@link
     *     Builder#leakTracking} is set
     */
    public record OpenTransaction(long snapshotTimestamp, Duration age, List<StackTraceElement> begunAt) {}

    /** Versions held by every map not dropped (MapIndex M4). */
    private long versions() {
        long n = 0;
        for (MapIndex<?, ?> map : store.maps()) {
            if (map != null) {
                n += map.versions();
            }
        }
        return n;
    }

    /** Live keys of every map not dropped (MapIndex M4). */
    private long liveKeys() {
        long n = 0;
        for (MapIndex<?, ?> map : store.maps()) {
            if (map != null) {
                n += map.liveKeys();
            }
        }
        return n;
    }

    /**
     * Monotonic counters of a database since it was opened (see {@link Database#counters()}).
     *
     * @param transactionCommits transactions committed that wrote something
     * @param readOnlyCommits transactions committed that wrote nothing (a {@link Snapshot} is not
     *     a transaction and is not counted)
     * @param autocommitWrites autocommit operations ({@code db.put}, {@code db.remove}, {@code
     *     compute}...) that wrote: each is a commit of its own
     * @param writeWriteAborts commits refused by first-committer-wins
     * @param dangerousStructureAborts commits refused by serializable snapshot isolation
     * @param vacuumRuns vacuum passes completed (on demand and background)
     * @param reclaimedVersions versions unlinked by vacuum and by committers pruning the chains
     *     they write, each counted once
     * @param reclaimedKeys keys vacuum removed from the index (their last version a tombstone)
     * @param leakedTransactions transactions that became unreachable while open, whose pins were
     *     released (see {@link Builder#leakTracking})
     * @param expiredTransactions transactions rolled back for outliving {@link
     *     Builder#maxTransactionAge}
     * @param reads point reads ({@code get}, {@code containsKey}) and entries scanned by
     *     transactions, added when each ends, and autocommit gets; a {@link Snapshot}'s reads are
     *     not counted (a snapshot may be read by several threads at once)
     */
    public record Counters(
            long transactionCommits,
            long readOnlyCommits,
            long autocommitWrites,
            long writeWriteAborts,
            long dangerousStructureAborts,
            long vacuumRuns,
            long reclaimedVersions,
            long reclaimedKeys,
            long leakedTransactions,
            long expiredTransactions,
            long reads) {

        /**
         * Every commit: transactions that wrote, transactions that did not, autocommit writes.
         *
         * @return the sum
         */
        public long commits() {
            return transactionCommits + readOnlyCommits + autocommitWrites;
        }

        /**
         * Every commit refused (by either rule).
         *
         * @return the sum
         */
        public long aborts() {
            return writeWriteAborts + dangerousStructureAborts;
        }

        /**
         * What was counted between {@code earlier} and this reading.
         *
         * @param earlier an earlier reading of the same database
         * @return this minus {@code earlier}, counter by counter
         * @throws NullPointerException if {@code earlier} is null
         */
        public Counters minus(Counters earlier) {
            return new Counters(
                    transactionCommits - earlier.transactionCommits,
                    readOnlyCommits - earlier.readOnlyCommits,
                    autocommitWrites - earlier.autocommitWrites,
                    writeWriteAborts - earlier.writeWriteAborts,
                    dangerousStructureAborts - earlier.dangerousStructureAborts,
                    vacuumRuns - earlier.vacuumRuns,
                    reclaimedVersions - earlier.reclaimedVersions,
                    reclaimedKeys - earlier.reclaimedKeys,
                    leakedTransactions - earlier.leakedTransactions,
                    expiredTransactions - earlier.expiredTransactions,
                    reads - earlier.reads);
        }
    }

    /**
     * What a database holds at one moment (see {@link Database#gauges()} for how current each
     * is).
     *
     * @param visibleTimestamp the newest commit timestamp visible to new snapshots
     * @param oldestSnapshotTimestamp the oldest snapshot timestamp an open transaction or
     *     snapshot reads at (the vacuum watermark); {@code visibleTimestamp} when none is open
     * @param oldestSnapshotAge how long that oldest snapshot has pinned old versions (a lower
     *     bound, as of the last watermark refresh); zero when none is older than the visible
     *     timestamp
     * @param openSnapshots open transactions and snapshots
     * @param liveKeys keys whose newest committed version is a value (not a tombstone), over
     *     every map not dropped
     * @param versions versions held in every version chain of every map not dropped (a settled
     *     value and a tombstone count one each): what vacuum has not reclaimed, because a snapshot
     *     may still read it or vacuum has not got to it
     * @param indexedKeys keys in the indexes of every map not dropped, tombstones not yet vacuumed
     *     included
     * @param ssiRecords committed-transaction records the SSI conflict graph keeps
     * @param oldestReadableTimestamp the oldest commit timestamp {@link Database#snapshotAt(long)}
     *     and a change feed's replay accept now (the retained horizon: with {@link
     *     Builder#retainHistory} the newest commit at the window's start, or older while an older
     *     snapshot is open); it only rises
     */
    public record Gauges(
            long visibleTimestamp,
            long oldestSnapshotTimestamp,
            Duration oldestSnapshotAge,
            int openSnapshots,
            long liveKeys,
            long versions,
            int indexedKeys,
            int ssiRecords,
            long oldestReadableTimestamp) {
        /**
         * What history and open snapshots cost: the versions held beyond each key's newest one
         * ({@code versions - indexedKeys}, at least 0; racy, as its parts).
         *
         * @return the older versions held
         */
        public long olderVersions() {
            return Math.max(0, versions - indexedKeys);
        }
    }

    /**
     * A reading of every statistic (see {@link Database#stats()}): the {@link Counters} and
     * {@link Gauges} flattened.
     *
     * @param commits commits that wrote so far: transactions and autocommit writes (read-only
     *     commits are in {@link Counters#readOnlyCommits()})
     * @param writeWriteAborts commits refused by first-committer-wins
     * @param dangerousStructureAborts commits refused by serializable snapshot isolation
     * @param visibleTimestamp the newest commit timestamp visible to new snapshots
     * @param oldestSnapshotTimestamp the oldest snapshot any open transaction or snapshot reads
     *     at (the vacuum watermark); equal to {@code visibleTimestamp} when none is open
     * @param oldestSnapshotAge how long that oldest snapshot has pinned old versions, as far as
     *     the last vacuum pass or watermark refresh saw (a lower bound); zero when none is older
     *     than the visible timestamp
     * @param openSnapshots open transactions and snapshots
     * @param indexedKeys keys in the indexes of every map (the default map and each named map not
     *     dropped), including those whose latest version is a tombstone
     *     not yet vacuumed
     * @param ssiRecords committed-transaction records the SSI conflict graph keeps (at most the
     *     configured {@code maxRetainedSsiRecords} plus one summary)
     * @param vacuumRuns vacuum passes so far (on demand and background)
     * @param reclaimedVersions versions unlinked so far by vacuum and by committers pruning the
     *     chains they write, each counted once
     * @param reclaimedKeys keys vacuum dropped from the index so far
     * @param retainedVersions versions held now (see {@link Gauges#versions()})
     * @param liveKeys keys with a live value now (see {@link Gauges#liveKeys()})
     * @param lastVacuumFailure the last exception the background vacuum thread (or, without one,
     *     a committer's vacuum pass) met, or null
     * @param oldestReadableTimestamp the retained horizon (see {@link Gauges#oldestReadableTimestamp()});
     *     {@code retainedVersions - indexedKeys} is what history and open snapshots cost in versions
     */
    public record Stats(
            long commits,
            long writeWriteAborts,
            long dangerousStructureAborts,
            long visibleTimestamp,
            long oldestSnapshotTimestamp,
            Duration oldestSnapshotAge,
            int openSnapshots,
            int indexedKeys,
            int ssiRecords,
            long vacuumRuns,
            long reclaimedVersions,
            long reclaimedKeys,
            long retainedVersions,
            long liveKeys,
            Throwable lastVacuumFailure,
            long oldestReadableTimestamp) {}

    /**
     * Whether the database is healthy, and if not why: the log's failure (it refuses every commit
     * from then on), the last failed background checkpoint (retried at the next trigger; the log
     * fails after several in a row), the last failed vacuum pass. A failure in a background thread
     * shows here at once, not only at the next commit. Thread-safe; cheap (no lock).
     *
     * @return the health
     */
    public Health health() {
        CommitLog<K, V> log = store.log();
        return new Health(
                store.isClosed(),
                log.failure(),
                log.checkpointFailure(),
                lastVacuumFailure(store.counters().read()));
    }

    /**
     * What {@link Database#health()} found.
     *
     * @param closed whether the database was closed
     * @param logFailure why the log refuses commits, or null while it accepts them
     * @param checkpointFailure the last failed background checkpoint since the last that
     *     succeeded, or null
     * @param vacuumFailure the last failed vacuum pass (background, or a committer's), or null
     */
    public record Health(boolean closed, Throwable logFailure, Throwable checkpointFailure, Throwable vacuumFailure) {
        /**
         * Whether the database is open and nothing failed.
         *
         * @return true if healthy
         */
        public boolean ok() {
            return !closed && logFailure == null && checkpointFailure == null && vacuumFailure == null;
        }
    }

    /** The background vacuum's last failure, or without one (or none yet) a committer pass's. */
    private Throwable lastVacuumFailure(StoreCounters.Reading counted) {
        Throwable background = vacuumScheduler == null ? null : vacuumScheduler.lastFailure();
        return background != null ? background : counted.committerVacuumFailure();
    }

    /**
     * Whether {@link #close()} was called.
     *
     * @return true once closed
     */
    public boolean isClosed() {
        return store.isClosed();
    }

    /**
     * Closes the database: unregisters its MBean, stops the background vacuum thread (waiting
     * for a running pass, at most 10 s), refuses every later operation, then flushes and closes
     * the commit log. Idempotent. Open transactions can no longer commit.
     *
     * @throws java.io.UncheckedIOException if the log's final flush failed
     */
    @Override
    public void close() {
        if (bean != null && !store.isClosed()) {
            bean.unregister();
        }
        closeEngine();
    }

    /** Closes the store, the vacuum thread and the log (once). */
    private void closeEngine() {
        if (!store.close()) {
            return;
        }
        if (vacuumScheduler != null) {
            vacuumScheduler.close();
        }
        try {
            store.log().close();
        } finally {
            try {
                store.closeChangeFeed(); // after the log: its last durable commits are delivered
            } finally {
                store.stopFailureListener(); // after the log's last failure: delivers what is queued, then exits
            }
        }
    }

    @Override
    public String toString() {
        return "Database[" + (options.name == null ? "" : options.name + ", ") + options.durability.describe()
                + (isClosed() ? ", closed" : "") + "]";
    }
}
