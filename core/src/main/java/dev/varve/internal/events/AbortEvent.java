// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.events;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * A commit refused with a serialization failure (first-committer-wins or a dangerous structure).
 * Not thread-safe: one per refused commit, on the committing thread.
 */
@Name("dev.varve.Abort")
@Label("Abort")
@Category("Varve")
@Description("A commit refused by first-committer-wins or serializable snapshot isolation, with the keys")
@StackTrace(false)
public final class AbortEvent extends jdk.jfr.Event {
    /** The rule that fired: WRITE_WRITE_CONFLICT or DANGEROUS_STRUCTURE. */
    @Label("Reason")
    public String reason;

    /** The keys involved, as the exception lists them (at most 1,000 characters). */
    @Label("Keys")
    public String keys;

    /** The transaction's snapshot timestamp. */
    @Label("Snapshot Timestamp")
    public long snapshotTimestamp;
}
