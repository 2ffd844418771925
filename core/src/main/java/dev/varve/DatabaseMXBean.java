// SPDX-License-Identifier: Apache-2.0
package dev.varve;

/**
 * The management interface of an open {@link Database}, registered with the platform MBean server
 * as {@code dev.varve:type=Database,name=<name>} when the database was built with {@link
 * Database.Builder#name(String) name(...)} and {@link Database.Builder#jmx(boolean) jmx(true)},
 * and unregistered by {@link Database#close()}. Each attribute is a fresh reading of {@link
 * Database#stats()} (racy but cheap: attributes read one after another may come from different
 * moments).
 *
 * <p>Thread-safe: JMX clients may call it from any thread at any time. After the database is
 * closed (and before the MBean server has let go of it) every attribute and operation throws
 * {@link IllegalStateException}.
 */
public interface DatabaseMXBean {
    /**
     * The name the database was built with.
     *
     * @return the name
     */
    String getName();

    /**
     * How commits are kept, as {@link Database#durability()} describes it (e.g. {@code "memory"}).
     *
     * @return the description
     */
    String getDurability();

    /**
     * Read-write commits so far, autocommit writes included ({@link Database.Stats#commits()}).
     *
     * @return the count
     */
    long getCommits();

    /**
     * Commits of transactions that wrote nothing so far ({@link Database.Counters#readOnlyCommits()}).
     *
     * @return the count
     */
    long getReadOnlyCommits();

    /**
     * Keys whose newest committed version is a value, now ({@link Database.Gauges#liveKeys()}).
     *
     * @return the count
     */
    long getLiveKeys();

    /**
     * Versions held in every version chain now ({@link Database.Gauges#versions()}).
     *
     * @return the count
     */
    long getVersions();

    /**
     * Transactions found unreachable while open so far ({@link Database.Counters#leakedTransactions()}).
     *
     * @return the count
     */
    long getLeakedTransactions();

    /**
     * Transactions rolled back for outliving the age bound so far ({@link
     * Database.Counters#expiredTransactions()}).
     *
     * @return the count
     */
    long getExpiredTransactions();

    /**
     * Bytes of commit records the log wrote so far ({@link LogStats#bytesWritten()}; 0 in memory).
     *
     * @return bytes
     */
    long getLogBytesWritten();

    /**
     * Forces of the log so far ({@link LogStats#forces()}; 0 in memory).
     *
     * @return the count
     */
    long getLogForces();

    /**
     * The 99th percentile of the last 1,024 forces' latency ({@link LogStats#forceP99()}).
     *
     * @return microseconds, 0 before the first force
     */
    long getLogForceP99Micros();

    /**
     * Commits refused by first-committer-wins so far.
     *
     * @return the count
     */
    long getWriteWriteAborts();

    /**
     * Commits refused by serializable snapshot isolation (a dangerous structure) so far.
     *
     * @return the count
     */
    long getDangerousStructureAborts();

    /**
     * The newest commit timestamp visible to new snapshots.
     *
     * @return the timestamp
     */
    long getVisibleTimestamp();

    /**
     * The oldest snapshot timestamp an open transaction or snapshot reads at (the vacuum
     * watermark).
     *
     * @return the timestamp
     */
    long getOldestSnapshotTimestamp();

    /**
     * How long the oldest snapshot has pinned old versions, in milliseconds (a lower bound; see
     * {@link Database.Stats#oldestSnapshotAge()}).
     *
     * @return the age in ms
     */
    long getOldestSnapshotAgeMillis();

    /**
     * Open transactions and snapshots.
     *
     * @return the count
     */
    int getOpenSnapshots();

    /**
     * Keys in the indexes of every map, tombstones not yet vacuumed included.
     *
     * @return the count
     */
    int getIndexedKeys();

    /**
     * Committed-transaction records the SSI conflict graph keeps.
     *
     * @return the count
     */
    int getSsiRecords();

    /**
     * Vacuum passes so far.
     *
     * @return the count
     */
    long getVacuumRuns();

    /**
     * Versions reclaimed so far (see {@link Database.Stats#reclaimedVersions()}).
     *
     * @return the count
     */
    long getReclaimedVersions();

    /**
     * Keys vacuum dropped from the index so far.
     *
     * @return the count
     */
    long getReclaimedKeys();

    /**
     * The last failure of a vacuum pass, as {@code Throwable.toString()}, or null if none.
     *
     * @return the failure, or null
     */
    String getLastVacuumFailure();

    /**
     * Whether the database is healthy ({@link Database.Health#ok()}): open, its log accepting
     * commits, no background checkpoint or vacuum pass failed since the last that succeeded.
     *
     * @return true if healthy
     */
    boolean isHealthy();

    /**
     * What {@link Database#health()} found, as its {@code toString()}.
     *
     * @return the health
     */
    String getHealth();

    /**
     * Runs a full vacuum pass now ({@link Database#vacuum()}).
     *
     * @return what it reclaimed, as {@link VacuumResult#toString()}
     * @throws IllegalStateException if the database is closed
     */
    String vacuum();

    /**
     * Writes a checkpoint now ({@link Database#checkpoint()}); does nothing in memory.
     *
     * @throws java.io.UncheckedIOException if the checkpoint could not be written
     * @throws IllegalStateException if the database is closed or its log failed
     */
    void checkpoint();
}
