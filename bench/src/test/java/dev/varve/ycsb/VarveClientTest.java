// SPDX-License-Identifier: Apache-2.0
package dev.varve.ycsb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.Vector;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import site.ycsb.ByteIterator;
import site.ycsb.Status;
import site.ycsb.StringByteIterator;

class VarveClientTest {

    @Test
    void readsInsertsUpdatesScansAndDeletes() throws Exception {
        VarveClient client = new VarveClient();
        client.setProperties(new Properties());
        client.init();
        try {
            for (int i = 0; i < 10; i++) {
                assertEquals(
                        Status.OK,
                        client.insert(
                                "usertable",
                                "user" + i,
                                StringByteIterator.getByteIteratorMap(Map.of("field0", "a" + i, "field1", "b" + i))));
            }
            Map<String, ByteIterator> row = new HashMap<>();
            assertEquals(Status.OK, client.read("usertable", "user3", null, row));
            assertEquals(Map.of("field0", "a3", "field1", "b3"), StringByteIterator.getStringMap(row));

            assertEquals(
                    Status.OK,
                    client.update(
                            "usertable", "user3", StringByteIterator.getByteIteratorMap(Map.of("field1", "changed"))));
            row.clear();
            assertEquals(Status.OK, client.read("usertable", "user3", Set.of("field1"), row));
            assertEquals(Map.of("field1", "changed"), StringByteIterator.getStringMap(row));
            assertEquals(Status.NOT_FOUND, client.update("usertable", "nobody", new HashMap<>()));

            Vector<HashMap<String, ByteIterator>> rows = new Vector<>();
            assertEquals(Status.OK, client.scan("usertable", "user5", 3, null, rows));
            assertEquals(3, rows.size());
            assertEquals("a5", rows.get(0).get("field0").toString());

            assertEquals(Status.OK, client.delete("usertable", "user5"));
            assertEquals(Status.NOT_FOUND, client.read("usertable", "user5", null, new HashMap<>()));
        } finally {
            client.cleanup();
        }
    }

    @Test
    void recordEncodingRoundTrips() {
        Map<String, byte[]> fields = new java.util.LinkedHashMap<>();
        fields.put("field0", new byte[] {1, 2, 3});
        fields.put("ünïcode", new byte[0]);
        Map<String, byte[]> back = VarveClient.decode(VarveClient.encode(fields));
        assertEquals(fields.keySet(), back.keySet());
        assertArrayEquals(fields.get("field0"), back.get("field0"));
    }

    /** Runs YCSB's own client in a child JVM (its main calls System.exit) and returns its output. */
    private static String ycsb(Path dir, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m",
                "-cp",
                System.getProperty("java.class.path"),
                "site.ycsb.Client"));
        command.addAll(List.of(args));
        Path out = dir.resolve("ycsb-" + System.nanoTime() + ".out");
        Process p = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .start();
        boolean finished = p.waitFor(60, TimeUnit.SECONDS);
        if (!finished) {
            p.destroyForcibly();
        }
        String output = Files.readString(out, StandardCharsets.UTF_8);
        assertTrue(finished, "YCSB client did not finish:\n" + output);
        assertEquals(0, p.exitValue(), output);
        return output;
    }

    private static long metric(String output, String line) {
        Matcher m = Pattern.compile(Pattern.quote(line) + ", (\\d+)").matcher(output);
        assertTrue(m.find(), "no '" + line + "' in:\n" + output);
        return Long.parseLong(m.group(1));
    }

    @Test
    void realYcsbClientRunsWorkloadAInMemoryInOneJvm(@TempDir Path dir) throws Exception {
        String output = ycsb(
                dir,
                "-t",
                "-db",
                VarveClient.class.getName(),
                "-P",
                "ycsb/workloada",
                "-p",
                "recordcount=1000",
                "-p",
                "operationcount=20000",
                "-p",
                "varve.preload=true",
                "-threads",
                "2");
        long reads = metric(output, "[READ], Return=OK");
        long updates = metric(output, "[UPDATE], Return=OK");
        assertEquals(20_000, reads + updates, output);
        assertTrue(reads > 5_000 && updates > 5_000, output);
        assertFalse(
                output.contains("FAILED") || output.contains("Return=ERROR") || output.contains("Return=NOT_FOUND"),
                output);
    }

    @Test
    void realYcsbClientLoadsThenRunsAgainstADurableDirectory(@TempDir Path dir) throws Exception {
        String log = dir.resolve("varve").toString();
        String load = ycsb(
                dir,
                "-load",
                "-db",
                VarveClient.class.getName(),
                "-P",
                "ycsb/workloadb",
                "-p",
                "recordcount=500",
                "-p",
                "varve.durability=full",
                "-p",
                "varve.dir=" + log);
        assertEquals(500, metric(load, "[INSERT], Return=OK"), load);
        String run = ycsb(
                dir,
                "-t",
                "-db",
                VarveClient.class.getName(),
                "-P",
                "ycsb/workloadb",
                "-p",
                "recordcount=500",
                "-p",
                "operationcount=2000",
                "-p",
                "varve.durability=full",
                "-p",
                "varve.dir=" + log);
        assertEquals(2_000, metric(run, "[READ], Operations") + metric(run, "[UPDATE], Operations"), run);
        assertFalse(run.contains("FAILED") || run.contains("Return=ERROR") || run.contains("Return=NOT_FOUND"), run);
    }
}
