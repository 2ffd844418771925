// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.varve.Database;
import dev.varve.Internals;
import dev.varve.Isolation;
import dev.varve.Snapshot;
import dev.varve.Transaction;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Committer pruning (two versions after the head), the committers' vacuum pass every 256 commits,
 * explicit vacuum and settling, against a model that keeps every version: every open snapshot and
 * transaction must read exactly the state at its timestamp, whichever versions were cut around it.
 * One thread, so a seed reproduces a failure exactly.
 */
class AdversaryPruningDifferentialTest {
    private static final int KEYS = 6; // few keys: hot chains

    /** key -> (commitTs -> value, null for a removal). */
    private final Map<Long, TreeMap<Long, Long>> model = new HashMap<>();

    private Long modelAt(long key, long ts) {
        TreeMap<Long, Long> versions = model.get(key);
        if (versions == null) {
            return null;
        }
        Map.Entry<Long, Long> e = versions.floorEntry(ts);
        return e == null ? null : e.getValue();
    }

    @Test
    void snapshotsReadTheirVersionsWhateverIsPruned() {
        for (long seed = 1; seed <= 20; seed++) {
            run(seed, 3_000, false);
            run(seed, 3_000, true);
        }
    }

    @Tag("slow")
    @Test
    void snapshotsReadTheirVersionsWhateverIsPrunedLong() {
        for (long seed = 1; seed <= 400; seed++) {
            run(seed, 20_000, seed % 2 == 0);
        }
    }

    private void run(long seed, int steps, boolean serializableReaders) {
        model.clear();
        Random r = new Random(seed);
        try (Database<Long, Long> db = Database.<Long, Long>builder().open()) {
            Store<Long, Long> store;
            try (Transaction<Long, Long> tx = db.begin()) {
                store = Internals.store(tx);
            }
            List<Snapshot<Long, Long>> snapshots = new ArrayList<>();
            List<Transaction<Long, Long>> readers = new ArrayList<>();
            long value = 0;
            for (int step = 0; step < steps; step++) {
                int op = r.nextInt(100);
                long key = r.nextInt(KEYS);
                String where =
                        "seed " + seed + " step " + step + (serializableReaders ? " (serializable readers)" : "");
                if (op < 40) { // autocommit write or removal
                    if (r.nextInt(5) == 0) {
                        db.remove(key);
                        if (modelAt(key, Long.MAX_VALUE) != null) {
                            model.computeIfAbsent(key, k -> new TreeMap<>()).put(store.visibleTs(), null);
                        }
                    } else {
                        db.put(key, ++value);
                        model.computeIfAbsent(key, k -> new TreeMap<>()).put(store.visibleTs(), value);
                    }
                } else if (op < 55) { // a transaction writing two keys
                    long other = (key + 1 + r.nextInt(KEYS - 1)) % KEYS;
                    try (Transaction<Long, Long> tx = db.begin(Isolation.SNAPSHOT)) {
                        tx.put(key, ++value);
                        tx.remove(other);
                        tx.commit();
                        long c = tx.commitTimestamp();
                        model.computeIfAbsent(key, k -> new TreeMap<>()).put(c, value);
                        if (modelAt(other, c) != null) {
                            model.get(other).put(c, null);
                        }
                    }
                } else if (op < 65) {
                    if (snapshots.size() < 40) {
                        snapshots.add(db.snapshot());
                    }
                    if (readers.size() < 10) {
                        readers.add(db.begin(serializableReaders ? Isolation.SERIALIZABLE : Isolation.SNAPSHOT));
                    }
                } else if (op < 75 && !snapshots.isEmpty()) {
                    snapshots.remove(r.nextInt(snapshots.size())).close();
                } else if (op < 80 && !readers.isEmpty()) {
                    Transaction<Long, Long> tx = readers.remove(r.nextInt(readers.size()));
                    if (r.nextBoolean()) {
                        tx.commit(); // a recorded read-only SERIALIZABLE commit takes a timestamp of its own
                    } else {
                        tx.close();
                    }
                } else if (op < 83) {
                    db.vacuum();
                } else {
                    for (Snapshot<Long, Long> s : snapshots) {
                        long ts = s.snapshotTimestamp();
                        for (long k = 0; k < KEYS; k++) {
                            assertEquals(modelAt(k, ts), s.get(k), where + ": snapshot " + ts + " key " + k);
                        }
                        TreeMap<Long, Long> expected = new TreeMap<>();
                        for (long k = 0; k < KEYS; k++) {
                            Long v = modelAt(k, ts);
                            if (v != null) {
                                expected.put(k, v);
                            }
                        }
                        assertEquals(expected, new TreeMap<>(s.descendingMap()), where + ": scan of snapshot " + ts);
                    }
                    for (Transaction<Long, Long> tx : readers) {
                        long k = r.nextInt(KEYS);
                        assertEquals(
                                modelAt(k, tx.snapshotTimestamp()),
                                tx.get(k),
                                where + ": transaction at " + tx.snapshotTimestamp() + " key " + k);
                    }
                }
            }
            for (Snapshot<Long, Long> s : snapshots) {
                s.close();
            }
            for (Transaction<Long, Long> tx : readers) {
                tx.close();
            }
        }
    }
}
