// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.ssi;

import java.util.Objects;

/**
 * Why a committing transaction must abort: it would complete a dangerous structure
 * {@code T1 ->rw T2 ->rw T3} in which T3 committed first (Ports and Grittner, VLDB 2012, §3),
 * taking the position given by {@link #role()}.
 *
 * <p>{@link #t1()}, {@link #pivot()} and {@link #t3()} are commit timestamps; the committing
 * transaction itself, which has none yet, is {@link #COMMITTING}. When {@code t1 == t3} the
 * structure is a write skew (a cycle of two rw-antidependencies). When {@link #summarized()} is
 * set, the summary of old committed transactions stood in for T1 (its commit timestamp is then
 * the summary's newest) or for the pivot's out-conflict, and the abort may be a false positive.
 *
 * @param role which position the committing transaction takes
 * @param t1 commit timestamp of T1, the reader at the start of the structure, or
 *     {@link #COMMITTING}
 * @param pivot commit timestamp of T2, the pivot, or {@link #COMMITTING}
 * @param t3 commit timestamp of T3, the transaction that committed first
 * @param t1ReadOnly whether T1 wrote nothing (then T3 committed at or before T1's snapshot)
 * @param summarized whether summarised records stood in for part of the structure
 */
public record DangerousStructure(Role role, long t1, long pivot, long t3, boolean t1ReadOnly, boolean summarized) {

    /** Marks the committing transaction, which has no commit timestamp yet, in a position. */
    public static final long COMMITTING = -1L;

    /** The position the committing transaction would take in the structure. */
    public enum Role {
        /** The committer is T2: a committed T1 reads what it writes, it reads what T3 wrote. */
        PIVOT,
        /** The committer is T1: it read what a committed pivot wrote, which had read past T3. */
        FIRST_EDGE
    }

    /**
     * Checks the components.
     *
     * @param role which position the committing transaction takes
     * @param t1 commit timestamp of T1 or {@link #COMMITTING}
     * @param pivot commit timestamp of the pivot or {@link #COMMITTING}
     * @param t3 commit timestamp of T3
     * @param t1ReadOnly whether T1 wrote nothing
     * @param summarized whether summarised records stood in for part of the structure
     * @throws NullPointerException if {@code role} is null
     * @throws IllegalArgumentException if the committer is not exactly in the position
     *     {@code role} names
     */
    public DangerousStructure {
        Objects.requireNonNull(role, "role");
        boolean shaped = role == Role.PIVOT
                ? pivot == COMMITTING && t1 >= 0 && t3 >= 0
                : t1 == COMMITTING && pivot >= 0 && t3 >= 0;
        if (!shaped) {
            throw new IllegalArgumentException(
                    "role " + role + " does not match t1=" + t1 + ", pivot=" + pivot + ", t3=" + t3);
        }
    }

    /**
     * A one-line account of the structure, for a {@code SerializationFailureException} message,
     * for example {@code "dangerous structure T1(c=12) ->rw pivot(committing) ->rw T3(c=9):
     * T3 committed first"}.
     *
     * @return the message
     */
    public String describe() {
        StringBuilder sb = new StringBuilder("dangerous structure T1(").append(term(t1));
        if (t1ReadOnly) {
            sb.append(", read-only");
        }
        sb.append(") ->rw pivot(")
                .append(term(pivot))
                .append(") ->rw T3(")
                .append(term(t3))
                .append("): ");
        if (t1 == t3) {
            sb.append("write skew, T1 = T3 committed first");
        } else if (t1ReadOnly) {
            sb.append("T3 committed first, before read-only T1's snapshot");
        } else {
            sb.append("T3 committed first");
        }
        if (summarized) {
            sb.append(" (summarised old transactions stood in; may be a false positive)");
        }
        return sb.toString();
    }

    private static String term(long timestamp) {
        return timestamp == COMMITTING ? "committing" : "c=" + timestamp;
    }
}
