// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import dev.varve.internal.mvcc.TxState;

/**
 * A point inside a {@link Transaction} that {@link Transaction#rollbackTo(Savepoint)} can return
 * its writes to, in every map, without ending the transaction; returned by {@link
 * Transaction#savepoint()}.
 *
 * <p>A savepoint belongs to the transaction that took it and is valid while that transaction is
 * active and until a {@code rollbackTo} of an earlier savepoint of it undoes it; rolling back to
 * a savepoint keeps that savepoint itself valid (as SQL's {@code ROLLBACK TO SAVEPOINT} does).
 *
 * <p><b>Thread-safety.</b> An immutable handle; it is used through its transaction, one thread
 * at a time.
 */
public final class Savepoint {
    private final TxState.Mark mark;

    Savepoint(TxState.Mark mark) {
        this.mark = mark;
    }

    /** The engine's mark behind this handle. */
    TxState.Mark mark() {
        return mark;
    }

    /**
     * A description naming the savepoint by its number in its transaction ({@code "savepoint #2"}
     * for the second one taken), as error messages do.
     *
     * @return the description
     */
    @Override
    public String toString() {
        return "savepoint #" + mark.number();
    }
}
