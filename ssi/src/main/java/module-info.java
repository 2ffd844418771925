// SPDX-License-Identifier: Apache-2.0

/**
 * The SSI conflict graph of Varve: committed-transaction records, rw-antidependency summaries and
 * the dangerous-structure rule. Internal: exported only to the core module.
 */
@SuppressWarnings("module") // dev.varve.core is built after this module, so javac cannot see it
module dev.varve.ssi {
    exports dev.varve.internal.ssi to
            dev.varve.core;
}
