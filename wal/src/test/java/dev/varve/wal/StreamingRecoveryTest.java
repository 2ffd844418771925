// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static dev.varve.wal.WalTestSupport.builder;
import static dev.varve.wal.WalTestSupport.files;
import static dev.varve.wal.WalTestSupport.open;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Recovery streams a segment through a buffer bounded by its largest record, not by the segment. */
class StreamingRecoveryTest {

    @TempDir
    Path dir;

    /** Real files; remembers the largest single read requested. */
    static final class ReadCountingIo implements FileIo {
        final AtomicLong largestRead = new AtomicLong();
        final AtomicLong bytesRead = new AtomicLong();

        @Override
        public Channel create(Path file) throws IOException {
            return wrap(FileIo.REAL.create(file));
        }

        @Override
        public Channel openExisting(Path file) throws IOException {
            return wrap(FileIo.REAL.openExisting(file));
        }

        private Channel wrap(Channel c) {
            return new Channel() {
                @Override
                public void write(ByteBuffer src, long position) throws IOException {
                    c.write(src, position);
                }

                @Override
                public int read(ByteBuffer dst, long position) throws IOException {
                    largestRead.accumulateAndGet(dst.remaining(), Math::max);
                    int n = c.read(dst, position);
                    bytesRead.addAndGet(Math.max(n, 0));
                    return n;
                }

                @Override
                public void force() throws IOException {
                    c.force();
                }

                @Override
                public long size() throws IOException {
                    return c.size();
                }

                @Override
                public void truncate(long size) throws IOException {
                    c.truncate(size);
                }

                @Override
                public void close() throws IOException {
                    c.close();
                }
            };
        }

        @Override
        public void forceDirectory(Path d) throws IOException {
            FileIo.REAL.forceDirectory(d);
        }

        @Override
        public void moveAtomically(Path from, Path to) throws IOException {
            FileIo.REAL.moveAtomically(from, to);
        }

        @Override
        public void delete(Path file) throws IOException {
            FileIo.REAL.delete(file);
        }
    }

    @Test
    void recoveryReadsASegmentThroughABufferBoundedByItsLargestRecord() throws Exception {
        int big = 300 << 10;
        long ts = 0;
        try (WalLog<String, Long> log =
                open(builder(dir, Wal.Sync.RELAXED, FileIo.REAL).segmentSize(64L << 20), new FakeStore<>())) {
            CompletableFuture<Void> last = null;
            for (int i = 0; i < 40_000; i++) {
                last = log.append(Rec.of(++ts, "key-" + i, (long) i));
                if (i == 20_000) {
                    last = log.append(Rec.of(++ts, "x".repeat(big), -1L)); // one large record in the middle
                }
            }
            last.get(30, TimeUnit.SECONDS);
        }
        List<Path> segs = files(dir, ".seg");
        assertEquals(1, segs.size());
        long size = Files.size(segs.get(0));
        int bound = Math.max(Recovery.READ_WINDOW_BYTES, big + 64);
        assertTrue(size > 4L * bound, "segment of " + size + " bytes is not much larger than the bound " + bound);

        ReadCountingIo io = new ReadCountingIo();
        FakeStore<String, Long> store = new FakeStore<>();
        open(builder(dir, Wal.Sync.RELAXED, io), store).close();
        assertEquals(40_001, store.replayed.size(), "every commit replayed");
        assertTrue(
                io.largestRead.get() <= bound,
                "recovery asked for a read of " + io.largestRead.get() + " bytes from a " + size
                        + "-byte segment whose largest record is about " + big + " bytes");
        assertTrue(io.bytesRead.get() >= size, "recovery read " + io.bytesRead.get() + " of " + size + " bytes");
    }
}
