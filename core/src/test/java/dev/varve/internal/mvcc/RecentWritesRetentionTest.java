// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.varve.Database;
import dev.varve.SerializationFailureException;
import dev.varve.Transaction;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The SSI ring of recent write sets keeps no key alive once no open snapshot can need it, and a
 * commit too large for the ring's key budget still validates (through the index instead).
 */
class RecentWritesRetentionTest {

    @Test
    void deletedKeysOfBulkCommitsAreNotKeptReachableByTheRing() {
        List<WeakReference<Object>> sample = new ArrayList<>();
        try (Database<String, Long> db = Database.<String, Long>builder().open()) {
            for (int batch = 0; batch < 10; batch++) {
                int b = batch;
                db.transact(tx -> {
                    for (int i = 0; i < 5_000; i++) {
                        String key = new String("k" + b + "/" + i); // a fresh object per key
                        if (i % 500 == 0) {
                            sample.add(new WeakReference<>(key));
                        }
                        tx.put(key, (long) i);
                    }
                    return null;
                });
            }
            db.transact(tx -> {
                tx.asMap().clear();
                return null;
            });
            db.vacuum();
            assertEquals(0, db.stats().indexedKeys());
            await("every deleted key is unreachable")
                    .atMost(Duration.ofSeconds(20))
                    .until(() -> {
                        System.gc();
                        return sample.stream().allMatch(r -> r.get() == null);
                    });
        }
    }

    @Test
    void aCommitAboveTheRingsKeyBudgetIsStillValidated() {
        try (Database<Integer, Integer> db =
                Database.<Integer, Integer>builder().open()) {
            db.put(-1, 0);
            db.put(-2, 0);
            // Write skew across a huge commit: T1 reads -1 and writes -2, T2 reads -2 and writes -1
            // plus more keys than the ring retains.
            Transaction<Integer, Integer> t1 = db.begin();
            Transaction<Integer, Integer> t2 = db.begin();
            t1.get(-1);
            t2.get(-2);
            t1.put(-2, 1);
            t2.put(-1, 1);
            for (int i = 0; i < ConflictFinder.MAX_RING_KEYS + 10; i++) {
                t2.put(i, i);
            }
            t2.commit();
            SerializationFailureException e =
                    org.junit.jupiter.api.Assertions.assertThrows(SerializationFailureException.class, t1::commit);
            assertEquals(SerializationFailureException.Reason.DANGEROUS_STRUCTURE, e.reason());
        }
    }
}
