// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.varve.Codec;
import dev.varve.spi.CommitLog;
import dev.varve.spi.CommitRecord;
import dev.varve.spi.StoreAccess;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Protocol 3 end to end, on the real WalLog: one committer appends records one at a time, each
 * after its predecessor's future completed plus a random busy delay of 0 to 60 µs, so that the
 * appends fall at every point of the writer's way back to sleep (drain, force, 20 µs spin, PARKED,
 * queue check, park). In FULL durability with no flush interval the writer parks without a
 * timeout once a group is forced, so a lost wake-up leaves a future incomplete for good: the
 * test fails with the commit timestamp that was never written.
 *
 * <p>Limits: the window between the writer's PARKED store and its queue check is a few
 * nanoseconds, and WalLog has no hook there, so this samples the schedule rather than forcing it
 * (WriterWakeUpStress forces both orders of the same protocol under jcstress). The writer's
 * state before each append is sampled and the counts are printed, to show that both the parked
 * and the running writer were met. Forces are no-ops (the wake-up protocol does not depend on
 * them) so that each round is short.
 */
class WalWakeUpTest {
    static final int APPENDS = 20_000;
    static final long MAX_DELAY_NANOS = 60_000;

    @Test
    void everyAppendIsWrittenWhateverTheWritersState(@TempDir Path dir) throws Exception {
        CommitLog<String, Long> log = Wal.builder(dir, Codec.STRING, Codec.LONG)
                .sync(Wal.Sync.FULL)
                .fileIo(new NoForceIo())
                .checkpointEvery(0)
                .build()
                .open(new EmptyStore());
        Thread writer = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("varve-wal-writer[" + dir + "]"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no writer thread for " + dir));
        int appendsToParked = 0;
        int appendsToRunning = 0;
        try {
            for (long ts = 1; ts <= APPENDS; ts++) {
                long until = System.nanoTime() + ThreadLocalRandom.current().nextLong(MAX_DELAY_NANOS);
                while (System.nanoTime() < until) {
                    Thread.onSpinWait(); // jitter, not synchronisation: it moves the append across the writer's idle
                    // path
                }
                if (writer.getState() == Thread.State.WAITING) {
                    appendsToParked++;
                } else {
                    appendsToRunning++;
                }
                var future = log.append(new OneWrite(ts, "k", ts));
                try {
                    future.get(10, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    fail("LOST WAKE-UP: commit " + ts + " was not written within 10 s; writer " + writer.getName()
                            + " is " + writer.getState() + " (appends so far: " + appendsToParked
                            + " to a parked writer, "
                            + appendsToRunning + " to a running one)");
                }
            }
        } finally {
            log.close();
        }
        System.out.printf(
                "WalWakeUpTest: %d appends, %d met a parked writer, %d a running one%n",
                APPENDS, appendsToParked, appendsToRunning);
        assertTrue(
                appendsToParked > 0 && appendsToRunning > 0,
                "the schedule met only one writer state: parked " + appendsToParked + ", running " + appendsToRunning);
    }

    /** Real files, no-op forces. */
    static final class NoForceIo implements FileIo {
        @Override
        public Channel create(Path file) throws IOException {
            return new NoForce(FileIo.REAL.create(file));
        }

        @Override
        public Channel openExisting(Path file) throws IOException {
            return new NoForce(FileIo.REAL.openExisting(file));
        }

        @Override
        public void forceDirectory(Path dir) {}

        @Override
        public void moveAtomically(Path from, Path to) throws IOException {
            FileIo.REAL.moveAtomically(from, to);
        }

        @Override
        public void delete(Path file) throws IOException {
            FileIo.REAL.delete(file);
        }
    }

    static final class NoForce implements FileIo.Channel {
        private final FileIo.Channel ch;

        NoForce(FileIo.Channel ch) {
            this.ch = ch;
        }

        @Override
        public void write(ByteBuffer src, long position) throws IOException {
            ch.write(src, position);
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return ch.read(dst, position);
        }

        @Override
        public void force() {}

        @Override
        public long size() throws IOException {
            return ch.size();
        }

        @Override
        public void truncate(long size) throws IOException {
            ch.truncate(size);
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }

    record OneWrite(long commitTimestamp, String key, Long value) implements CommitRecord<String, Long> {
        @Override
        public int size() {
            return 1;
        }

        @Override
        public String key(int i) {
            return key;
        }

        @Override
        public Long value(int i) {
            return value;
        }
    }

    /** A store with nothing to recover into and nothing to checkpoint. */
    static final class EmptyStore implements StoreAccess<String, Long> {
        @Override
        public void replay(long commitTimestamp, String key, Long value) {
            throw new IllegalStateException("empty directory expected, replayed " + commitTimestamp);
        }

        @Override
        public void recoveredThrough(long commitTimestamp) {}

        @Override
        public long readSnapshot(BiConsumer<? super String, ? super Long> consumer) {
            return 0;
        }

        @Override
        public Comparator<? super String> comparator() {
            return Comparator.naturalOrder();
        }
    }
}
