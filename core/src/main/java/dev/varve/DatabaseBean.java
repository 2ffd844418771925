// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import java.lang.management.ManagementFactory;
import javax.management.InstanceAlreadyExistsException;
import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;

/**
 * A database's MBean ({@link DatabaseMXBean}): registers itself with the platform MBean server
 * and reads the database for every attribute. Thread-safe (it keeps no state of its own).
 */
final class DatabaseBean implements DatabaseMXBean {
    private final Database<?, ?> db;
    private final String name;
    private final ObjectName objectName;

    private DatabaseBean(Database<?, ?> db, String name, ObjectName objectName) {
        this.db = db;
        this.name = name;
        this.objectName = objectName;
    }

    /**
     * The object name of a database named {@code name}.
     *
     * @throws IllegalArgumentException if {@code name} cannot be an ObjectName value unquoted
     */
    static ObjectName objectName(String name) {
        for (char c : new char[] {',', '=', ':', '"', '*', '?', '\n'}) {
            if (name.indexOf(c) >= 0) {
                throw new IllegalArgumentException("name '" + name + "' cannot be a JMX name: it holds '"
                        + (c == '\n' ? "\\n" : String.valueOf(c)) + "'");
            }
        }
        try {
            return new ObjectName(
                    "dev.varve", new java.util.Hashtable<>(java.util.Map.of("type", "Database", "name", name)));
        } catch (MalformedObjectNameException e) {
            throw new IllegalArgumentException("name '" + name + "' cannot be a JMX name: " + e.getMessage(), e);
        }
    }

    /**
     * Registers the MBean of {@code db} under its name.
     *
     * @throws IllegalStateException if an MBean of that name is registered (another open
     *     database of the same name)
     */
    static DatabaseBean register(Database<?, ?> db, String name) {
        DatabaseBean bean = new DatabaseBean(db, name, objectName(name));
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        try {
            server.registerMBean(bean, bean.objectName);
        } catch (InstanceAlreadyExistsException e) {
            throw new IllegalStateException(
                    "a database named '" + name + "' is already registered with JMX as " + bean.objectName
                            + "; close it first or choose another name",
                    e);
        } catch (JMException e) {
            throw new IllegalStateException("could not register " + bean.objectName + ": " + e, e);
        }
        return bean;
    }

    /** Unregisters the MBean; idempotent. */
    void unregister() {
        try {
            ManagementFactory.getPlatformMBeanServer().unregisterMBean(objectName);
        } catch (InstanceNotFoundException e) {
            // already gone
        } catch (JMException e) {
            throw new IllegalStateException("could not unregister " + objectName + ": " + e, e);
        }
    }

    @Override
    public String getName() {
        return name;
    }

    @Override
    public String getDurability() {
        return db.durability();
    }

    @Override
    public long getCommits() {
        return db.stats().commits();
    }

    @Override
    public long getReadOnlyCommits() {
        return db.counters().readOnlyCommits();
    }

    @Override
    public long getLiveKeys() {
        return db.gauges().liveKeys();
    }

    @Override
    public long getVersions() {
        return db.gauges().versions();
    }

    @Override
    public long getLeakedTransactions() {
        return db.counters().leakedTransactions();
    }

    @Override
    public long getExpiredTransactions() {
        return db.counters().expiredTransactions();
    }

    @Override
    public long getLogBytesWritten() {
        return db.logStats().bytesWritten();
    }

    @Override
    public long getLogForces() {
        return db.logStats().forces();
    }

    @Override
    public long getLogForceP99Micros() {
        return db.logStats().forceP99().toNanos() / 1_000;
    }

    @Override
    public long getWriteWriteAborts() {
        return db.stats().writeWriteAborts();
    }

    @Override
    public long getDangerousStructureAborts() {
        return db.stats().dangerousStructureAborts();
    }

    @Override
    public long getVisibleTimestamp() {
        return db.stats().visibleTimestamp();
    }

    @Override
    public long getOldestSnapshotTimestamp() {
        return db.stats().oldestSnapshotTimestamp();
    }

    @Override
    public long getOldestSnapshotAgeMillis() {
        return db.stats().oldestSnapshotAge().toMillis();
    }

    @Override
    public int getOpenSnapshots() {
        return db.stats().openSnapshots();
    }

    @Override
    public int getIndexedKeys() {
        return db.stats().indexedKeys();
    }

    @Override
    public int getSsiRecords() {
        return db.stats().ssiRecords();
    }

    @Override
    public long getVacuumRuns() {
        return db.stats().vacuumRuns();
    }

    @Override
    public long getReclaimedVersions() {
        return db.stats().reclaimedVersions();
    }

    @Override
    public long getReclaimedKeys() {
        return db.stats().reclaimedKeys();
    }

    @Override
    public String getLastVacuumFailure() {
        Throwable failure = db.stats().lastVacuumFailure();
        return failure == null ? null : failure.toString();
    }

    @Override
    public boolean isHealthy() {
        return db.health().ok();
    }

    @Override
    public String getHealth() {
        return db.health().toString();
    }

    @Override
    public String vacuum() {
        return db.vacuum().toString();
    }

    @Override
    public void checkpoint() {
        db.checkpoint();
    }
}
