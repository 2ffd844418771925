// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Database;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** With the default settings (no background vacuum) a steady workload keeps the index bounded. */
class DefaultSettingsBoundTest {

    @Test
    void aFifoQueueKeepsTheIndexBoundedWithoutBackgroundVacuum() {
        try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
            for (long k = 0; k < 100; k++) {
                db.put(k, k);
            }
            long tail = 100;
            int maxIndexed = 0;
            for (int op = 0; op < 30_000; op++) {
                long next = tail++;
                Map.Entry<Long, Long> head = db.transact(tx -> {
                    tx.put(next, next);
                    return tx.asMap().pollFirstEntry();
                });
                assertEquals(next - 100, head.getKey());
                if (op % 500 == 0) {
                    maxIndexed = Math.max(maxIndexed, db.stats().indexedKeys());
                }
            }
            assertTrue(maxIndexed <= 100 + 2 * 256 + 64, "indexed keys grew to " + maxIndexed + " for a queue of 100");
        }
    }
}
