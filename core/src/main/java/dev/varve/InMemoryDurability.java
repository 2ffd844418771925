// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import dev.varve.internal.mvcc.InMemoryLog;
import dev.varve.spi.CommitLog;
import dev.varve.spi.StoreAccess;

/** {@link Durability#inMemory()}: opens the shared {@link InMemoryLog}, recovering nothing. */
final class InMemoryDurability implements Durability<Object, Object> {
    static final InMemoryDurability INSTANCE = new InMemoryDurability();

    private InMemoryDurability() {}

    @Override
    public CommitLog<Object, Object> open(StoreAccess<Object, Object> store) {
        return InMemoryLog.instance();
    }

    @Override
    public String describe() {
        return "memory";
    }
}
