// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.index;

import java.util.function.BiFunction;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.ZII_Result;

/**
 * Protocol 4, VersionedIndex's insert vs. delete (value CAS to null, marker, unlink; see its
 * notes) and computeAt on a node removed concurrently. Entries are Integers (an entry is an
 * opaque Object to the index); 0 in a result stands for null (absent).
 *
 * <p>Each outcome set is the set of results of the linearizable histories of the two actors'
 * operations (each operation takes effect atomically at one point between its call and return),
 * with the arbiter reading the final state after both.
 */
public final class IndexInsertDeleteStress {
    private IndexInsertDeleteStress() {}

    static int code(Object entry) {
        return entry == null ? 0 : (Integer) entry;
    }

    static VersionedIndex<Integer> indexOf(int... keys) {
        VersionedIndex<Integer> index = new VersionedIndex<>(null);
        for (int k : keys) {
            index.putIfAbsent(k, k);
        }
        return index;
    }

    /** Present keys as a bit set, once by point lookups and once by an ascending cursor. */
    static int presentByGet(VersionedIndex<Integer> index, int... keys) {
        int bits = 0;
        for (int k : keys) {
            if (index.get(k) != null) {
                bits |= 1 << k;
            }
        }
        return bits;
    }

    static int presentByCursor(VersionedIndex<Integer> index) {
        int bits = 0;
        int last = -1;
        for (VersionedIndex.Cursor<Integer> c = index.cursor(); c.next(); ) {
            if (c.key() <= last) {
                return -1; // out of order or repeated: a broken base level
            }
            last = c.key();
            bits |= 1 << last;
        }
        return bits;
    }

    /**
     * Same key: remove(1, A) vs putIfAbsent(1, B), index {1: A}. Result: (remove succeeded,
     * putIfAbsent's return (present entry, 0 if it inserted), final entry of 1).
     */
    @JCStressTest
    @Outcome(id = "true, 0, 2", expect = Expect.ACCEPTABLE, desc = "remove, then the insert of B into the free key")
    @Outcome(id = "true, 1, 0", expect = Expect.ACCEPTABLE, desc = "putIfAbsent saw A (no insert), then remove")
    @Outcome(
            id = "true, 0, 0",
            expect = Expect.FORBIDDEN,
            desc = "LOST INSERT: putIfAbsent reported inserting B after the remove, but B is not in the index"
                    + " (linked to the deleted node, or unlinked with it)")
    @Outcome(
            id = "true, 1, 2",
            expect = Expect.FORBIDDEN,
            desc = "B present although putIfAbsent saw A and did not insert")
    @Outcome(
            id = "false, .*",
            expect = Expect.FORBIDDEN,
            desc = "remove(1, A) failed although only A was ever there before it")
    @Outcome(expect = Expect.FORBIDDEN, desc = "anything else")
    @State
    public static class SameKeyPutIfAbsent {
        static final Integer A = 1;
        static final Integer B = 2;
        final VersionedIndex<Integer> index = new VersionedIndex<>(null);

        public SameKeyPutIfAbsent() {
            index.putIfAbsent(1, A);
        }

        @Actor
        public void remover(ZII_Result r) {
            r.r1 = index.remove(1, A);
        }

        @Actor
        public void inserter(ZII_Result r) {
            r.r2 = code(index.putIfAbsent(1, B));
        }

        @Arbiter
        public void end(ZII_Result r) {
            r.r3 = code(index.get(1));
        }
    }

    /**
     * Same key through compute (the commit path): a remapping that deletes (returns null) vs one
     * that inserts B only if absent. Index {1: A}. Result: (the deleter's return, the inserter's
     * return, final entry).
     */
    @JCStressTest
    @Outcome(id = "0, 2, 2", expect = Expect.ACCEPTABLE, desc = "delete, then the insert of B")
    @Outcome(id = "0, 1, 0", expect = Expect.ACCEPTABLE, desc = "the inserter saw A (kept it), then delete")
    @Outcome(
            id = "0, 2, 0",
            expect = Expect.FORBIDDEN,
            desc = "LOST INSERT: the inserter installed B after the delete, but the key is absent")
    @Outcome(expect = Expect.FORBIDDEN, desc = "anything else (a deleter returning non-null, B installed over A, ...)")
    @State
    public static class SameKeyCompute {
        static final Integer A = 1;
        static final Integer B = 2;
        final VersionedIndex<Integer> index = new VersionedIndex<>(null);

        public SameKeyCompute() {
            index.putIfAbsent(1, A);
        }

        @Actor
        public void deleter(III_Result r) {
            r.r1 = code(index.compute(1, (k, v) -> null));
        }

        @Actor
        public void inserter(III_Result r) {
            r.r2 = code(index.compute(1, (k, v) -> v == null ? B : v));
        }

        @Arbiter
        public void end(III_Result r) {
            r.r3 = code(index.get(1));
        }
    }

    /**
     * Insert right after a node being deleted (the reason for the marker: without it the insert
     * could CAS the deleted node's next and be unlinked with it): index {1, 2, 4}; one actor
     * removes 2, the other inserts 3. Result: (remove succeeded, present keys
     * by get as bits, present keys by an ascending cursor as bits).
     */
    @JCStressTest
    @Outcome(
            id = "true, 26, 26",
            expect = Expect.ACCEPTABLE,
            desc = "{1, 3, 4}: 2 removed, 3 inserted, in either order")
    @Outcome(
            id = "true, 18, .*",
            expect = Expect.FORBIDDEN,
            desc = "LOST INSERT: 3 was linked after the deleted node 2 and unlinked with it")
    @Outcome(id = "true, 30, .*", expect = Expect.FORBIDDEN, desc = "2 still present after its removal succeeded")
    @Outcome(
            expect = Expect.FORBIDDEN,
            desc = "anything else (keys lost, cursor out of order: -1, cursor and get disagree)")
    @State
    public static class InsertAfterDeleted {
        final VersionedIndex<Integer> index = indexOf(1, 2, 4);

        @Actor
        public void remover(ZII_Result r) {
            r.r1 = index.remove(2, 2);
        }

        @Actor
        public void inserter() {
            index.putIfAbsent(3, 3);
        }

        @Arbiter
        public void end(ZII_Result r) {
            r.r2 = presentByGet(index, 1, 2, 3, 4);
            r.r3 = presentByCursor(index);
        }
    }

    /** Insert before and after a node being deleted: index {2, 4, 8}; remove 4, insert 3 and 5. */
    @JCStressTest
    @Outcome(id = "true, 300, 300", expect = Expect.ACCEPTABLE, desc = "{2, 3, 5, 8}")
    @Outcome(
            expect = Expect.FORBIDDEN,
            desc = "LOST KEY: an insert next to the deleted node 4 lost (or 4 kept, or a neighbour lost)")
    @State
    public static class InsertAroundDeleted {
        final VersionedIndex<Integer> index = indexOf(2, 4, 8);

        @Actor
        public void remover(ZII_Result r) {
            r.r1 = index.remove(4, 4);
        }

        @Actor
        public void inserter() {
            index.putIfAbsent(5, 5);
            index.putIfAbsent(3, 3);
        }

        @Arbiter
        public void end(ZII_Result r) {
            r.r2 = presentByGet(index, 2, 3, 4, 5, 8);
            r.r3 = presentByCursor(index);
        }
    }

    /** Increment the entry, or create 1 if absent. */
    static final BiFunction<Integer, Object, Object> INCREMENT = (k, v) -> v == null ? 1 : (Integer) v + 1;

    /**
     * computeAt on a node removed concurrently: the caller found key 1's node earlier (as a
     * transaction does for a key it read) and increments through it while another thread
     * removes the key. computeAt must notice the removal, fall back to a search, and apply the
     * increment exactly once. Index {1: 10}. Result: (remove succeeded, computeAt's return, final).
     */
    @JCStressTest
    @Outcome(
            id = "false, 11, 11",
            expect = Expect.ACCEPTABLE,
            desc = "increment first (10 -> 11), so remove(1, 10) fails")
    @Outcome(
            id = "true, 1, 1",
            expect = Expect.ACCEPTABLE,
            desc = "remove first; computeAt found the node deleted, searched, created 1")
    @Outcome(
            id = "true, 11, .*",
            expect = Expect.FORBIDDEN,
            desc = "LOST UPDATE: the increment was applied to the removed node's value and the remove won anyway")
    @Outcome(
            id = "true, 1, 0",
            expect = Expect.FORBIDDEN,
            desc =
                    "LOST INSERT: computeAt's fallback created 1 but the key is absent (installed into the removed node)")
    @Outcome(expect = Expect.FORBIDDEN, desc = "anything else (applied twice: 12 or 2, ...)")
    @State
    public static class ComputeAtRemovedNode {
        static final Integer TEN = 10;
        final VersionedIndex<Integer> index = new VersionedIndex<>(null);
        final VersionedIndex.Node<Integer> node;

        public ComputeAtRemovedNode() {
            index.putIfAbsent(1, TEN);
            node = index.node(1);
        }

        @Actor
        public void remover(ZII_Result r) {
            r.r1 = index.remove(1, TEN);
        }

        @Actor
        public void incrementer(ZII_Result r) {
            r.r2 = code(index.computeAt(node, 1, INCREMENT));
        }

        @Arbiter
        public void end(ZII_Result r) {
            r.r3 = code(index.get(1));
        }
    }

    /** Two computeAt increments through one node: both apply, each exactly once. Index {1: 10}. */
    @JCStressTest
    @Outcome(
            id = {"11, 12, 12", "12, 11, 12"},
            expect = Expect.ACCEPTABLE,
            desc = "both increments, in either order")
    @Outcome(expect = Expect.FORBIDDEN, desc = "LOST UPDATE (final 11) or an increment applied twice")
    @State
    public static class ComputeAtTwice {
        final VersionedIndex<Integer> index = new VersionedIndex<>(null);
        final VersionedIndex.Node<Integer> node;

        public ComputeAtTwice() {
            index.putIfAbsent(1, 10);
            node = index.node(1);
        }

        @Actor
        public void first(III_Result r) {
            r.r1 = code(index.computeAt(node, 1, INCREMENT));
        }

        @Actor
        public void second(III_Result r) {
            r.r2 = code(index.computeAt(node, 1, INCREMENT));
        }

        @Arbiter
        public void end(III_Result r) {
            r.r3 = code(index.get(1));
        }
    }
}
