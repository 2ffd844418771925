package dev.varve;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The versions of one key, newest first: the value type of the versioned index. The head changes
 * only by CAS.
 */
final class VersionChain<V> {
    private static final VarHandle HEAD;

    /**
     * Head of a chain that vacuum removed from the index: its last version was a tombstone below
     * the watermark. A committer that meets it installs into a fresh chain instead.
     */
    static final Version<Object> REMOVED = new Version<>(null, Long.MIN_VALUE, null);

    static {
        try {
            HEAD = MethodHandles.lookup().findVarHandle(VersionChain.class, "head", Version.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused") // accessed through HEAD
    private volatile Version<V> head;

    VersionChain(Version<V> first) {
        this.head = first;
    }

    /*
     * Implementation notes.
     *
     * Structure: head -> v(c_n) -> v(c_n-1) -> ... -> v(c_k) -> null, with c_n > c_n-1 > ... .
     * Invariants:
     *  - commit timestamps strictly decrease along the chain;
     *  - a version with commitTs > Store.visibleTs may be linked (its commit is being installed)
     *    but no reader uses it: every reader skips versions above its snapshot;
     *  - only committers (holding the store's commit lock) push a new head; vacuum (no lock) may
     *    swap a tombstone head for REMOVED, after which the chain is dead forever.
     * Both transitions are CASes on head, so a committer and vacuum racing on the same chain
     * serialize there: either the new version is linked before vacuum looks (vacuum's CAS fails)
     * or the chain is dead first (the committer's CAS fails and it installs a fresh chain).
     *
     * Linearization point of installing a version: the successful casHead. It becomes visible to
     * new snapshots only when Store.visibleTs passes its commit timestamp.
     */

    @SuppressWarnings("unchecked")
    Version<V> getHeadAcquire() {
        return (Version<V>) HEAD.getAcquire(this);
    }

    /** Links {@code update} as the new head if the head is still {@code expected}. */
    boolean casHead(Version<V> expected, Version<V> update) {
        return HEAD.compareAndSet(this, expected, update); // linearization point: version linked
    }

    /** Whether vacuum removed this chain from the index. */
    boolean isRemoved() {
        return getHeadAcquire() == (Object) REMOVED;
    }

    /**
     * The version visible at {@code snapshotTs}: the newest with {@code commitTs <= snapshotTs}.
     *
     * @return that version (possibly a tombstone), or {@code null} if none is reachable
     */
    Version<V> visibleAt(long snapshotTs) {
        Version<V> v = getHeadAcquire();
        while (v != null && v.commitTs > snapshotTs) {
            v = v.getOlderAcquire();
        }
        // REMOVED has commitTs MIN_VALUE, so it is returned for a dead chain: a tombstone.
        return v;
    }

    /** The value visible at {@code snapshotTs}, or {@code null} if absent or removed there. */
    V valueAt(long snapshotTs) {
        Version<V> v = visibleAt(snapshotTs);
        return v == null ? null : v.value;
    }
}
