// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Codec;
import dev.varve.Database;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The log's JFR events (dev.varve.LogForce, Checkpoint, Recovery), recorded and read back. */
class WalEventsTest {
    @TempDir
    Path dir;

    @TempDir
    Path out;

    private static Database<Long, Long> open(Path dir) {
        return Database.<Long, Long>builder()
                .durability(Wal.full(dir, Codec.LONG, Codec.LONG))
                .open();
    }

    private static List<RecordedEvent> named(List<RecordedEvent> events, String name) {
        return events.stream()
                .filter(e -> e.getEventType().getName().equals(name))
                .collect(Collectors.toList());
    }

    @Test
    void forcesCheckpointsAndRecoveriesAreRecordedWithTheirFields() throws Exception {
        Path file = out.resolve("wal.jfr");
        try (Recording r = new Recording()) {
            r.enable("dev.varve.LogForce");
            r.enable("dev.varve.Checkpoint");
            r.enable("dev.varve.Recovery");
            r.start();
            try (Database<Long, Long> db = open(dir)) {
                for (long i = 1; i <= 3; i++) {
                    db.put(i, i); // FULL: each forced before it returns
                }
                db.checkpoint();
                db.put(4L, 4L);
            }
            Path segment;
            try (Stream<Path> files = Files.list(dir)) {
                segment = files.filter(p -> p.getFileName().toString().endsWith(".seg"))
                        .max(Path::compareTo)
                        .orElseThrow();
            }
            // half a record after the last one: a write a crash tore
            Files.write(segment, new byte[] {0x13, 0x37, 0x42}, StandardOpenOption.APPEND);
            try (Database<Long, Long> db = open(dir)) {
                assertEquals(4L, db.get(4L));
            }
            r.stop();
            r.dump(file);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file);

        List<RecordedEvent> forces = named(events, "dev.varve.LogForce");
        assertTrue(forces.size() >= 4, forces.toString());
        assertTrue(forces.stream().mapToInt(e -> e.getInt("records")).sum() >= 4, forces.toString());
        assertTrue(forces.stream().allMatch(e -> e.getLong("bytes") >= 0), forces.toString());

        List<RecordedEvent> checkpoints = named(events, "dev.varve.Checkpoint");
        assertEquals(1, checkpoints.size(), checkpoints.toString());
        assertEquals(3, checkpoints.get(0).getLong("entries"));
        assertEquals(3, checkpoints.get(0).getLong("snapshotTimestamp"));

        List<RecordedEvent> recoveries = named(events, "dev.varve.Recovery");
        assertEquals(2, recoveries.size(), recoveries.toString());
        RecordedEvent first = recoveries.get(0);
        assertEquals(0, first.getLong("records"));
        assertEquals(0, first.getLong("newestCommitTimestamp"));
        RecordedEvent second = recoveries.get(1);
        assertEquals(3, second.getLong("checkpointTimestamp"));
        assertEquals(4, second.getLong("newestCommitTimestamp"));
        assertTrue(second.getLong("records") >= 1, second.toString()); // commit 4, after the checkpoint
        assertEquals(3, second.getLong("tornTailBytes"), second.toString());
    }
}
