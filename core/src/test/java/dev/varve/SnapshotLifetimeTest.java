// SPDX-License-Identifier: Apache-2.0
package dev.varve;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A snapshot's pin lives as long as any object through which the snapshot can still be read: its
 * sub-views, key/value/entry views and their iterators keep it, even once the {@link Snapshot}
 * object itself is unreachable; once the last of them is unreachable, the garbage collector's
 * cleaner releases it.
 */
class SnapshotLifetimeTest {
    private final Database<Long, Long> db = Database.<Long, Long>builder().open();

    @AfterEach
    void tearDown() {
        db.close();
    }

    /** A way to read a snapshot that does not hold the Snapshot object; read() drains it to a list. */
    interface Reader {
        List<Object> read();
    }

    static Stream<Map.Entry<String, Function<Snapshot<Long, Long>, Reader>>> readers() {
        return Stream.of(
                Map.entry("tailMap", s -> {
                    NavigableMap<Long, Long> view = s.tailMap(0L, true);
                    return () -> new ArrayList<>(view.entrySet());
                }),
                Map.entry("descendingMap", s -> {
                    NavigableMap<Long, Long> view = s.descendingMap();
                    return () -> new ArrayList<>(view.descendingMap().entrySet());
                }),
                Map.entry("headMap.keySet", s -> {
                    var keys = s.headMap(10L, false).navigableKeySet();
                    return () -> new ArrayList<>(keys);
                }),
                Map.entry("values", s -> {
                    var values = s.values();
                    return () -> new ArrayList<>(values);
                }),
                Map.entry("entrySet.iterator", s -> {
                    Iterator<Map.Entry<Long, Long>> it = s.entrySet().iterator();
                    return () -> {
                        List<Object> out = new ArrayList<>();
                        it.forEachRemaining(out::add);
                        return out;
                    };
                }),
                Map.entry("descendingKeySet.iterator (started)", s -> {
                    Iterator<Long> it = s.descendingKeySet().iterator();
                    Long first = it.next(); // a cursor that has read some of the snapshot already
                    return () -> {
                        List<Object> out = new ArrayList<>(List.of(first));
                        it.forEachRemaining(out::add);
                        return out;
                    };
                }));
    }

    /** Opens a snapshot, derives a reader from it, and lets the Snapshot object itself go. */
    private Reader readerOfAnUnreachableSnapshot(
            Function<Snapshot<Long, Long>, Reader> derive, List<WeakReference<Object>> refs) {
        Snapshot<Long, Long> snapshot = db.snapshot();
        refs.add(new WeakReference<>(snapshot));
        return derive.apply(snapshot);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("readers")
    void aViewOrIteratorKeepsItsSnapshotPinnedAfterTheSnapshotObjectIsCollected(
            Map.Entry<String, Function<Snapshot<Long, Long>, Reader>> reader) {
        db.put(1L, 100L);
        db.put(2L, 200L);
        List<WeakReference<Object>> refs = new ArrayList<>();
        Reader view = readerOfAnUnreachableSnapshot(reader.getValue(), refs);
        List<Object> expected = expectedContent(reader.getKey());
        db.put(1L, 111L);
        db.remove(2L);
        db.put(3L, 333L);
        // Collected unless the view holds it (values() does, through AbstractMap): either way a
        // collection ran, and the views that do not hold it are the case under test.
        WeakReference<Object> canary = new WeakReference<>(new Object());
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            System.gc();
            return canary.get() == null
                    && (refs.get(0).get() == null || reader.getKey().equals("values"));
        });
        // The cleaner would run soon after the collection: the pin must survive it.
        await("the snapshot stays pinned while " + reader.getKey() + " can read it")
                .during(Duration.ofMillis(300))
                .atMost(Duration.ofSeconds(5))
                .until(() -> {
                    System.gc();
                    return db.stats().openSnapshots() == 1;
                });
        db.vacuum();
        db.vacuum();
        assertEquals(expected, view.read(), reader.getKey() + " changed under its reader");

        refs.clear();
        view = null; // the last reader goes: the cleaner releases the pin
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            System.gc();
            return db.stats().openSnapshots() == 0;
        });
    }

    private static List<Object> expectedContent(String reader) {
        switch (reader) {
            case "headMap.keySet":
                return List.of(1L, 2L);
            case "values":
                return List.of(100L, 200L);
            case "descendingKeySet.iterator (started)":
                return List.of(2L, 1L);
            default:
                return List.of(Map.entry(1L, 100L), Map.entry(2L, 200L));
        }
    }
}
