package io.kvconnect.redis;

import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.api.SchedulerContext;
import io.kvconnect.api.WorkerContext;
import io.kvconnect.api.common.ConnectorConfig;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.worker.WorkerConnector;

/**
 * The provider of the {@code redis} connector: a KV tier shared by many engines, on Redis. See the
 * module description and {@code docs/connectors/redis.md} for what it does and its configuration.
 */
public final class RedisConnectorProvider implements ConnectorProvider {
    /** The name used in configuration files. */
    public static final String NAME = "redis";

    /** Does nothing; the engine instantiates every provider it finds. */
    public RedisConnectorProvider() {
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
        return "shared tier on Redis: stores computed KV blocks in Redis (standalone or cluster) and loads "
                + "prefix hits back, across engines";
    }

    @Override
    public SchedulerConnector createSchedulerConnector(ConnectorConfig config, SchedulerContext context) {
        RedisConfig parsed = RedisConfig.parse(config);
        String name = clientName(context.engine().engineId(), "scheduler");
        return new RedisScheduler(parsed, context.engine(), new RedisStore(parsed, name));
    }

    @Override
    public WorkerConnector createWorkerConnector(ConnectorConfig config, WorkerContext context) {
        RedisConfig parsed = RedisConfig.parse(config);
        String name = clientName(context.engine().engineId(), "worker" + context.rank());
        return new RedisWorker(parsed, context.rank(), () -> new RedisStore(parsed, name));
    }

    /** A CLIENT SETNAME value (no spaces): shows in {@code CLIENT LIST} which engine connected. */
    private static String clientName(String engineId, String side) {
        return ("kvconnect-" + engineId + "-" + side).replaceAll("[^A-Za-z0-9._-]", "_");
    }
}
