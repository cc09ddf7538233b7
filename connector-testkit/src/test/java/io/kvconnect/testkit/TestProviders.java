package io.kvconnect.testkit;

import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.api.SchedulerContext;
import io.kvconnect.api.WorkerContext;
import io.kvconnect.api.common.ConnectorConfig;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.core.engine.testconnector.HostCacheTestConnector;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig;
import java.util.function.Supplier;

/** Providers of the engine's test connector for the kit's and the soak's tests. */
final class TestProviders {
    private TestProviders() {}

    /**
     * A provider named {@code test} making one test connector per engine from {@code config}: the
     * scheduler side first, then the workers' sides of the same connector.
     */
    static ConnectorProvider hostCache(Supplier<TestConnectorConfig> config) {
        return new ConnectorProvider() {
            private HostCacheTestConnector current;

            @Override
            public String name() {
                return "test";
            }

            @Override
            public String version() {
                return "1";
            }

            @Override
            public String description() {
                return "test connector";
            }

            @Override
            public SchedulerConnector createSchedulerConnector(ConnectorConfig c, SchedulerContext context) {
                current = new HostCacheTestConnector(config.get());
                return current.schedulerSide();
            }

            @Override
            public WorkerConnector createWorkerConnector(ConnectorConfig c, WorkerContext context) {
                return current.workerSide(context.rank());
            }
        };
    }
}
