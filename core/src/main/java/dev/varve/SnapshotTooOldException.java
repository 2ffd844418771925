// SPDX-License-Identifier: Apache-2.0
package dev.varve;

/**
 * A read as of a past timestamp, or a change feed from one, asked for history that vacuum may
 * already have reclaimed (etcd's "required revision has been compacted"). Not retryable as it
 * stands: retry from {@link #oldestAvailableTimestamp()} or later, or keep more history ({@link
 * Database.Builder#retainHistory}, or an open snapshot at the timestamp you will need).
 */
public class SnapshotTooOldException extends TransactionException {
    /** Serialization version. */
    private static final long serialVersionUID = 1L;

    /** The commit timestamp asked for. */
    private final long requestedTimestamp;
    /** The oldest commit timestamp readable when it was asked. */
    private final long oldestAvailableTimestamp;

    /**
     * Creates the exception.
     *
     * @param requestedTimestamp the commit timestamp asked for
     * @param oldestAvailableTimestamp the oldest commit timestamp still readable when it was asked
     */
    public SnapshotTooOldException(long requestedTimestamp, long oldestAvailableTimestamp) {
        super("commit timestamp " + requestedTimestamp + " is older than the retained history: the oldest"
                + " timestamp still available is " + oldestAvailableTimestamp);
        this.requestedTimestamp = requestedTimestamp;
        this.oldestAvailableTimestamp = oldestAvailableTimestamp;
    }

    /**
     * Creates the exception with a message of its own.
     *
     * @param message what was asked for, and the oldest timestamp available
     * @param requestedTimestamp the commit timestamp asked for (or the oldest available, if a
     *     wall-clock instant was asked for)
     * @param oldestAvailableTimestamp the oldest commit timestamp still readable when it was asked
     */
    public SnapshotTooOldException(String message, long requestedTimestamp, long oldestAvailableTimestamp) {
        super(message);
        this.requestedTimestamp = requestedTimestamp;
        this.oldestAvailableTimestamp = oldestAvailableTimestamp;
    }

    /**
     * The commit timestamp that was asked for.
     *
     * @return the requested timestamp
     */
    public long requestedTimestamp() {
        return requestedTimestamp;
    }

    /**
     * The oldest commit timestamp that could still be read when the request was refused (it only
     * rises afterwards).
     *
     * @return the oldest available timestamp
     */
    public long oldestAvailableTimestamp() {
        return oldestAvailableTimestamp;
    }
}
