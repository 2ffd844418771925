// SPDX-License-Identifier: Apache-2.0
package dev.varve.testkit;

import java.util.Objects;

/**
 * A committed transaction that read a write no committed state holds: G1a (aborted read) or G1b
 * (intermediate read), two of the phenomena that Adya, Liskov and O'Neil's PL-2 proscribes
 * ("Generalized Isolation Level Definitions", ICDE 2000). Either makes a history non-serializable
 * without any cycle.
 *
 * @param kind which phenomenon
 * @param reader the committed transaction that read
 * @param writer the transaction whose write it read
 * @param map the name of the key's map ({@link TxnRecord#DEFAULT_MAP} for the default map)
 * @param key the key
 */
public record Anomaly(Kind kind, TxnRecord reader, TxnRecord writer, String map, Object key) {
    /** The phenomena found without a cycle. */
    public enum Kind {
        /** G1a: the reader read a write of a transaction that did not commit. */
        ABORTED_READ("G1a", "aborted read"),
        /** G1b: the reader read a write that its writer overwrote before it committed. */
        INTERMEDIATE_READ("G1b", "intermediate read");

        private final String code;
        private final String description;

        Kind(String code, String description) {
            this.code = code;
            this.description = description;
        }

        /**
         * Adya's name of the phenomenon.
         *
         * @return {@code "G1a"} or {@code "G1b"}
         */
        public String code() {
            return code;
        }

        /**
         * The phenomenon in words.
         *
         * @return e.g. {@code "aborted read"}
         */
        public String description() {
            return description;
        }
    }

    /**
     * Checks the components.
     *
     * @param kind which phenomenon
     * @param reader the committed transaction that read
     * @param writer the transaction whose write it read
     * @param map the key's map
     * @param key the key
     * @throws NullPointerException if an argument is null
     */
    public Anomaly {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(reader, "reader");
        Objects.requireNonNull(writer, "writer");
        Objects.requireNonNull(map, "map");
        Objects.requireNonNull(key, "key");
    }

    /**
     * The anomaly as printed, e.g. {@code "G1a (aborted read): T5 read key 3 as written by T4
     * (snapshot 1, aborted)"}.
     *
     * @return a one-line description
     */
    @Override
    public String toString() {
        String what = kind == Kind.ABORTED_READ ? "" : ", which overwrote it before committing";
        return kind.code() + " (" + kind.description() + "): T" + reader.id() + " read " + new TxnRecord.Slot(map, key)
                + " as written by " + writer + what;
    }
}
