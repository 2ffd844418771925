// SPDX-License-Identifier: Apache-2.0
package dev.varve.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.varve.Database;
import dev.varve.Isolation;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The README's section "Checking your own workload for serializability", kept compiling and true.
 * Keep the two in sync: the code between the markers is the README's, indented.
 */
class ReadmeExampleTest {
    record Account(long balance) {}

    record Shift(boolean onCall) {}

    @Test
    void readmeTransfersAreSerializable() throws Exception {
        // --- README testkit sample 1 begins ---
        try (Database<String, Account> db = Database.<String, Account>builder().open()) {
            db.put("alice", new Account(100));
            db.put("bob", new Account(100));
            HistoryRecorder<String, Account> recorder = HistoryRecorder.of(db);

            ExecutorService pool = Executors.newFixedThreadPool(4);
            List<Future<?>> transfers = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                // a transfer on a pool thread, retried as db.transact is
                transfers.add(pool.submit(() -> recorder.transact(tx -> {
                    Account a = tx.get("alice");
                    Account b = tx.get("bob");
                    tx.put("alice", new Account(a.balance() - 1)); // a new object per put
                    tx.put("bob", new Account(b.balance() + 1));
                    return null;
                })));
            }
            for (Future<?> f : transfers) {
                f.get(); // rethrows a failed transfer
            }
            pool.shutdown();

            recorder.check().assertSerializable(); // AssertionError with the cycle, if not
            // --- README testkit sample 1 ends ---
            assertEquals(1000, recorder.check().committedTransactions());
            assertEquals(200, db.get("alice").balance() + db.get("bob").balance());
        }
    }

    @Test
    void readmeWriteSkewIsPrintedAsItsCycle() {
        CheckResult checked;
        // --- README testkit sample 2 begins ---
        try (Database<String, Shift> db = Database.<String, Shift>builder().open()) {
            db.put("alice", new Shift(true));
            db.put("bob", new Shift(true));
            HistoryRecorder<String, Shift> recorder = HistoryRecorder.of(db);
            try (RecordedTransaction<String, Shift> t1 = recorder.begin(Isolation.SNAPSHOT);
                    RecordedTransaction<String, Shift> t2 = recorder.begin(Isolation.SNAPSHOT)) {
                if (t1.get("bob").onCall()) {
                    t1.put("alice", new Shift(false)); // alice leaves: bob is on call
                }
                if (t2.get("alice").onCall()) {
                    t2.put("bob", new Shift(false)); // bob leaves: alice is on call
                }
                t1.commit();
                t2.commit(); // SNAPSHOT lets both commit: nobody is on call
            }
            CheckResult result = recorder.check();
            System.out.println(result); // result.serializable() is false
            // --- README testkit sample 2 ends ---
            checked = result;
        }
        assertFalse(checked.serializable());
        assertEquals(
                "not serializable: a cycle of 2 transactions (G2-item: a cycle of item anti-dependencies)\n"
                        + "  T1 -rw(key bob)-> T2 -rw(key alice)-> T1\n"
                        + "  T1 (snapshot 2, commit 3): read key bob initial, write key alice\n"
                        + "  T2 (snapshot 2, commit 4): read key alice initial, write key bob",
                checked.toString());
    }

    @Test
    void readmeHandBuiltHistory() {
        // --- README testkit sample 3 begins ---
        TxnRecord t1 = TxnRecord.committed(1, 0, 1)
                .read("x", TxnRecord.INITIAL)
                .write("y")
                .build();
        TxnRecord t2 = TxnRecord.committed(2, 0, 2)
                .read("y", TxnRecord.INITIAL)
                .write("x")
                .build();
        CheckResult result = new History().add(t1).add(t2).check();
        System.out.println(result.cycleText()); // T1 -rw(key x)-> T2 -rw(key y)-> T1
        // --- README testkit sample 3 ends ---
        assertEquals("T1 -rw(key x)-> T2 -rw(key y)-> T1", result.cycleText());
    }
}
