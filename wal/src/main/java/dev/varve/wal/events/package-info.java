// SPDX-License-Identifier: Apache-2.0

/**
 * The write-ahead log's JFR events, in the category "Varve": {@link
 * dev.varve.wal.events.LogForceEvent}, {@link dev.varve.wal.events.CheckpointEvent} and {@link
 * dev.varve.wal.events.RecoveryEvent}. Not exported: a recording names them
 * ({@code dev.varve.LogForce}, {@code dev.varve.Checkpoint}, {@code dev.varve.Recovery}); code
 * does not. With no recording running each costs a disabled check (see BENCHMARKS.md §9).
 */
package dev.varve.wal.events;
