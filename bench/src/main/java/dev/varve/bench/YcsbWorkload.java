// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench;

import dev.varve.Backup;
import dev.varve.Codec;
import dev.varve.Database;
import dev.varve.Isolation;
import dev.varve.Snapshot;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The YCSB core workloads A–F with the proportions of YCSB's {@code workloads/workload[a-f]}
 * files, keys chosen by scrambled Zipfian (constant 0.99; D: "latest"), scans of 1..100 keys
 * (uniform length). Each operation is one transaction at the configured isolation; with {@code
 * --autocommit}, single-key reads and updates use {@code db.get}/{@code db.put} instead.
 *
 * <p>Data: {@code Database<Long, byte[]>}. A record is one value of {@code --value-size} bytes
 * (YCSB's ten 100-byte fields are one opaque value here; an update replaces it). Keys are record
 * numbers, i.e. YCSB's {@code insertorder=ordered}, so scans read consecutive records.
 */
public final class YcsbWorkload implements Workload {
    /** Operation mix: read, update, insert, scan, read-modify-write, in percent. */
    private record Mix(int read, int update, int insert, int scan, int rmw, boolean latest) {}

    private static final Map<String, Mix> MIXES = Map.of(
            "ycsb-a", new Mix(50, 50, 0, 0, 0, false),
            "ycsb-b", new Mix(95, 5, 0, 0, 0, false),
            "ycsb-c", new Mix(100, 0, 0, 0, 0, false),
            "ycsb-d", new Mix(95, 0, 5, 0, 0, true),
            "ycsb-e", new Mix(0, 0, 5, 95, 0, false),
            "ycsb-f", new Mix(50, 0, 0, 0, 50, false));
    private static final List<String> TYPES = List.of("read", "update", "insert", "scan", "read-modify-write");
    private static final int MAX_SCAN = 100;

    private final Options options;
    private final Mix mix;
    private final long records;
    private final Path dir;
    private final AtomicLong inserted = new AtomicLong();
    private final AtomicLong insertCursor = new AtomicLong();
    private Database<Long, byte[]> db;

    /**
     * A YCSB workload as the options name it.
     *
     * @param options the settings
     */
    public YcsbWorkload(Options options) {
        this.options = options;
        this.mix = MIXES.get(options.workload());
        if (mix == null) {
            throw new IllegalArgumentException("not a YCSB workload: " + options.workload());
        }
        this.records = options.effectiveKeys();
        this.dir = options.durability().directory(options.dir());
    }

    @Override
    public String describe() {
        return options.workload() + ": " + records + " records of " + options.valueSize() + " bytes, "
                + (mix.latest ? "latest" : "zipfian 0.99") + (options.autocommit() ? ", autocommit reads/updates" : "");
    }

    @Override
    public List<String> transactionTypes() {
        return TYPES;
    }

    @Override
    public void load() {
        db = DurabilityMode.openWorkload(options, dir, Codec.LONG, Codec.BYTES);
        SplittableRandom random = new SplittableRandom(options.seed() ^ 0x5DEECE66DL);
        int batch = 1_000;
        for (long from = 0; from < records; from += batch) {
            long start = from;
            db.transact(tx -> {
                for (long k = start; k < Math.min(records, start + batch); k++) {
                    tx.put(k, value(random));
                }
                return null;
            });
        }
        inserted.set(records);
        insertCursor.set(records);
    }

    private byte[] value(SplittableRandom random) {
        byte[] v = new byte[options.valueSize()];
        for (int i = 0; i < v.length; i += 8) {
            long r = random.nextLong();
            for (int j = 0; j < 8 && i + j < v.length; j++) {
                v[i + j] = (byte) ('a' + ((r >>> (j * 8)) & 0xff) % 26);
            }
        }
        return v;
    }

    @Override
    public Worker worker(int index, long seed, Counters counters) {
        SplittableRandom random = new SplittableRandom(seed);
        Zipfian zipf = mix.latest ? Zipfian.over(random, Math.max(1, records)) : Zipfian.scrambled(random);
        Isolation isolation = options.isolation();
        boolean autocommit = options.autocommit();
        return () -> {
            long t0 = System.nanoTime();
            int op = random.nextInt(100);
            long count = inserted.get();
            long key = mix.latest ? zipf.nextLatest(count) : zipf.nextScrambled(count);
            int type;
            if (op < mix.read) {
                type = 0;
                if (autocommit) {
                    db.get(key);
                } else {
                    counters.transact(db, isolation, tx -> tx.get(key));
                }
            } else if ((op -= mix.read) < mix.update) {
                type = 1;
                byte[] v = value(random);
                if (autocommit) {
                    db.put(key, v);
                } else {
                    counters.transact(db, isolation, tx -> {
                        tx.put(key, v);
                        return null;
                    });
                }
            } else if ((op -= mix.update) < mix.insert) {
                type = 2;
                long k = insertCursor.getAndIncrement();
                byte[] v = value(random);
                counters.transact(db, isolation, tx -> {
                    tx.put(k, v);
                    return null;
                });
                // Publish in order, as YCSB's AcknowledgedCounterGenerator: readers draw below it.
                while (!inserted.compareAndSet(k, k + 1)) {
                    Thread.onSpinWait();
                }
            } else if ((op -= mix.insert) < mix.scan) {
                type = 3;
                int length = 1 + random.nextInt(MAX_SCAN);
                counters.transact(db, isolation, tx -> {
                    int n = 0;
                    long bytes = 0;
                    for (byte[] v : tx.asMap().tailMap(key, true).values()) {
                        bytes += v.length;
                        if (++n == length) {
                            break;
                        }
                    }
                    return bytes;
                });
            } else {
                type = 4;
                byte[] fresh = value(random);
                counters.transact(db, isolation, tx -> {
                    byte[] old = tx.get(key);
                    byte[] v = fresh.clone();
                    if (old != null && old.length > 0) {
                        v[0] = old[0];
                    }
                    tx.put(key, v);
                    return null;
                });
            }
            counters.committed(type, System.nanoTime() - t0);
        };
    }

    @Override
    public List<Check> checkAfterRun() {
        long expected = inserted.get();
        try (Snapshot<Long, byte[]> s = db.snapshot()) {
            int size = s.size();
            long wrongSize = s.values().stream()
                    .filter(v -> v.length != options.valueSize())
                    .count();
            boolean contiguous = size == 0 || (s.firstKey() == 0 && s.lastKey() == size - 1);
            return List.of(
                    new Check(
                            "every loaded and inserted record present",
                            size == expected && contiguous,
                            size + " records, expected " + expected),
                    new Check("every value intact", wrongSize == 0, wrongSize + " values of the wrong size"));
        }
    }

    @Override
    public Database<?, ?> database() {
        return db;
    }

    @Override
    public Backup backup(Path target) {
        return DurabilityMode.backupWorkload(db, options, target, Codec.LONG, Codec.BYTES);
    }

    @Override
    public void close() {
        DurabilityMode.closeWorkload(db, options, dir);
    }
}
