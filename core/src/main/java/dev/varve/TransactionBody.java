// SPDX-License-Identifier: Apache-2.0
package dev.varve;

/**
 * A transaction body that may throw a checked exception, for {@link Database#call}: what {@link
 * java.util.concurrent.Callable} is to {@link java.util.function.Supplier}.
 *
 * @param <K> the database's key type
 * @param <V> the database's value type
 * @param <R> the result type
 * @param <X> the checked exception the body may throw
 */
@FunctionalInterface
public interface TransactionBody<K, V, R, X extends Exception> {
    /**
     * Runs the body in {@code tx}.
     *
     * @param tx the transaction (valid during this call only)
     * @return the result
     * @throws X whatever the body throws; the transaction is then rolled back
     */
    R apply(Transaction<K, V> tx) throws X;
}
