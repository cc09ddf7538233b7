package com.example.hello;

import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.api.SchedulerContext;
import io.kvconnect.api.WorkerContext;
import io.kvconnect.api.common.ConnectorConfig;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.worker.WorkerConnector;
import java.util.Objects;

/**
 * The {@code "hello"} connector: a prefix audit that moves no KV but watches the engine.
 *
 * <p>It exists to show what a third-party plugin looks like: a jar built against the connector
 * API alone, found by {@link java.util.ServiceLoader} and loaded into its own module layer. Put it
 * in front of real connectors (or alone) to see, in the engine's stats report, how many requests
 * arrived, how often the scheduler asked for external KV, how many prompt tokens the GPU prefix
 * cache already held and how many steps each worker ran. It never offers tokens, so it cannot
 * change what the engine computes.
 *
 * <p>Configuration (the connector entry's {@code config} object), all optional:
 * <ul>
 *   <li>{@code label} — a string shown in this connector's log lines; default {@code "hello"}.</li>
 * </ul>
 * Any other key is rejected with a {@link io.kvconnect.api.common.ConfigException} naming it.
 */
public final class HelloConnectorProvider implements ConnectorProvider {
    /** The name used in configuration files. */
    static final String NAME = "hello";
    /** This plugin's version. */
    static final String VERSION = "1.0.0";

    /** Does nothing: the engine instantiates every provider it finds just to list it. */
    public HelloConnectorProvider() {
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
        return "Prefix audit: counts requests, lookups, local prefix hits and worker steps; moves no KV.";
    }

    @Override
    public SchedulerConnector createSchedulerConnector(ConnectorConfig config, SchedulerContext context) {
        var settings = HelloSettings.from(config);
        Objects.requireNonNull(context, "context");
        return new HelloSchedulerConnector(settings, context.instanceName());
    }

    @Override
    public WorkerConnector createWorkerConnector(ConnectorConfig config, WorkerContext context) {
        var settings = HelloSettings.from(config);
        Objects.requireNonNull(context, "context");
        return new HelloWorkerConnector(settings, context.instanceName(), context.rank());
    }
}
