// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import dev.varve.Codec;
import java.nio.file.Path;

/** Child JVM of {@code WalLogTest}: tries to open a log directory and prints the outcome. */
public final class LockProbeChild {
    private LockProbeChild() {}

    public static void main(String[] args) {
        try {
            Wal.full(Path.of(args[0]), Codec.STRING, Codec.LONG)
                    .open(new FakeStore<String, Long>())
                    .close();
            System.out.println("OPENED");
        } catch (IllegalStateException e) {
            System.out.println("REFUSED " + e.getMessage());
        }
    }
}
