package dev.varve;

import dev.varve.spi.CommitLog;
import dev.varve.spi.CommitRecord;
import dev.varve.spi.StoreAccess;
import java.util.concurrent.CompletableFuture;

/** The no-op commit log of {@link Durability#inMemory()}: every append is durable at once. */
final class InMemoryLog implements CommitLog<Object, Object> {

    static final Durability<Object, Object> DURABILITY = new Durability<>() {
        @Override
        public CommitLog<Object, Object> open(StoreAccess<Object, Object> store) {
            return INSTANCE;
        }

        @Override
        public String describe() {
            return "memory";
        }
    };

    private static final InMemoryLog INSTANCE = new InMemoryLog();
    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

    private InMemoryLog() {}

    @Override
    public CompletableFuture<Void> append(CommitRecord<Object, Object> record) {
        return DONE;
    }

    @Override
    public void checkpoint() {}

    @Override
    public void close() {}
}
