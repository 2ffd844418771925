// SPDX-License-Identifier: Apache-2.0
package com.example.shop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.example.shop.Shop.Order;
import dev.varve.Database;
import dev.varve.testkit.HistoryRecorder;
import dev.varve.wal.Wal;
import java.lang.module.ModuleDescriptor;
import java.lang.reflect.InaccessibleObjectException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The consumer module's check: {@link Shop} runs on Varve's published jars, and a user gets the
 * encapsulation the module descriptors promise. Surefire runs this class twice (consumer/pom.xml):
 * on the module path and on the class path, saying which in {@code varve.consumer.path}.
 */
class ConsumerTest {
    /** "module" or "class": which of the two Surefire executions this is. */
    private static final String PATH = System.getProperty("varve.consumer.path");

    @Test
    void encapsulationIsWhatThePathGives() throws Exception {
        if ("module".equals(PATH)) {
            assertModulePathExportsOnlyTheApi();
        } else if ("class".equals(PATH)) {
            assertClassPathIsOneUnnamedModule();
        } else {
            fail("varve.consumer.path is " + PATH + "; run this class through consumer/pom.xml's executions");
        }
    }

    @Test
    void shopRunsInMemoryDurablyAndSerializably(@TempDir Path dir) throws Exception {
        Shop.Report report = Shop.run(dir);

        assertEquals(10 - 3 - 4, report.memoryApplesLeft());
        assertEquals(new Order("apple", 3), report.memoryOrder());
        assertEquals((3 + 4) * Shop.PRICE, report.memoryRevenue());
        assertEquals(3, report.memoryTransactionCommits(), "db.run and two sales"); // autocommits apart
        assertEquals(1 + 1 + 2, report.memoryLiveKeys(), "revenue, apple, orders 1 and 2");
        assertTrue(report.memoryHealthy());

        assertEquals(10 - 3, report.durableApplesLeft(), "order 2 was cancelled");
        assertEquals(new TreeMap<>(Map.of(1L, new Order("apple", 3))), report.durableOrders());
        assertEquals(3 * Shop.PRICE, report.durableRevenue());
        assertTrue(report.durableHealthy());

        assertEquals(Shop.TRANSFERS, report.recordedCommits(), "one commit per transfer (aborted retries apart)");
        assertEquals(200, report.recordedTotal());
    }

    /** What a named module on the module path gets: Varve's modules and their API, no more. */
    private static void assertModulePathExportsOnlyTheApi() throws Exception {
        Module shop = Shop.class.getModule();
        Module core = Database.class.getModule();
        Module wal = Wal.class.getModule();
        Module testkit = HistoryRecorder.class.getModule();
        assertEquals("com.example.shop", shop.getName());
        assertSame(shop, ConsumerTest.class.getModule(), "Surefire patches the test into the module");
        assertEquals("dev.varve.core", core.getName());
        assertEquals("dev.varve.wal", wal.getName());
        assertEquals("dev.varve.testkit", testkit.getName());
        assertTrue(shop.canRead(core) && shop.canRead(wal) && shop.canRead(testkit));

        assertEquals(Set.of("dev.varve", "dev.varve.spi"), unqualifiedExports(core));
        assertEquals(Set.of("dev.varve.wal"), unqualifiedExports(wal));
        assertEquals(Set.of("dev.varve.testkit"), unqualifiedExports(testkit));
        for (Module m : List.of(core, wal, testkit)) {
            assertFalse(m.getDescriptor().isOpen(), m + " is an open module");
            assertEquals(Set.of(), m.getDescriptor().opens(), m + " opens packages");
        }

        List<String> internal = core.getPackages().stream()
                .filter(p -> p.startsWith("dev.varve.internal."))
                .sorted()
                .collect(Collectors.toList());
        assertTrue(internal.contains("dev.varve.internal.mvcc"), "core's packages: " + core.getPackages());
        for (String p : internal) {
            assertFalse(core.isExported(p, shop), p + " is exported to the user");
            assertFalse(core.isOpen(p, shop), p + " is open to the user");
        }

        // the class loads (its jar is on the module path), but reflection may not open it (and javac
        // refuses code outside the module that names it)
        Class<?> store = Class.forName("dev.varve.internal.mvcc.Store");
        assertSame(core, store.getModule());
        InaccessibleObjectException refused = assertThrows(
                InaccessibleObjectException.class, () -> store.getDeclaredConstructors()[0].setAccessible(true));
        assertTrue(
                refused.getMessage()
                        .contains("module dev.varve.core does not \"exports dev.varve.internal.mvcc\" to module"
                                + " com.example.shop"),
                refused.getMessage());

        // the SSI graph's module exports its package to core alone
        Module ssi = Class.forName("dev.varve.internal.ssi.ConflictGraph").getModule();
        assertEquals("dev.varve.ssi", ssi.getName());
        assertTrue(ssi.isExported("dev.varve.internal.ssi", core));
        assertFalse(ssi.isExported("dev.varve.internal.ssi", shop));
    }

    /** What the class path gives: one unnamed module, so no package is encapsulated. */
    private static void assertClassPathIsOneUnnamedModule() throws Exception {
        Module unnamed = Database.class.getModule();
        assertFalse(unnamed.isNamed());
        assertSame(unnamed, Wal.class.getModule());
        assertSame(unnamed, HistoryRecorder.class.getModule());
        assertSame(unnamed, Shop.class.getModule());
        // what the module path takes away: on the class path nothing is encapsulated
        assertSame(unnamed, Class.forName("dev.varve.internal.mvcc.Store").getModule());
        assertTrue(unnamed.isExported("dev.varve.internal.mvcc"));
    }

    private static Set<String> unqualifiedExports(Module m) {
        return m.getDescriptor().exports().stream()
                .filter(e -> !e.isQualified())
                .map(ModuleDescriptor.Exports::source)
                .collect(Collectors.toSet());
    }
}
