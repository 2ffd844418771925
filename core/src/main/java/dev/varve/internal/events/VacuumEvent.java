// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.events;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * A vacuum pass (full, or over the keys written since the last). Not thread-safe: one per pass,
 * on the thread running it.
 */
@Name("dev.varve.Vacuum")
@Label("Vacuum Pass")
@Category("Varve")
@Description("A vacuum pass: versions and keys reclaimed, the watermark it reclaimed below")
@StackTrace(false)
public final class VacuumEvent extends jdk.jfr.Event {
    /** Versions unlinked. */
    @Label("Versions Reclaimed")
    public long versions;

    /** Keys dropped from the index. */
    @Label("Keys Reclaimed")
    public long keys;

    /** The watermark (oldest snapshot timestamp) the pass reclaimed below. */
    @Label("Watermark")
    public long watermark;

    /** Whether the pass visited every key. */
    @Label("Full")
    public boolean full;
}
