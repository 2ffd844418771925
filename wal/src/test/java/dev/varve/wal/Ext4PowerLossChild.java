// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import static org.awaitility.Awaitility.await;

import dev.varve.Codec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Child JVM of {@link Ext4PowerLossTest}. Arguments: directory, sync mode, action, first, count.
 * {@code write}: appends commits first..first+count-1 (the writer writes them at once and, with
 * the 3 s flush interval, forces them only later), waits until the segment files hold them,
 * prints {@code WRITTEN} and blocks until killed. {@code commit}: recovers, commits {@code count}
 * more under FULL with default settings, printing {@code ACK <ts>} for each, closes and exits.
 */
public final class Ext4PowerLossChild {

    private Ext4PowerLossChild() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        Wal.Sync sync = Wal.Sync.valueOf(args[1]);
        String action = args[2];
        long first = Long.parseLong(args[3]);
        int count = Integer.parseInt(args[4]);
        FakeStore<String, Long> store = new FakeStore<>();
        if (action.equals("write")) {
            WalLog<String, Long> log = WalTestSupport.open(
                    WalTestSupport.builder(dir, sync, FileIo.REAL)
                            .flushInterval(Duration.ofSeconds(3))
                            .flushRecords(1_000_000)
                            .flushBytes(1L << 40),
                    store);
            if (store.lastTs() != first - 1) {
                throw new IllegalStateException("recovered up to " + store.lastTs() + ", expected " + (first - 1));
            }
            long bytes = RecordFormat.SEGMENT_HEADER_BYTES;
            for (long ts = first; ts < first + count; ts++) {
                Rec<String, Long> r = WalTestSupport.commit(ts, 1000);
                bytes += RecordFormat.encode(r, Codec.STRING, Codec.LONG).length;
                log.append(r);
            }
            long expected = bytes;
            await().atMost(Duration.ofSeconds(2))
                    .pollInterval(Duration.ofMillis(1))
                    .until(() -> segmentBytes(dir) >= expected);
            System.out.println("WRITTEN " + segmentBytes(dir));
            System.out.flush();
            Thread.currentThread().join(); // until killed, before the flush interval ends
        } else {
            try (WalLog<String, Long> log =
                    WalTestSupport.open(WalTestSupport.builder(dir, Wal.Sync.FULL, FileIo.REAL), store)) {
                System.out.println("RECOVERED " + store.lastTs());
                for (long ts = store.lastTs() + 1, end = ts + count; ts < end; ts++) {
                    CompletableFuture<Void> f = log.append(WalTestSupport.commit(ts, 1000));
                    f.get(30, TimeUnit.SECONDS);
                    System.out.println("ACK " + ts);
                }
            }
            System.out.println("CLOSED");
        }
    }

    private static long segmentBytes(Path dir) throws IOException {
        long total = 0;
        for (Path p : WalTestSupport.files(dir, ".seg")) {
            total += Files.size(p);
        }
        return total;
    }
}
