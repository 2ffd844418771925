// SPDX-License-Identifier: Apache-2.0

/**
 * The engine's JDK Flight Recorder events ({@code jdk.jfr}): commits, aborts and vacuum passes,
 * under the category "Varve". While no recording enables them, an event is a short-lived object
 * that is never committed (BENCHMARKS.md §9 measures what that costs).
 */
package dev.varve.internal.events;
