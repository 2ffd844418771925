// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

/**
 * Decides whether a vacuum pass visits every key (a full pass, which also settles values) or only
 * the keys committers marked. A pure function of counts the vacuum keeps, so it is unit-tested
 * without a store. Immutable and thread-safe.
 *
 * <p>A pass is full when:
 * <ol>
 *   <li>the marked keys were lost (the list overflowed; a new store starts so), so only a full
 *       pass is sure to visit every key that needs it;
 *   <li>it is every {@code fullPassEvery}th pass ({@code passesRun % fullPassEvery == 0}, which
 *       includes the first), which bounds how long a value waits to be settled;
 *   <li>or the index has gone quiet after a burst of writes: at least
 *       {@code minPassesBetweenFull} passes since the last full one, fewer versions written since
 *       the previous pass than a 64th of the live keys (at least {@code minSettleDebt}), and at
 *       least a quarter as many written since the last full pass as there are live keys (the
 *       settle debt, again at least {@code minSettleDebt}). The index then settles within a period
 *       or two, and reads and scans stop paying the version indirection; under a steady write load
 *       nothing changes, since settling a key still being written would be undone by its next
 *       write. The floor lets the first burst (a bulk load into a new database, when no full pass
 *       has counted the live keys yet) settle too.
 * </ol>
 *
 * @param fullPassEvery every how many passes one is full (rule 2), at least 1
 * @param minPassesBetweenFull the fewest passes between two full ones by rule 3, at least 0
 * @param minSettleDebt the floor of both thresholds of rule 3, in versions, at least 0
 */
public record VacuumPolicy(int fullPassEvery, int minPassesBetweenFull, long minSettleDebt) {
    /** The store's policy: a full pass every 64, by rule 3 at most every 8, floor 4096 versions. */
    public static final VacuumPolicy DEFAULT = new VacuumPolicy(64, 8, 4_096);

    /**
     * Checks the arguments.
     *
     * @param fullPassEvery every how many passes one is full, at least 1
     * @param minPassesBetweenFull the fewest passes between two full ones by rule 3, at least 0
     * @param minSettleDebt the floor of both thresholds of rule 3, in versions, at least 0
     * @throws IllegalArgumentException if an argument is out of range; the message names it
     */
    public VacuumPolicy {
        if (fullPassEvery < 1) {
            throw new IllegalArgumentException("fullPassEvery must be at least 1: " + fullPassEvery);
        }
        if (minPassesBetweenFull < 0) {
            throw new IllegalArgumentException("minPassesBetweenFull must be at least 0: " + minPassesBetweenFull);
        }
        if (minSettleDebt < 0) {
            throw new IllegalArgumentException("minSettleDebt must be at least 0: " + minSettleDebt);
        }
    }

    /**
     * Whether the next pass must be full (see the class comment for the rules).
     *
     * @param markedKeysLost whether the marked keys were lost (rule 1)
     * @param passesRun passes completed so far
     * @param passesSinceFull passes since the last full one
     * @param writtenSinceLastPass versions written since the previous pass started
     * @param writtenSinceFullPass versions written since the last full pass started
     * @param liveKeys live keys the last full pass counted (0 before the first)
     * @return true if the pass must visit every key
     */
    public boolean fullPass(
            boolean markedKeysLost,
            long passesRun,
            int passesSinceFull,
            long writtenSinceLastPass,
            long writtenSinceFullPass,
            long liveKeys) {
        if (markedKeysLost || passesRun % fullPassEvery == 0) {
            return true;
        }
        boolean quiet = writtenSinceLastPass < Math.max(minSettleDebt, liveKeys / 64);
        return passesSinceFull >= minPassesBetweenFull
                && quiet
                && writtenSinceFullPass >= Math.max(minSettleDebt, liveKeys / 4);
    }
}
