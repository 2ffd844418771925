// SPDX-License-Identifier: Apache-2.0
package dev.varve.bench.compare;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.locks.ReentrantLock;

/**
 * SQLite in memory through sqlite-jdbc: one connection, shared by the threads under a lock (an
 * in-memory SQLite database has one writer at a time anyway, and a second connection would only
 * add SQLITE_BUSY/LOCKED retries). Every operation is its own transaction; SERIALIZABLE.
 */
final class SqlitePeer implements Peer {
    private final ReentrantLock lock = new ReentrantLock();
    private final Connection conn;
    private final PreparedStatement get;
    private final PreparedStatement put;
    private final PreparedStatement scan;
    private final PreparedStatement sum;

    SqlitePeer() {
        try {
            conn = DriverManager.getConnection("jdbc:sqlite::memory:");
            try (Statement s = conn.createStatement()) {
                s.execute("PRAGMA journal_mode=MEMORY");
                s.execute("PRAGMA synchronous=OFF");
                s.execute("CREATE TABLE kv (k INTEGER PRIMARY KEY, v INTEGER NOT NULL)");
            }
            get = conn.prepareStatement("SELECT v FROM kv WHERE k = ?");
            put = conn.prepareStatement("INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)");
            scan = conn.prepareStatement("SELECT v FROM kv WHERE k >= ? ORDER BY k LIMIT ?");
            sum = conn.prepareStatement("SELECT COALESCE(SUM(v), 0) FROM kv WHERE k >= ? AND k < ?");
        } catch (SQLException e) {
            throw new IllegalStateException("sqlite: " + e.getMessage(), e);
        }
    }

    @Override
    public String name() {
        return "SQLite";
    }

    @Override
    public String isolation() {
        return "SERIALIZABLE (one connection, one writer)";
    }

    @Override
    public void load(long base, long count, long value) {
        lock.lock();
        try {
            conn.setAutoCommit(false);
            for (long k = 0; k < count; k++) {
                put.setLong(1, base + k);
                put.setLong(2, value);
                put.executeUpdate();
                if (k % 10_000 == 9_999) {
                    conn.commit();
                }
            }
            conn.commit();
            conn.setAutoCommit(true);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void insertAll(long base, long[] offsets, long value) {
        lock.lock();
        try {
            conn.setAutoCommit(false);
            for (long k : offsets) {
                put.setLong(1, base + k);
                put.setLong(2, value);
                put.executeUpdate();
            }
            conn.commit();
            conn.setAutoCommit(true);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        } finally {
            lock.unlock();
        }
    }

    private long read(long key) throws SQLException {
        get.setLong(1, key);
        try (ResultSet rs = get.executeQuery()) {
            return rs.next() ? rs.getLong(1) : -1;
        }
    }

    private void write(long key, long value) throws SQLException {
        put.setLong(1, key);
        put.setLong(2, value);
        put.executeUpdate();
    }

    @Override
    public long get(long key) {
        lock.lock();
        try {
            return read(key);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void put(long key, long value) {
        lock.lock();
        try {
            write(key, value);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean transfer(long from, long to, long amount) {
        lock.lock();
        try {
            conn.setAutoCommit(false);
            long a = read(from);
            long b = read(to);
            if (a >= amount) {
                write(from, a - amount);
                write(to, b + amount);
            }
            conn.commit();
            conn.setAutoCommit(true);
            return true;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public long scan(long from, int n) {
        lock.lock();
        try {
            scan.setLong(1, from);
            scan.setInt(2, n);
            long total = 0;
            try (ResultSet rs = scan.executeQuery()) {
                while (rs.next()) {
                    total += rs.getLong(1);
                }
            }
            return total;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public long sum(long base, long count) {
        lock.lock();
        try {
            sum.setLong(1, base);
            sum.setLong(2, base + count);
            try (ResultSet rs = sum.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        try {
            conn.close();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
