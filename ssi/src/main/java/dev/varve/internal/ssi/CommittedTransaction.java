// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.ssi;

/**
 * A committed transaction as the {@link ConflictGraph} retains it: its timestamps, whether it
 * wrote nothing, and the caller's payload (the core's read set, used to find in-edges).
 *
 * <p>Instances are immutable. They are handed out only by
 * {@link ConflictGraph#forEachOverlapping}, under the caller's commit lock.
 *
 * @param <P> the type of the caller's payload
 */
public interface CommittedTransaction<P> {

    /**
     * The commit timestamp, which identifies the transaction and orders it among all commits.
     *
     * @return the commit timestamp, greater than {@link #snapshotTimestamp()}
     */
    long commitTimestamp();

    /**
     * The snapshot timestamp: the transaction saw every commit with a commit timestamp at or
     * below it.
     *
     * @return the snapshot timestamp, non-negative
     */
    long snapshotTimestamp();

    /**
     * Whether the transaction committed without writing (declared or implicitly read-only).
     *
     * @return {@code true} if it wrote nothing
     */
    boolean readOnly();

    /**
     * The payload given to {@link ConflictGraph#recordCommit}.
     *
     * @return the payload, never {@code null}
     */
    P payload();
}
