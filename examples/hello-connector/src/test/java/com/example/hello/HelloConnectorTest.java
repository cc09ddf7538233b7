package com.example.hello;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.ConnectorCatalog;
import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.api.SchedulerContext;
import io.kvconnect.api.WorkerContext;
import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConfigException;
import io.kvconnect.api.common.ConnectorConfig;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.common.CounterStats;
import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.EngineInfo;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.common.WorkerMetadata;
import io.kvconnect.api.scheduler.FinishResult;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.api.scheduler.ScheduledRequest;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.api.worker.MemoryKind;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import io.kvconnect.testkit.ConnectorConfigs;
import io.kvconnect.testkit.doubles.FakeRequest;
import io.kvconnect.testkit.doubles.FakeSchedulerOutput;
import io.kvconnect.testkit.doubles.ManualCopyService;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Drives both sides of the {@code hello} connector through the API interfaces only, as an engine
 * would, with the test kit's doubles of the engine's views and tiny hand-written contexts.
 */
class HelloConnectorTest {
    private static final int BLOCK_SIZE = 16;
    private static final ModelShape MODEL = new ModelShape("tiny", 2, 4, 8, DType.FP16);
    private static final EngineInfo ENGINE = new EngineInfo("engine-1", MODEL, BLOCK_SIZE, 64, 2, false);
    private static final ConnectorConfig EMPTY = ConnectorConfigs.empty(ConnectorConfigs.ENGINE_PATH);

    private final ConnectorProvider provider = new HelloConnectorProvider();

    @Test
    void describesItself() {
        assertEquals("hello", provider.name());
        assertEquals("1.0.0", provider.version());
        assertFalse(provider.description().isBlank());
        assertTrue(provider.name().matches("[a-z][a-z0-9-]{0,63}"));
    }

    @Test
    void schedulerSideCountsWhatItSeesAndOffersNothing() {
        SchedulerConnector scheduler = provider.createSchedulerConnector(EMPTY, new TestSchedulerContext("connector"));
        var a = request("a", 40);
        var b = request("b", 20);

        assertEquals(Optional.empty(), scheduler.takeStats(), "nothing counted yet");

        scheduler.onNewRequest(a);
        scheduler.onNewRequest(b);
        assertEquals(MatchResult.none(), scheduler.getNumNewMatchedTokens(a, 32));
        assertEquals(MatchResult.none(), scheduler.getNumNewMatchedTokens(b, 0));
        assertEquals(MatchResult.none(), scheduler.getNumNewMatchedTokens(b, 16)); // asked again later
        scheduler.updateStateAfterAlloc(a, BlockIds.of(1, 2, 3), 0, 0);
        scheduler.updateStateAfterAlloc(b, BlockIds.of(4, 5), 0, 0);

        ConnectorMetadata metadata = scheduler.buildConnectorMetadata(FakeSchedulerOutput.of(7, List.of(
                new ScheduledRequest(a, ScheduledRequest.Kind.NEW, 8, 32, BlockIds.of(1, 2, 3)),
                new ScheduledRequest(b, ScheduledRequest.Kind.NEW, 4, 16, BlockIds.of(4, 5)))));
        assertEquals(new HelloMetadata(7, 2), metadata);

        a.setStatus(RequestStatus.FINISHED_STOPPED);
        assertSame(FinishResult.freeNow(), scheduler.requestFinished(a, BlockIds.of(1, 2, 3)));

        var stats = assertInstanceOf(CounterStats.class, scheduler.takeStats().orElseThrow());
        assertEquals(new CounterStats(Map.of(
                "requests_seen", 2L,
                "lookups", 3L,
                "local_hit_tokens", 48L,
                "requests_finished", 1L)), stats);
        assertEquals(Optional.empty(), scheduler.takeStats(), "takeStats resets the counts");

        scheduler.onNewRequest(request("c", 5));
        var next = assertInstanceOf(CounterStats.class, scheduler.takeStats().orElseThrow());
        assertEquals(1L, next.get("requests_seen"));
        assertEquals(0L, next.get("lookups"));
        scheduler.shutdown();
        scheduler.shutdown(); // a second call must not throw
    }

    @Test
    void workerSideRecordsTheLayoutAndCountsSteps() {
        WorkerConnector worker = provider.createWorkerConnector(EMPTY, new TestWorkerContext("connector", 1));
        var layout = new KvLayout(MODEL, 1, 2, 64, BLOCK_SIZE, 512, LayoutKind.PER_LAYER, MemoryKind.HOST);
        worker.registerKvCaches(layout, ManualCopyService.refusing(layout));
        assertEquals(1024L, ((HelloWorkerConnector) worker).bytesPerBlock());

        for (long step = 0; step < 3; step++) {
            var metadata = new HelloMetadata(step, 1);
            worker.handlePreemptions(metadata);
            worker.bindConnectorMetadata(metadata);
            assertEquals(Optional.of(metadata), ((HelloWorkerConnector) worker).boundMetadata());
            worker.startLoadKv();
            for (int layer = 0; layer < MODEL.numLayers(); layer++) {
                worker.waitForLayerLoad(layer);
                worker.saveKvLayer(layer);
            }
            worker.waitForSave();
            WorkerStepReport report = worker.reportStep(Set.of("r" + step));
            assertEquals(Set.of(), report.finishedSending());
            assertEquals(Set.of(), report.finishedReceiving());
            assertEquals(Set.of(), report.invalidBlockIds());
            assertEquals(Optional.of(CounterStats.of("steps_seen", 1L)), report.stats(), "one step since the last");
            assertEquals(List.of(), report.events());
            assertEquals(Optional.of(new HelloWorkerMetadata(step + 1)), report.workerMetadata());
            assertEquals(Optional.empty(), report.failure());
            worker.clearConnectorMetadata();
            assertEquals(Optional.empty(), ((HelloWorkerConnector) worker).boundMetadata());
        }
        assertEquals(Optional.empty(), worker.reportStep(Set.of()).stats(), "each report resets the count");
        worker.shutdown();
        worker.shutdown();
    }

    @Test
    void workerRejectsForeignMetadataNamingItsClass() {
        WorkerConnector worker = provider.createWorkerConnector(EMPTY, new TestWorkerContext("connector", 0));
        var e = assertThrows(IllegalArgumentException.class, () -> worker.bindConnectorMetadata(ConnectorMetadata.NONE));
        assertTrue(e.getMessage().contains(ConnectorMetadata.NONE.getClass().getName()), e.getMessage());
        assertEquals(Optional.of(new HelloWorkerMetadata(0)), worker.reportStep(Set.of()).workerMetadata(),
                "no step was counted");
    }

    @Test
    void workerMetadataAggregatesBySummingWithoutMutatingOperands() {
        // Three ranks, folded left to right as the engine does.
        var workers = IntStream.range(0, 3)
                .mapToObj(rank -> provider.createWorkerConnector(EMPTY, new TestWorkerContext("connector", rank)))
                .toList();
        for (int rank = 0; rank < workers.size(); rank++) {
            for (int step = 0; step <= rank; step++) {
                workers.get(rank).bindConnectorMetadata(new HelloMetadata(step, 0));
            }
        }
        WorkerMetadata r0 = workers.get(0).reportStep(Set.of()).workerMetadata().orElseThrow();
        WorkerMetadata r1 = workers.get(1).reportStep(Set.of()).workerMetadata().orElseThrow();
        WorkerMetadata r2 = workers.get(2).reportStep(Set.of()).workerMetadata().orElseThrow();

        WorkerMetadata folded = r0.aggregate(r1).aggregate(r2);
        assertEquals(new HelloWorkerMetadata(6), folded);
        assertEquals(folded, r0.aggregate(r1.aggregate(r2)), "associative");
        assertEquals(r0.aggregate(r1), r1.aggregate(r0), "commutative");
        assertEquals(new HelloWorkerMetadata(1), r0, "operands unchanged");
        assertEquals(new HelloWorkerMetadata(2), r1, "operands unchanged");
        assertEquals(new HelloWorkerMetadata(3), r2, "operands unchanged");

        WorkerMetadata foreign = other -> other;
        var e = assertThrows(IllegalArgumentException.class, () -> r0.aggregate(foreign));
        assertTrue(e.getMessage().contains(foreign.getClass().getName()), e.getMessage());

        // The scheduler side takes the aggregate from the step's output.
        var scheduler = (HelloSchedulerConnector) provider.createSchedulerConnector(
                EMPTY, new TestSchedulerContext("connector"));
        scheduler.updateConnectorOutput(ConnectorOutput.EMPTY.withWorkerMetadata(Optional.of(folded)));
        assertEquals(6, scheduler.workerStepsSeen());
    }

    @Test
    void configurationAcceptsOnlyAnOptionalLabel() {
        assertEquals("hello", HelloSettings.from(EMPTY).label());
        assertEquals("audit", HelloSettings.from(ConnectorConfigs.of(ConnectorConfigs.ENGINE_PATH, Map.of("label", "audit")))
                .label());

        var misspelt = ConnectorConfigs.of(ConnectorConfigs.ENGINE_PATH, Map.of("lable", "audit"));
        var e = assertThrows(ConfigException.class,
                () -> provider.createSchedulerConnector(misspelt, new TestSchedulerContext("connector")));
        assertEquals("config.connector.config.lable", e.path());
        assertTrue(e.getMessage().contains("label"), e.getMessage());
        assertThrows(ConfigException.class,
                () -> provider.createWorkerConnector(misspelt, new TestWorkerContext("connector", 0)));

        var notAString = ConnectorConfigs.of(ConnectorConfigs.ENGINE_PATH, Map.of("label", 3L));
        assertEquals("config.connector.config.label",
                assertThrows(ConfigException.class, () -> HelloSettings.from(notAString)).path());
        var blank = ConnectorConfigs.of(ConnectorConfigs.ENGINE_PATH, Map.of("label", " "));
        assertEquals("config.connector.config.label",
                assertThrows(ConfigException.class, () -> HelloSettings.from(blank)).path());
    }

    // ---- Engine views: the test kit's doubles, and tiny hand-written contexts -----------------

    /** A waiting request of {@code numTokens} prompt tokens (token i has id i), nothing computed. */
    private static FakeRequest request(String requestId, int numTokens) {
        return FakeRequest.builder(requestId).countingTokens(numTokens).syntheticBlockHashes(BLOCK_SIZE).build();
    }

    private static final ConnectorCatalog NO_CATALOG = new ConnectorCatalog() {
        @Override
        public Optional<ConnectorProvider> find(String name) {
            return Optional.empty();
        }

        @Override
        public List<String> names() {
            return List.of();
        }
    };

    private static final InstantSource CLOCK = InstantSource.fixed(Instant.parse("2025-01-01T00:00:00Z"));

    private record TestSchedulerContext(String instanceName) implements SchedulerContext {
        @Override
        public EngineInfo engine() {
            return ENGINE;
        }

        @Override
        public ConnectorCatalog catalog() {
            return NO_CATALOG;
        }

        @Override
        public InstantSource clock() {
            return CLOCK;
        }

        @Override
        public SchedulerContext child(String childName) {
            return new TestSchedulerContext(instanceName + "." + childName);
        }
    }

    private record TestWorkerContext(String instanceName, int rank) implements WorkerContext {
        @Override
        public EngineInfo engine() {
            return ENGINE;
        }

        @Override
        public ConnectorCatalog catalog() {
            return NO_CATALOG;
        }

        @Override
        public InstantSource clock() {
            return CLOCK;
        }

        @Override
        public WorkerContext child(String childName) {
            return new TestWorkerContext(instanceName + "." + childName, rank);
        }
    }
}
