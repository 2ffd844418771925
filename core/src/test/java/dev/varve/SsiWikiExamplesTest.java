// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The examples of the PostgreSQL wiki page "SSI" (wiki.postgresql.org/wiki/SSI), on string keys:
 * under SNAPSHOT each anomaly commits, under SERIALIZABLE the last committer of the dangerous
 * structure is refused and says why.
 */
class SsiWikiExamplesTest {

    private static void assertDangerous(Transaction<String, String> tx) {
        SerializationFailureException e = assertThrows(SerializationFailureException.class, tx::commit);
        assertEquals(SerializationFailureException.Reason.DANGEROUS_STRUCTURE, e.reason());
        assertTrue(e.getMessage().contains("dangerous structure"), e.getMessage());
    }

    /** Black and white: each transaction repaints the other colour's marbles. */
    @ParameterizedTest
    @EnumSource(Isolation.class)
    void blackAndWhite(Isolation iso) {
        try (Database<String, String> db = Database.<String, String>builder().open()) {
            for (int i = 0; i < 10; i++) {
                db.put("marble/" + i, i % 2 == 0 ? "black" : "white");
            }
            var t1 = db.begin(iso);
            var t2 = db.begin(iso);
            repaint(t1, "black", "white");
            repaint(t2, "white", "black");
            t1.commit();
            if (iso == Isolation.SNAPSHOT) {
                t2.commit(); // the colours swapped: no serial order gives this
                assertEquals(5, count(db, "black"));
            } else {
                assertDangerous(t2);
                assertEquals(10, count(db, "white"));
            }
        }
    }

    private static void repaint(Transaction<String, String> tx, String from, String to) {
        for (Map.Entry<String, String> e :
                tx.asMap().subMap("marble/", "marble0").entrySet()) {
            if (e.getValue().equals(from)) {
                e.setValue(to);
            }
        }
    }

    private static long count(Database<String, String> db, String colour) {
        try (Snapshot<String, String> snap = db.snapshot()) {
            return snap.values().stream().filter(colour::equals).count();
        }
    }

    /** Intersecting data: each sums the other's rows and inserts a row into its own group. */
    @ParameterizedTest
    @EnumSource(Isolation.class)
    void intersectingData(Isolation iso) {
        try (Database<String, String> db = Database.<String, String>builder().open()) {
            db.put("a/1", "10");
            db.put("a/2", "20");
            db.put("b/1", "100");
            db.put("b/2", "200");
            var t1 = db.begin(iso);
            var t2 = db.begin(iso);
            t1.put("b/3", String.valueOf(sum(t1, "a/")));
            t2.put("a/3", String.valueOf(sum(t2, "b/")));
            t1.commit();
            if (iso == Isolation.SNAPSHOT) {
                t2.commit();
            } else {
                assertDangerous(t2);
            }
        }
    }

    private static long sum(Transaction<String, String> tx, String prefix) {
        long sum = 0;
        for (String v : tx.asMap().subMap(prefix, prefix + Character.MAX_VALUE).values()) {
            sum += Long.parseLong(v);
        }
        return sum;
    }

    /** Overdraft protection: two withdrawals each check the combined balance of two accounts. */
    @ParameterizedTest
    @EnumSource(Isolation.class)
    void overdraftProtection(Isolation iso) {
        try (Database<String, String> db = Database.<String, String>builder().open()) {
            db.put("kevin/checking", "500");
            db.put("kevin/savings", "500");
            var t1 = db.begin(iso);
            var t2 = db.begin(iso);
            withdraw(t1, "kevin/checking", 900);
            withdraw(t2, "kevin/savings", 900);
            t1.commit();
            if (iso == Isolation.SNAPSHOT) {
                t2.commit();
                long total = Long.parseLong(db.get("kevin/checking")) + Long.parseLong(db.get("kevin/savings"));
                assertEquals(-800, total); // overdrawn: the invariant only SERIALIZABLE keeps
            } else {
                assertDangerous(t2);
            }
        }
    }

    private static void withdraw(Transaction<String, String> tx, String account, long amount) {
        long total = sum(tx, "kevin/");
        assertTrue(total >= amount);
        tx.put(account, String.valueOf(Long.parseLong(tx.get(account)) - amount));
    }

    /**
     * Deposit report, the read-only anomaly: a report (read-only) sees the batch closed but not a
     * receipt added to that batch by a transaction that began before the batch closed.
     */
    @Test
    void depositReportReadOnlyAnomalyIsRefusedOnlyWhereItCloses() {
        for (Isolation iso : Isolation.values()) {
            try (Database<String, String> db =
                    Database.<String, String>builder().open()) {
                db.put("control", "1");
                var receipt = db.begin(iso); // T2: adds a receipt to the current batch
                String batch = receipt.get("control");
                receipt.put("receipt/" + batch + "/1", "100");
                var close = db.begin(iso); // T3: closes the batch
                close.put("control", String.valueOf(Long.parseLong(close.get("control")) + 1));
                close.commit();
                var report = db.begin(iso); // T1: read-only report of the closed batch
                assertEquals("2", report.get("control"));
                assertEquals(
                        0, report.asMap().subMap("receipt/1/", "receipt/1/~").size());
                report.commit(); // sees batch 1 closed and empty
                if (iso == Isolation.SNAPSHOT) {
                    receipt.commit(); // ... and now batch 1 has a receipt: the report was wrong
                } else {
                    assertDangerous(receipt); // report ->rw receipt ->rw close, close first
                }
            }
        }
    }

    /** The same three transactions where the report ran before the batch closed: no anomaly. */
    @Test
    void depositReportBeforeBatchCloseIsNotAFalsePositive() {
        try (Database<String, String> db = Database.<String, String>builder().open()) {
            db.put("control", "1");
            var receipt = db.begin();
            receipt.put("receipt/" + receipt.get("control") + "/1", "100");
            var report = db.begin();
            assertEquals("1", report.get("control"));
            report.asMap().subMap("receipt/0/", "receipt/0/~").size();
            var close = db.begin();
            close.put("control", "2");
            close.commit();
            report.commit();
            receipt.commit(); // T3 committed after T1's snapshot: the read-only rule says safe
        }
    }

    /**
     * Classroom scheduling: a booking is key "room/101/start" with value "end"; each of two
     * bookings scans the bookings that start before its end for an overlap, finds none, and
     * inserts itself.
     */
    @ParameterizedTest
    @EnumSource(Isolation.class)
    void classroomScheduling(Isolation iso) {
        try (Database<String, String> db = Database.<String, String>builder().open()) {
            db.put("room/101/13:00", "14:00");
            var t1 = db.begin(iso);
            var t2 = db.begin(iso);
            assertTrue(book(t1, "14:00", "15:00"));
            assertTrue(book(t2, "14:30", "15:30"));
            t1.commit();
            if (iso == Isolation.SNAPSHOT) {
                t2.commit(); // double-booked
                try (Snapshot<String, String> snap = db.snapshot()) {
                    assertEquals(3, snap.size());
                }
            } else {
                assertDangerous(t2); // each inserted into the range the other scanned: phantoms
            }
        }
    }

    private static boolean book(Transaction<String, String> tx, String start, String end) {
        for (Map.Entry<String, String> e :
                tx.asMap().subMap("room/101/", "room/101/" + end).entrySet()) {
            String otherStart = e.getKey().substring("room/101/".length());
            if (e.getValue().compareTo(start) > 0 && otherStart.compareTo(end) < 0) {
                return false; // overlaps
            }
        }
        tx.put("room/101/" + start, end);
        return true;
    }
}
