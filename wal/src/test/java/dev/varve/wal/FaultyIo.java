package dev.varve.wal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A FileIo double: counts writes and forces, and fails or tears the N-th one. After the fault the
 * "process" is dead: every later operation throws. It also models what a power loss keeps
 * ({@link #powerLoss}): a file's bytes up to its last force (plus a random prefix of what came
 * after), and directory entries (creations, renames) only once their directory was forced.
 */
final class FaultyIo implements FileIo {

    enum Op { WRITE, FORCE }

    enum Mode { FAIL, TEAR }

    final AtomicInteger writes = new AtomicInteger();
    final AtomicInteger forces = new AtomicInteger();
    final AtomicInteger segmentForces = new AtomicInteger();
    private final Op op;
    private final int n;
    private final Mode mode;
    private volatile boolean crashed;
    /** Called before every write and force of a wrapped channel; see {@link #pauseAt}. */
    private volatile Pause pause = (o, f) -> { };
    /** File size at its last force (or when first opened, for files that existed before). */
    private final Map<Path, Long> durableSize = new ConcurrentHashMap<>();
    /** Files created since the last directory force. */
    private final Set<Path> undurableEntries = ConcurrentHashMap.newKeySet();
    /** Renames (target to source) since the last directory force. */
    private final Map<Path, Path> undurableMoves = new ConcurrentHashMap<>();

    private FaultyIo(Op op, int n, Mode mode) {
        this.op = op;
        this.n = n;
        this.mode = mode;
    }

    /** Counts, never fails. */
    static FaultyIo counting() {
        return new FaultyIo(Op.WRITE, Integer.MAX_VALUE, Mode.FAIL);
    }

    static FaultyIo failing(Op op, int n, Mode mode) {
        return new FaultyIo(op, n, mode);
    }

    /** A hook run before a write or force reaches the file: a test blocks or fails it there. */
    interface Pause {
        void at(Op op, Path file) throws IOException;
    }

    /** Installs {@code p} for every later write and force (replacing the previous hook). */
    void pauseAt(Pause p) {
        this.pause = p;
    }

    boolean crashed() {
        return crashed;
    }

    private void alive() throws IOException {
        if (crashed) {
            throw new IOException("injected: process already crashed");
        }
    }

    @Override
    public Channel create(Path file) throws IOException {
        alive();
        Channel ch = FileIo.REAL.create(file);
        undurableEntries.add(file);
        durableSize.put(file, 0L);
        return wrap(ch, file);
    }

    @Override
    public Channel openExisting(Path file) throws IOException {
        alive();
        Channel ch = FileIo.REAL.openExisting(file);
        durableSize.putIfAbsent(file, ch.size());
        return wrap(ch, file);
    }

    @Override
    public void forceDirectory(Path dir) throws IOException {
        alive();
        FileIo.REAL.forceDirectory(dir);
        undurableEntries.clear();
        undurableMoves.clear();
    }

    @Override
    public void moveAtomically(Path from, Path to) throws IOException {
        alive();
        FileIo.REAL.moveAtomically(from, to);
        Long size = durableSize.remove(from);
        if (size != null) {
            durableSize.put(to, size);
        }
        if (undurableEntries.remove(from)) {
            undurableEntries.add(to);
        }
        undurableMoves.put(to, from);
    }

    @Override
    public void delete(Path file) throws IOException {
        alive();
        FileIo.REAL.delete(file);
        durableSize.remove(file);
        undurableEntries.remove(file);
    }

    /**
     * Makes the files look as after a power loss now: unforced creations and renames undone,
     * each file cut to its last forced size plus a random part of what was written after.
     * Call after the log is closed.
     */
    String powerLoss(Random rnd) throws IOException {
        crashed = true;
        StringBuilder what = new StringBuilder();
        for (Map.Entry<Path, Path> m : undurableMoves.entrySet()) {
            if (Files.exists(m.getKey())) {
                Files.move(m.getKey(), m.getValue());
                durableSize.put(m.getValue(), durableSize.remove(m.getKey()));
                what.append(" unrename ").append(m.getKey().getFileName());
            }
        }
        for (Path p : undurableEntries) {
            if (Files.deleteIfExists(p)) {
                what.append(" lose ").append(p.getFileName());
            }
            durableSize.remove(p);
        }
        for (Map.Entry<Path, Long> e : durableSize.entrySet()) {
            Path p = e.getKey();
            if (!Files.exists(p)) {
                continue;
            }
            long size = Files.size(p);
            if (size > e.getValue()) {
                long keep = e.getValue() + (long) (rnd.nextDouble() * (size - e.getValue() + 1));
                try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(p,
                        java.nio.file.StandardOpenOption.WRITE)) {
                    ch.truncate(keep);
                }
                what.append(" cut ").append(p.getFileName()).append(' ').append(size).append("->").append(keep);
            }
        }
        return what.toString();
    }

    private Channel wrap(Channel real, Path file) {
        boolean isSegment = file.getFileName().toString().endsWith(".seg");
        return new Channel() {
            @Override
            public void write(ByteBuffer src, long position) throws IOException {
                alive();
                pause.at(Op.WRITE, file);
                if (op == Op.WRITE && writes.incrementAndGet() == n) {
                    crashed = true;
                    if (mode == Mode.TEAR && src.remaining() > 1) {
                        ByteBuffer part = src.duplicate();
                        part.limit(part.position() + src.remaining() / 2);
                        real.write(part, position);
                    }
                    throw new IOException("injected " + mode + " of write #" + n + " to " + file.getFileName());
                } else if (op != Op.WRITE) {
                    writes.incrementAndGet();
                }
                real.write(src, position);
            }

            @Override
            public int read(ByteBuffer dst, long position) throws IOException {
                alive();
                return real.read(dst, position);
            }

            @Override
            public void force() throws IOException {
                alive();
                pause.at(Op.FORCE, file);
                if (isSegment) {
                    segmentForces.incrementAndGet();
                }
                if (op == Op.FORCE && forces.incrementAndGet() == n) {
                    crashed = true;
                    throw new IOException("injected failure of force #" + n + " of " + file.getFileName());
                } else if (op != Op.FORCE) {
                    forces.incrementAndGet();
                }
                real.force();
                durableSize.put(file, real.size());
            }

            @Override
            public long size() throws IOException {
                alive();
                return real.size();
            }

            @Override
            public void truncate(long size) throws IOException {
                alive();
                real.truncate(size);
            }

            @Override
            public void close() throws IOException {
                real.close(); // closing is allowed after a crash: it releases nothing durable
            }
        };
    }
}
