// SPDX-License-Identifier: Apache-2.0

/**
 * The versioned index: a lock-free ordered map from keys to opaque index entries, and the key
 * ranges its cursors and map views are bounded by. It knows nothing of versions; what an entry
 * holds is {@code dev.varve.internal.mvcc}'s business.
 *
 * <p>Internal to Varve: not exported from {@code dev.varve.core}. The memory-ordering convention
 * is the one written in {@code dev.varve}'s package documentation.
 */
package dev.varve.internal.index;
