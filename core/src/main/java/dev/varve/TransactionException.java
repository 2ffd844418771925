// SPDX-License-Identifier: Apache-2.0
package dev.varve;

/**
 * A transaction could not complete as asked. Unchecked. The transaction that threw it is
 * finished. What became of its writes is in the message and in the documentation of the method
 * that threw: nothing is visible when it was refused before installing (interrupted while waiting
 * for a write latch, a rejected asynchronous attempt); the outcome is unknown when the commit log
 * failed after the commit was installed in memory (it may or may not be recovered, as with a JDBC
 * commit that fails); and the commit is visible when only its bookkeeping failed afterwards.
 */
public class TransactionException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception with a message.
     *
     * @param message what happened, naming the values involved
     */
    public TransactionException(String message) {
        super(message);
    }

    /**
     * Creates an exception with a message and a cause.
     *
     * @param message what happened, naming the values involved
     * @param cause the underlying failure
     */
    public TransactionException(String message, Throwable cause) {
        super(message, cause);
    }
}
