// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.varve.Codec;
import dev.varve.Database;
import dev.varve.NamedMap;
import dev.varve.Snapshot;
import dev.varve.Transaction;
import dev.varve.VacuumResult;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Review 8: the exact gauges (MapIndex M4) of a durable database after it is reopened: the
 * default map's recovery installs (Store#install, checkpoint and log tail, tombstones over keys
 * the log removed again), a named map's install when it is opened after recovery
 * (Store#createMap), and commits after that; checked against a walk of every chain (by
 * reflection: the engine's packages are not exported), a snapshot's size, and a full vacuum
 * pass's own count.
 */
class GaugesAfterRecoveryTest {
    @TempDir
    Path dir;

    private Database<Long, Long> open() {
        return Database.<Long, Long>builder()
                .durability(Wal.relaxed(dir, Codec.LONG, Codec.LONG))
                .open();
    }

    /** {versions, live keys} of every map of {@code db} not dropped, by walking every chain. */
    private static long[] walk(Database<?, ?> db) throws ReflectiveOperationException {
        Field storeField = Database.class.getDeclaredField("store");
        storeField.setAccessible(true);
        Object store = storeField.get(db);
        Object[] maps = (Object[]) store.getClass().getMethod("maps").invoke(store);
        long versions = 0;
        long live = 0;
        for (Object map : maps) {
            if (map == null) {
                continue;
            }
            Object index = map.getClass().getMethod("index").invoke(map);
            Object cursor = index.getClass().getMethod("cursor").invoke(index);
            Method next = cursor.getClass().getMethod("next");
            Method entry = cursor.getClass().getMethod("entry");
            while ((boolean) next.invoke(cursor)) {
                Object e = entry.invoke(cursor);
                if (!e.getClass().getName().equals("dev.varve.internal.mvcc.Version")) {
                    versions++; // a settled value
                    live++;
                    continue;
                }
                Method older = e.getClass().getMethod("getOlderAcquire");
                Method tombstone = e.getClass().getMethod("isTombstone");
                if (!(boolean) tombstone.invoke(e)) {
                    live++;
                }
                for (Object v = e; v != null; v = older.invoke(v)) {
                    versions++;
                }
            }
        }
        return new long[] {versions, live};
    }

    private static void assertGauges(Database<Long, Long> db, String where) throws ReflectiveOperationException {
        long[] walked = walk(db);
        assertEquals(walked[0], db.gauges().versions(), where + ": versions");
        assertEquals(walked[1], db.gauges().liveKeys(), where + ": live keys");
    }

    private static void writeSome(Database<Long, Long> db, NamedMap<Long, Long> other, Random r, int n) {
        for (int i = 0; i < n; i++) {
            long k = r.nextInt(30);
            int op = r.nextInt(10);
            if (op < 4) {
                db.put(k, (long) i);
            } else if (op < 6) {
                db.remove(k);
            } else if (op < 8) {
                try (Transaction<Long, Long> tx = db.begin()) {
                    tx.remove(k); // may be absent
                    tx.put((k + 1) % 30, (long) i);
                    tx.put(other, k, (long) i);
                    tx.remove(other, (k + 2) % 30);
                    tx.commit();
                }
            } else {
                other.put(k, (long) -i);
            }
        }
    }

    @Test
    void gaugesMatchAWalkAfterReopeningFromTheLogAndFromCheckpoints() throws Exception {
        Random r = new Random(8);
        for (int run = 0; run < 4; run++) {
            String where = "run " + run;
            try (Database<Long, Long> db = open()) {
                assertGauges(db, where + " after recovery, before the named map is opened");
                NamedMap<Long, Long> other = db.openMap("other", Codec.LONG, Codec.LONG);
                assertGauges(db, where + " after the named map's install");
                try (Snapshot<Long, Long> s = db.snapshot()) {
                    assertEquals(s.size() + s.map(other).size(), db.gauges().liveKeys(), where + ": live keys");
                }
                writeSome(db, other, r, 300);
                assertGauges(db, where + " after writes");
                if (run % 2 == 1) {
                    db.checkpoint();
                    writeSome(db, other, r, 100); // a log tail over the checkpoint
                }
                assertGauges(db, where + " before close");
            }
            try (Database<Long, Long> db = open()) {
                NamedMap<Long, Long> other = db.openMap("other", Codec.LONG, Codec.LONG);
                assertGauges(db, where + " reopened");
                VacuumResult pass = db.vacuum();
                assertGauges(db, where + " after a full pass");
                assertEquals(pass.retainedVersions(), db.gauges().versions(), where + ": what the pass left");
                assertEquals(pass.liveKeys(), db.gauges().liveKeys(), where + ": live keys the pass saw");
                writeSome(db, other, r, 50);
                assertGauges(db, where + " reopened, after writes");
            }
        }
    }
}
