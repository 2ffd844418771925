// SPDX-License-Identifier: Apache-2.0

/**
 * Varve: an ordered, in-memory key-value map with cross-thread ACID transactions (MVCC, snapshot
 * isolation and serializable snapshot isolation). The API is in {@code dev.varve}; {@code
 * dev.varve.spi} is for commit-log implementations such as {@code varve-wal}.
 */
module dev.varve.core {
    requires dev.varve.ssi;
    requires java.management;
    requires jdk.jfr;

    exports dev.varve;
    exports dev.varve.spi;

    uses dev.varve.spi.BackupFormat;
}
