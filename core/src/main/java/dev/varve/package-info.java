// SPDX-License-Identifier: Apache-2.0

/**
 * Varve's public API: {@link dev.varve.Database}, {@link dev.varve.Transaction}, {@link
 * dev.varve.Snapshot}, {@link dev.varve.Isolation} and the failures {@link
 * dev.varve.TransactionException} / {@link dev.varve.SerializationFailureException}.
 *
 * <p><b>Nullness.</b> No method accepts {@code null} keys or values ({@link NullPointerException});
 * methods that can return {@code null} (absent keys) say so.
 *
 * <p><b>Consistency.</b> A transaction, a snapshot and every view and iterator derived from them
 * read one snapshot at one timestamp: iterators are neither weakly consistent nor fail-fast, they
 * are exact. Effects of a commit that returned happen-before every read in a snapshot taken
 * afterwards.
 *
 * <p><b>Memory-ordering convention (internals).</b> Fields shared between threads without a lock
 * are accessed through {@link java.lang.invoke.VarHandle}s wrapped in accessors named after their
 * mode: {@code getAcquire}/{@code setRelease} for publication (each release store names the
 * acquire load it pairs with), {@code cas...} for compare-and-set, {@code getVolatile}/{@code
 * setVolatile} where a store must be ordered with a later load (the pin/vacuum handshake).
 * Fields read and written only under the store's commit lock are plain. Linearization points
 * carry a trailing comment.
 */
package dev.varve;
