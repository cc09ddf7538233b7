package io.kvconnect.multi;

import io.kvconnect.api.ConnectorCatalog;
import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.api.SchedulerContext;
import io.kvconnect.api.WorkerContext;
import io.kvconnect.api.common.ConfigException;
import io.kvconnect.api.common.ConnectorConfig;
import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.EngineInfo;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.worker.WorkerConnector;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A provider of fake children that records what it created and with which context and
 * configuration; it refuses a configuration containing {@code "fail": true}.
 */
final class FakeProvider implements ConnectorProvider {
    static final EngineInfo ENGINE = new EngineInfo("e", new ModelShape("m", 2, 2, 8, DType.FP16), 4, 64, 2, false);

    final String name;
    final List<FakeScheduler> schedulers = new ArrayList<>();
    final List<FakeWorker> workers = new ArrayList<>();
    final List<String> contexts = new ArrayList<>();
    final List<ConnectorConfig> configs = new ArrayList<>();

    FakeProvider(String name) {
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String version() {
        return "1";
    }

    @Override
    public SchedulerConnector createSchedulerConnector(ConnectorConfig config, SchedulerContext context) {
        check(config);
        contexts.add(context.instanceName());
        var s = new FakeScheduler(context.instanceName());
        schedulers.add(s);
        return s;
    }

    @Override
    public WorkerConnector createWorkerConnector(ConnectorConfig config, WorkerContext context) {
        check(config);
        contexts.add(context.instanceName() + "@" + context.rank());
        var w = new FakeWorker(context.instanceName());
        workers.add(w);
        return w;
    }

    private void check(ConnectorConfig config) {
        configs.add(config);
        if (config.getBoolean("fail", false)) {
            throw new ConfigException(config.fieldPath("fail"), "refused");
        }
    }

    /** A catalog of these providers. */
    record Catalog(Map<String, ConnectorProvider> byName) implements ConnectorCatalog {
        static Catalog of(ConnectorProvider... providers) {
            Map<String, ConnectorProvider> m = new TreeMap<>();
            for (ConnectorProvider p : providers) {
                m.put(p.name(), p);
            }
            return new Catalog(m);
        }

        @Override
        public Optional<ConnectorProvider> find(String name) {
            return Optional.ofNullable(byName.get(name));
        }

        @Override
        public List<String> names() {
            return List.copyOf(byName.keySet());
        }
    }

    /** The scheduler context the engine would give the configured connector. */
    record Scheduler(ConnectorCatalog catalog, String instanceName) implements SchedulerContext {
        @Override
        public EngineInfo engine() {
            return ENGINE;
        }

        @Override
        public InstantSource clock() {
            return InstantSource.system();
        }

        @Override
        public SchedulerContext child(String childName) {
            return new Scheduler(catalog, instanceName + "." + childName);
        }
    }

    /** The worker context of {@code rank}. */
    record Worker(ConnectorCatalog catalog, String instanceName, int rank) implements WorkerContext {
        @Override
        public EngineInfo engine() {
            return ENGINE;
        }

        @Override
        public InstantSource clock() {
            return InstantSource.system();
        }

        @Override
        public WorkerContext child(String childName) {
            return new Worker(catalog, instanceName + "." + childName, rank);
        }
    }
}
