/**
 * The kvconnect host engine: block pool and KV-cache manager, scheduler, executor and workers, KV
 * memory, the verifying model, connector discovery and plugin layers, configuration and the
 * engine's own command ({@code connectors}) at the root of the command line.
 *
 * <p>Exports nothing to everyone. Connectors reach the engine only through {@code kvconnect.api};
 * their tests run it through the connector test kit ({@code kvconnect.testkit}). The test kit and
 * the launcher's command line ({@code kvconnect.tools}) are the engine's two friend modules: each
 * package either of them needs is exported to it by name, and to no other module. Plugins loaded
 * from the plugins directory live in module layers of their own and cannot read or reflect into
 * any package of this module.
 */
// "module": the friend modules named in the qualified exports below are built after this one, so
// javac cannot find them here; the module system checks nothing about them at run time either.
// "requires-automatic": jcuda is an automatic module (its jar names no module); see the pom.
@SuppressWarnings({"module", "requires-automatic"})
module kvconnect.core {
    // Transitive: the packages exported to the friend modules take and return API types.
    requires transitive kvconnect.api;
    requires org.slf4j;
    requires com.fasterxml.jackson.databind;
    requires info.picocli;
    requires io.github.classgraph;
    // The machine's memory (com.sun.management.OperatingSystemMXBean), which bounds the KV cache.
    requires jdk.management;
    // CUDA device memory (memory: auto | cuda), through one class, JCudaCalls; see the pom.
    requires jcuda;
    // Compile time only: the nullness annotations (every package is @NullMarked).
    requires static org.jspecify;

    // Nothing is exported to everyone. Two friend modules build engines of their own and get, by
    // name, the packages they need: the connector test kit (kvconnect.testkit: the conformance
    // kit, its KitEngine and the soak) and the launcher's command line (kvconnect.tools: it adds
    // its commands to the engine's, and disagg's router and engine processes). Plugins and every
    // other module still see none of these packages.
    //
    // What each friend takes from each package:
    //   cli       tools: the root command (Main.execute with extra commands), the EngineOptions mixin
    //   config    tools: the configuration of run, soak, disagg and serve (EngineConfig, ConnectorEntry,
    //             EngineConfigReader: run's own default, JsonConnectorConfig: serve's connector);
    //             testkit: EngineConfig and Pacing of the kit's engines, JsonConnectorConfig behind
    //             the kit's ConnectorConfigs
    //   engine    testkit: Engine, EngineSetup, EngineInvariants; tools: serve's and run's Engine
    //   exec      testkit: the executor's copy counts in the kit's and the soak's reports
    //   memory    testkit: CopyFaults, the copy service's fault hook the kit injects through
    //   model     testkit: ModelCost of the kit's engines
    //   plugin    tools: discovery of the configured connector (ConnectorDiscovery, ConnectorRegistry)
    //   run       both: EngineFactory (a connector's sides), WorkloadDriver; tools: RunReport, RunFigures
    //   sched     testkit: SchedulerConfig and its policies, RequestUpdate, the scheduler's stats;
    //             tools: RequestUpdate (serve)
    //   workload  both: the synthetic chat workload; tools: run's traces, disagg's prompts and Percentiles
    exports io.kvconnect.core.cli to
            kvconnect.tools;
    exports io.kvconnect.core.config to
            kvconnect.testkit,
            kvconnect.tools;
    exports io.kvconnect.core.engine to
            kvconnect.testkit,
            kvconnect.tools;
    exports io.kvconnect.core.exec to
            kvconnect.testkit;
    exports io.kvconnect.core.memory to
            kvconnect.testkit;
    exports io.kvconnect.core.model to
            kvconnect.testkit;
    exports io.kvconnect.core.plugin to
            kvconnect.tools;
    exports io.kvconnect.core.run to
            kvconnect.testkit,
            kvconnect.tools;
    exports io.kvconnect.core.sched to
            kvconnect.testkit,
            kvconnect.tools;
    exports io.kvconnect.core.workload to
            kvconnect.testkit,
            kvconnect.tools;

    uses io.kvconnect.api.ConnectorProvider;

    // picocli builds the commands from their annotations by reflection.
    opens io.kvconnect.core.cli to
            info.picocli;
}
