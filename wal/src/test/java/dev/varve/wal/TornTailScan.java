// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import dev.varve.Codec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;

/**
 * A log whose newest segment ends in a torn large record, and a timing program for recovering
 * it (issue 12 bug 5): {@code java -cp <test classpath> dev.varve.wal.TornTailScan [MiB ...]}
 * prints, per torn-tail size, the recovery time and the body bytes checksummed by the scan.
 */
final class TornTailScan {

    private TornTailScan() {}

    /**
     * Writes three acknowledged commits into {@code dir}, then appends the first {@code tornBytes}
     * bytes of a larger record, as a crash during its write leaves it. The record has many small
     * writes: key "key-<i>" and value 31 i; or, {@code framey}, key "\u0001k<i>" and value 16 i, so
     * that before every key the value's low half reads as a plausible body length and the key's
     * first byte as the commit type.
     */
    static void writeTornLog(Path dir, int tornBytes, boolean framey) throws Exception {
        RecoveryTest.writeLog(dir, 3, 1 << 30);
        Rec<String, Long> big = new Rec<>(4);
        int writes = tornBytes / 20 + 16;
        for (int i = 0; i < writes; i++) {
            big.with(framey ? "\u0001k" + i : "key-" + i, framey ? (long) i * 16 : (long) i * 31);
        }
        byte[] rec = RecordFormat.encode(big, Codec.STRING, Codec.LONG);
        if (rec.length <= tornBytes) {
            throw new IllegalStateException("record of " + rec.length + " bytes is not above " + tornBytes);
        }
        List<Path> segs = WalTestSupport.files(dir, ".seg");
        Files.write(segs.get(segs.size() - 1), Arrays.copyOf(rec, tornBytes), StandardOpenOption.APPEND);
    }

    /** Recovers {@code dir}; returns the Recovery for its counters. */
    static Recovery<String, Long> recover(Path dir) throws IOException {
        Recovery<String, Long> r = new Recovery<>(FileIo.REAL, dir, new FakeStore<>(), Codec.STRING, Codec.LONG);
        Recovery.Result res = r.run();
        if (res.lastTs() != 3) {
            throw new IllegalStateException("recovered up to " + res.lastTs() + ", expected 3");
        }
        return r;
    }

    public static void main(String[] args) throws Exception {
        String[] sizes = args.length > 0 ? args : new String[] {"1", "2", "4", "8"};
        for (boolean framey : new boolean[] {false, true}) {
            for (String s : sizes) {
                run(Integer.parseInt(s), framey);
            }
        }
    }

    private static void run(int mib, boolean framey) throws Exception {
        {
            Path dir = Files.createTempDirectory("torn-tail-scan");
            try {
                writeTornLog(dir, mib << 20, framey);
                long t0 = System.nanoTime();
                Recovery<String, Long> r = recover(dir);
                long ms = (System.nanoTime() - t0) / 1_000_000;
                System.out.printf(
                        "torn tail %d MiB (%s): recovery %d ms, scan checksummed %d body bytes%n",
                        mib, framey ? "keys start with 0x01" : "plain keys", ms, r.scanCrcBytes());
            } finally {
                try (var files = Files.list(dir)) {
                    for (Path p : files.toList()) {
                        Files.delete(p);
                    }
                }
                Files.delete(dir);
            }
        }
    }
}
