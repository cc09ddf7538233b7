/**
 * Test doubles of the views the engine hands a connector, for a connector's unit tests: drive one
 * side of a connector hook by hook, without an engine. Exports {@code io.kvconnect.testkit.doubles}.
 *
 * <p>Depends on {@code kvconnect.api} only, so the engine's own tests can use it as well; a
 * connector's tests get it through {@code kvconnect.testkit}, which requires it transitively.
 */
module kvconnect.testkit.doubles {
    // Transitive: every double implements an API view and takes API types.
    requires transitive kvconnect.api;

    exports io.kvconnect.testkit.doubles;
}
