// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import java.util.concurrent.atomic.LongAdder;

/**
 * The counters a store keeps for its statistics: commits, aborts by rule, what vacuum and
 * committer pruning reclaimed, and what the last full vacuum pass found. Thread-safe: counts are
 * {@link LongAdder}s, the last-pass figures and the last committer-vacuum failure are volatile; a
 * {@link #read} is not atomic across counters (each is exact, their sum is approximate while
 * commits run).
 */
public final class StoreCounters {
    private final LongAdder commits = new LongAdder();
    private final LongAdder autocommitWrites = new LongAdder();
    private final LongAdder readOnlyCommits = new LongAdder();
    private final LongAdder leakedTransactions = new LongAdder();
    private final LongAdder reads = new LongAdder();
    private final LongAdder expiredTransactions = new LongAdder();
    private final LongAdder writeWriteAborts = new LongAdder();
    private final LongAdder dangerousStructureAborts = new LongAdder();
    private final LongAdder prunedByCommitters = new LongAdder();
    private final LongAdder vacuumRuns = new LongAdder();
    private final LongAdder vacuumedVersions = new LongAdder();
    private final LongAdder vacuumedKeys = new LongAdder();
    /** Versions (settled values included) the last full vacuum pass left in the index. */
    private volatile long lastVacuumRetainedVersions;
    /** Keys with a live value (not a tombstone) seen by the last full vacuum pass. */
    private volatile long lastVacuumLiveKeys;
    /** The last failure of a committer's vacuum pass, or null. */
    private volatile Throwable committerVacuumFailure;

    /** Counters at zero. */
    public StoreCounters() {}

    /** Counts a read-write transaction's commit. */
    public void commit() {
        commits.increment();
    }

    /** Counts an autocommit write that wrote (a commit of its own). */
    public void autocommitWrite() {
        autocommitWrites.increment();
    }

    /**
     * Counts reads: a transaction's, added once when it ends, or one autocommit get.
     *
     * @param n point reads and entries scanned
     */
    public void reads(long n) {
        reads.add(n);
    }

    /** Counts a transaction found unreachable while open (its pin released). */
    public void leakedTransaction() {
        leakedTransactions.increment();
    }

    /** Counts a transaction whose pin was released because it outlived the age bound. */
    public void expiredTransaction() {
        expiredTransactions.increment();
    }

    /** Counts the commit of a transaction that wrote nothing. */
    public void readOnlyCommit() {
        readOnlyCommits.increment();
    }

    /** Counts a commit refused by first-committer-wins. */
    public void writeWriteAbort() {
        writeWriteAborts.increment();
    }

    /** Counts a commit refused by serializable snapshot isolation. */
    public void dangerousStructureAbort() {
        dangerousStructureAborts.increment();
    }

    /**
     * Counts the versions a committer cut while pruning a chain it wrote.
     *
     * @param versions versions cut
     */
    public void committerPruned(int versions) {
        prunedByCommitters.add(versions);
    }

    /** Counts a completed vacuum pass (background or on demand, not a committer's). */
    public void vacuumRun() {
        vacuumRuns.increment();
    }

    /**
     * Vacuum passes completed so far (background or on demand).
     *
     * @return the number of passes
     */
    public long vacuumRuns() {
        return vacuumRuns.sum();
    }

    /**
     * Counts what a vacuum pass (a committer's included) reclaimed.
     *
     * @param versions versions unlinked
     * @param keys keys removed from the index
     */
    public void vacuumed(long versions, long keys) {
        vacuumedVersions.add(versions);
        vacuumedKeys.add(keys);
    }

    /**
     * Records what the last full pass left in the index.
     *
     * @param retainedVersions versions left (settled values count one each)
     * @param liveKeys keys with a live value
     */
    public void fullPass(long retainedVersions, long liveKeys) {
        lastVacuumRetainedVersions = retainedVersions;
        lastVacuumLiveKeys = liveKeys;
    }

    /**
     * Live keys the last full pass counted.
     *
     * @return the count, 0 before the first full pass
     */
    public long lastVacuumLiveKeys() {
        return lastVacuumLiveKeys;
    }

    /**
     * Records a failure of a committer's vacuum pass (reported by the statistics).
     *
     * @param failure what it threw
     */
    public void committerVacuumFailed(Throwable failure) {
        committerVacuumFailure = failure;
    }

    /**
     * Reads every counter once.
     *
     * @return the reading
     */
    public Reading read() {
        return new Reading(
                commits.sum(),
                autocommitWrites.sum(),
                readOnlyCommits.sum(),
                leakedTransactions.sum(),
                expiredTransactions.sum(),
                reads.sum(),
                writeWriteAborts.sum(),
                dangerousStructureAborts.sum(),
                vacuumRuns.sum(),
                vacuumedVersions.sum() + prunedByCommitters.sum(),
                vacuumedKeys.sum(),
                lastVacuumRetainedVersions,
                lastVacuumLiveKeys,
                committerVacuumFailure);
    }

    /**
     * One reading of the counters.
     *
     * @param commits read-write transactions committed so far
     * @param autocommitWrites autocommit writes that wrote so far
     * @param readOnlyCommits commits of transactions that wrote nothing so far
     * @param leakedTransactions transactions found unreachable while open so far
     * @param expiredTransactions transactions released for outliving the age bound so far
     * @param reads point reads and scanned entries of transactions that ended, and autocommit gets
     * @param writeWriteAborts commits refused by first-committer-wins
     * @param dangerousStructureAborts commits refused by serializable snapshot isolation
     * @param vacuumRuns vacuum passes so far
     * @param reclaimedVersions versions unlinked by vacuum, plus cuts by committers
     * @param reclaimedKeys keys vacuum removed
     * @param retainedVersions versions the last full pass left; 0 before the first
     * @param liveKeys live keys at the last full pass; 0 before the first
     * @param committerVacuumFailure the last failure of a committer's vacuum pass, or null
     */
    public record Reading(
            long commits,
            long autocommitWrites,
            long readOnlyCommits,
            long leakedTransactions,
            long expiredTransactions,
            long reads,
            long writeWriteAborts,
            long dangerousStructureAborts,
            long vacuumRuns,
            long reclaimedVersions,
            long reclaimedKeys,
            long retainedVersions,
            long liveKeys,
            Throwable committerVacuumFailure) {}
}
