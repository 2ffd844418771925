// SPDX-License-Identifier: Apache-2.0
package dev.varve.spi;

import dev.varve.Codec;
import java.util.Comparator;
import java.util.Objects;

/**
 * A named map as {@code Database#openMap} describes it to the commit log: its name, its codecs and
 * its key order. The log records the map's name, its codecs' {@link Codec#id() ids} and {@link
 * #comparatorId()} so that a later open with other ones is refused.
 *
 * @param name the map's name (not empty)
 * @param keyCodec the codec of the map's keys
 * @param valueCodec the codec of the map's values
 * @param comparator the map's key order, or null for natural ordering
 * @param <K> the map's key type
 * @param <V> the map's value type
 */
public record MapDefinition<K, V>(
        String name, Codec<K> keyCodec, Codec<V> valueCodec, Comparator<? super K> comparator) {

    /**
     * Checks the parts.
     *
     * @param name the map's name (not empty)
     * @param keyCodec the codec of the map's keys
     * @param valueCodec the codec of the map's values
     * @param comparator the map's key order, or null for natural ordering
     * @throws NullPointerException if the name or a codec is null
     */
    public MapDefinition {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(keyCodec, "keyCodec");
        Objects.requireNonNull(valueCodec, "valueCodec");
    }

    /**
     * The identity of the key order, as the log records it (see {@link #comparatorId(Comparator)}).
     *
     * @return "natural", or "comparator:" and the comparator's class name, or "comparator"
     */
    public String comparatorId() {
        return comparatorId(comparator);
    }

    /**
     * The identity of a key order, as logs record it: {@code "natural"} for natural ordering
     * (null, or {@link Comparator#naturalOrder()}), {@code "comparator:<class name>"} for a
     * comparator of a named class, and {@code "comparator"} for a lambda or method reference
     * (their class names change from run to run, so only "some comparator" can be checked).
     *
     * @param comparator the order, or null for natural ordering
     * @return its identity string
     */
    public static String comparatorId(Comparator<?> comparator) {
        if (comparator == null || comparator == Comparator.naturalOrder()) {
            return "natural";
        }
        Class<?> c = comparator.getClass();
        if (c.isHidden()
                || c.isSynthetic()
                || c.isAnonymousClass()
                || c.getName().contains("$$Lambda")) {
            return "comparator";
        }
        return "comparator:" + c.getName();
    }
}
