// SPDX-License-Identifier: Apache-2.0

/**
 * Varve's write-ahead log: durability for {@code dev.varve.Database} through {@link
 * dev.varve.wal.Wal}. Exports only {@code dev.varve.wal}.
 */
module dev.varve.wal {
    requires transitive dev.varve.core;
    requires org.jctools.core;
    requires jdk.jfr;

    exports dev.varve.wal;

    provides dev.varve.spi.BackupFormat with
            dev.varve.wal.WalBackupFormat;
}
