// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.mvcc;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Map;
import java.util.TreeMap;

/**
 * The undo log of one map's write set for a transaction's savepoints: per savepoint level, the
 * state each key had before its first write in that level, so that {@link #rollbackTo} can put
 * the write set back as it was when the level was opened. Held by {@link MapTx} only while a
 * savepoint saw its write set; not thread-safe (its transaction's thread).
 *
 * @param <K> the map's key type
 */
final class UndoLog<K> {
    /** An undo record's previous state of a key the write set had not written. */
    private static final Object ABSENT = new Object() {
        @Override
        public String toString() {
            return "ABSENT";
        }
    };

    private final Comparator<? super K> comparator;
    /** The open levels, oldest first; an entry is null until the first record in its level. */
    private final ArrayList<TreeMap<K, Object>> levels = new ArrayList<>(4);

    UndoLog(Comparator<? super K> comparator) {
        this.comparator = comparator;
    }

    /*
     * Implementation notes (TxState S1-S4 say how levels line up with a transaction's savepoints).
     *
     *  U1. A MapTx has an UndoLog only once a live savepoint saw its write set; without one, a
     *      write pays one null check (MapTx#write) and nothing else.
     *  U2. Level i holds, for each key written since the i-th savepoint that saw the write set
     *      and before the (i+1)-th, its state just before that first write: a value, TOMBSTONE,
     *      or ABSENT (not in the set). Only the top level is recorded into, and a key rewritten
     *      within one level keeps its first record: a level holds at most one record per key, so
     *      the log grows with the distinct keys written per level, not with the writes.
     *  U3. Replaying levels top..L (newest first, each record restoring its key) gives the write
     *      set as it was when level L was opened: the record of a key in the oldest replayed
     *      level that has one is applied last and is its state then; keys without records were
     *      not written since. rollbackTo(L) then truncates to L levels and opens an empty level
     *      L, so that the same savepoint can be rolled back to again.
     *  U4. Replaying records nothing (it writes the WriteSet directly, not through MapTx#write).
     *
     * Costs: push O(1); a write while a level is open O(log m) more (m: keys in the top level);
     * rollbackTo O(r (log n + shift)) for r records replayed, where WriteSet#removeKey shifts
     * the sorted keys above the one removed (none when keys were written in ascending order,
     * the only way the array tier grows past ARRAY_LIMIT + TAIL: WriteSet I3).
     */

    /**
     * Opens a new level: writes from now on can be undone back to this point.
     *
     * @return the level's index, for {@link #rollbackTo}
     */
    int push() {
        levels.add(null);
        return levels.size() - 1;
    }

    /**
     * Records, in the top level, the state of {@code key} in {@code writes} before its first write
     * there (U2). Called before the write.
     */
    void record(WriteSet<K, ?> writes, K key) {
        int top = levels.size() - 1;
        TreeMap<K, Object> level = levels.get(top);
        if (level == null) {
            level = new TreeMap<>(comparator);
            levels.set(top, level);
        }
        if (!level.containsKey(key)) {
            Object previous = writes.get(key);
            level.put(key, previous == null ? ABSENT : previous);
        }
    }

    /**
     * Undoes in {@code writes} every write recorded since level {@code level} was opened, and
     * reopens it, empty (U3).
     *
     * @param writes the write set this log records
     * @param level an index {@link #push} returned that no later rollbackTo removed
     * @throws IllegalArgumentException if {@code level} is not open
     */
    void rollbackTo(WriteSet<K, ?> writes, int level) {
        int size = levels.size();
        if (level < 0 || level >= size) {
            throw new IllegalArgumentException("undo level " + level + " is not open (levels: " + size + ")");
        }
        for (int i = size - 1; i >= level; i--) {
            TreeMap<K, Object> undo = levels.get(i);
            if (undo != null) {
                for (Map.Entry<K, Object> record : undo.entrySet()) {
                    if (record.getValue() == ABSENT) {
                        writes.removeKey(record.getKey());
                    } else {
                        writes.put(record.getKey(), record.getValue());
                    }
                }
            }
        }
        levels.subList(level, size).clear();
        levels.add(null);
    }
}
