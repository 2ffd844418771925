// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import java.util.List;

/**
 * A commit was refused because it would break the transaction's isolation level; running the
 * same transaction again, from a new snapshot, may succeed. {@link Database#transact} retries it
 * for you.
 *
 * <p>{@link #reason()} says which rule fired and {@link #keys()} which keys (or, for ranges, the
 * keys written into a range this transaction scanned) were involved.
 */
public final class SerializationFailureException extends TransactionException {
    private static final long serialVersionUID = 1L;

    /** Which rule refused the commit. */
    public enum Reason {
        /**
         * First-committer-wins: a key this transaction wrote has a version committed by another
         * transaction after this transaction's snapshot.
         */
        WRITE_WRITE_CONFLICT,
        /**
         * The commit would complete a dangerous structure T1 →rw T2 →rw T3 of rw-antidependencies
         * among concurrent SERIALIZABLE transactions in which T3 committed first (Cahill et al.,
         * SIGMOD 2008; Ports and Grittner, VLDB 2012, §3–4).
         */
        DANGEROUS_STRUCTURE
    }

    /** The rule that refused the commit. */
    private final Reason reason;

    private final transient List<?> keys;

    /** How many times the transaction was attempted; see {@link #attempts()}. */
    private final int attempts;

    /**
     * Creates the exception.
     *
     * @param reason which rule fired
     * @param keys the keys involved, in key order; copied
     * @param message the full explanation
     */
    public SerializationFailureException(Reason reason, List<?> keys, String message) {
        this(reason, keys, message, 1, null);
    }

    private SerializationFailureException(Reason reason, List<?> keys, String message, int attempts, Throwable cause) {
        super(message, cause);
        this.reason = reason;
        this.keys = List.copyOf(keys);
        this.attempts = attempts;
    }

    /**
     * The rule that refused the commit.
     *
     * @return the reason, never {@code null}
     */
    public Reason reason() {
        return reason;
    }

    /**
     * The keys involved in the conflict: the default map's as they are, a named map's shown as
     * {@code name:key} (use {@link #keys(Class)} and {@link #keys(NamedMap)} for typed lists).
     *
     * @return an unmodifiable list, possibly empty when the conflict was summarized
     */
    public List<?> keys() {
        return keys;
    }

    /**
     * The keys of the default map involved in the conflict, typed.
     *
     * @param keyType the database's key type
     * @param <K> the key type
     * @return an unmodifiable list in key order, possibly empty (also when every key involved is
     *     in a named map)
     * @throws NullPointerException if {@code keyType} is null
     * @throws ClassCastException if a key of the default map is not a {@code keyType}
     */
    public <K> List<K> keys(Class<K> keyType) {
        java.util.Objects.requireNonNull(keyType, "keyType");
        List<K> typed = new java.util.ArrayList<>();
        for (Object k : keys) {
            if (!(k instanceof dev.varve.internal.mvcc.MapKey)) {
                typed.add(keyType.cast(k));
            }
        }
        return List.copyOf(typed);
    }

    /**
     * The keys of the named map {@code map} involved in the conflict, typed by the map.
     *
     * @param map a handle of the map
     * @param <K> the map's key type
     * @return an unmodifiable list in key order, possibly empty
     * @throws NullPointerException if {@code map} is null
     */
    @SuppressWarnings("unchecked")
    public <K> List<K> keys(NamedMap<K, ?> map) {
        java.util.Objects.requireNonNull(map, "map");
        List<K> typed = new java.util.ArrayList<>();
        for (Object k : keys) {
            if (k instanceof dev.varve.internal.mvcc.MapKey mk && mk.map() == map.index()) {
                typed.add((K) mk.key()); // the map's index only ever holds K keys
            }
        }
        return List.copyOf(typed);
    }

    /**
     * How many times the transaction was attempted before this failure was thrown: 1 for a
     * single {@code commit()}, the attempt count when {@link Database#transact} gave up.
     *
     * @return the attempt count, at least 1
     */
    public int attempts() {
        return attempts;
    }

    /** The same failure, reported after {@code attempts} tries by a retrying helper. */
    SerializationFailureException afterAttempts(int attempts) {
        return new SerializationFailureException(
                reason, keys, "gave up after " + attempts + " attempts; last failure: " + getMessage(), attempts, this);
    }
}
