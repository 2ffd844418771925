// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * Protocol 2, version stamps vs. visibleTs ("Stamping" in Version's notes, step 4 of a commit in
 * CommitProtocol's notes): the committer stamps every version of commit c (an opaque store of commitTs,
 * PENDING to c), then publishes visibleTs = c with a volatile store; a reader takes its snapshot
 * with one volatile read of visibleTs and then walks the chains with plain loads of commitTs
 * (VersionChain.valueAt).
 *
 * <p>The volatile it races the stamps against is the real Store's visibleTs.
 *
 * <p>The store starts at visibleTs = 1, with two keys whose chains are {@code [PENDING: 2] -> [1:
 * 1]}: commit 2 has linked its two write latches and is about to stamp them. Values are the
 * commit timestamps that wrote them, so a reader's result (snapshot, value of key a, value of key
 * b) must be all 1 or all 2. A reader that sees visibleTs = 2 and the old value of either key has
 * seen a half-stamped commit: the commit is visible without one of its writes.
 */
public final class StampVsVisibleTsStress {
    private StampVsVisibleTsStress() {}

    static Store<Long, Long> storeAtOne() {
        Store<Long, Long> store = new Store<>(null, 64);
        store.recoveredThrough(1);
        return store;
    }

    /** A chain whose head is a write latch of commit 2 over a version committed at 1. */
    static Version<Integer> latchOverOne() {
        return new Version<>(2, Version.PENDING, new Version<>(1, 1, null));
    }

    static int valueOrZero(Integer v) {
        return v == null ? 0 : v;
    }

    /** Two versions of one commit (a transaction's commit). */
    @JCStressTest
    @Outcome(id = "1, 1, 1", expect = Expect.ACCEPTABLE, desc = "snapshot before commit 2: both old values")
    @Outcome(id = "2, 2, 2", expect = Expect.ACCEPTABLE, desc = "snapshot after commit 2: both of its values")
    @Outcome(
            id = "2, 1, .*",
            expect = Expect.FORBIDDEN,
            desc =
                    "HALF-STAMPED COMMIT: visibleTs = 2 but key a's version of commit 2 not seen (its write lost to this reader)")
    @Outcome(
            id = "2, .*, 1",
            expect = Expect.FORBIDDEN,
            desc =
                    "HALF-STAMPED COMMIT: visibleTs = 2 but key b's version of commit 2 not seen (its write lost to this reader)")
    @Outcome(
            id = "1, 2, .*",
            expect = Expect.FORBIDDEN,
            desc = "DIRTY READ: snapshot 1 sees key a's uncommitted version of commit 2")
    @Outcome(
            id = "1, .*, 2",
            expect = Expect.FORBIDDEN,
            desc = "DIRTY READ: snapshot 1 sees key b's uncommitted version of commit 2")
    @Outcome(expect = Expect.FORBIDDEN, desc = "anything else: a value no commit wrote (0 = absent)")
    @State
    public static class TwoVersions {
        final Store<Long, Long> store = storeAtOne();
        final Version<Integer> a = latchOverOne();
        final Version<Integer> b = latchOverOne();

        @Actor
        public void committer() {
            a.stamp(2);
            b.stamp(2);
            store.recoveredThrough(2); // the volatile store visibleTs = 2 of CommitProtocol#commit step 4
        }

        @Actor
        public void reader(III_Result r) {
            long ts = store.visibleTs();
            r.r1 = (int) ts;
            r.r2 = valueOrZero(VersionChain.valueAt(a, ts));
            r.r3 = valueOrZero(VersionChain.valueAt(b, ts));
        }
    }

    /**
     * An autocommit write latch, whose value is filled in after it was linked (CommitProtocol#writeLatest:
     * {@code latch.value = value} before the stamp): a reader that sees visibleTs = 2 must see
     * the value, not the null a latch is linked with (which reads as a tombstone: key absent).
     */
    @JCStressTest
    @Outcome(id = "1, 1", expect = Expect.ACCEPTABLE, desc = "snapshot before commit 2: the old value")
    @Outcome(id = "2, 2", expect = Expect.ACCEPTABLE, desc = "snapshot after commit 2: its value")
    @Outcome(
            id = "2, 0",
            expect = Expect.FORBIDDEN,
            desc =
                    "LOST WRITE: visibleTs = 2 and the stamp seen, but not the value written before it: the key reads as absent")
    @Outcome(
            id = "2, 1",
            expect = Expect.FORBIDDEN,
            desc = "HALF-STAMPED COMMIT: visibleTs = 2 but the version of commit 2 not seen")
    @Outcome(expect = Expect.FORBIDDEN, desc = "anything else (a dirty read at snapshot 1)")
    @State
    public static class AutocommitLatch {
        final Store<Long, Long> store = storeAtOne();
        final Version<Integer> latch = new Version<>(null, Version.PENDING, new Version<>(1, 1, null));

        @Actor
        public void committer() {
            latch.value = 2;
            latch.stamp(2);
            store.recoveredThrough(2);
        }

        @Actor
        public void reader(II_Result r) {
            long ts = store.visibleTs();
            r.r1 = (int) ts;
            r.r2 = valueOrZero(VersionChain.valueAt(latch, ts));
        }
    }

    /**
     * Control: a committer that publishes visibleTs before stamping its second version. The
     * half-stamped outcome the tests above forbid must show up here.
     */
    @JCStressTest
    @Outcome(id = "1, 1, 1", expect = Expect.ACCEPTABLE, desc = "snapshot before commit 2")
    @Outcome(id = "2, 2, 2", expect = Expect.ACCEPTABLE, desc = "snapshot after commit 2")
    @Outcome(
            id = "2, 2, 1",
            expect = Expect.ACCEPTABLE_INTERESTING,
            desc = "expected here: visibleTs published before key b was stamped, so a reader sees half of commit 2")
    @Outcome(expect = Expect.FORBIDDEN, desc = "anything else")
    @State
    public static class ControlPublishBeforeStamp {
        final Store<Long, Long> store = storeAtOne();
        final Version<Integer> a = latchOverOne();
        final Version<Integer> b = latchOverOne();

        @Actor
        public void committer() {
            a.stamp(2);
            store.recoveredThrough(2);
            b.stamp(2);
        }

        @Actor
        public void reader(III_Result r) {
            long ts = store.visibleTs();
            r.r1 = (int) ts;
            r.r2 = valueOrZero(VersionChain.valueAt(a, ts));
            r.r3 = valueOrZero(VersionChain.valueAt(b, ts));
        }
    }
}
