package dev.varve;

/**
 * What one vacuum pass reclaimed.
 *
 * @param versions versions unlinked (old versions and removed tombstones)
 * @param keys keys dropped from the index (their only version was a tombstone older than every
 *     snapshot)
 * @param ssiRecords committed-transaction records dropped from the SSI conflict graph
 * @param watermark the oldest snapshot timestamp still readable when the pass ran: every
 *     version a snapshot at or above it can read was kept
 */
public record VacuumResult(long versions, long keys, int ssiRecords, long watermark) {}
