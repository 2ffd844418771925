// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import javax.management.JMX;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

/** The database MBean, read and driven through the platform MBean server as an operator would. */
class JmxTest {
    private static final MBeanServer SERVER = ManagementFactory.getPlatformMBeanServer();

    private static ObjectName name(String name) throws Exception {
        return new ObjectName("dev.varve:type=Database,name=" + name);
    }

    @Test
    void theMBeanIsRegisteredOnOpenReadsTheDatabaseAndIsGoneAfterClose() throws Exception {
        ObjectName on = name("jmx-orders");
        try (Database<Long, String> db =
                Database.<Long, String>builder().name("jmx-orders").jmx(true).open()) {
            assertTrue(SERVER.isRegistered(on));
            assertEquals("jmx-orders", SERVER.getAttribute(on, "Name"));
            assertEquals("memory", SERVER.getAttribute(on, "Durability"));
            long before = (Long) SERVER.getAttribute(on, "Commits");
            db.put(1L, "a");
            db.transact(tx -> {
                tx.put(2L, "b");
                tx.put(3L, "c");
                return null;
            });
            assertEquals(before + 2, (Long) SERVER.getAttribute(on, "Commits"));
            assertEquals(3, (Integer) SERVER.getAttribute(on, "IndexedKeys"));
            assertEquals(3L, (Long) SERVER.getAttribute(on, "LiveKeys"));
            assertEquals(3L, (Long) SERVER.getAttribute(on, "Versions"));
            long readOnly = (Long) SERVER.getAttribute(on, "ReadOnlyCommits");
            db.run(tx -> tx.get(1L));
            assertEquals(readOnly + 1, (Long) SERVER.getAttribute(on, "ReadOnlyCommits"));
            assertEquals(0L, (Long) SERVER.getAttribute(on, "LeakedTransactions"));
            assertEquals(0L, (Long) SERVER.getAttribute(on, "ExpiredTransactions"));
            assertEquals(0L, (Long) SERVER.getAttribute(on, "LogForces"), "in memory: no log");
            assertEquals(0L, (Long) SERVER.getAttribute(on, "LogBytesWritten"));
            assertEquals(0L, (Long) SERVER.getAttribute(on, "LogForceP99Micros"));
            assertEquals(db.stats().visibleTimestamp(), (Long) SERVER.getAttribute(on, "VisibleTimestamp"));

            try (Snapshot<Long, String> s = db.snapshot()) {
                assertEquals(1, (Integer) SERVER.getAttribute(on, "OpenSnapshots"));
                assertEquals("c", s.get(3L));
            }
            assertEquals(0, (Integer) SERVER.getAttribute(on, "OpenSnapshots"));

            db.remove(1L);
            long runs = (Long) SERVER.getAttribute(on, "VacuumRuns");
            Object result = SERVER.invoke(on, "vacuum", new Object[0], new String[0]);
            assertTrue(((String) result).startsWith("VacuumResult"), String.valueOf(result));
            assertEquals(runs + 1, (Long) SERVER.getAttribute(on, "VacuumRuns"));
            assertEquals(1L, (Long) SERVER.getAttribute(on, "ReclaimedKeys"));
            assertEquals(2, (Integer) SERVER.getAttribute(on, "IndexedKeys"));
            SERVER.invoke(on, "checkpoint", new Object[0], new String[0]); // in memory: nothing to do
            assertNull(SERVER.getAttribute(on, "LastVacuumFailure"));
            assertEquals(true, SERVER.getAttribute(on, "Healthy"));
            assertTrue(((String) SERVER.getAttribute(on, "Health")).startsWith("Health[closed=false"));
        }
        assertFalse(SERVER.isRegistered(on));
    }

    @Test
    void aProxyOfTheMXBeanInterfaceWorks() throws Exception {
        try (Database<Long, String> db =
                Database.<Long, String>builder().name("jmx-proxy").jmx(true).open()) {
            DatabaseMXBean proxy = JMX.newMXBeanProxy(SERVER, name("jmx-proxy"), DatabaseMXBean.class);
            db.put(7L, "x");
            assertEquals(db.stats().commits(), proxy.getCommits());
            assertEquals(db.stats().writeWriteAborts(), proxy.getWriteWriteAborts());
            assertEquals(0, proxy.getOldestSnapshotAgeMillis());
        }
    }

    @Test
    void aSecondOpenDatabaseOfTheSameNameIsRefusedAndLeavesNothingOpen() throws Exception {
        try (Database<Long, String> first =
                Database.<Long, String>builder().name("jmx-twice").jmx(true).open()) {
            IllegalStateException e = assertThrows(
                    IllegalStateException.class,
                    () -> Database.<Long, String>builder()
                            .name("jmx-twice")
                            .jmx(true)
                            .open());
            assertTrue(e.getMessage().contains("'jmx-twice' is already registered"), e.getMessage());
            first.put(1L, "still the first's");
            assertEquals(first.stats().commits(), (Long) SERVER.getAttribute(name("jmx-twice"), "Commits"));
        }
        // the name is free again once the first is closed
        try (Database<Long, String> again =
                Database.<Long, String>builder().name("jmx-twice").jmx(true).open()) {
            assertTrue(SERVER.isRegistered(name("jmx-twice")));
            assertEquals("jmx-twice", again.name());
        }
    }

    @Test
    void withoutJmxNothingIsRegisteredAndTheNameIsKept() throws Exception {
        try (Database<Long, String> db =
                Database.<Long, String>builder().name("jmx-off").open()) {
            assertFalse(SERVER.isRegistered(name("jmx-off")));
            assertEquals("jmx-off", db.name());
            assertTrue(db.toString().contains("jmx-off"), db.toString());
        }
        try (Database<Long, String> unnamed = Database.<Long, String>builder().open()) {
            assertNull(unnamed.name());
        }
    }

    @Test
    void badNamesAreRefusedByTheBuilder() {
        assertThrows(
                NullPointerException.class,
                () -> Database.<Long, String>builder().name(null));
        assertThrows(
                IllegalArgumentException.class,
                () -> Database.<Long, String>builder().name(" "));
        for (String bad : new String[] {"a,b", "a=b", "a:b", "a\"b", "a*b", "a?b", "a\nb"}) {
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class,
                    () -> Database.<Long, String>builder().name(bad),
                    bad);
            assertTrue(e.getMessage().contains("cannot be a JMX name"), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> Database.<Long, String>builder().jmx(true).open());
        assertTrue(e.getMessage().contains("needs a name"), e.getMessage());
    }

    @Test
    void closeTwiceAndConcurrentReadersAfterCloseAreHarmless() throws Exception {
        Database<Long, String> db =
                Database.<Long, String>builder().name("jmx-close").jmx(true).open();
        db.close();
        db.close();
        assertFalse(SERVER.isRegistered(name("jmx-close")));
    }
}
