package dev.varve;

import java.lang.ref.Cleaner;

/** The root view of {@link Database#snapshot()}: a read-only transaction map that can be closed. */
final class SnapshotMap<K, V> extends TransactionMap<K, V> implements Snapshot<K, V> {
    private static final Cleaner CLEANER = Cleaner.create();

    private final Transaction<K, V> reader;
    private final Cleaner.Cleanable cleanable;

    SnapshotMap(Transaction<K, V> reader) {
        super(reader);
        this.reader = reader;
        // The action holds the transaction, never this map, so the map can become unreachable.
        this.cleanable = CLEANER.register(this, reader::releasePin);
    }

    @Override
    public long snapshotTimestamp() {
        return reader.snapshotTimestamp();
    }

    @Override
    public void close() {
        reader.rollback();
        cleanable.clean();
    }
}
