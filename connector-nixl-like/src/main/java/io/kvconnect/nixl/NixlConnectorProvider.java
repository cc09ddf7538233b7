package io.kvconnect.nixl;

import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.api.SchedulerContext;
import io.kvconnect.api.WorkerContext;
import io.kvconnect.api.common.ConnectorConfig;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.worker.WorkerConnector;

/**
 * The provider of the {@code nixl-like} connector: prefill/decode disaggregation. A prefill engine
 * keeps a finished request's blocks under a lease and serves one-sided reads of them; a decode
 * engine pulls them over a transport and decodes. See the module description for the flow and the
 * configuration keys.
 */
public final class NixlConnectorProvider implements ConnectorProvider {
    /** The name used in configuration files. */
    public static final String NAME = "nixl-like";

    /** The connector's version; part of the handshake's compatibility check. */
    static final String VERSION = "0.1.0";

    /** Does nothing; the engine instantiates every provider it finds. */
    public NixlConnectorProvider() {
        // Nothing to do: configuration is read when a side is created.
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
        return "prefill/decode disaggregation: the decode engine pulls a finished prefill's KV blocks over UCX "
                + "(JUCX) or TCP";
    }

    @Override
    public SchedulerConnector createSchedulerConnector(ConnectorConfig config, SchedulerContext context) {
        NixlConfig parsed = NixlConfig.parse(config);
        parsed.checkChunkFits(config, context.engine());
        return new NixlScheduler(parsed, context);
    }

    @Override
    public WorkerConnector createWorkerConnector(ConnectorConfig config, WorkerContext context) {
        NixlConfig parsed = NixlConfig.parse(config);
        parsed.checkChunkFits(config, context.engine());
        return new NixlWorker(parsed, context, Transports.pick(parsed));
    }
}
