package io.kvconnect.core.cli;

import io.kvconnect.api.SchedulerContext;
import io.kvconnect.api.common.EngineInfo;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.core.config.ConnectorEntry;
import io.kvconnect.core.config.EngineConfig;
import io.kvconnect.core.plugin.ConnectorDiscovery;
import io.kvconnect.core.plugin.ConnectorRegistry;
import io.kvconnect.core.plugin.DiscoveredConnector;
import io.kvconnect.core.plugin.EngineContexts;
import java.io.PrintWriter;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The main job. The engine loop is not built yet (it is the next issue); for now the job does
 * everything up to it for real: reads and validates the configuration, discovers connectors
 * (module path, class path, plugins directory), creates the configured connector's scheduler side
 * and one worker side per worker through its provider, and shuts them down again.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run the main job on the embedded default configuration or --config FILE.")
final class RunCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(RunCommand.class);

    @Mixin
    EngineOptions options;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        EngineConfig config = options.config();
        PrintWriter out = spec.commandLine().getOut();
        var engine = new EngineInfo("engine-" + UUID.randomUUID(), config.model(), config.blockSize(),
                config.gpuBlocks(), config.workers(), config.asyncScheduling());
        out.printf("kvconnect: model %s (%d layers, %d KV heads, head dim %d, %s), block size %d, %d GPU blocks, "
                        + "%d worker(s), %s scheduling, load failure policy %s%n",
                config.model().name(), config.model().numLayers(), config.model().numKvHeads(),
                config.model().headDim(), config.model().dtype(), config.blockSize(), config.gpuBlocks(),
                config.workers(), config.asyncScheduling() ? "async" : "sync",
                config.loadFailurePolicy().name().toLowerCase(java.util.Locale.ROOT));

        ConnectorRegistry registry = ConnectorDiscovery.discover(options.pluginsDirectory(config));
        out.println();
        ConnectorsCommand.print(registry, out);
        out.println();
        if (config.connector().isPresent()) {
            createAndShutDown(config.connector().get(), registry, engine, out);
        } else {
            out.println("No connector configured (set \"connector\" in the configuration file).");
        }
        out.println("The engine loop is not built yet: this run validated the configuration and the plugins only.");
        out.flush();
        return 0;
    }

    private static void createAndShutDown(ConnectorEntry entry, ConnectorRegistry registry, EngineInfo engine,
                                          PrintWriter out) {
        DiscoveredConnector found = registry.require(entry.path() + ".name", entry.name());
        InstantSource clock = InstantSource.system();
        SchedulerContext schedulerContext = EngineContexts.scheduler(engine, registry, clock, "connector");
        SchedulerConnector scheduler = found.provider().createSchedulerConnector(entry.config(), schedulerContext);
        List<WorkerConnector> workers = new ArrayList<>();
        try {
            for (int rank = 0; rank < engine.tensorParallelSize(); rank++) {
                workers.add(found.provider().createWorkerConnector(entry.config(),
                        EngineContexts.worker(engine, registry, clock, "connector", rank)));
            }
            out.printf("Created connector '%s' %s from %s: 1 scheduler side, %d worker side(s).%n",
                    found.name(), found.version(), found.source(), workers.size());
        } finally {
            for (WorkerConnector worker : workers) {
                shutDown(worker::shutdown, "worker side of " + found.name());
            }
            shutDown(scheduler::shutdown, "scheduler side of " + found.name());
        }
    }

    private static void shutDown(Runnable shutdown, String what) {
        try {
            shutdown.run();
        } catch (RuntimeException e) {
            LOG.error("Shutting down the {} failed", what, e);
        }
    }
}
