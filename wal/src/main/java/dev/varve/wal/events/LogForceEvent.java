// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal.events;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * One {@code fsync} of a log segment by the log's writer thread: its duration, and the records
 * and bytes it made durable (group commit: one force per group). Not thread-safe: the writer
 * thread's.
 */
@Name("dev.varve.LogForce")
@Label("Log Force")
@Category("Varve")
@Description("The write-ahead log forced a segment: the records and bytes it made durable")
@StackTrace(false)
public final class LogForceEvent extends jdk.jfr.Event {
    /** Commit records the force made durable (0 for a force of a segment header or marker). */
    @Label("Records")
    public int records;

    /** Bytes of those records. */
    @Label("Bytes")
    @DataAmount
    public long bytes;
}
