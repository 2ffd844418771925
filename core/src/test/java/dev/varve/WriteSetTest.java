package dev.varve;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Comparator;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The write set against a TreeMap model: random and in-order puts, lookups, seeks, freezing. */
class WriteSetTest {

    @Test
    void agreesWithATreeMapOnRandomOperations() {
        long seed = Long.getLong("varve.seed", System.nanoTime());
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int round = 0; round < 200; round++) {
            WriteSet<Integer, String> ws = new WriteSet<>(Comparator.naturalOrder());
            TreeMap<Integer, Object> model = new TreeMap<>();
            int domain = 1 + rnd.nextInt(round % 2 == 0 ? 40 : 2000);
            boolean inOrder = rnd.nextInt(4) == 0;
            int ops = rnd.nextInt(600);
            for (int op = 0; op < ops; op++) {
                String where = "seed " + seed + " round " + round + " op " + op;
                int key = inOrder ? op : rnd.nextInt(domain);
                switch (rnd.nextInt(5)) {
                    case 0, 1 -> {
                        Object v = rnd.nextInt(5) == 0 ? WriteSet.TOMBSTONE : "v" + op;
                        ws.put(key, v);
                        model.put(key, v);
                    }
                    case 2 -> assertEquals(model.get(key), ws.get(key), where);
                    case 3 -> {
                        boolean inclusive = rnd.nextBoolean();
                        boolean descending = rnd.nextBoolean();
                        Map.Entry<Integer, Object> expected = descending
                                ? (inclusive ? model.floorEntry(key) : model.lowerEntry(key))
                                : (inclusive ? model.ceilingEntry(key) : model.higherEntry(key));
                        assertEquals(expected, ws.next(key, inclusive, descending), where);
                    }
                    default -> {
                        boolean descending = rnd.nextBoolean();
                        assertEquals(descending ? model.lastEntry() : model.firstEntry(), ws.first(descending), where);
                    }
                }
                assertEquals(model.isEmpty(), ws.isEmpty(), where);
            }
            assertEquals(model.size(), ws.size(), "seed " + seed + " round " + round);
            int i = 0;
            for (Map.Entry<Integer, Object> e : model.entrySet()) {
                assertEquals(e.getKey(), ws.key(i));
                assertEquals(e.getValue() == WriteSet.TOMBSTONE ? null : e.getValue(), ws.value(i));
                i++;
            }
        }
    }
}
