// SPDX-License-Identifier: Apache-2.0
package dev.varve;

/**
 * A change feed's subscriber fell behind: more events were waiting for it than its buffer holds
 * (it requested too little, or consumed too slowly), so the feed failed it rather than let the
 * backlog grow without bound. Resume with a new {@link Database#watch(Object, Object, long)
 * watch} after {@link #lastDeliveredTimestamp()}: it replays the commits since, if they are
 * still retained (else it fails with {@link SnapshotTooOldException}). The replay waits for the
 * new subscriber's demand, so a backlog larger than its buffer is delivered at its pace; the
 * commits that arrive meanwhile are held for it (up to 65,536 events, or its buffer's size if
 * larger), so a subscriber that stays slower than the commits falls behind again.
 */
public class FellBehindException extends TransactionException {
    /** Serialization version. */
    private static final long serialVersionUID = 1L;

    /** The commit timestamp of the last event given to onNext. */
    private final long lastDeliveredTimestamp;

    /**
     * Creates the exception.
     *
     * @param lastDeliveredTimestamp the commit timestamp of the last event handed to the
     *     subscriber's {@code onNext}, or the watch's starting timestamp if none was
     * @param reason why the feed could not keep up
     */
    public FellBehindException(long lastDeliveredTimestamp, String reason) {
        super("the change feed's subscriber fell behind (" + reason + "); the last commit timestamp it was"
                + " given is " + lastDeliveredTimestamp + ": watch again after it to resume");
        this.lastDeliveredTimestamp = lastDeliveredTimestamp;
    }

    /**
     * The commit timestamp of the last event the subscriber was given (or the watch's starting
     * timestamp): watch again after it to resume without a gap.
     *
     * @return the timestamp
     */
    public long lastDeliveredTimestamp() {
        return lastDeliveredTimestamp;
    }
}
