// SPDX-License-Identifier: Apache-2.0
package dev.varve;

/**
 * What one vacuum pass reclaimed, and what it left.
 *
 * @param versions versions unlinked (old versions and removed tombstones)
 * @param keys keys dropped from the index (their only version was a tombstone older than every
 *     snapshot)
 * @param ssiRecords committed-transaction records dropped from the SSI conflict graph
 * @param watermark the oldest snapshot timestamp still readable when the pass ran: every
 *     version a snapshot at or above it can read was kept
 * @param retainedVersions versions left in the index after the pass (a key's settled value counts
 *     as one); racy against concurrent commits; -1 for an incremental background pass, which
 *     visits only recently written keys
 * @param liveKeys keys whose newest version is a value, not a tombstone, during the pass; -1 for
 *     an incremental background pass
 */
public record VacuumResult(
        long versions, long keys, int ssiRecords, long watermark, long retainedVersions, long liveKeys) {}
