package io.kvconnect.multi;

import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.api.SchedulerContext;
import io.kvconnect.api.WorkerContext;
import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorConfig;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.CounterStats;
import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.common.WorkerMetadata;
import io.kvconnect.api.scheduler.FinishResult;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * A strict test connector ({@code probe}) for running compositions in the engine: it moves no KV,
 * so outputs cannot change, but it exercises what a composite must keep per child, and checks it.
 *
 * <ul>
 *   <li>It delays the free of every request and its workers report the send finished {@code
 *       delay_steps} steps after they learned of it; with {@code expected_finished_count} only the
 *       ranks below that count report (and the scheduler side asks for that count), so next to a
 *       child that needs every worker the composite must count per child.</li>
 *   <li>With {@code ask_later} its first lookup of each request answers "ask again later".</li>
 *   <li>Its scheduler side sends its own metadata type every step; the worker side refuses any
 *       other type (as real connectors do), and the scheduler side refuses foreign worker
 *       metadata or stats, a finished send it did not delay, one reported twice, or any finished
 *       receive (it never loads), or a finished send before its own workers reported it on as
 *       many ranks as it asked for. It also refuses external tokens it did not offer, and a
 *       delayed free never reported finished by shutdown.</li>
 *   <li>It returns transfer parameters naming the request.</li>
 *   <li>With {@code throw_in} (hook names) it throws from every {@code every}-th call of those
 *       hooks, before changing any state, so a composite's failure containment can be checked.</li>
 * </ul>
 * A refusal is an exception from the hook, which the conformance kit reports as a failure.
 */
final class ProbeConnectorProvider implements ConnectorProvider {
    static final String NAME = "probe";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String version() {
        return "0.0.1";
    }

    /** Parsed configuration. */
    private record Settings(int delaySteps, OptionalInt expected, boolean askLater, Set<String> throwIn, int every) {
        static Settings of(ConnectorConfig c) {
            c.requireOnlyKeys("delay_steps", "expected_finished_count", "ask_later", "throw_in", "every");
            return new Settings(
                    c.getInt("delay_steps", 1, 0, 100),
                    c.has("expected_finished_count")
                            ? OptionalInt.of(c.getInt("expected_finished_count", 1, 1, 64))
                            : OptionalInt.empty(),
                    c.getBoolean("ask_later", false),
                    Set.copyOf(c.getStringList("throw_in")),
                    c.getInt("every", 3, 1, 1000));
        }
    }

    /** Throws from every {@code every}-th call of each hook named in {@code throw_in}, before touching any state. */
    private static final class Faults {
        private final Settings settings;
        private final Map<String, Integer> calls = new HashMap<>();

        Faults(Settings settings) {
            this.settings = settings;
        }

        void maybeThrow(String hook) {
            if (settings.throwIn().contains(hook) && calls.merge(hook, 1, Integer::sum) % settings.every() == 0) {
                throw new IllegalStateException("probe injected a failure in " + hook);
            }
        }
    }

    /** The probe's scheduler-to-worker metadata: requests whose free it delayed since the last step. */
    record ProbeOrders(long step, Set<String> delayed) implements ConnectorMetadata {
        ProbeOrders {
            delayed = Set.copyOf(delayed);
        }
    }

    /** The probe's worker-to-scheduler metadata: the ranks that reported each request's send, united over ranks. */
    record ProbeReports(Map<String, Set<Integer>> sent) implements WorkerMetadata {
        ProbeReports {
            sent = Map.copyOf(sent);
        }

        @Override
        public WorkerMetadata aggregate(WorkerMetadata other) {
            if (!(other instanceof ProbeReports o)) {
                throw new IllegalArgumentException(
                        "probe cannot aggregate " + other.getClass().getName());
            }
            Map<String, Set<Integer>> union = new HashMap<>(sent);
            o.sent.forEach((id, ranks) -> union.merge(id, ranks, (x, y) -> {
                Set<Integer> u = new HashSet<>(x);
                u.addAll(y);
                return Set.copyOf(u);
            }));
            return new ProbeReports(union);
        }
    }

    @Override
    public SchedulerConnector createSchedulerConnector(ConnectorConfig config, SchedulerContext context) {
        return new Scheduler(Settings.of(config), context.engine().tensorParallelSize());
    }

    @Override
    public WorkerConnector createWorkerConnector(ConnectorConfig config, WorkerContext context) {
        return new Worker(Settings.of(config), context.rank());
    }

    private static final class Scheduler implements SchedulerConnector {
        private final Settings settings;
        private final int needed;
        private final Set<String> askedOnce = new HashSet<>();
        /** Delayed requests, to the ranks whose workers reported their send so far. */
        private final Map<String, Set<Integer>> delayed = new HashMap<>();

        private final Set<String> newlyDelayed = new LinkedHashSet<>();
        private long delays;
        private long sendsFinished;
        private final Faults faults;

        Scheduler(Settings settings, int workers) {
            this.settings = settings;
            this.faults = new Faults(settings);
            this.needed = settings.expected().orElse(workers);
        }

        @Override
        public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
            if (settings.askLater() && askedOnce.add(request.requestId())) {
                return MatchResult.askLater();
            }
            return MatchResult.none();
        }

        @Override
        public void updateStateAfterAlloc(
                RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {
            if (externalTokens != 0) {
                throw new IllegalStateException("probe offered nothing but was given " + externalTokens
                        + " external tokens for " + request.requestId());
            }
        }

        @Override
        public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
            faults.maybeThrow("buildConnectorMetadata");
            var orders = new ProbeOrders(output.step(), newlyDelayed);
            newlyDelayed.clear();
            return orders;
        }

        @Override
        public void updateConnectorOutput(ConnectorOutput output) {
            if (!output.finishedReceiving().isEmpty()) {
                throw new IllegalStateException(
                        "probe loads nothing but was told of receives " + output.finishedReceiving());
            }
            if (output.workerMetadata().isPresent()) {
                if (!(output.workerMetadata().get() instanceof ProbeReports reports)) {
                    throw new IllegalStateException(
                            "probe was shown foreign worker metadata " + output.workerMetadata());
                }
                reports.sent().forEach((id, ranks) -> {
                    Set<Integer> got = delayed.get(id);
                    if (got == null) {
                        throw new IllegalStateException("probe workers reported a send it did not delay: " + id);
                    }
                    got.addAll(ranks);
                });
            }
            for (String id : output.finishedSending()) {
                Set<Integer> got = delayed.remove(id);
                if (got == null) {
                    throw new IllegalStateException("probe was told of a send it did not delay (or twice): " + id);
                }
                if (got.size() < needed) {
                    throw new IllegalStateException("probe was told " + id + " was sent after " + got.size()
                            + " of its " + needed + " worker report(s)");
                }
                sendsFinished++;
            }
            if (output.stats().isPresent() && !(output.stats().get() instanceof CounterStats)) {
                throw new IllegalStateException("probe was shown foreign stats " + output.stats());
            }
        }

        @Override
        public FinishResult requestFinished(RequestView request, BlockIds blockIds) {
            faults.maybeThrow("requestFinished");
            askedOnce.remove(request.requestId());
            delayed.put(request.requestId(), new HashSet<>());
            newlyDelayed.add(request.requestId());
            delays++;
            return FinishResult.delayFree(TransferParams.of(Map.of("request", request.requestId())));
        }

        @Override
        public Optional<ConnectorStats> takeStats() {
            faults.maybeThrow("takeStats");
            if (delays == 0 && sendsFinished == 0) {
                return Optional.empty();
            }
            var out = CounterStats.of("delayed_frees", delays, "sends_finished", sendsFinished);
            delays = 0;
            sendsFinished = 0;
            return Optional.of(out);
        }

        @Override
        public OptionalInt expectedFinishedCount() {
            return settings.expected();
        }

        @Override
        public boolean hasPendingWork() {
            return !newlyDelayed.isEmpty();
        }

        @Override
        public void shutdown() {
            // The engine drains before it shuts down: every delayed free must have been reported.
            if (!delayed.isEmpty()) {
                throw new IllegalStateException("probe was never told these sends finished: " + delayed.keySet());
            }
        }
    }

    private static final class Worker implements WorkerConnector {
        private final Settings settings;
        private final int rank;
        /** Request to the reportStep calls still to wait before reporting its send. */
        private final Map<String, Integer> countdown = new HashMap<>();

        private final Faults faults;

        Worker(Settings settings, int rank) {
            this.settings = settings;
            this.faults = new Faults(settings);
            this.rank = rank;
        }

        @Override
        public void registerKvCaches(KvLayout layout, BlockCopyService copies) {
            // The probe moves no KV.
        }

        @Override
        public void bindConnectorMetadata(ConnectorMetadata metadata) {
            if (metadata == ConnectorMetadata.NONE) {
                return;
            }
            if (!(metadata instanceof ProbeOrders orders)) {
                throw new IllegalArgumentException("probe worker got foreign metadata "
                        + metadata.getClass().getName());
            }
            for (String id : orders.delayed()) {
                countdown.put(id, settings.delaySteps());
            }
        }

        @Override
        public void startLoadKv() {
            // The probe loads nothing.
        }

        @Override
        public WorkerStepReport reportStep(Set<String> finishedRequestIds) {
            faults.maybeThrow("reportStep");
            Set<String> done = new HashSet<>();
            for (Iterator<Map.Entry<String, Integer>> it = countdown.entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<String, Integer> e = it.next();
                if (e.getValue() <= 0) {
                    it.remove();
                    if (rank < settings.expected().orElse(Integer.MAX_VALUE)) {
                        done.add(e.getKey());
                    }
                } else {
                    e.setValue(e.getValue() - 1);
                }
            }
            if (done.isEmpty()) {
                return WorkerStepReport.EMPTY;
            }
            Map<String, Set<Integer>> sent = new HashMap<>();
            done.forEach(id -> sent.put(id, Set.of(rank)));
            return WorkerStepReport.builder()
                    .addFinishedSending(done)
                    .workerMetadata(Optional.of(new ProbeReports(sent)))
                    .build();
        }
    }
}
