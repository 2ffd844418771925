// SPDX-License-Identifier: Apache-2.0

/**
 * Multi-version concurrency control over the versioned index: the version chain of each key, the
 * read and write sets of transactions, snapshot pins, and the hooks tests pause at.
 *
 * <p>Internal to Varve: not exported from {@code dev.varve.core}; nothing here calls into the
 * public API types of {@code dev.varve}. The memory-ordering convention is the one written in
 * {@code dev.varve}'s package documentation.
 */
package dev.varve.internal.mvcc;
