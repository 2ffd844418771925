// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Each counter and gauge of {@link Database#counters()} and {@link Database#gauges()} moves when it should, and only then. */
class CountersTest {

    private static Database<Long, Long> open() {
        return Database.<Long, Long>builder().open();
    }

    @Test
    void commitsAreCountedByKind() {
        try (Database<Long, Long> db = open()) {
            Database.Counters start = db.counters();
            try (Transaction<Long, Long> tx = db.begin()) {
                tx.put(1L, 1L);
                tx.commit();
            }
            try (Transaction<Long, Long> tx = db.begin()) {
                tx.get(1L);
                tx.commit(); // wrote nothing
            }
            try (Transaction<Long, Long> tx = db.begin(Isolation.SNAPSHOT)) {
                tx.commit(); // empty
            }
            db.put(2L, 2L);
            db.remove(3L); // absent: writes nothing, no commit
            try (Transaction<Long, Long> tx = db.begin()) {
                tx.put(9L, 9L);
                tx.rollback(); // not a commit
            }
            try (Snapshot<Long, Long> s = db.snapshot()) {
                s.get(1L); // a snapshot is not a transaction
            }
            Database.Counters d = db.counters().minus(start);
            assertEquals(1, d.transactionCommits());
            assertEquals(2, d.readOnlyCommits());
            assertEquals(1, d.autocommitWrites());
            assertEquals(4, d.commits());
            assertEquals(0, d.aborts());
            assertEquals(2, db.stats().commits(), "stats().commits(): commits that wrote");
        }
    }

    @Test
    void abortsAreCountedByRule() {
        try (Database<Long, Long> db = open()) {
            db.put(1L, 0L);
            db.put(2L, 0L);
            Database.Counters start = db.counters();
            // first-committer-wins
            Transaction<Long, Long> a = db.begin(Isolation.SNAPSHOT);
            Transaction<Long, Long> b = db.begin(Isolation.SNAPSHOT);
            a.put(1L, 1L);
            b.put(1L, 2L);
            a.commit();
            assertThrows(SerializationFailureException.class, b::commit);
            // write skew, refused by SSI
            Transaction<Long, Long> c = db.begin();
            Transaction<Long, Long> e = db.begin();
            c.get(1L);
            c.get(2L);
            e.get(1L);
            e.get(2L);
            c.put(1L, 5L);
            e.put(2L, 5L);
            c.commit();
            assertThrows(SerializationFailureException.class, e::commit);
            Database.Counters d = db.counters().minus(start);
            assertEquals(1, d.writeWriteAborts());
            assertEquals(1, d.dangerousStructureAborts());
            assertEquals(2, d.aborts());
            assertEquals(2, d.transactionCommits());
        }
    }

    @Test
    void vacuumCountersMoveWithWhatVacuumReclaims() {
        try (Database<Long, Long> db = open()) {
            db.put(1L, 1L);
            Database.Counters start = db.counters();
            try (Snapshot<Long, Long> s = db.snapshot()) {
                for (long v = 2; v <= 11; v++) {
                    db.put(1L, v); // ten versions the snapshot keeps reachable
                }
                assertEquals(1L, s.get(1L));
                assertEquals(11, db.gauges().versions());
            }
            db.put(2L, 2L);
            db.remove(2L);
            VacuumResult result = db.vacuum();
            Database.Counters d = db.counters().minus(start);
            assertEquals(1, d.vacuumRuns());
            assertEquals(1, d.reclaimedKeys(), "key 2: its only version a tombstone");
            // every version of key 1 but the newest, and both of key 2, each counted once
            assertEquals(10 + 2, d.reclaimedVersions());
            assertTrue(result.toString().length() > 0);
            assertEquals(1, db.gauges().versions());
            assertEquals(1, db.gauges().liveKeys());
        }
    }

    @Test
    void gaugesAreTrueWhenReadWithoutAVacuumPass() {
        try (Database<Long, Long> db = open()) {
            for (long k = 0; k < 263; k++) {
                db.put(k, k);
            }
            Database.Gauges g = db.gauges();
            assertEquals(263, g.liveKeys());
            assertEquals(263, g.versions());
            assertEquals(263, g.indexedKeys());
            try (Snapshot<Long, Long> s = db.snapshot()) {
                for (int round = 0; round < 100; round++) {
                    for (long k = 0; k < 263; k++) {
                        db.put(k, k + round);
                    }
                }
                db.remove(0L);
                g = db.gauges();
                assertEquals(262, g.liveKeys());
                assertEquals(263 + 263 * 100 + 1, g.versions(), "every version the snapshot pins");
                assertEquals(1, g.openSnapshots());
                assertTrue(g.oldestSnapshotTimestamp() < g.visibleTimestamp());
                assertEquals(0L, s.get(0L));
            }
            db.vacuum();
            g = db.gauges();
            assertEquals(262, g.liveKeys());
            assertEquals(262, g.versions());
            assertEquals(0, g.openSnapshots());
        }
    }

    @Test
    void readsAreCountedWhenTheirTransactionEnds() {
        try (Database<Long, Long> db = open()) {
            for (long k = 0; k < 10; k++) {
                db.put(k, k);
            }
            Database.Counters start = db.counters();
            Transaction<Long, Long> tx = db.begin();
            tx.get(1L);
            tx.containsKey(2L);
            tx.get(99L); // absent: a read all the same
            assertEquals(5, tx.asMap().subMap(3L, 8L).size()); // five entries scanned
            assertEquals(0, db.counters().minus(start).reads(), "added when the transaction ends");
            tx.commit();
            assertEquals(8, db.counters().minus(start).reads());
            db.get(1L); // an autocommit get
            try (Transaction<Long, Long> rolledBack = db.begin()) {
                rolledBack.get(1L);
            }
            try (Snapshot<Long, Long> s = db.snapshot()) {
                s.get(1L); // not counted
            }
            assertEquals(10, db.counters().minus(start).reads());
        }
    }

    @Test
    void countersAndGaugesOfAClosedDatabaseAreRefused() {
        Database<Long, Long> db = open();
        db.close();
        assertThrows(IllegalStateException.class, db::counters);
        assertThrows(IllegalStateException.class, db::gauges);
    }

    @Test
    void minusIsCounterByCounter() {
        Database.Counters later = new Database.Counters(10, 20, 30, 4, 5, 6, 7, 8, 9, 10, 11);
        Database.Counters earlier = new Database.Counters(1, 2, 3, 1, 1, 1, 1, 1, 1, 1, 1);
        assertEquals(new Database.Counters(9, 18, 27, 3, 4, 5, 6, 7, 8, 9, 10), later.minus(earlier));
        assertEquals(54, later.minus(earlier).commits());
        assertEquals(7, later.minus(earlier).aborts());
    }
}
