/**
 * The write-ahead log for Varve databases: {@link dev.varve.wal.Wal} builds the durability
 * setting, {@link dev.varve.wal.Codec} turns keys and values into bytes, {@link
 * dev.varve.wal.CorruptLogException} reports damage found on open.
 *
 * <p>Nullness: no parameter or return value in this package is {@code null} unless its
 * documentation says so.
 *
 * <p>Memory-ordering convention (implementation): shared fields are reached through {@code
 * VarHandle} accessors whose names end in the access mode ({@code getVolatileX}/{@code
 * setVolatileX} for sequentially consistent accesses, {@code getAcquireX}/{@code setReleaseX}
 * for acquire/release pairs, {@code casX} for compare-and-set); each release store or CAS names the
 * load it pairs with.
 */
package dev.varve.wal;
