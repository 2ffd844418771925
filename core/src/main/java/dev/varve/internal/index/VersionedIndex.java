// SPDX-License-Identifier: Apache-2.0
package dev.varve.internal.index;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Comparator;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BiFunction;

/**
 * The versioned index: a lock-free ordered map from each key to its index entry (the head of its
 * version chain, or a settled value; the index does not look inside an entry). A skip list (Pugh, "Skip Lists: A
 * Probabilistic Alternative to Balanced Trees", CACM 1990) made concurrent in the manner of
 * Fraser ("Practical lock-freedom", Cambridge TR-579, 2004, §4.3) and of the JDK's
 * ConcurrentSkipListMap (deletion by a value CAS to null, then a marker node, then an unlink),
 * with one change that is the reason it exists: every node and every index node carries an
 * abbreviated sort key, a {@code long} whose order agrees with the keys' order (PostgreSQL's
 * "abbreviated keys" for sorting, in {@code sortsupport.h}). A search compares {@code long}s and
 * reaches a key object only to break a tie; for {@code Long} and {@code Integer} keys the
 * abbreviation is the key, so a search never leaves the index nodes' own memory until the base
 * level. Values are never null.
 *
 * <p>Thread-safe and lock-free. Iteration ({@link Cursor}) is weakly consistent, as with the JDK's
 * concurrent collections: it sees every entry present for its whole run, and entries added or
 * removed meanwhile may or may not be seen.
 *
 * <p>Keys are ordered by the comparator, or by natural ordering when it is null; with natural
 * ordering all keys must be of one class (the first key inserted fixes it for {@code Long},
 * {@code Integer} and {@code String}; a key of another class then throws ClassCastException, as
 * comparing it with the index's keys would).
 */
public final class VersionedIndex<K> {

    /*
     * Implementation notes.
     *
     * Base level: head -> n1 -> n2 -> ... -> null, keys strictly increasing. A node is live while
     * its value is non-null. Deleting n (value known v):
     *   1. CAS n.value v -> null     <- linearization point of the removal
     *   2. CAS n.next f -> marker(f)  (a marker is a node with a null key; no insert can then
     *      link after n, since an insert CASes the predecessor's next from the successor it read)
     *   3. CAS b.next n -> f          (unlink; any thread that meets a deleted node helps)
     * Inserting z between b and n: z.next = n, then CAS b.next n -> z  <- linearization point.
     * If b was deleted but not yet marked, z still lands: step 2 on b then marks b.next = z.
     *
     * Index levels: index nodes point down to the level below and to their node; each carries a
     * copy of the node's sort key. An index node whose node was deleted is unlinked by the next
     * "cleaning" search that passes it (deleters run one; plain searches do not dereference nodes
     * at the index levels, so they leave stale index nodes, and they never stop on one: a search
     * that lands on a deleted base node repeats itself as a cleaning search).
     *
     * Sort keys: for two keys a, b of the index's abbreviation mode, sortKey(a) < sortKey(b)
     * implies a < b, and for exact modes (Long, Integer) equality implies a = b. Comparisons test
     * the sort keys first and fall back to the comparator only on a tie in an inexact mode. The
     * mode is fixed by the first insert (NONE with a comparator or another key class) and never
     * changes afterwards, so every node's sort key was computed in the mode every search uses.
     */

    private static final int UNDECIDED = 0;
    private static final int NONE = 1;
    private static final int LONG = 2;
    private static final int INT = 3;
    private static final int STRING = 4;

    /** Enough for 4^15 keys at p = 1/4. */
    private static final int MAX_LEVEL = 16;

    /** A value no entry can hold: the marker nodes' and the base head's. */
    private static final Object MARKER = new Object();

    private static final Object HEAD_VALUE = new Object();

    private static final VarHandle HEAD;
    private static final VarHandle MODE;

    static {
        try {
            var lookup = MethodHandles.lookup();
            HEAD = lookup.findVarHandle(VersionedIndex.class, "head", HeadIndex.class);
            MODE = lookup.findVarHandle(VersionedIndex.class, "mode", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Comparator<? super K> comparator;
    private volatile HeadIndex<K> head;
    private volatile int mode;

    /**
     * An empty index.
     *
     * @param comparator the key order, or null for natural ordering
     */
    public VersionedIndex(Comparator<? super K> comparator) {
        this.comparator = comparator;
        this.mode = comparator != null ? NONE : UNDECIDED;
        this.head = new HeadIndex<>(new Node<>(null, 0, HEAD_VALUE, null), null, null, 1);
    }

    // ---- nodes -----------------------------------------------------------------------------

    /**
     * A base-level node: a handle the caller may keep to reach a key again without a search
     * ({@link #computeAt}, {@link #insertIfAbsent}); opaque but for its entry.
     *
     * @param <K> the key type
     */
    public static final class Node<K> {
        private static final VarHandle VALUE;
        private static final VarHandle NEXT;

        static {
            try {
                var lookup = MethodHandles.lookup();
                VALUE = lookup.findVarHandle(Node.class, "value", Object.class);
                NEXT = lookup.findVarHandle(Node.class, "next", Node.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        /** Null for the base head and for markers. */
        final K key;

        final long sortKey;
        /** The index entry; null once deleted; MARKER for a marker. */
        volatile Object value;

        volatile Node<K> next;

        Node(K key, long sortKey, Object value, Node<K> next) {
            this.key = key;
            this.sortKey = sortKey;
            this.value = value;
            this.next = next;
        }

        /**
         * The node's entry (a volatile read).
         *
         * @return the entry, or null once the key was removed
         */
        public Object entry() {
            return value;
        }

        boolean casValue(Object expected, Object update) {
            return VALUE.compareAndSet(this, expected, update);
        }

        boolean casNext(Node<K> expected, Node<K> update) {
            return NEXT.compareAndSet(this, expected, update);
        }

        boolean isMarker() {
            return key == null;
        }

        /** Helps finish the deletion of this node (its value is null), whose predecessor is b. */
        void helpDelete(Node<K> b, Node<K> f) {
            if (f != null && f.isMarker()) {
                b.casNext(this, f.next);
            } else {
                casNext(f, new Node<>(null, 0, MARKER, f));
            }
        }
    }

    static class Index<K> {
        private static final VarHandle RIGHT;

        static {
            try {
                RIGHT = MethodHandles.lookup().findVarHandle(Index.class, "right", Index.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final Node<K> node;
        final long sortKey;
        final Index<K> down;
        volatile Index<K> right;

        Index(Node<K> node, Index<K> down, Index<K> right) {
            this.node = node;
            this.sortKey = node.sortKey;
            this.down = down;
            this.right = right;
        }

        boolean casRight(Index<K> expected, Index<K> update) {
            return RIGHT.compareAndSet(this, expected, update);
        }
    }

    static final class HeadIndex<K> extends Index<K> {
        final int level;

        HeadIndex(Node<K> node, Index<K> down, Index<K> right, int level) {
            super(node, down, right);
            this.level = level;
        }
    }

    // ---- sort keys ---------------------------------------------------------------------------

    /**
     * Rejects a key this index cannot order: the comparator's own check ({@code compare(key,
     * key)}), and a key of another class than the one the first insert fixed (sort-key modes).
     *
     * @param key the key
     * @throws ClassCastException if the key cannot be compared with this index's keys
     */
    @SuppressWarnings("unchecked")
    public void checkKey(K key) {
        if (comparator != null) {
            comparator.compare(key, key);
        } else {
            ((Comparable<Object>) key).compareTo(key); // ClassCastException if not Comparable
        }
        searchMode(key);
    }

    /** The mode a search for {@code key} uses: the index's, after checking the key's class. */
    private int searchMode(Object key) {
        int m = mode;
        if (m >= LONG && key.getClass() != modeClass(m)) {
            throw new ClassCastException(
                    "key " + key + " of " + key.getClass().getName() + " cannot be compared with this index's keys of "
                            + modeClass(m).getName());
        }
        return m;
    }

    /** The mode an insert of {@code key} uses; the first insert into an index fixes it. */
    private int insertMode(Object key) {
        int m = mode;
        if (m == UNDECIDED) {
            int wanted =
                    key instanceof Long ? LONG : key instanceof Integer ? INT : key instanceof String ? STRING : NONE;
            if (!MODE.compareAndSet(this, UNDECIDED, wanted)) {
                return searchMode(key);
            }
            return wanted;
        }
        return searchMode(key);
    }

    private static Class<?> modeClass(int m) {
        return m == LONG ? Long.class : m == INT ? Integer.class : String.class;
    }

    private static long sortKey(int m, Object key) {
        switch (m) {
            case LONG:
                return (Long) key;
            case INT:
                return (Integer) key;
            case STRING:
                String s = (String) key;
                long packed = 0;
                for (int i = 0; i < 4; i++) {
                    packed = (packed << 16) | (i < s.length() ? s.charAt(i) : 0);
                }
                return packed ^ Long.MIN_VALUE; // unsigned order of the packed chars as signed order
            default:
                return 0;
        }
    }

    /** Compares {@code key} (sort key {@code sk} in mode {@code m}) with a node's key. */
    @SuppressWarnings("unchecked")
    private int compare(int m, K key, long sk, long otherSk, K other) {
        if (m >= LONG) {
            if (sk != otherSk) {
                return sk < otherSk ? -1 : 1;
            }
            if (m != STRING) {
                return 0;
            }
        }
        return comparator == null ? ((Comparable<? super K>) key).compareTo(other) : comparator.compare(key, other);
    }

    // ---- searches ----------------------------------------------------------------------------

    /**
     * A base-level node whose key is below {@code key} (or the base head). With {@code clean},
     * unlinks every index node of a deleted node on the way, and dereferences nodes to know.
     */
    private Node<K> findPredecessor(int m, K key, long sk, boolean clean) {
        restart:
        for (; ; ) {
            Index<K> q = head;
            for (; ; ) {
                Index<K> r = q.right;
                if (r != null) {
                    if (clean && r.node.value == null) {
                        if (!q.casRight(r, r.right)) {
                            continue restart;
                        }
                        continue;
                    }
                    if (compare(m, key, sk, r.sortKey, r.node.key) > 0) {
                        q = r;
                        continue;
                    }
                }
                Index<K> d = q.down;
                if (d == null) {
                    return q.node;
                }
                q = d;
            }
        }
    }

    /**
     * The node holding {@code key}, or null; when absent, leaves the insertion point in
     * {@code at} (predecessor and successor) if {@code at} is non-null.
     */
    private Node<K> findNode(int m, K key, long sk, Position<K> at) {
        boolean clean = false;
        restart:
        for (; ; ) {
            Node<K> b = findPredecessor(m, key, sk, clean);
            clean = true; // a retry cleans the path that sent it to a deleted node
            for (; ; ) {
                Node<K> n = b.next;
                if (n == null) {
                    if (b.value == null) {
                        continue restart;
                    }
                    if (at != null) {
                        at.set(b, null);
                    }
                    return null;
                }
                if (n.isMarker()) {
                    continue restart; // b is deleted
                }
                Object v = n.value;
                if (v == null) {
                    n.helpDelete(b, n.next);
                    continue;
                }
                int c = compare(m, key, sk, n.sortKey, n.key);
                if (c > 0) {
                    b = n;
                    continue;
                }
                if (c == 0) {
                    return n;
                }
                if (b.value == null) {
                    continue restart;
                }
                if (at != null) {
                    at.set(b, n);
                }
                return null;
            }
        }
    }

    /** An insertion point: the new node goes between {@code before} and {@code after}. */
    private static final class Position<K> {
        Node<K> before;
        Node<K> after;

        void set(Node<K> b, Node<K> n) {
            before = b;
            after = n;
        }
    }

    // ---- point operations ----------------------------------------------------------------------

    /**
     * The entry of {@code key}.
     *
     * @param key the key
     * @return the entry, or null if absent
     */
    public Object get(K key) {
        for (; ; ) {
            Node<K> n = node(key);
            if (n == null) {
                return null;
            }
            Object v = n.value;
            if (v != null) {
                return v;
            }
        }
    }

    /**
     * The node holding {@code key}, or null if absent: a handle for {@link #computeAt}. Its entry
     * may be read from {@link Node#entry}; null there means the key was removed since.
     *
     * @param key the key
     * @return its node, or null
     */
    public Node<K> node(K key) {
        int m = searchMode(key);
        long sk = sortKey(m, key);
        // The common case without Position or restart bookkeeping; anything unusual (a deletion
        // in progress on the path) takes findNode's careful path.
        Node<K> b = findPredecessor(m, key, sk, false);
        for (Node<K> n = b.next; n != null; n = n.next) {
            if (n.value == null || n.isMarker()) {
                break;
            }
            int c = compare(m, key, sk, n.sortKey, n.key);
            if (c == 0) {
                return n;
            }
            if (c < 0) {
                return b.value == null ? findNode(m, key, sk, null) : null;
            }
            b = n;
        }
        return findNode(m, key, sk, null);
    }

    /**
     * Maps {@code key} to {@code value} unless it is present.
     *
     * @param key the key
     * @param value the entry to install (not null)
     * @return the present entry, or null if {@code value} was installed
     */
    public Object putIfAbsent(K key, Object value) {
        for (; ; ) {
            if (insertIfAbsent(key, value, null) != null) {
                return null;
            }
            Object present = get(key);
            if (present != null) {
                return present;
            }
        }
    }

    /**
     * Maps {@code key} to {@code value} unless it is present, without any search when
     * {@code finger} (a node the caller holds, e.g. the one it inserted last) is still live, below
     * {@code key}, and followed by a key above it or by nothing: the case of keys inserted in
     * ascending order, as bulk loads do.
     *
     * @param key the key
     * @param value the entry to install (not null)
     * @param finger a node to try inserting after, or null
     * @return the new node, or null if the key is present (nothing inserted)
     */
    public Node<K> insertIfAbsent(K key, Object value, Node<K> finger) {
        java.util.Objects.requireNonNull(value);
        int m = insertMode(key);
        long sk = sortKey(m, key);
        if (finger != null && finger.value != null && compare(m, key, sk, finger.sortKey, finger.key) > 0) {
            Node<K> n = finger.next;
            if (n == null || (!n.isMarker() && n.value != null && compare(m, key, sk, n.sortKey, n.key) < 0)) {
                Node<K> z = link(m, key, sk, value, finger, n);
                if (z != null) {
                    return z;
                }
            }
        }
        Position<K> at = new Position<>();
        for (; ; ) {
            Node<K> n = findNode(m, key, sk, at);
            if (n != null) {
                if (n.value != null) {
                    return null;
                }
                continue; // deleted meanwhile: absent again
            }
            Node<K> z = link(m, key, sk, value, at.before, at.after);
            if (z != null) {
                return z;
            }
        }
    }

    /**
     * Links a new node between {@code before} and {@code after} (which must hold keys below and
     * above it); null if {@code before.next} changed (the caller searches again).
     */
    private Node<K> link(int m, K key, long sk, Object value, Node<K> before, Node<K> after) {
        Node<K> z = new Node<>(key, sk, value, after);
        if (!before.casNext(after, z)) { // linearization point of the insert
            return null;
        }
        int level = randomLevel();
        if (level > 0) {
            addIndexes(m, z, level);
        }
        return z;
    }

    /**
     * Replaces the entry of {@code key} if it is {@code expected}.
     *
     * @param key the key
     * @param expected the entry expected
     * @param update the new entry (not null)
     * @return false if absent or different
     */
    public boolean replace(K key, Object expected, Object update) {
        java.util.Objects.requireNonNull(update);
        int m = searchMode(key);
        long sk = sortKey(m, key);
        Node<K> n = findNode(m, key, sk, null);
        // a null expected entry matches nothing: a CAS from null would revive a deleted node
        return n != null && expected != null && n.casValue(expected, update);
    }

    /**
     * Removes {@code key} if its entry is {@code expected}.
     *
     * @param key the key
     * @param expected the entry expected
     * @return false if absent or different
     */
    public boolean remove(K key, Object expected) {
        int m = searchMode(key);
        long sk = sortKey(m, key);
        Node<K> n = findNode(m, key, sk, null);
        if (n == null || expected == null || !n.casValue(expected, null)) {
            return false;
        }
        unlinkDeleted(m, key, sk);
        return true;
    }

    /** Finishes a deletion: a cleaning search unlinks the node and its index nodes. */
    private void unlinkDeleted(int m, K key, long sk) {
        findNode(m, key, sk, null);
        findPredecessor(m, key, sk, true);
    }

    /**
     * Computes a new entry from the present one (null if absent) and installs it with one CAS; a
     * null result removes the key. The function may be called more than once when other threads
     * change the entry meanwhile; only the last call's result is installed.
     *
     * @param key the key
     * @param remapping from the key and present entry (null if absent) to the new entry (null: remove)
     * @return the entry now installed, or null if the key is absent
     */
    public Object compute(K key, BiFunction<? super K, Object, Object> remapping) {
        int m = insertMode(key);
        long sk = sortKey(m, key);
        Position<K> at = new Position<>();
        for (; ; ) {
            Node<K> n = findNode(m, key, sk, at);
            if (n == null) {
                Object created = remapping.apply(key, null);
                if (created == null || link(m, key, sk, created, at.before, at.after) != null) {
                    return created;
                }
                continue;
            }
            Object result = remapPresent(n, key, remapping, m, sk);
            if (result != REMOVED_MEANWHILE) {
                return result;
            }
            // deleted meanwhile: search again, the key is absent now
        }
    }

    /** What {@link #remapPresent} returns when the node was removed before a CAS succeeded. */
    private static final Object REMOVED_MEANWHILE = new Object();

    /** The found-node half of compute: CAS loop on the node's entry. */
    private Object remapPresent(Node<K> n, K key, BiFunction<? super K, Object, Object> remapping, int m, long sk) {
        Object v;
        while ((v = n.value) != null) {
            Object update = remapping.apply(key, v);
            if (update == v) {
                return v;
            }
            if (n.casValue(v, update)) { // linearization point
                if (update == null) {
                    unlinkDeleted(m, key, sk);
                }
                return update;
            }
        }
        return REMOVED_MEANWHILE;
    }

    /**
     * Whether {@code n} is the node of {@code key} (compared by sort key first: no key dereference).
     *
     * @param n a node of this index
     * @param key the key
     * @return true if {@code n} holds {@code key}
     */
    public boolean isNodeOf(Node<K> n, K key) {
        int m = searchMode(key);
        return compare(m, key, sortKey(m, key), n.sortKey, n.key) == 0;
    }

    /**
     * {@link #compute} for a key whose node the caller found earlier (with {@link #node}): no
     * search unless the node was removed since.
     *
     * @param n the node of {@code key}
     * @param key the key
     * @param remapping as for {@link #compute}
     * @return as for {@link #compute}
     */
    public Object computeAt(Node<K> n, K key, BiFunction<? super K, Object, Object> remapping) {
        int m = searchMode(key);
        Object result = remapPresent(n, key, remapping, m, sortKey(m, key));
        return result != REMOVED_MEANWHILE ? result : compute(key, remapping); // removed: search
    }

    // ---- index levels --------------------------------------------------------------------------

    /**
     * Geometric level with p = 1/4 (Pugh's recommendation when memory counts): one index node per
     * three nodes on average, against one per two in the JDK's skip list, which pays for the sort
     * key every index node carries.
     */
    private static int randomLevel() {
        int r = ThreadLocalRandom.current().nextInt();
        int level = 0;
        while ((r & 3) == 0 && level < MAX_LEVEL - 1) {
            level++;
            r >>>= 2;
        }
        return level;
    }

    /** Builds and links {@code level} index nodes above the linked node {@code z}. */
    private void addIndexes(int m, Node<K> z, int level) {
        HeadIndex<K> h = head;
        if (level > h.level) {
            level = h.level + 1; // grow by at most one level at a time
        }
        @SuppressWarnings("unchecked")
        Index<K>[] tower = (Index<K>[]) new Index<?>[level + 1];
        Index<K> below = null;
        for (int i = 1; i <= level; i++) {
            below = tower[i] = new Index<>(z, below, null);
        }
        int linkFrom = level; // highest level still to link
        while (level > h.level) {
            HeadIndex<K> grown = new HeadIndex<>(h.node, h, tower[level], level);
            if (HEAD.compareAndSet(this, h, grown)) {
                linkFrom = level - 1; // the new head links the top level
                break;
            }
            h = head;
        }
        if (linkFrom > 0) {
            linkTower(m, z, tower, linkFrom);
        }
    }

    /** Links tower[top..1] into their levels, top down, in one descent. */
    private void linkTower(int m, Node<K> z, Index<K>[] tower, int top) {
        K key = z.key;
        long sk = z.sortKey;
        HeadIndex<K> h = head;
        Index<K> q = h;
        int level = h.level;
        while (true) {
            Index<K> r = q.right;
            if (r != null) {
                Node<K> rn = r.node;
                if (rn.value == null) {
                    q.casRight(r, r.right); // cleaning on the way; re-read either way
                    continue;
                }
                if (rn != z && compare(m, key, sk, r.sortKey, rn.key) > 0) {
                    q = r;
                    continue;
                }
            }
            if (level <= top) {
                Index<K> t = tower[level];
                if (r == null || r.node != z) { // not linked here yet
                    t.right = r;
                    if (!q.casRight(r, t)) {
                        continue; // q.right changed: look again from q
                    }
                }
                if (z.value == null) { // deleted while linking: clean up after ourselves
                    findPredecessor(m, key, sk, true);
                    return;
                }
                if (level == 1) {
                    return;
                }
            }
            q = q.down;
            level--;
        }
    }

    // ---- navigation ----------------------------------------------------------------------------

    /**
     * A live base-level node below {@code key}, or the base head, found by a cleaning search;
     * walking forward from it meets every node present for the whole walk.
     */
    private Node<K> livePredecessor(int m, K key, long sk) {
        for (; ; ) {
            Node<K> b = findPredecessor(m, key, sk, true);
            if (b.value != null) {
                return b;
            }
        }
    }

    /** The first live node with a key above (or at, if inclusive) {@code key}, or null. */
    private Node<K> findAbove(K key, boolean inclusive) {
        int m = searchMode(key);
        long sk = sortKey(m, key);
        for (Node<K> n = livePredecessor(m, key, sk).next; n != null; n = n.next) {
            // forward through deleted nodes and markers too: keys only grow along next links
            if (!n.isMarker() && n.value != null) {
                int c = compare(m, key, sk, n.sortKey, n.key);
                if (c < 0 || (c == 0 && inclusive)) {
                    return n;
                }
            }
        }
        return null;
    }

    /** The last live node with a key below (or at, if inclusive) {@code key}, or null. */
    private Node<K> findBelow(K key, boolean inclusive) {
        int m = searchMode(key);
        long sk = sortKey(m, key);
        for (; ; ) {
            Node<K> b = livePredecessor(m, key, sk);
            Node<K> last = null;
            for (Node<K> n = b.key == null ? b.next : b; n != null; n = n.next) {
                if (n.isMarker()) {
                    continue;
                }
                int c = compare(m, key, sk, n.sortKey, n.key);
                if (c < 0 || (c == 0 && !inclusive)) {
                    break;
                }
                if (n.value != null) {
                    last = n;
                }
            }
            if (last != null || b.key == null) {
                return last;
            }
            // b was deleted after livePredecessor saw it live and nothing after it qualified:
            // the live nodes before b were never looked at, so search again
        }
    }

    private Node<K> firstNode() {
        for (Node<K> n = head.node.next; n != null; n = n.next) {
            if (!n.isMarker() && n.value != null) {
                return n;
            }
        }
        return null;
    }

    private Node<K> lastNode() {
        for (; ; ) {
            Index<K> q = head;
            for (; ; ) {
                Index<K> r = q.right;
                if (r != null) {
                    if (r.node.value != null) {
                        q = r;
                    } else {
                        q.casRight(r, r.right);
                    }
                    continue;
                }
                if (q.down == null) {
                    break;
                }
                q = q.down;
            }
            Node<K> b = q.node;
            if (b.value == null) {
                continue; // deleted since: nodes linked after its deletion are not reachable from it
            }
            Node<K> last = null;
            for (Node<K> n = b.key == null ? b.next : b; n != null; n = n.next) {
                if (!n.isMarker() && n.value != null) {
                    last = n;
                }
            }
            if (last != null || b.key == null) {
                return last;
            }
            // b was deleted after the check above and nothing after it is live: the nodes
            // before b were never looked at, so search again
        }
    }

    /**
     * The number of keys present, at most Integer.MAX_VALUE (walks the base level: O(n), and only
     * an estimate under concurrent writes).
     *
     * @return the number of keys
     */
    public int size() {
        long count = 0;
        for (Node<K> n = head.node.next; n != null; n = n.next) {
            if (!n.isMarker() && n.value != null) {
                count++;
            }
        }
        return (int) Math.min(count, Integer.MAX_VALUE);
    }

    // ---- cursors -------------------------------------------------------------------------------

    /**
     * A cursor over every entry, ascending.
     *
     * @return the cursor
     */
    public Cursor<K> cursor() {
        return cursor(KeyRange.all(), false);
    }

    /**
     * A cursor over the entries within {@code bounds}, ascending or descending.
     *
     * @param bounds the keys to visit
     * @param descending whether to visit them in descending order
     * @return the cursor
     */
    public Cursor<K> cursor(KeyRange<K> bounds, boolean descending) {
        return new Cursor<>(this, bounds, descending);
    }

    /**
     * A weakly consistent cursor (see the class comment); not thread-safe. {@link #next()} moves to
     * the next live entry; {@link #key()} and {@link #entry()} then give it, as read at the move
     * (the entry is never null).
     *
     * @param <K> the key type
     */
    public static final class Cursor<K> {
        private final VersionedIndex<K> index;
        private final KeyRange<K> bounds;
        private final boolean descending;
        private final Comparator<? super K> cmp;
        private Node<K> node;
        private boolean started;
        private K key;
        private Object entry;

        @SuppressWarnings("unchecked")
        Cursor(VersionedIndex<K> index, KeyRange<K> bounds, boolean descending) {
            this.index = index;
            this.bounds = bounds;
            this.descending = descending;
            this.cmp = index.comparator != null
                    ? index.comparator
                    : (Comparator<? super K>) (Comparator<?>) Comparator.naturalOrder();
        }

        /**
         * Moves to the next entry in range.
         *
         * @return false at the end (and on every later call)
         */
        public boolean next() {
            Node<K> n;
            if (!started) {
                started = true;
                n = first();
            } else if (node == null) {
                return false;
            } else {
                n = descending ? index.findBelow(node.key, false) : node.next;
            }
            while (n != null) {
                if (!n.isMarker()) {
                    Object v = n.value;
                    if (v != null) {
                        if (descending ? bounds.tooLow(cmp, n.key) : bounds.tooHigh(cmp, n.key)) {
                            break;
                        }
                        node = n;
                        key = n.key;
                        entry = v;
                        return true;
                    }
                }
                n = descending ? (n.key == null ? null : index.findBelow(n.key, false)) : n.next;
            }
            node = null;
            key = null;
            entry = null;
            return false;
        }

        private Node<K> first() {
            if (descending) {
                return bounds.highUnbounded()
                        ? index.lastNode()
                        : index.findBelow(bounds.high(), bounds.highInclusive());
            }
            return bounds.lowUnbounded() ? index.firstNode() : index.findAbove(bounds.low(), bounds.lowInclusive());
        }

        /**
         * The key of the entry moved to.
         *
         * @return the key, or null at the end
         */
        public K key() {
            return key;
        }

        /**
         * The entry moved to, as read at the move.
         *
         * @return the entry, or null at the end
         */
        public Object entry() {
            return entry;
        }
    }
}
