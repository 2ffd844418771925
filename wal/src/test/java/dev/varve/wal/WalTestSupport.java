// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import dev.varve.Codec;
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
            return s.filter(p -> p.getFileName().toString().endsWith(suffix))
                    .sorted()
                    .collect(Collectors.toList());
        }
    }

    static List<String> walThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("varve-wal-") && t.isAlive())
                .map(Thread::getName)
                .collect(Collectors.toList());
    }

    /** Runs {@link LockProbeChild} on {@code dir} in a child JVM; returns what it printed. */
    static String probe(Path dir) throws Exception {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(
                        javaBin,
                        "-cp",
                        System.getProperty("java.class.path"),
                        LockProbeChild.class.getName(),
                        dir.toString())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
        if (!p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("lock probe on " + dir + " did not exit within 60 s");
        }
        return out;
    }

    /** The live threads of the log of {@code dir}. */
    static List<String> walThreads(Path dir) {
        return walThreads().stream().filter(n -> n.endsWith("[" + dir + "]")).collect(Collectors.toList());
    }

    /**
     * A {@link FaultyIo.Pause} that holds the first matching operation until {@link #release}
     * opens, ignoring interrupts: a call stuck in the kernel (a hung NFS server, a dying disk),
     * which then completes normally.
     */
    static final class Gate implements FaultyIo.Pause {
        final java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);
        final java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        private final FaultyIo.Op op;
        private final String suffix;
        private final java.util.concurrent.atomic.AtomicBoolean armed =
                new java.util.concurrent.atomic.AtomicBoolean(true);

        Gate(FaultyIo.Op op, String fileSuffix) {
            this.op = op;
            this.suffix = fileSuffix;
        }

        @Override
        public void at(FaultyIo.Op o, Path file) {
            if (o != op || !file.getFileName().toString().endsWith(suffix) || !armed.compareAndSet(true, false)) {
                return;
            }
            entered.countDown();
            while (true) {
                try {
                    release.await();
                    return; // NOTE: an interrupt meanwhile is dropped: the call was already in the kernel
                } catch (InterruptedException e) {
                    // keep waiting, as a task in uninterruptible sleep does
                }
            }
        }

        /** Waits (at most 10 s) until the operation is held. */
        void awaitEntered() throws InterruptedException {
            if (!entered.await(10, java.util.concurrent.TimeUnit.SECONDS)) {
                throw new AssertionError("no " + op + " of *" + suffix + " within 10 s");
            }
        }
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
