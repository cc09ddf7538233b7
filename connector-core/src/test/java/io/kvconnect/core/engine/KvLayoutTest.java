package io.kvconnect.core.engine;

import static io.kvconnect.core.engine.ConnectorTestSupport.assertClean;
import static io.kvconnect.core.engine.ConnectorTestSupport.assertSameOutputs;
import static io.kvconnect.core.engine.ConnectorTestSupport.multiTurn;
import static io.kvconnect.core.engine.ConnectorTestSupport.setup;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.core.engine.testconnector.HostCacheTestConnector;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig.LoadMode;
import io.kvconnect.core.memory.CopyFaults;
import io.kvconnect.core.sched.LoadFailurePolicy;
import io.kvconnect.testkit.doubles.ForwardingWorkerConnector;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The KV layout is invisible in results: a {@link LayoutKind#CROSS_LAYER} engine produces exactly
 * the outputs of a {@link LayoutKind#PER_LAYER} one, without a connector and with the host-cache
 * test connector (its copies move whole blocks through the engine's copy service, which copies a
 * cross-layer block in one piece), for synchronous and asynchronous loads, on 1 and 2 workers.
 */
class KvLayoutTest {
    private static final int POOL = 32;

    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        for (int workers : List.of(1, 2)) {
            boolean async = workers == 2;
            all.add(Arguments.of(workers, async, LoadMode.NONE));
            all.add(Arguments.of(workers, async, LoadMode.SYNC_START));
            all.add(Arguments.of(workers, !async, LoadMode.SYNC_LAYER));
            all.add(Arguments.of(workers, async, LoadMode.ASYNC));
            all.add(Arguments.of(workers, !async, LoadMode.ASYNC));
        }
        return all.stream();
    }

    /** {@code mode} NONE: no connector at all. */
    @ParameterizedTest(name = "workers={0} async={1} loads={2}")
    @MethodSource("cases")
    void crossLayerEngineProducesThePerLayerOutputs(int workers, boolean async, LoadMode mode) throws Exception {
        Run perLayer = run(LayoutKind.PER_LAYER, workers, async, mode);
        Run crossLayer = run(LayoutKind.CROSS_LAYER, workers, async, mode);
        assertSameOutputs(perLayer.outputs(), crossLayer.outputs());
        // Same scheduling decisions, so the same hits and the same number of blocks moved.
        assertEquals(perLayer.connectorHits(), crossLayer.connectorHits(), "connector hits");
        assertEquals(perLayer.blocksLoaded(), crossLayer.blocksLoaded(), "blocks loaded");
        assertEquals(perLayer.blocksSaved(), crossLayer.blocksSaved(), "blocks saved");
        if (mode != LoadMode.NONE) {
            assertTrue(crossLayer.connectorHits() > 0, "the connector provided no token");
            assertTrue(crossLayer.blocksLoaded() > 0, "no block was loaded");
        }
        // And equal to an engine without a connector.
        if (mode != LoadMode.NONE) {
            assertSameOutputs(
                    run(LayoutKind.PER_LAYER, workers, async, LoadMode.NONE).outputs(), crossLayer.outputs());
        }
    }

    private record Run(Map<String, int[]> outputs, long connectorHits, long blocksLoaded, long blocksSaved) {}

    private static Run run(LayoutKind layout, int workers, boolean async, LoadMode mode) throws Exception {
        EngineSetup base = withLayout(setup(POOL, workers, async, LoadFailurePolicy.FAIL), layout);
        HostCacheTestConnector connector = null;
        List<LayoutKind> seen = Collections.synchronizedList(new ArrayList<>());
        if (mode != LoadMode.NONE) {
            HostCacheTestConnector c = new HostCacheTestConnector(
                    TestConnectorConfig.builder().loadMode(mode).build());
            connector = c;
            base = base.withConnector(Optional.of(new EngineSetup.ConnectorSides(
                    HostCacheTestConnector.NAME,
                    c.schedulerSide(),
                    rank -> new LayoutRecorder(c.workerSide(rank), seen))));
        }
        try (Engine engine = new Engine(base)) {
            Map<String, int[]> outputs = multiTurn(engine, 6, 3, 11);
            assertEquals(18, outputs.size());
            if (connector != null) {
                assertEquals(Collections.nCopies(workers, layout), seen, "layouts the connector was given");
                assertEquals(0, engine.scheduler().stats().hookFailures());
            }
            assertClean(engine, connector, outputs.keySet(), true);
            return new Run(
                    outputs,
                    engine.scheduler().stats().connectorHits(),
                    engine.executor().blocksCopied(CopyFaults.Direction.FROM_HOST),
                    engine.executor().blocksCopied(CopyFaults.Direction.TO_HOST));
        }
    }

    static EngineSetup withLayout(EngineSetup s, LayoutKind layout) {
        return s.withConfig(c -> c.kvLayout(layout));
    }

    /** A worker side that records the layout it is registered with and forwards everything. */
    private static final class LayoutRecorder extends ForwardingWorkerConnector {
        private final List<LayoutKind> seen;

        LayoutRecorder(WorkerConnector delegate, List<LayoutKind> seen) {
            super(delegate);
            this.seen = seen;
        }

        @Override
        public void registerKvCaches(KvLayout layout, BlockCopyService copies) {
            seen.add(layout.layout());
            if (copies.layout().layout() != layout.layout()) {
                throw new IllegalStateException("the copy service's layout differs from the KV cache's");
            }
            super.registerKvCaches(layout, copies);
        }
    }
}
