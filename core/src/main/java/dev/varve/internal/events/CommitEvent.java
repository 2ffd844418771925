// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.events;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Threshold;
import jdk.jfr.Timespan;

/**
 * A read-write commit, from the call until it was durable (the durability wait included): by
 * {@code Transaction.commit()} (and so {@code db.transact}), {@code commitAsync()} (committed
 * where its future completes) or an autocommit write ({@code db.put}, {@code compute}...); the
 * kind field says which. Not thread-safe: one per commit.
 */
@Name("dev.varve.Commit")
@Label("Commit")
@Category("Varve")
@Description("A read-write transaction committed: keys written, maps written, the wait for durability")
@StackTrace(false)
@Threshold("1 ms") // a recording with the defaults keeps only slow commits; set 0 ms for all
public final class CommitEvent extends jdk.jfr.Event {
    /** How it committed: {@code "commit"}, {@code "commitAsync"} or {@code "autocommit"}. */
    @Label("Kind")
    public String kind;

    /** The commit timestamp. */
    @Label("Commit Timestamp")
    public long commitTimestamp;

    /** Keys written, over every map. */
    @Label("Keys")
    public int keys;

    /** Maps written (the default map counts as one). */
    @Label("Maps")
    public int maps;

    /** Whether the transaction was SERIALIZABLE. */
    @Label("Serializable")
    public boolean serializable;

    /** Nanoseconds spent waiting for the log to make the commit durable (0 in memory). */
    @Label("Durability Wait")
    @Timespan(Timespan.NANOSECONDS)
    public long durabilityWait;
}
