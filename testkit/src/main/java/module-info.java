// SPDX-License-Identifier: Apache-2.0

/**
 * Varve's testkit: a serializability checker for tests of applications built on Varve. Record a
 * workload's transactions with {@link dev.varve.testkit.HistoryRecorder}, or build a history with
 * {@link dev.varve.testkit.TxnRecord}, and {@link dev.varve.testkit.History#check()} says whether
 * it is serializable, printing a cycle of its direct serialization graph if not. Exports only
 * {@code dev.varve.testkit}.
 */
module dev.varve.testkit {
    requires transitive dev.varve.core;

    exports dev.varve.testkit;
}
