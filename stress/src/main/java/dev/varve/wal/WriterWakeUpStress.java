// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;
import org.jctools.queues.atomic.MpscUnboundedAtomicArrayQueue;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Mode;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.Signal;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * Protocol 3, the WAL writer's parking vs. a committer's offer ("Wake-up protocol" in WalLog's
 * notes). WalLog's two halves are private (WalLog#idle and WalLog#append), so these tests run the
 * same protocol on the same objects: the JCTools MPSC queue WalLog uses and an int accessed with
 * the VarHandle modes WalLog uses (setVolatile, getVolatile, compareAndSet):
 * <pre>
 *     writer: writerState = PARKED ; if queue.isEmpty() then park
 *     append: queue.offer(p)       ; if writerState == PARKED and CAS(PARKED, RUNNING) then unpark
 * </pre>
 * If WalLog's halves change, these copies must change with them; WalWakeUpTest (JUnit, in this
 * module) runs the real WalLog for the end-to-end check.
 */
public final class WriterWakeUpStress {
    private WriterWakeUpStress() {}

    static final int RUNNING = 0;
    static final int PARKED = 1;

    /** The shared state of one trial: the queue and the writer state, as in WalLog. */
    public static class Log {
        static final VarHandle WRITER_STATE;

        static {
            try {
                WRITER_STATE = MethodHandles.lookup().findVarHandle(Log.class, "writerState", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final MpscUnboundedAtomicArrayQueue<Object> queue = new MpscUnboundedAtomicArrayQueue<>(1024);
        volatile int writerState;

        /** The writer half up to its decision: true if it would park. */
        boolean writerWouldPark() {
            WRITER_STATE.setVolatile(this, PARKED);
            return queue.isEmpty();
        }

        /** The append half: true if this appender wakes the writer. */
        boolean appendWakes(Object record) {
            queue.offer(record);
            return (int) WRITER_STATE.getVolatile(this) == PARKED && WRITER_STATE.compareAndSet(this, PARKED, RUNNING);
        }
    }

    /**
     * The two decisions. Result: (writer parks: 1, appender unparks it: 1). A writer that parks
     * while the appender does not unpark it sleeps with a record queued: in FULL durability with
     * no flush interval the policy says IDLE, so it parks without a timeout and the commit's
     * future never completes.
     */
    @JCStressTest
    @Outcome(
            id = "0, 0",
            expect = Expect.ACCEPTABLE,
            desc = "the writer saw the record and does not park; no unpark needed")
    @Outcome(
            id = "0, 1",
            expect = Expect.ACCEPTABLE,
            desc = "the writer saw the record, the appender also unparks: a spare permit, harmless")
    @Outcome(id = "1, 1", expect = Expect.ACCEPTABLE, desc = "the writer parks and the appender unparks it")
    @Outcome(
            id = "1, 0",
            expect = Expect.FORBIDDEN,
            desc =
                    "LOST WAKE-UP: the writer parks with the record queued and nobody unparks it: the commit is never written")
    @State
    public static class Decisions extends Log {
        @Actor
        public void writer(II_Result r) {
            r.r1 = writerWouldPark() ? 1 : 0;
        }

        @Actor
        public void appender(II_Result r) {
            r.r2 = appendWakes(new Object()) ? 1 : 0;
        }
    }

    /**
     * Control: an appender that reads the writer state before it offers (the two steps of the
     * append half swapped). The lost wake-up the test above forbids must show up here.
     */
    @JCStressTest
    @Outcome(id = "0, 0", expect = Expect.ACCEPTABLE, desc = "the writer saw the record")
    @Outcome(id = "0, 1", expect = Expect.ACCEPTABLE, desc = "the writer saw the record; a spare unpark")
    @Outcome(id = "1, 1", expect = Expect.ACCEPTABLE, desc = "the writer parks and is unparked")
    @Outcome(
            id = "1, 0",
            expect = Expect.ACCEPTABLE_INTERESTING,
            desc = "expected here: state read before the offer, so the writer parks unseen")
    @State
    public static class ControlReadStateBeforeOffer extends Log {
        @Actor
        public void writer(II_Result r) {
            r.r1 = writerWouldPark() ? 1 : 0;
        }

        @Actor
        public void appender(II_Result r) {
            boolean parked = (int) WRITER_STATE.getVolatile(this) == PARKED;
            queue.offer(new Object());
            r.r2 = parked && WRITER_STATE.compareAndSet(this, PARKED, RUNNING) ? 1 : 0;
        }
    }

    /**
     * The whole loop with real parking: the writer idles (WalLog#idle: PARKED, check, park,
     * RUNNING) until it finds a record to drain; the signal is one append. The writer must
     * terminate; STALE means it parked for good with the record queued.
     */
    @JCStressTest(Mode.Termination)
    @Outcome(id = "TERMINATED", expect = Expect.ACCEPTABLE, desc = "the writer found the record")
    @Outcome(
            id = "STALE",
            expect = Expect.FORBIDDEN,
            desc = "LOST WAKE-UP: the writer stays parked with the record queued")
    @State
    public static class Parking extends Log {
        private volatile Thread writer;

        @Actor
        public void writer() {
            writer = Thread.currentThread();
            while (queue.relaxedPoll() == null) {
                WRITER_STATE.setVolatile(this, PARKED);
                if (queue.isEmpty()) {
                    LockSupport.park(this);
                }
                WRITER_STATE.setVolatile(this, RUNNING);
                if (Thread.currentThread().isInterrupted()) {
                    return; // the harness gave up on us (it has already recorded STALE)
                }
            }
        }

        @Signal
        public void append() {
            queue.offer(new Object());
            if ((int) WRITER_STATE.getVolatile(this) == PARKED && WRITER_STATE.compareAndSet(this, PARKED, RUNNING)) {
                // non-null: the writer stored itself before the PARKED store this read observed
                LockSupport.unpark(writer);
            }
        }
    }
}
