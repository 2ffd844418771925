// SPDX-License-Identifier: Apache-2.0

/**
 * A user's application on Varve, as a named module: it requires the published modules and
 * reads only what they export.
 */
module com.example.shop {
    requires dev.varve.core;
    requires dev.varve.wal;
    requires dev.varve.testkit;
}
