// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.varve.Database;
import dev.varve.Internals;
import dev.varve.Snapshot;
import dev.varve.VacuumResult;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A vacuum pass walks a chain without the commit lock, while the committer of a newer version
 * may cut the same chain below the previous head (its prunable watermark can be newer than the
 * pass's). The pass must survive a cut that lands between the head and the keeper it found: it
 * then works on versions nobody can reach any more, which is harmless, but it must not walk off
 * the end of the shortened chain.
 */
class AdversaryVacuumConcurrentCutTest {

    @Test
    void aCommitterCutAboveTheKeeperWhileAPassCountsTheChainDoesNotFailThePass() throws Exception {
        ExecutorService vacuumThread = Executors.newSingleThreadExecutor();
        try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
            Store<Long, Long> store = Internals.store(db);
            db.put(1L, 10L); // commit 1
            Snapshot<Long, Long> old = db.snapshot(); // pins 1: the pass's watermark
            db.put(1L, 20L); // commit 2: chain 2 -> 1 (nothing pruned: the watermark is 0)
            Snapshot<Long, Long> mid = db.snapshot(); // pins 2: keeps version 2 readable
            PauseHook hook = new PauseHook(TestHook.Point.VACUUM_AFTER_KEEPER);
            store.hook(hook);

            Future<VacuumResult> pass = vacuumThread.submit(db::vacuum); // watermark 1, keeper = version 1
            hook.awaitReached();
            old.close();
            assertEquals(2L, store.pins().refresh()); // the committers may now cut below version 2
            db.put(1L, 30L); // commit 3 prunes: keeper = version 2, cuts version 1 off the chain
            hook.release();

            VacuumResult r = pass.get(30, TimeUnit.SECONDS);
            // What the pass saw before the cut: versions 2 (above its watermark) and 1 (its
            // keeper) retained, nothing reclaimed by the pass itself (the committer cut version 1).
            assertEquals(new VacuumResult(0, 0, r.ssiRecords(), 1, 2, 1), r);
            assertEquals(20L, mid.get(1L), "the snapshot at 2 lost its version");
            assertEquals(30L, db.get(1L));
            assertEquals(1, db.stats().openSnapshots());
            mid.close();
            assertEquals(0, db.stats().openSnapshots());
        } finally {
            vacuumThread.shutdownNow();
        }
    }
}
