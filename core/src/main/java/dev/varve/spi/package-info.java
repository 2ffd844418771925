// SPDX-License-Identifier: Apache-2.0

/**
 * The service provider interface between a {@link dev.varve.Database} and the log that makes its
 * commits durable: {@link dev.varve.spi.CommitLog} receives each committed transaction's {@link
 * dev.varve.spi.CommitRecord} in commit order; {@link dev.varve.spi.StoreAccess} lets the log
 * replay what it recovered and read consistent images for checkpoints. Implemented by {@code
 * varve-wal}; users configure it through {@link dev.varve.Durability}.
 */
package dev.varve.spi;
