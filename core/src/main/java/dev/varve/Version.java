package dev.varve;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One committed version of a key's value: immutable except for the link to the next older version,
 * which vacuum may cut. A {@code null} value is a tombstone (the key was removed at {@link
 * #commitTs}).
 */
final class Version<V> {
    private static final VarHandle OLDER;

    static {
        try {
            OLDER = MethodHandles.lookup().findVarHandle(Version.class, "older", Version.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The value, or {@code null} for a tombstone. */
    final V value;

    final long commitTs;

    /** Next older version, or {@code null} at the end of the chain (or after vacuum cut it). */
    @SuppressWarnings("unused") // accessed through OLDER
    private Version<V> older;

    Version(V value, long commitTs, Version<V> older) {
        this.value = value;
        this.commitTs = commitTs;
        this.older = older; // published by the release CAS that links this version as head
    }

    /*
     * Implementation notes.
     *
     * A version is written once by its committer before the CAS in VersionChain#casHead
     * publishes it; readers reach it only through that CAS (or through an older link written
     * before it), so value and commitTs need no ordering of their own (final fields).
     *
     * The only later store is vacuum's cut, setOlderRelease(null), which pairs with
     * getOlderAcquire in readers. A reader that sees the cut has run off the end of the chain;
     * that can only happen to a reader whose snapshot is below the vacuum horizon published
     * before the cut (Store#vacuumHorizon), and such a reader is never a registered one, so it
     * re-reads at a fresh snapshot (Store#readLatest).
     */

    @SuppressWarnings("unchecked")
    Version<V> getOlderAcquire() {
        return (Version<V>) OLDER.getAcquire(this);
    }

    /** Pairs with {@link #getOlderAcquire()}; used only by vacuum to cut the chain's tail. */
    void setOlderRelease(Version<V> newOlder) {
        OLDER.setRelease(this, newOlder);
    }

    boolean isTombstone() {
        return value == null;
    }
}
