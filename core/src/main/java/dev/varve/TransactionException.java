package dev.varve;

/**
 * A transaction could not complete. Unchecked. The transaction that threw it is finished (rolled
 * back): nothing it wrote is visible to anyone.
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
