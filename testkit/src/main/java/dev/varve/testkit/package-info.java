// SPDX-License-Identifier: Apache-2.0

/**
 * A serializability checker for histories of Varve transactions: {@link
 * dev.varve.testkit.HistoryRecorder} records a workload through {@link
 * dev.varve.testkit.RecordedTransaction} wrappers, {@link dev.varve.testkit.TxnRecord} describes
 * one transaction by hand, {@link dev.varve.testkit.History#check()} builds the direct
 * serialization graph and returns a {@link dev.varve.testkit.CheckResult}: serializable, or a
 * cycle of {@link dev.varve.testkit.Dependency dependencies} and the {@link
 * dev.varve.testkit.Anomaly anomalies} found.
 *
 * <p><b>Source.</b> The graph and the phenomena are Adya's: A. Adya, B. Liskov, P. O'Neil,
 * "Generalized Isolation Level Definitions", ICDE 2000, and A. Adya, "Weak Consistency: A
 * Generalized Theory and Optimistic Implementations for Distributed Transactions", PhD thesis,
 * MIT, 1999 (the direct serialization graph, predicate dependencies, G0 to G2). A history is
 * serializable (PL-3) if its graph has no cycle and no committed transaction read an aborted or
 * intermediate write.
 *
 * <p><b>Nullness.</b> No method accepts {@code null} unless its documentation says so (scan bounds,
 * for an open end); keys and values, as in Varve, are never {@code null}.
 *
 * <p><b>Thread-safety.</b> {@link dev.varve.testkit.HistoryRecorder} and {@link
 * dev.varve.testkit.History} are thread-safe; a {@link dev.varve.testkit.RecordedTransaction}, like
 * the transaction it wraps, is used by one thread at a time, and a {@link
 * dev.varve.testkit.TxnRecord.Builder} by one thread; records and results are immutable.
 */
package dev.varve.testkit;
