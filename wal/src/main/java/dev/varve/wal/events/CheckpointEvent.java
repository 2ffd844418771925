// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal.events;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * A checkpoint written, from its start to its file being durable (background or {@code
 * db.checkpoint()}). Not thread-safe: one per checkpoint, on the thread that writes it.
 */
@Name("dev.varve.Checkpoint")
@Label("Checkpoint")
@Category("Varve")
@Description("The write-ahead log wrote a checkpoint: its snapshot timestamp and entries")
@StackTrace(false)
public final class CheckpointEvent extends jdk.jfr.Event {
    /** The snapshot timestamp the checkpoint holds. */
    @Label("Snapshot Timestamp")
    public long snapshotTimestamp;

    /** Entries (keys, over every map) written. */
    @Label("Entries")
    public long entries;
}
