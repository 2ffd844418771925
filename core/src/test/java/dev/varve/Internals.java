// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import dev.varve.internal.mvcc.Store;
import dev.varve.internal.mvcc.TxState;

/** White-box access for the engine's tests in other packages: what a transaction runs on. */
@SuppressWarnings("exports") // test code: returns engine types of non-exported packages
public final class Internals {
    private Internals() {}

    /**
     * The store behind a transaction.
     *
     * @param tx the transaction
     * @param <K> key type
     * @param <V> value type
     * @return its store
     */
    public static <K, V> Store<K, V> store(Transaction<K, V> tx) {
        return tx.store();
    }

    /**
     * The store behind a database (through a transaction that is rolled back at once).
     *
     * @param db the database
     * @param <K> key type
     * @param <V> value type
     * @return its store
     */
    public static <K, V> Store<K, V> store(Database<K, V> db) {
        try (Transaction<K, V> tx = db.begin(Isolation.SNAPSHOT)) {
            return tx.store();
        }
    }

    /**
     * The engine's state of a transaction.
     *
     * @param tx the transaction
     * @param <K> key type
     * @param <V> value type
     * @return its state
     */
    public static <K, V> TxState<K, V> core(Transaction<K, V> tx) {
        return tx.core();
    }
}
