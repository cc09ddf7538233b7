package io.kvconnect.multi;

import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.api.SchedulerContext;
import io.kvconnect.api.WorkerContext;
import io.kvconnect.api.common.ConnectorConfig;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.worker.WorkerConnector;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The provider of the {@code multi} connector: composes child connectors from configuration.
 *
 * <p>Configuration: {@code connectors}, a non-empty list of {@code {"name": ..., "config": {...}}}
 * in priority order; each child gets its own {@code config} as is, and may itself be a {@code
 * multi}. Children are found by name in the engine's catalog ({@code ConnectorContext.catalog()}).
 * Each child is created with the context {@code context.child(key)}, its key being {@code
 * <index>:<name>} ({@code 0:offload}, {@code 1:offload}): the key names the child in stats,
 * errors and transfer parameters, so two children of the same type stay apart.
 *
 * <p>With one child the provider returns that child's own sides: a composite of one adds nothing,
 * so it behaves exactly as the child. With several it returns {@link MultiScheduler} and {@link
 * MultiWorker}. If creating a child fails, the children already created are shut down before the
 * error is rethrown, so a bad configuration leaks no thread or buffer.
 *
 * <p>The engine calls the factories as the {@link ConnectorProvider} contract says: the scheduler
 * side on the engine's main thread, each worker side on its worker's thread.
 */
public final class MultiConnectorProvider implements ConnectorProvider {
    /** The name used in configuration files. */
    public static final String NAME = "multi";

    /** Does nothing; the engine instantiates every provider it finds. */
    public MultiConnectorProvider() {
        // Nothing to do: the children are resolved when a side is created.
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
        return "composes child connectors from configuration: loads each child's run of a hit in turn, saves to all";
    }

    @Override
    public SchedulerConnector createSchedulerConnector(ConnectorConfig config, SchedulerContext context) {
        MultiConfig parsed = MultiConfig.parse(config, context.catalog());
        List<SchedulerConnector> sides = create(
                parsed,
                c -> c.provider().createSchedulerConnector(c.config(), context.child(c.key())),
                SchedulerConnector::shutdown);
        if (sides.size() == 1) {
            return sides.getFirst();
        }
        return new MultiScheduler(
                keys(parsed),
                sides,
                context.engine().tensorParallelSize(),
                context.engine().blockSize());
    }

    @Override
    public WorkerConnector createWorkerConnector(ConnectorConfig config, WorkerContext context) {
        MultiConfig parsed = MultiConfig.parse(config, context.catalog());
        List<WorkerConnector> sides = create(
                parsed,
                c -> c.provider().createWorkerConnector(c.config(), context.child(c.key())),
                WorkerConnector::shutdown);
        if (sides.size() == 1) {
            return sides.getFirst();
        }
        return new MultiWorker(keys(parsed), sides, context.rank());
    }

    private static <T> List<T> create(
            MultiConfig config, Function<MultiConfig.Child, T> factory, Consumer<T> shutdown) {
        List<T> created = new ArrayList<>(config.children().size());
        try {
            for (MultiConfig.Child child : config.children()) {
                created.add(Objects.requireNonNull(
                        factory.apply(child), "the provider of child " + child.key() + " returned null"));
            }
            return created;
        } catch (RuntimeException | LinkageError e) {
            for (T side : created.reversed()) {
                try {
                    shutdown.accept(side);
                } catch (RuntimeException | LinkageError suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    private static List<String> keys(MultiConfig config) {
        return config.children().stream().map(MultiConfig.Child::key).toList();
    }
}
