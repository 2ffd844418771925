// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Database;
import dev.varve.WatchRange;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** The {@code --watchers} counts under a forced schedule: stats read while a watcher is given events. */
class FeedWatchersTest {
    private static final long WAIT_SECONDS = 20;

    /** A bank transfer: one commit that writes two accounts. */
    private static void transfer(Database<Long, Long> db, long from, long to) {
        db.transact(tx -> {
            tx.put(from, tx.get(from) - 1);
            tx.put(to, tx.get(to) + 1);
            return null;
        });
    }

    private static void awaitEvents(FeedWatchers w, long events) {
        Awaitility.await("the watcher given " + events + " events")
                .atMost(Duration.ofSeconds(WAIT_SECONDS))
                .until(() -> w.stats(1).events() >= events);
    }

    /**
     * The schedule of the bank run that saw 16 changes too many over 136,748 events: the runner
     * reads the counts at the stop while the watchers are still given the last events. stats()
     * read a watcher's event count, then (here held there) the watcher was given four transfers
     * of two changes each, then stats() read its change count: 8 changes of events it had not
     * counted. Each event has two changes, so the counts must say changes == 2 x events.
     */
    @Test
    void statsReadWhileAWatcherIsGivenEventsAreConsistent() throws Exception {
        try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
            for (long a = 0; a < 10; a++) {
                db.put(a, 1_000L);
            }
            FeedWatchers watchers = new FeedWatchers(db, List.of(WatchRange.ofDefaultMap(null, null)), 1);
            try {
                watchers.start();
                transfer(db, 0, 1);
                awaitEvents(watchers, 1);

                CountDownLatch reached = new CountDownLatch(1);
                CountDownLatch released = new CountDownLatch(1);
                watchers.midStatsProbe = () -> {
                    reached.countDown();
                    try {
                        assertTrue(released.await(WAIT_SECONDS, TimeUnit.SECONDS), "never released");
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new AssertionError(e);
                    }
                };
                CompletableFuture<FeedWatchers.Stats> held = CompletableFuture.supplyAsync(() -> watchers.stats(1));
                assertTrue(reached.await(WAIT_SECONDS, TimeUnit.SECONDS), "stats() never reached the probe");
                watchers.midStatsProbe = null; // the next reads pass
                for (long a = 2; a < 10; a += 2) {
                    transfer(db, a, a + 1);
                }
                awaitEvents(watchers, 5); // the watcher was given them while the held read stands
                released.countDown();
                FeedWatchers.Stats s = held.get(WAIT_SECONDS, TimeUnit.SECONDS);

                assertEquals(2 * s.events(), s.changes(), s.toString());
                FeedWatchers.Stats after = watchers.stats(1);
                assertEquals(5, after.events(), after.toString());
                assertEquals(10, after.changes(), after.toString());
            } finally {
                watchers.close();
            }
        }
    }
}
