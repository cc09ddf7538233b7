package io.kvconnect.offload;

import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.api.SchedulerContext;
import io.kvconnect.api.WorkerContext;
import io.kvconnect.api.common.ConnectorConfig;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.worker.WorkerConnector;

/**
 * The provider of the {@code offload} connector: a host-memory tier for KV blocks. See the module
 * description for what it does and its configuration keys.
 */
public final class OffloadConnectorProvider implements ConnectorProvider {
    /** The name used in configuration files. */
    public static final String NAME = "offload";

    /** Does nothing; the engine instantiates every provider it finds. */
    public OffloadConnectorProvider() {
        // Nothing to do: configuration is read when a side is created.
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String version() {
        return "0.1.0";
    }

    @Override
    public String description() {
        return "host-memory tier: stores computed KV blocks to host memory and loads prefix hits back";
    }

    @Override
    public SchedulerConnector createSchedulerConnector(ConnectorConfig config, SchedulerContext context) {
        OffloadConfig parsed = OffloadConfig.parse(config);
        return new OffloadScheduler(parsed, parsed.slots(config, context.engine()), context.engine());
    }

    @Override
    public WorkerConnector createWorkerConnector(ConnectorConfig config, WorkerContext context) {
        OffloadConfig parsed = OffloadConfig.parse(config);
        return new OffloadWorker(parsed.slots(config, context.engine()) * parsed.blockMultiple(), context.rank());
    }
}
