package io.kvconnect.disk;

import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.api.SchedulerContext;
import io.kvconnect.api.WorkerContext;
import io.kvconnect.api.common.ConnectorConfig;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.worker.WorkerConnector;

/**
 * The provider of the {@code disk} connector: a persistent disk tier for KV blocks. See the module
 * description and docs/connectors/disk.md for what it does and its configuration keys.
 */
public final class DiskConnectorProvider implements ConnectorProvider {
    /** The name used in configuration files. */
    public static final String NAME = "disk";

    private final BlockStoreFactory stores;

    /** The provider the engine instantiates: blocks go to real files. */
    public DiskConnectorProvider() {
        this(DirectoryBlockStore::open);
    }

    /** A provider whose workers do their file I/O through {@code stores} (tests inject failures). */
    DiskConnectorProvider(BlockStoreFactory stores) {
        this.stores = stores;
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
        return "disk tier: stores computed KV blocks as files that outlive the process and loads prefix hits back";
    }

    @Override
    public SchedulerConnector createSchedulerConnector(ConnectorConfig config, SchedulerContext context) {
        DiskConfig parsed = DiskConfig.parse(config);
        return DiskScheduler.open(parsed, config, context.engine());
    }

    @Override
    public WorkerConnector createWorkerConnector(ConnectorConfig config, WorkerContext context) {
        DiskConfig parsed = DiskConfig.parse(config);
        return new DiskWorker(parsed, context.engine(), context.rank(), stores);
    }
}
