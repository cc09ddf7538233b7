package com.example.disktier;

import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.api.SchedulerContext;
import io.kvconnect.api.WorkerContext;
import io.kvconnect.api.common.ConnectorConfig;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.worker.WorkerConnector;

/**
 * The {@code "disk-tier"} connector: a storage tier that keeps KV blocks in files, so that a
 * prefix computed once, in this run or an earlier one, is loaded instead of computed again.
 *
 * <p>When a request finishes, its full, KV-confirmed blocks that the tier does not hold yet are
 * written to one file per block and worker, named by the block's chained hash; the engine keeps the
 * request's GPU blocks until every worker wrote them. A later request whose prefix (beyond the
 * GPU prefix cache) the tier holds loads those blocks synchronously before its first forward
 * pass. The oldest blocks are evicted when the tier is full. A second engine started on the same
 * directory finds the blocks the first one wrote.
 *
 * <p>Configuration (the connector entry's {@code config} object):
 * <ul>
 *   <li>{@code directory} (required): the folder of the files, created if missing;</li>
 *   <li>{@code capacity}: the disk space of all workers' files together, a byte size such as
 *       {@code "8GiB"}; default {@code "1GiB"}.</li>
 * </ul>
 * Any other key, a missing directory or a capacity that holds no block is a {@link
 * io.kvconnect.api.common.ConfigException} naming the field.
 */
public final class DiskTierConnectorProvider implements ConnectorProvider {
    /** The name used in configuration files. */
    static final String NAME = "disk-tier";
    /** This plugin's version. */
    static final String VERSION = "1.0.0";

    /** Does nothing: the engine instantiates every provider it finds just to list it. */
    public DiskTierConnectorProvider() {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String version() {
        return VERSION;
    }

    @Override
    public String description() {
        return "Disk tier: stores finished requests' KV blocks to files and loads prefix hits back, across restarts.";
    }

    @Override
    public SchedulerConnector createSchedulerConnector(ConnectorConfig config, SchedulerContext context) {
        return DiskTierScheduler.open(DiskTierSettings.from(config, context.engine()), context.engine());
    }

    @Override
    public WorkerConnector createWorkerConnector(ConnectorConfig config, WorkerContext context) {
        DiskTierSettings settings = DiskTierSettings.from(config, context.engine());
        return new DiskTierWorker(settings.directory(), context.engine(), context.rank());
    }
}
