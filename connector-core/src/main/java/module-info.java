/**
 * The kvconnect host engine: block pool and KV-cache manager, scheduler, executor and workers, KV
 * memory, the verifying model, connector discovery and plugin layers, configuration and the
 * command line.
 *
 * <p>Exports only the conformance kit ({@code io.kvconnect.core.conformance}), which third-party
 * connectors' tests run. Connectors reach the engine only through {@code kvconnect.api}; plugins
 * loaded from the plugins directory live in module layers of their own and cannot read or reflect
 * into any package of this module.
 */
// "module": the friend modules named in the qualified exports below are built after this one, so
// javac cannot find them here; the module system checks nothing about them at run time either.
@SuppressWarnings("module")
module kvconnect.core {
    // Transitive: the exported conformance kit takes a ConnectorProvider.
    requires transitive kvconnect.api;
    requires org.slf4j;
    requires com.fasterxml.jackson.databind;
    requires info.picocli;
    requires io.github.classgraph;
    // The machine's memory (com.sun.management.OperatingSystemMXBean), which bounds the KV cache.
    requires jdk.management;

    exports io.kvconnect.core.conformance;

    // The launcher's command line (kvconnect.tools) adds its commands to the engine's and builds
    // engines of its own (disagg's router and engine processes). A qualified export names the one
    // module that may use a package; plugins and everything else still see none of them.
    exports io.kvconnect.core.cli to kvconnect.tools;
    exports io.kvconnect.core.config to kvconnect.tools;
    exports io.kvconnect.core.engine to kvconnect.tools;
    exports io.kvconnect.core.plugin to kvconnect.tools;
    exports io.kvconnect.core.run to kvconnect.tools;
    exports io.kvconnect.core.sched to kvconnect.tools;
    exports io.kvconnect.core.workload to kvconnect.tools;

    uses io.kvconnect.api.ConnectorProvider;

    // picocli builds the commands from their annotations by reflection.
    opens io.kvconnect.core.cli to info.picocli;
}
