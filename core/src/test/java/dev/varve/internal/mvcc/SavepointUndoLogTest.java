// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The undo log (UndoLog U1-U4) and {@code WriteSet.removeKey} against a stack of TreeMap copies, across both tiers: random keys in a small domain (array tier), in a large one (moves to
 * the tree tier), and ascending keys (a large array tier whose undo removes from the top).
 *
 * <p>The seed is printed on failure with the round and operation index; rerun with {@code
 * -Dvarve.seed=<seed>}.
 */
class SavepointUndoLogTest {

    /** A write as MapTx#write makes it: recorded first while a level is open. */
    private static void write(WriteSet<Integer, String> ws, UndoLog<Integer> undo, int key, Object value) {
        undo.record(ws, key);
        ws.put(key, value);
    }

    @Test
    void undoLevelsAgreeWithAStackOfCopies() {
        long seed = Long.getLong("varve.seed", System.nanoTime());
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int round = 0; round < 300; round++) {
            WriteSet<Integer, String> ws = new WriteSet<>(Comparator.naturalOrder());
            UndoLog<Integer> undo = null; // as in MapTx: none until the first level
            TreeMap<Integer, Object> model = new TreeMap<>();
            List<TreeMap<Integer, Object>> levels = new ArrayList<>(); // model at each open level
            int shape = round % 3;
            int domain = shape == 0 ? 1 + rnd.nextInt(40) : 1 + rnd.nextInt(3000);
            int next = 0;
            int ops = rnd.nextInt(800);
            for (int op = 0; op < ops; op++) {
                String where =
                        "seed " + seed + " (rerun with -Dvarve.seed=" + seed + "), round " + round + ", op " + op;
                int choice = rnd.nextInt(20);
                if (choice == 0) {
                    if (undo == null) {
                        undo = new UndoLog<>(Comparator.naturalOrder());
                    }
                    assertEquals(levels.size(), undo.push(), where);
                    levels.add(new TreeMap<>(model));
                } else if (choice == 1 && !levels.isEmpty()) {
                    int level = rnd.nextInt(levels.size());
                    undo.rollbackTo(ws, level);
                    model = new TreeMap<>(levels.get(level));
                    levels.subList(level + 1, levels.size()).clear();
                } else {
                    int key = shape == 2 && rnd.nextInt(4) != 0 ? next++ : rnd.nextInt(domain);
                    Object v = rnd.nextInt(5) == 0 ? WriteSet.TOMBSTONE : "v" + op;
                    if (undo != null) {
                        undo.record(ws, key);
                    }
                    ws.put(key, v);
                    model.put(key, v);
                }
                assertAgree(model, ws, where);
            }
        }
    }

    private static void assertAgree(TreeMap<Integer, Object> model, WriteSet<Integer, String> ws, String where) {
        assertEquals(model.isEmpty(), ws.isEmpty(), where);
        List<Map.Entry<Integer, Object>> walked = new ArrayList<>();
        for (Map.Entry<Integer, Object> e = ws.first(false); e != null; e = ws.next(e.getKey(), false, false)) {
            walked.add(e);
        }
        assertEquals(new ArrayList<>(model.entrySet()), walked, where);
        Deque<Map.Entry<Integer, Object>> down = new ArrayDeque<>();
        for (Map.Entry<Integer, Object> e = ws.first(true); e != null; e = ws.next(e.getKey(), false, true)) {
            down.addFirst(e);
        }
        assertEquals(walked, new ArrayList<>(down), where);
        if (!model.isEmpty()) { // a key above every key written still needs no search (I1's greatestKey)
            int above = model.lastKey() + 1;
            assertNull(ws.get(above), where);
        }
        assertEquals(model.size(), ws.size(), where); // freezes; the next write must unfreeze
        int i = 0;
        for (Map.Entry<Integer, Object> e : model.entrySet()) {
            assertEquals(e.getKey(), ws.key(i), where);
            assertEquals(e.getValue() == WriteSet.TOMBSTONE ? null : e.getValue(), ws.value(i), where);
            i++;
        }
    }

    @Test
    void removingTheGreatestKeyLetsALaterGreaterKeyBeFoundAgain() {
        // greatestKey must follow removals: a stale one would append a key that is not above
        // every key written into the tail a second time (a duplicate).
        WriteSet<Integer, String> ws = new WriteSet<>(Comparator.naturalOrder());
        UndoLog<Integer> undo = new UndoLog<>(Comparator.naturalOrder());
        ws.put(1, "a");
        int level = undo.push();
        write(ws, undo, 5, "b");
        write(ws, undo, 3, "c");
        undo.rollbackTo(ws, level); // removes 3 and 5: greatest is 1 again
        ws.put(4, "d");
        ws.put(4, "e");
        ws.put(2, "f");
        assertEquals(3, ws.size());
        assertEquals(List.of(1, 2, 4), List.of(ws.key(0), ws.key(1), ws.key(2)));
        assertEquals("e", ws.value(2));
    }

    @Test
    void aRewrittenKeyKeepsItsFirstRecordOfTheLevel() {
        WriteSet<Integer, String> ws = new WriteSet<>(Comparator.naturalOrder());
        UndoLog<Integer> undo = new UndoLog<>(Comparator.naturalOrder());
        ws.put(1, "at-savepoint");
        int level = undo.push();
        for (int i = 0; i < 1000; i++) {
            write(ws, undo, 1, "later-" + i);
            write(ws, undo, 2, i % 2 == 0 ? "x" : WriteSet.TOMBSTONE);
        }
        undo.rollbackTo(ws, level);
        assertEquals("at-savepoint", ws.get(1));
        assertNull(ws.get(2));
        assertTrue(ws.size() == 1);
    }

    @Test
    void rollbackToALevelNotOpenIsRefused() {
        WriteSet<Integer, String> ws = new WriteSet<>(Comparator.naturalOrder());
        UndoLog<Integer> undo = new UndoLog<>(Comparator.naturalOrder());
        ws.put(1, "a");
        undo.push();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> undo.rollbackTo(ws, 1));
        assertEquals("undo level 1 is not open (levels: 1)", e.getMessage());
    }
}
