package dev.varve.wal;

import dev.varve.spi.CommitLog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Opening logs and looking at their files in tests. */
final class WalTestSupport {
    private WalTestSupport() {}

    static Wal.Builder<String, Long> builder(Path dir, Wal.Sync sync, FileIo io) {
        return Wal.builder(dir, Codec.STRING, Codec.LONG).sync(sync).fileIo(io).checkpointEvery(0);
    }

    static WalLog<String, Long> open(Wal.Builder<String, Long> b, FakeStore<String, Long> store) {
        CommitLog<String, Long> log = b.build().open(store);
        return (WalLog<String, Long>) log;
    }

    static List<Path> files(Path dir, String suffix) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(suffix)).sorted().collect(Collectors.toList());
        }
    }

    static List<String> walThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("varve-wal-") && t.isAlive())
                .map(Thread::getName).collect(Collectors.toList());
    }

    /** Commit i writes key "k(i % keys)" = i, and every 7th removes "k((i+1) % keys)". */
    static Rec<String, Long> commit(long ts, int keys) {
        Rec<String, Long> r = Rec.of(ts, "k" + (ts % keys), ts);
        if (ts % 7 == 0) {
            r.with("k" + ((ts + 1) % keys), null);
        }
        return r;
    }
}
