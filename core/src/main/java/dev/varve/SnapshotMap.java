// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import java.lang.ref.Cleaner;

/**
 * The root view of {@link Database#snapshot()}: a read-only transaction map that can be closed.
 *
 * <p>Implementation notes. The snapshot is read through this map, its sub-views, its key, value
 * and entry views and their iterators (MergeCursor); every one of them holds the reader
 * transaction, and none holds this map. So the cleaner is registered on the transaction, not on
 * this map: (1) the pin is released only once nothing that can read the snapshot is reachable;
 * (2) the cleaner action is the transaction's Pin, which holds the registry and not the
 * transaction; (3) reads end with a reachability fence on the transaction (Transaction#read,
 * MergeCursor), so the JIT cannot let it go while a chain walk at its timestamp is running.
 */
final class SnapshotMap<K, V> extends TransactionMap<K, V> implements Snapshot<K, V> {
    private static final Cleaner CLEANER = Cleaner.create();

    private final Transaction<K, V> reader;
    private final Cleaner.Cleanable cleanable;

    SnapshotMap(Transaction<K, V> reader) {
        super(reader.main());
        this.reader = reader;
        this.cleanable = CLEANER.register(reader, reader.pinRelease());
    }

    @Override
    public long snapshotTimestamp() {
        return reader.snapshotTimestamp();
    }

    @Override
    public <K2, V2> java.util.NavigableMap<K2, V2> map(NamedMap<K2, V2> map) {
        return new TransactionMap<>(reader.part(map));
    }

    @Override
    public void close() {
        reader.rollback();
        cleanable.clean();
    }
}
