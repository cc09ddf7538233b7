/**
 * The kit connector authors test with, in test scope: the conformance kit ({@code
 * ConnectorConformance}), a small verifying engine whose loop a test drives ({@code KitEngine},
 * for connectors that need two engines), and the soak with fault injection ({@code Soak}); and,
 * through {@code kvconnect.testkit.doubles}, test doubles of the engine's views for unit tests.
 *
 * <p>Exports only {@code io.kvconnect.testkit}; its fault decorators and catalog are
 * package-private there. It runs the engine ({@code kvconnect.core}) through the packages the
 * engine exports to this module by name; a connector's tests need nothing else of the engine.
 */
module kvconnect.testkit {
    // Transitive: the kit takes a ConnectorProvider and hands back API types.
    requires transitive kvconnect.api;
    // Transitive: the test doubles of the engine's views are part of the kit a connector's tests add.
    requires transitive kvconnect.testkit.doubles;
    requires kvconnect.core;

    exports io.kvconnect.testkit;
}
