// SPDX-License-Identifier: Apache-2.0

/**
 * The engine's JDK Flight Recorder events ({@code jdk.jfr}): commits, aborts and vacuum passes,
 * under the category "Varve". They cost nothing measurable while no recording enables them (an
 * event object that is never committed is removed by escape analysis; see BENCHMARKS.md).
 */
package dev.varve.internal.events;
