// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench.compare;

import java.nio.ByteBuffer;
import org.rocksdb.Env;
import org.rocksdb.OptimisticTransactionDB;
import org.rocksdb.Options;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.RocksMemEnv;
import org.rocksdb.Status;
import org.rocksdb.Transaction;
import org.rocksdb.WriteOptions;

/**
 * RocksDB's {@link OptimisticTransactionDB} on an in-memory {@link RocksMemEnv}, write-ahead log
 * disabled. Transfers read with {@code getForUpdate} (so a concurrent write to what they read
 * fails their commit: serializable for this read-write set) and retry on {@code Busy}/{@code
 * TryAgain}; point operations are plain {@code get}/{@code put}; scans use an iterator (its
 * implicit snapshot).
 */
final class RocksPeer implements Peer {
    static {
        RocksDB.loadLibrary();
    }

    private final Env env;
    private final Options options;
    private final OptimisticTransactionDB db;
    private final WriteOptions write = new WriteOptions().setDisableWAL(true);
    private final ReadOptions read = new ReadOptions();

    RocksPeer() {
        env = new RocksMemEnv(Env.getDefault());
        options = new Options().setCreateIfMissing(true).setEnv(env);
        try {
            db = OptimisticTransactionDB.open(options, "/varve-compare");
        } catch (RocksDBException e) {
            throw new IllegalStateException("rocksdb: " + e.getMessage(), e);
        }
    }

    @Override
    public String name() {
        return "RocksDB-OCC";
    }

    @Override
    public String isolation() {
        return "optimistic, getForUpdate on every read of a transfer (serializable for it)";
    }

    private static byte[] key(long k) {
        return ByteBuffer.allocate(8).putLong(k).array();
    }

    private static byte[] value(long v) {
        return ByteBuffer.allocate(8).putLong(v).array();
    }

    private static long decode(byte[] b) {
        return ByteBuffer.wrap(b).getLong();
    }

    @Override
    public void load(long base, long count, long value) {
        try {
            byte[] v = value(value);
            for (long k = 0; k < count; k++) {
                db.put(write, key(base + k), v);
            }
        } catch (RocksDBException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void insertAll(long base, long[] offsets, long value) {
        try (Transaction tx = db.beginTransaction(write)) {
            byte[] v = value(value);
            for (long k : offsets) {
                tx.put(key(base + k), v);
            }
            tx.commit();
        } catch (RocksDBException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public long get(long key) {
        try {
            byte[] v = db.get(read, key(key));
            return v == null ? -1 : decode(v);
        } catch (RocksDBException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void put(long key, long value) {
        try {
            db.put(write, key(key), value(value));
        } catch (RocksDBException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public boolean transfer(long from, long to, long amount) {
        try (Transaction tx = db.beginTransaction(write)) {
            byte[] kf = key(from);
            byte[] kt = key(to);
            long a = decode(tx.getForUpdate(read, kf, true));
            long b = decode(tx.getForUpdate(read, kt, true));
            if (a >= amount) {
                tx.put(kf, value(a - amount));
                tx.put(kt, value(b + amount));
            }
            try {
                tx.commit();
                return true;
            } catch (RocksDBException e) {
                Status.Code code = e.getStatus() == null ? null : e.getStatus().getCode();
                if (code == Status.Code.Busy || code == Status.Code.TryAgain) {
                    return false;
                }
                throw e;
            }
        } catch (RocksDBException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public long scan(long from, int n) {
        try (RocksIterator it = db.newIterator(read)) {
            long sum = 0;
            int i = 0;
            for (it.seek(key(from)); it.isValid() && i < n; it.next()) {
                sum += decode(it.value());
                i++;
            }
            return sum;
        }
    }

    @Override
    public long sum(long base, long count) {
        try (RocksIterator it = db.newIterator(read)) {
            long sum = 0;
            long end = base + count;
            for (it.seek(key(base)); it.isValid(); it.next()) {
                if (decode(it.key()) >= end) {
                    break;
                }
                sum += decode(it.value());
            }
            return sum;
        }
    }

    @Override
    public void close() {
        db.close();
        options.close();
        env.close();
        write.close();
        read.close();
    }
}
