// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine's JFR events, recorded and read back as JDK Mission Control would. */
class JfrEventsTest {
    @TempDir
    Path dir;

    private List<RecordedEvent> record(Runnable work) throws Exception {
        Path file = dir.resolve("varve.jfr");
        try (Recording r = new Recording()) {
            r.enable("dev.varve.Commit").withoutThreshold();
            r.enable("dev.varve.Abort").withoutThreshold();
            r.enable("dev.varve.Vacuum").withoutThreshold();
            r.start();
            work.run();
            r.stop();
            r.dump(file);
        }
        return RecordingFile.readAllEvents(file);
    }

    private static List<RecordedEvent> named(List<RecordedEvent> events, String name) {
        return events.stream()
                .filter(e -> e.getEventType().getName().equals(name))
                .collect(Collectors.toList());
    }

    @Test
    void commitsAbortsAndVacuumPassesAreRecordedWithTheirFields() throws Exception {
        List<RecordedEvent> events;
        try (Database<Long, String> db = Database.<Long, String>builder().open()) {
            NamedMap<String, Integer> stock = db.openMap("stock");
            events = record(() -> {
                try (Transaction<Long, String> tx = db.begin()) {
                    tx.put(1L, "a");
                    tx.put(2L, "b");
                    tx.put(stock, "apples", 3);
                    tx.commit();
                }
                Transaction<Long, String> loser = db.begin(Isolation.SNAPSHOT);
                loser.put(1L, "lost");
                db.put(1L, "won");
                assertThrows(SerializationFailureException.class, loser::commit);
                db.remove(2L);
                try (Transaction<Long, String> tx = db.begin()) {
                    tx.put(3L, "c");
                    tx.commitAsync().join();
                }
                db.vacuum();
            });
        }
        List<RecordedEvent> commits = named(events, "dev.varve.Commit");
        assertEquals(4, commits.size(), commits.toString());
        List<RecordedEvent> autocommits = commits.stream()
                .filter(e -> "autocommit".equals(e.getString("kind")))
                .collect(Collectors.toList());
        assertEquals(2, autocommits.size(), "db.put and db.remove: " + commits);
        for (RecordedEvent a : autocommits) {
            assertEquals(1, a.getInt("keys"));
            assertTrue(a.getLong("commitTimestamp") > 0);
        }
        List<RecordedEvent> async = commits.stream()
                .filter(e -> "commitAsync".equals(e.getString("kind")))
                .collect(Collectors.toList());
        assertEquals(1, async.size(), commits.toString());
        assertEquals(1, async.get(0).getInt("keys"));
        commits = commits.stream()
                .filter(e -> "commit".equals(e.getString("kind")))
                .collect(Collectors.toList());
        assertEquals(1, commits.size(), commits.toString());
        RecordedEvent c = commits.get(0);
        assertEquals(3, c.getInt("keys"));
        assertEquals(2, c.getInt("maps"));
        assertTrue(c.getBoolean("serializable"));
        assertTrue(c.getLong("commitTimestamp") > 0);
        assertEquals(0, c.getLong("durabilityWait")); // in memory: nothing to wait for
        assertTrue(c.getDuration().toNanos() > 0);

        List<RecordedEvent> aborts = named(events, "dev.varve.Abort");
        assertEquals(1, aborts.size(), aborts.toString());
        assertEquals("WRITE_WRITE_CONFLICT", aborts.get(0).getString("reason"));
        assertEquals("[1]", aborts.get(0).getString("keys"));
        assertEquals(c.getLong("commitTimestamp"), aborts.get(0).getLong("snapshotTimestamp"));

        List<RecordedEvent> passes = named(events, "dev.varve.Vacuum");
        assertEquals(1, passes.size(), passes.toString());
        assertTrue(passes.get(0).getBoolean("full"));
        assertEquals(1, passes.get(0).getLong("keys")); // key 2's tombstone
    }

    @Test
    void aDefaultRecordingKeepsOnlyCommitsSlowerThanTheThreshold() throws Exception {
        Path file = dir.resolve("default.jfr");
        try (Database<Long, String> db = Database.<Long, String>builder().open();
                Recording r = new Recording()) {
            r.start();
            for (long i = 0; i < 100; i++) {
                long k = i;
                db.transact(tx -> {
                    tx.put(k, "v");
                    return null;
                });
            }
            r.stop();
            r.dump(file);
        }
        List<RecordedEvent> commits = named(RecordingFile.readAllEvents(file), "dev.varve.Commit");
        assertTrue(
                commits.stream().allMatch(e -> e.getDuration().toMillis() >= 1),
                "only commits of 1 ms or more: " + commits);
    }

    @Test
    void nothingIsRecordedWhenTheEventsAreDisabled() throws Exception {
        Path file = dir.resolve("off.jfr");
        try (Database<Long, String> db = Database.<Long, String>builder().open();
                Recording r = new Recording()) {
            r.disable("dev.varve.Commit");
            r.disable("dev.varve.Abort");
            r.disable("dev.varve.Vacuum");
            r.start();
            db.transact(tx -> {
                tx.put(1L, "a");
                return null;
            });
            db.vacuum();
            r.stop();
            r.dump(file);
        }
        assertTrue(RecordingFile.readAllEvents(file).stream()
                .noneMatch(e -> e.getEventType().getName().startsWith("dev.varve.")));
    }
}
