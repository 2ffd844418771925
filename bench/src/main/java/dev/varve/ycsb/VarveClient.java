// SPDX-License-Identifier: Apache-2.0
package dev.varve.ycsb;

import dev.varve.Codec;
import dev.varve.Database;
import dev.varve.Durability;
import dev.varve.Isolation;
import dev.varve.SerializationFailureException;
import dev.varve.wal.Wal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.Vector;
import site.ycsb.ByteArrayByteIterator;
import site.ycsb.ByteIterator;
import site.ycsb.DB;
import site.ycsb.DBException;
import site.ycsb.Status;
import site.ycsb.Workload;

/**
 * The YCSB binding: lets YCSB's own {@code site.ycsb.Client} drive Varve unchanged.
 *
 * <pre>
 * java -cp bench/target/varve-bench.jar site.ycsb.Client -t -db dev.varve.ycsb.VarveClient \
 *      -P bench/ycsb/workloada -p varve.preload=true -threads 2 -s
 * </pre>
 *
 * <p>Properties:
 * <ul>
 *   <li>{@code varve.durability}: {@code memory} (default), {@code relaxed} or {@code full};
 *   <li>{@code varve.dir}: the log directory, required for {@code relaxed}/{@code full} (so
 *       {@code -load} and a later {@code -t} share the data);
 *   <li>{@code varve.isolation}: {@code serializable} (default) or {@code snapshot}, for scans and
 *       updates (which read the record, merge the fields and write it back);
 *   <li>{@code varve.preload}: {@code true} makes the first client thread insert {@code
 *       recordcount} records through the configured workload's own {@code doInsert} before the
 *       transaction phase, so {@code -t} alone works in memory in one JVM;
 *   <li>{@code varve.vacuum}: background vacuum period in ms (default 200, 0 for none).
 * </ul>
 *
 * <p>Data: one {@code Database<String, byte[]>} per JVM shared by every client thread (YCSB
 * creates one {@code DB} per thread); the key is the YCSB key (the table name is ignored, as
 * YCSB uses one), the value the record's fields encoded as {@code [count][name, bytes]...}. Reads
 * and inserts are autocommit; updates and scans run in a transaction, retried by {@link
 * Database#transact} on serialization failures.
 */
public final class VarveClient extends DB {
    private static final Object LOCK = new Object();
    private static Database<String, byte[]> shared;
    private static String sharedConfig;
    private static int references;

    private Database<String, byte[]> db;
    private Isolation isolation;

    @Override
    public void init() throws DBException {
        Properties p = getProperties();
        String durability = p.getProperty("varve.durability", "memory").toLowerCase(Locale.ROOT);
        String dir = p.getProperty("varve.dir");
        String iso = p.getProperty("varve.isolation", "serializable").toLowerCase(Locale.ROOT);
        switch (iso) {
            case "serializable" -> isolation = Isolation.SERIALIZABLE;
            case "snapshot" -> isolation = Isolation.SNAPSHOT;
            default -> throw new DBException("varve.isolation " + iso + " is not serializable or snapshot");
        }
        String config = durability + "|" + dir;
        synchronized (LOCK) {
            if (shared == null) {
                Database.Builder<String, byte[]> b =
                        Database.<String, byte[]>builder().durability(durability(durability, dir));
                long vacuum = Long.parseLong(p.getProperty("varve.vacuum", "200"));
                if (vacuum > 0) {
                    b.autoVacuum(Duration.ofMillis(vacuum));
                }
                shared = b.open();
                sharedConfig = config;
                db = shared;
                references = 1;
                if (Boolean.parseBoolean(p.getProperty("varve.preload", "false"))) {
                    preload(p);
                }
                return;
            }
            if (!sharedConfig.equals(config)) {
                throw new DBException(
                        "one Varve database per JVM: already open with " + sharedConfig + ", asked for " + config);
            }
            references++;
            db = shared;
        }
    }

    private static Durability<String, byte[]> durability(String durability, String dir) throws DBException {
        if (durability.equals("memory")) {
            return Durability.inMemory();
        }
        if (dir == null) {
            throw new DBException("varve.durability " + durability + " needs varve.dir");
        }
        switch (durability) {
            case "relaxed":
                return Wal.relaxed(Path.of(dir), Codec.STRING, Codec.BYTES);
            case "full":
                return Wal.full(Path.of(dir), Codec.STRING, Codec.BYTES);
            default:
                throw new DBException("varve.durability " + durability + " is not memory, relaxed or full");
        }
    }

    /** Inserts {@code recordcount} records the way YCSB's load phase would, through the workload. */
    private void preload(Properties p) throws DBException {
        try {
            String name = p.getProperty("workload", "site.ycsb.workloads.CoreWorkload");
            Workload workload =
                    (Workload) Class.forName(name).getDeclaredConstructor().newInstance();
            Properties loadProperties = new Properties();
            loadProperties.putAll(p);
            loadProperties.remove("insertstart");
            loadProperties.remove("insertcount");
            workload.init(loadProperties);
            Object state = workload.initThread(loadProperties, 0, 1);
            long records = Long.parseLong(p.getProperty("recordcount", "1000"));
            for (long i = 0; i < records; i++) {
                if (!workload.doInsert(this, state)) {
                    throw new DBException("preload failed at record " + i);
                }
            }
            workload.cleanup();
        } catch (ReflectiveOperationException | site.ycsb.WorkloadException e) {
            throw new DBException("varve.preload: " + e, e);
        }
    }

    @Override
    public void cleanup() throws DBException {
        synchronized (LOCK) {
            if (db == null) {
                return;
            }
            db = null;
            if (--references == 0) {
                shared.close();
                shared = null;
                sharedConfig = null;
            }
        }
    }

    @Override
    public Status read(String table, String key, Set<String> fields, Map<String, ByteIterator> result) {
        byte[] record = db.get(key);
        if (record == null) {
            return Status.NOT_FOUND;
        }
        decodeInto(record, fields, result);
        return Status.OK;
    }

    @Override
    public Status scan(
            String table,
            String startkey,
            int recordcount,
            Set<String> fields,
            Vector<HashMap<String, ByteIterator>> result) {
        try {
            db.transact(isolation, tx -> {
                result.clear();
                for (byte[] record : tx.asMap().tailMap(startkey, true).values()) {
                    if (result.size() >= recordcount) {
                        break;
                    }
                    HashMap<String, ByteIterator> row = new HashMap<>();
                    decodeInto(record, fields, row);
                    result.add(row);
                }
                return null;
            });
            return Status.OK;
        } catch (SerializationFailureException e) {
            return Status.ERROR;
        }
    }

    @Override
    public Status update(String table, String key, Map<String, ByteIterator> values) {
        Map<String, byte[]> changes = bytes(values);
        try {
            boolean found = db.transact(isolation, tx -> {
                byte[] old = tx.get(key);
                if (old == null) {
                    return false;
                }
                Map<String, byte[]> fields = decode(old);
                fields.putAll(changes);
                tx.put(key, encode(fields));
                return true;
            });
            return found ? Status.OK : Status.NOT_FOUND;
        } catch (SerializationFailureException e) {
            return Status.ERROR;
        }
    }

    @Override
    public Status insert(String table, String key, Map<String, ByteIterator> values) {
        db.put(key, encode(bytes(values)));
        return Status.OK;
    }

    @Override
    public Status delete(String table, String key) {
        return db.remove(key) == null ? Status.NOT_FOUND : Status.OK;
    }

    private static Map<String, byte[]> bytes(Map<String, ByteIterator> values) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, ByteIterator> e : values.entrySet()) {
            out.put(e.getKey(), e.getValue().toArray());
        }
        return out;
    }

    /** {@code [int count] ([short name length][name UTF-8][int value length][value])*}. */
    static byte[] encode(Map<String, byte[]> fields) {
        int size = 4;
        byte[][] names = new byte[fields.size()][];
        int i = 0;
        for (Map.Entry<String, byte[]> e : fields.entrySet()) {
            names[i] = e.getKey().getBytes(StandardCharsets.UTF_8);
            size += 2 + names[i].length + 4 + e.getValue().length;
            i++;
        }
        ByteBuffer b = ByteBuffer.allocate(size).putInt(fields.size());
        i = 0;
        for (byte[] value : fields.values()) {
            b.putShort((short) names[i].length)
                    .put(names[i])
                    .putInt(value.length)
                    .put(value);
            i++;
        }
        return b.array();
    }

    static Map<String, byte[]> decode(byte[] record) {
        ByteBuffer b = ByteBuffer.wrap(record);
        int n = b.getInt();
        Map<String, byte[]> fields = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            byte[] name = new byte[b.getShort()];
            b.get(name);
            byte[] value = new byte[b.getInt()];
            b.get(value);
            fields.put(new String(name, StandardCharsets.UTF_8), value);
        }
        return fields;
    }

    private static void decodeInto(byte[] record, Set<String> wanted, Map<String, ByteIterator> result) {
        for (Map.Entry<String, byte[]> e : decode(record).entrySet()) {
            if (wanted == null || wanted.contains(e.getKey())) {
                result.put(e.getKey(), new ByteArrayByteIterator(e.getValue()));
            }
        }
    }
}
