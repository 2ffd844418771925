// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal.events;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * A recovery when a durable database opened: the checkpoint loaded, the records replayed, and a
 * torn tail cut. Not thread-safe: one per open, on the opening thread.
 */
@Name("dev.varve.Recovery")
@Label("Recovery")
@Category("Varve")
@Description("A durable database recovered: checkpoint loaded, records replayed, torn tail cut")
@StackTrace(false)
public final class RecoveryEvent extends jdk.jfr.Event {
    /** The loaded checkpoint's snapshot timestamp, 0 without one. */
    @Label("Checkpoint Timestamp")
    public long checkpointTimestamp;

    /** Commit records replayed from the log. */
    @Label("Records")
    public long records;

    /** Segments kept. */
    @Label("Segments")
    public int segments;

    /** Bytes of a torn tail recovery cut (a write a crash tore, never forced), 0 if none. */
    @Label("Torn Tail Cut")
    @DataAmount
    public long tornTailBytes;

    /** The newest commit timestamp recovered. */
    @Label("Newest Commit Timestamp")
    public long newestCommitTimestamp;
}
