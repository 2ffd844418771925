// SPDX-License-Identifier: Apache-2.0
package dev.varve;

/**
 * The isolation level of a transaction.
 *
 * <p>Both levels read from one snapshot taken at {@link Database#begin(Isolation)} and never see
 * another transaction's uncommitted writes; both abort a commit that would overwrite a version
 * committed after the snapshot (first-committer-wins).
 */
public enum Isolation {
    /**
     * Snapshot isolation: a consistent snapshot and first-committer-wins on written keys. Allows
     * write skew (two transactions each read what the other writes, and both commit).
     */
    SNAPSHOT,

    /**
     * Serializable snapshot isolation: snapshot isolation plus tracking of rw-antidependencies
     * between concurrent transactions; a commit that would complete a dangerous structure is
     * aborted, so every committed history is equivalent to a serial one. Source: Cahill, Röhm and
     * Fekete, "Serializable Isolation for Snapshot Databases" (SIGMOD 2008); Ports and Grittner,
     * "Serializable Snapshot Isolation in PostgreSQL" (VLDB 2012), §3–4. The default.
     */
    SERIALIZABLE
}
