// SPDX-License-Identifier: Apache-2.0
package dev.varve.wal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A FileIo double for one process lifetime over a {@link Disk} that outlives it. Counts writes
 * and forces, and crashes the process at the N-th write, force or (with {@link Op#ANY}) any
 * file-changing operation, optionally tearing the write in flight; after the crash every
 * operation of this lifetime throws.
 *
 * <p>The real files are the OS page cache: what a lifetime wrote stays there after its crash and
 * the next lifetime (a new FaultyIo over the same Disk) reads it, as after kill -9. The Disk holds
 * what the device has: each file's bytes as of its last force and each directory's entries as of
 * its last directory force. {@link #powerLoss} replaces the page cache by that image.
 *
 * <p>Implementation notes. (1) Every operation runs under the Disk's monitor and checks the crash
 * flag inside it, so the operations of a lifetime are totally ordered and none takes effect after
 * the crash point, whatever thread issues it. (2) A file is an inode; a directory entry maps a
 * name to an inode, in the page cache ({@code names}) and on the device ({@code durableNames}),
 * so an unforced rename or delete of a durable file is undone by a power loss with the file's
 * durable bytes. (3) A file the Disk has never seen (made outside the double) is adopted as
 * durable, bytes and entry, when first touched. (4) Durability is the model's, not the test
 * machine's: the multi-lifetime doubles ({@link #crashingAt}, {@link #counting(Disk)}) skip the
 * real fsync to run fast; the single-lifetime ones also call it, so a force takes as long as a
 * real one (group-commit tests count records per force).
 */
final class FaultyIo implements FileIo {

    enum Op {
        WRITE,
        FORCE,
        ANY
    }

    enum Mode {
        FAIL,
        TEAR
    }

    /** The device: durable file bytes and directory entries, shared by successive lifetimes. */
    static final class Disk {
        private static final class Inode {
            byte[] durable = new byte[0];
        }

        /** Directory entries the page cache has (what a process sees). */
        private final Map<Path, Inode> names = new HashMap<>();
        /** Directory entries as of their directory's last force (what a power loss keeps). */
        private final Map<Path, Inode> durableNames = new HashMap<>();
        /** Every directory forced, in order (tests of directory durability look at it). */
        final List<Path> forcedDirectories = new ArrayList<>();

        private static Path key(Path p) {
            return p.toAbsolutePath().normalize();
        }

        /** The inode named {@code p}, adopting a file made outside the double as durable. */
        private Inode inode(Path p) throws IOException {
            Path k = key(p);
            Inode i = names.get(k);
            if (i == null && Files.isRegularFile(k)) {
                i = new Inode();
                i.durable = Files.readAllBytes(k);
                names.put(k, i);
                durableNames.put(k, i);
            }
            return i;
        }

        /**
         * Makes the files look as after a power loss now: every name the device does not hold is
         * gone, every name it holds has its durable bytes, plus, for some files, a random part of
         * what was appended after the last force (pages the kernel happened to write back).
         * Call when no lifetime is running.
         *
         * @return what changed, for the test's label
         */
        synchronized String powerLoss(Random rnd) throws IOException {
            StringBuilder what = new StringBuilder();
            TreeSet<Path> all = new TreeSet<>(names.keySet());
            all.addAll(durableNames.keySet());
            for (Path p : all) {
                Inode durable = durableNames.get(p);
                if (durable == null) {
                    if (Files.deleteIfExists(p)) {
                        what.append(" lose ").append(p.getFileName());
                    }
                    continue;
                }
                byte[] keep = durable.durable;
                byte[] now = names.get(p) == durable && Files.exists(p) ? Files.readAllBytes(p) : null;
                if (now != null
                        && now.length > keep.length
                        && rnd.nextBoolean()
                        && java.util.Arrays.equals(now, 0, keep.length, keep, 0, keep.length)) {
                    keep = java.util.Arrays.copyOf(now, keep.length + rnd.nextInt(now.length - keep.length + 1));
                }
                if (now == null || !java.util.Arrays.equals(now, keep)) {
                    what.append(names.get(p) != durable ? " restore " : " revert ")
                            .append(p.getFileName())
                            .append(' ')
                            .append(now == null ? "-" : Integer.toString(now.length))
                            .append("->")
                            .append(keep.length);
                    Files.write(p, keep);
                }
            }
            names.clear();
            names.putAll(durableNames);
            return what.toString();
        }
    }

    final AtomicInteger writes = new AtomicInteger();
    final AtomicInteger forces = new AtomicInteger();
    final AtomicInteger segmentForces = new AtomicInteger();
    /** File-changing operations of this lifetime (create, write, force, truncate, rename, delete, directory force). */
    final AtomicInteger ops = new AtomicInteger();

    final Disk disk;
    private final Op op;
    private final int n;
    private final Mode mode;
    /** Chooses how much of a torn write lands; {@code null}: half of it. */
    private final Random tearRnd;
    /** Whether forces also call the real fsync. */
    private final boolean realForce;
    /** Guarded by the disk's monitor. */
    private boolean crashed;

    private String crashedAt;
    /** Called before every write and force of a wrapped channel; see {@link #pauseAt}. */
    private volatile Pause pause = (o, f) -> {};

    private FaultyIo(Disk disk, Op op, int n, Mode mode, Random tearRnd, boolean realForce) {
        this.disk = disk;
        this.realForce = realForce;
        this.op = op;
        this.n = n;
        this.mode = mode;
        this.tearRnd = tearRnd;
    }

    /** Counts, never fails, on a fresh disk. */
    static FaultyIo counting() {
        return new FaultyIo(new Disk(), Op.WRITE, Integer.MAX_VALUE, Mode.FAIL, null, true);
    }

    /** Counts, never fails, on {@code disk}. */
    static FaultyIo counting(Disk disk) {
        return new FaultyIo(disk, Op.WRITE, Integer.MAX_VALUE, Mode.FAIL, null, false);
    }

    /** Crashes at the {@code n}-th {@code op} on a fresh disk (a torn write keeps half). */
    static FaultyIo failing(Op op, int n, Mode mode) {
        return new FaultyIo(new Disk(), op, n, mode, null, true);
    }

    /** One process lifetime on {@code disk} that crashes at its {@code n}-th file-changing operation. */
    static FaultyIo crashingAt(Disk disk, int n, Mode mode, Random tearRnd) {
        return new FaultyIo(disk, Op.ANY, n, mode, tearRnd, false);
    }

    /** A hook run before a write or force reaches the file: a test blocks or fails it there. */
    interface Pause {
        void at(Op op, Path file) throws IOException;
    }

    /**
     * Installs {@code p} for every later write and force (replacing the previous hook). It runs
     * outside the disk's monitor, so a blocked write holds up no other thread's file operation.
     */
    void pauseAt(Pause p) {
        this.pause = p;
    }

    boolean crashed() {
        synchronized (disk) {
            return crashed;
        }
    }

    /** Where the crash came, or {@code null}. */
    String crashedAt() {
        synchronized (disk) {
            return crashedAt;
        }
    }

    /** Kills the process now (kill -9): nothing it does later reaches the files. */
    void crash() {
        synchronized (disk) {
            if (!crashed) {
                crashed = true;
                crashedAt = "kill after op #" + ops.get();
            }
        }
    }

    /** Crashes this lifetime and then the power; see {@link Disk#powerLoss}. */
    String powerLoss(Random rnd) throws IOException {
        crash();
        return disk.powerLoss(rnd);
    }

    /** Caller holds the disk's monitor. */
    private void alive() throws IOException {
        if (crashed) {
            throw new IOException("injected: process already crashed");
        }
    }

    /**
     * Counts one file-changing operation; true if the crash comes at it. Caller holds the disk's
     * monitor and has checked {@link #alive}.
     */
    private boolean crashHere(Op kind, String what) {
        int all = ops.incrementAndGet();
        int count = kind == Op.WRITE ? writes.incrementAndGet() : kind == Op.FORCE ? forces.incrementAndGet() : all;
        boolean hit = op == Op.ANY ? all == n : op == kind && count == n;
        if (hit) {
            crashed = true;
            crashedAt = "op #" + all + " (" + what + ")";
        }
        return hit;
    }

    private IOException injected(String what) {
        return new IOException("injected crash at operation #" + n + ": " + what);
    }

    @Override
    public Channel create(Path file) throws IOException {
        synchronized (disk) {
            alive();
            if (crashHere(Op.ANY, "create " + file.getFileName())) {
                throw injected("create " + file.getFileName());
            }
            Channel ch = FileIo.REAL.create(file);
            Disk.Inode i = new Disk.Inode();
            disk.names.put(Disk.key(file), i);
            return wrap(ch, file, i);
        }
    }

    @Override
    public Channel openExisting(Path file) throws IOException {
        synchronized (disk) {
            alive();
            Disk.Inode i = disk.inode(file);
            Channel ch = FileIo.REAL.openExisting(file);
            return wrap(ch, file, i);
        }
    }

    @Override
    public void forceDirectory(Path dir) throws IOException {
        synchronized (disk) {
            alive();
            if (crashHere(Op.ANY, "force directory " + dir.getFileName())) {
                throw injected("force of directory " + dir);
            }
            if (realForce) {
                FileIo.REAL.forceDirectory(dir);
            }
            Path d = Disk.key(dir);
            disk.forcedDirectories.add(d);
            disk.durableNames.keySet().removeIf(p -> d.equals(p.getParent()));
            for (Map.Entry<Path, Disk.Inode> e : disk.names.entrySet()) {
                if (d.equals(e.getKey().getParent())) {
                    disk.durableNames.put(e.getKey(), e.getValue());
                }
            }
        }
    }

    @Override
    public void moveAtomically(Path from, Path to) throws IOException {
        synchronized (disk) {
            alive();
            if (crashHere(Op.ANY, "rename " + from.getFileName())) {
                throw injected("rename of " + from.getFileName() + " to " + to.getFileName());
            }
            Disk.Inode i = disk.inode(from);
            FileIo.REAL.moveAtomically(from, to);
            disk.names.remove(Disk.key(from));
            if (i != null) {
                disk.names.put(Disk.key(to), i);
            }
        }
    }

    @Override
    public void delete(Path file) throws IOException {
        synchronized (disk) {
            alive();
            if (crashHere(Op.ANY, "delete " + file.getFileName())) {
                throw injected("delete of " + file.getFileName());
            }
            disk.inode(file);
            FileIo.REAL.delete(file);
            disk.names.remove(Disk.key(file));
        }
    }

    private Channel wrap(Channel real, Path file, Disk.Inode inode) {
        boolean isSegment = file.getFileName().toString().endsWith(".seg");
        return new Channel() {
            @Override
            public void write(ByteBuffer src, long position) throws IOException {
                pause.at(Op.WRITE, file);
                synchronized (disk) {
                    alive();
                    if (crashHere(Op.WRITE, "write to " + file.getFileName())) {
                        if (mode == Mode.TEAR && src.remaining() > 1) {
                            ByteBuffer part = src.duplicate();
                            int keep = tearRnd == null ? src.remaining() / 2 : 1 + tearRnd.nextInt(src.remaining() - 1);
                            part.limit(part.position() + keep);
                            real.write(part, position);
                        }
                        throw new IOException("injected " + mode + " of write #" + n + " to " + file.getFileName());
                    }
                    real.write(src, position);
                }
            }

            @Override
            public int read(ByteBuffer dst, long position) throws IOException {
                synchronized (disk) {
                    alive();
                    return real.read(dst, position);
                }
            }

            @Override
            public void force() throws IOException {
                pause.at(Op.FORCE, file);
                synchronized (disk) {
                    alive();
                    if (isSegment) {
                        segmentForces.incrementAndGet();
                    }
                    if (crashHere(Op.FORCE, "force of " + file.getFileName())) {
                        throw new IOException("injected failure of force #" + n + " of " + file.getFileName());
                    }
                    if (realForce) {
                        real.force();
                    }
                    ByteBuffer all = ByteBuffer.allocate((int) real.size());
                    while (all.hasRemaining() && real.read(all, all.position()) >= 0) {
                        // until full
                    }
                    inode.durable = java.util.Arrays.copyOf(all.array(), all.position());
                }
            }

            @Override
            public long size() throws IOException {
                synchronized (disk) {
                    alive();
                    return real.size();
                }
            }

            @Override
            public void truncate(long size) throws IOException {
                synchronized (disk) {
                    alive();
                    if (crashHere(Op.ANY, "truncate " + file.getFileName())) {
                        throw injected("truncate of " + file.getFileName());
                    }
                    real.truncate(size);
                }
            }

            @Override
            public void close() throws IOException {
                real.close(); // closing is allowed after a crash: it releases nothing durable
            }
        };
    }
}
