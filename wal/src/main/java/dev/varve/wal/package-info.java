// SPDX-License-Identifier: Apache-2.0

/**
 * The write-ahead log for Varve databases: {@link dev.varve.wal.Wal} builds the durability
 * setting (its key and value codecs are {@link dev.varve.Codec}s), {@link
 * dev.varve.wal.CorruptLogException} reports damage found on open.
 *
 * <p>Nullness: no parameter or return value in this package is {@code null} unless its
 * documentation says so.
 *
 * <p>Memory-ordering convention (implementation): a shared field's declaration sets its default
 * access mode ({@code volatile} fields are read and written as such, {@code final} and
 * thread-confined fields plainly). Where a field is accessed in another mode, a {@code VarHandle}
 * accessor named by that mode does it ({@code getXAcquire}, {@code setXRelease}, {@code casX} for
 * compare-and-set), and each release store or CAS names the acquire load it pairs with ("Pairs
 * with"). A tolerated race carries a {@code NOTE:} with the one-line reason it is harmless.
 */
package dev.varve.wal;
