// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Reads as of a past commit timestamp: {@link Database#snapshotAt}, {@link Database#timestampAt}, retention. */
class HistoryRetentionTest {

    /** The state of both maps after one commit. */
    private record State(long ts, TreeMap<Long, Long> main, TreeMap<Long, String> named) {}

    @Test
    void everySnapshotAtInsideTheWindowEqualsTheModelWhileVacuumRuns() {
        long seed = System.nanoTime();
        Random rnd = new Random(seed);
        try (Database<Long, Long> db = Database.<Long, Long>builder()
                .retainHistory(Duration.ofHours(1))
                .open()) {
            NamedMap<Long, String> named = db.openMap("named");
            TreeMap<Long, Long> main = new TreeMap<>();
            TreeMap<Long, String> other = new TreeMap<>();
            List<State> states = new ArrayList<>();
            states.add(new State(db.gauges().visibleTimestamp(), new TreeMap<>(main), new TreeMap<>(other)));
            for (int i = 0; i < 600; i++) {
                try (Transaction<Long, Long> tx = db.begin()) {
                    for (int w = rnd.nextInt(3) + 1; w > 0; w--) {
                        long k = rnd.nextInt(20);
                        if (rnd.nextInt(4) == 0) {
                            tx.remove(k);
                            main.remove(k);
                        } else if (rnd.nextBoolean()) {
                            tx.put(k, (long) i);
                            main.put(k, (long) i);
                        } else {
                            tx.map(named).put(k, "v" + i);
                            other.put(k, "v" + i);
                        }
                    }
                    tx.commit();
                    states.add(new State(tx.commitTimestamp(), new TreeMap<>(main), new TreeMap<>(other)));
                }
                if (i % 50 == 0) {
                    db.vacuum();
                }
            }
            db.vacuum();
            for (State s : states) {
                try (Snapshot<Long, Long> past = db.snapshotAt(s.ts())) {
                    assertEquals(s.main(), new TreeMap<>(past), "seed " + seed + ", ts " + s.ts());
                    assertEquals(s.named(), new TreeMap<>(past.map(named)), "seed " + seed + ", ts " + s.ts());
                    assertEquals(s.ts(), past.snapshotTimestamp());
                }
            }
            assertEquals(states.get(0).ts(), db.gauges().oldestReadableTimestamp());
        }
    }

    @Test
    void withoutRetentionAnOldTimestampIsRefusedNamingTheOldestAvailable() {
        try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
            db.put(1L, 1L);
            long old = db.gauges().visibleTimestamp();
            for (long i = 0; i < 300; i++) {
                db.put(1L, i + 2);
            }
            db.vacuum();
            SnapshotTooOldException e = assertThrows(SnapshotTooOldException.class, () -> db.snapshotAt(old));
            assertTrue(e.oldestAvailableTimestamp() > old, e.getMessage());
            assertEquals(old, e.requestedTimestamp());
            assertTrue(e.getMessage().contains(Long.toString(e.oldestAvailableTimestamp())), e.getMessage());
            try (Snapshot<Long, Long> at = db.snapshotAt(e.oldestAvailableTimestamp())) {
                assertEquals(1, at.size());
            }
        }
    }

    @Test
    void anOpenSnapshotKeepsItsTimestampReadableWithoutRetention() {
        try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
            db.put(1L, 10L);
            try (Snapshot<Long, Long> held = db.snapshot()) {
                for (long i = 0; i < 500; i++) {
                    db.put(1L, i);
                    db.put(i + 100, i);
                }
                db.vacuum();
                try (Snapshot<Long, Long> again = db.snapshotAt(held.snapshotTimestamp())) {
                    assertEquals(new TreeMap<>(held), new TreeMap<>(again));
                    assertEquals(10L, again.get(1L));
                }
            }
        }
    }

    @Test
    void badTimestampsAreRefused() {
        try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
            long visible = db.gauges().visibleTimestamp();
            assertThrows(IllegalArgumentException.class, () -> db.snapshotAt(visible + 1));
            assertThrows(IllegalArgumentException.class, () -> db.snapshotAt(-1));
            assertThrows(IllegalStateException.class, () -> db.timestampAt(Instant.now()));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> Database.<Long, Long>builder().retainHistory(Duration.ZERO));
            assertThrows(
                    NullPointerException.class,
                    () -> Database.<Long, Long>builder().retainHistory(null));
        }
        Database<Long, Long> closed = Database.<Long, Long>builder().open();
        closed.close();
        assertThrows(IllegalStateException.class, () -> closed.snapshotAt(0));
    }

    @Test
    void timestampAtMapsAnInstantToTheNewestCommitAtOrBeforeIt() {
        try (Database<Long, Long> db = Database.<Long, Long>builder()
                .retainHistory(Duration.ofHours(1))
                .open()) {
            db.put(1L, 1L);
            long first = db.gauges().visibleTimestamp();
            Instant afterFirst = nextMillisecond();
            db.put(1L, 2L);
            long second = db.gauges().visibleTimestamp();
            assertEquals(first, db.timestampAt(afterFirst));
            assertEquals(second, db.timestampAt(Instant.now().plusSeconds(1)));
            try (Snapshot<Long, Long> past = db.snapshotAt(db.timestampAt(afterFirst))) {
                assertEquals(1L, past.get(1L));
            }
            assertThrows(SnapshotTooOldException.class, () -> db.timestampAt(Instant.EPOCH));
        }
    }

    @Test
    void historyOlderThanTheWindowIsReclaimedAndThenRefused() {
        try (Database<Long, Long> db = Database.<Long, Long>builder()
                .retainHistory(Duration.ofMillis(30))
                .open()) {
            for (long i = 0; i < 200; i++) {
                db.put(i % 10, i);
            }
            long old = db.gauges().visibleTimestamp() - 100;
            try (Snapshot<Long, Long> s = db.snapshotAt(old)) {
                assertEquals(10, s.size());
            }
            assertTrue(db.gauges().olderVersions() > 0);
            // Each poll commits and vacuums, which moves the horizon with the clock; keys 1-9 end
            // with one version each, key 0 (written by the polls) with the window's few.
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                db.put(0L, -1L);
                db.vacuum();
                return db.gauges().oldestReadableTimestamp() > old
                        && db.gauges().olderVersions() < 10;
            });
            SnapshotTooOldException e = assertThrows(SnapshotTooOldException.class, () -> db.snapshotAt(old));
            assertTrue(e.oldestAvailableTimestamp() > old);
        }
    }

    /** Spins on the wall clock (not a sleep used as synchronisation) until a new millisecond begins. */
    private static Instant nextMillisecond() {
        long now = System.currentTimeMillis();
        while (System.currentTimeMillis() <= now) {
            Thread.onSpinWait();
        }
        Instant at = Instant.ofEpochMilli(System.currentTimeMillis());
        while (System.currentTimeMillis() <= at.toEpochMilli()) {
            Thread.onSpinWait();
        }
        return at;
    }
}
