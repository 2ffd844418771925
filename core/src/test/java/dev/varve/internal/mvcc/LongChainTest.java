// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Database;
import dev.varve.Internals;
import dev.varve.Snapshot;
import dev.varve.Transaction;
import org.junit.jupiter.api.Test;

/**
 * A hot key while one old snapshot is open: its chain grows (the snapshot may read any version
 * that was visible when some later snapshot began), but what a committer does per write stays
 * constant, and the chain is cut back once the snapshot closes.
 */
class LongChainTest {

    @Test
    void pruningCostsConstantWorkPerWriteWhateverTheChainLength() {
        try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
            db.put(1L, 0L);
            Store<Long, Long> store;
            try (Transaction<Long, Long> tx = db.begin()) {
                store = Internals.store(tx);
            }
            int writes = 20_000;
            try (Snapshot<Long, Long> old = db.snapshot()) {
                long before = store.committerPruneSteps();
                for (long i = 1; i <= writes; i++) {
                    db.put(1L, i);
                    if (i % 3 == 0) {
                        db.transact(tx -> {
                            tx.put(2L, tx.get(1L));
                            return null;
                        });
                    }
                }
                long steps = store.committerPruneSteps() - before;
                assertTrue(
                        steps <= 3L * (writes + writes / 3),
                        steps + " versions looked at by committers for " + writes + " writes of one key");
                assertEquals(0L, old.get(1L)); // the old snapshot still reads its version
                assertEquals(null, old.get(2L));
            }
            db.put(1L, -1L); // the snapshot is gone: this write (or vacuum) cuts the chain back
            db.vacuum();
            assertEquals(-1L, db.get(1L));
            assertTrue(db.stats().retainedVersions() <= 2, db.stats().toString());
        }
    }
}
