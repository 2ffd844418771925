// SPDX-License-Identifier: Apache-2.0

/**
 * The serializable-snapshot-isolation conflict graph: a pure algorithm over commit and snapshot
 * timestamps that decides, at commit time, whether a committing transaction would complete a
 * dangerous structure of rw-antidependencies (Cahill, Röhm, Fekete, SIGMOD 2008; Ports and
 * Grittner, VLDB 2012, §3–4).
 *
 * <p>Internal to Varve: the package is exported only to {@code dev.varve.core}. Nothing in it is
 * thread-safe; the core calls it only while holding its commit lock. Timestamps are non-negative
 * {@code long}s; a transaction sees every commit whose commit timestamp is at most its snapshot
 * timestamp. Parameters are non-null unless stated otherwise; a {@code null} argument throws
 * {@link java.lang.NullPointerException}.
 */
package dev.varve.internal.ssi;
