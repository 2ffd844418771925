// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static dev.varve.wal.WalTestSupport.builder;
import static dev.varve.wal.WalTestSupport.commit;
import static dev.varve.wal.WalTestSupport.open;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.varve.Codec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the log reports through System.Logger (java.util.logging is its backend in tests): the
 * recovery summary, a cut torn tail, a checkpoint written.
 */
class LogMessagesTest {
    @TempDir
    Path dir;

    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Logger jul = Logger.getLogger("dev.varve.wal");
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord r) {
            records.add(r);
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };
    private Level previous;

    @BeforeEach
    void listen() {
        previous = jul.getLevel();
        jul.setLevel(Level.ALL);
        jul.addHandler(handler);
    }

    @AfterEach
    void stop() {
        jul.removeHandler(handler);
        jul.setLevel(previous);
    }

    private List<String> messages(Level level) {
        return records.stream()
                .filter(r -> r.getLevel().equals(level))
                .map(r -> java.text.MessageFormat.format(r.getMessage(), r.getParameters()))
                .collect(Collectors.toList());
    }

    @Test
    void recoveryReportsWhatItReplayedAndTheTornTailItCut() throws Exception {
        RecoveryTest.writeLog(dir, 5, 1 << 20);
        records.clear();
        Path seg;
        try (var files = Files.list(dir)) {
            seg = files.filter(p -> p.getFileName().toString().endsWith(".seg"))
                    .findFirst()
                    .orElseThrow();
        }
        long goodSize = Files.size(seg);
        byte[] next = RecordFormat.encode(commit(6, 13), Codec.STRING, Codec.LONG);
        Files.write(seg, java.util.Arrays.copyOf(next, next.length - 3), StandardOpenOption.APPEND);

        open(builder(dir, Wal.Sync.FULL, FileIo.REAL), new FakeStore<String, Long>())
                .close();

        List<String> warnings = messages(Level.WARNING);
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains("cut a torn tail"), warnings.get(0));
        assertTrue(warnings.get(0).contains(seg.toString()), warnings.get(0));
        assertTrue(warnings.get(0).contains("from byte " + goodSize), warnings.get(0));
        assertTrue(warnings.get(0).contains("(" + (next.length - 3) + " bytes"), warnings.get(0));
        List<String> infos = messages(Level.FINE);
        assertTrue(
                infos.stream()
                        .anyMatch(m -> m.startsWith("recovered " + dir)
                                && m.contains("5 records replayed")
                                && m.contains("newest commit timestamp 5")),
                infos.toString());
    }

    @Test
    void aCleanRecoveryWarnsOfNothing() throws Exception {
        RecoveryTest.writeLog(dir, 3, 1 << 20);
        records.clear();
        open(builder(dir, Wal.Sync.FULL, FileIo.REAL), new FakeStore<String, Long>())
                .close();
        assertEquals(List.of(), messages(Level.WARNING));
        assertTrue(
                messages(Level.FINE).stream().anyMatch(m -> m.contains("3 records replayed")),
                messages(Level.FINE).toString());
    }

    @Test
    void aCheckpointIsReported() throws Exception {
        FakeStore<String, Long> store = new FakeStore<>();
        try (WalLog<String, Long> log = open(builder(dir, Wal.Sync.FULL, FileIo.REAL), store)) {
            for (long ts = 1; ts <= 3; ts++) {
                Rec<String, Long> r = commit(ts, 5);
                store.apply(r);
                log.append(r).get(10, java.util.concurrent.TimeUnit.SECONDS);
            }
            records.clear();
            log.checkpoint();
        }
        assertTrue(
                messages(Level.FINE).stream()
                        .anyMatch(
                                m -> m.startsWith("checkpoint written: " + dir) && m.contains("snapshot timestamp 3")),
                messages(Level.FINE).toString());
    }
}
