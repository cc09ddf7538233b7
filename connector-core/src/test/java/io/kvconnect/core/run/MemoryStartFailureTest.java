package io.kvconnect.core.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConfigException;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import io.kvconnect.core.config.EngineConfig;
import io.kvconnect.core.config.EngineConfigReader;
import io.kvconnect.core.engine.Engine;
import io.kvconnect.core.engine.EngineSetup;
import io.kvconnect.core.engine.TestEngines;
import io.kvconnect.core.memory.HostMemoryBudgetExceededError;
import io.kvconnect.core.memory.KvMemoryUnavailableException;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** An engine start that runs out of memory ends in a configuration error with the sizes, not a stack trace. */
class MemoryStartFailureTest {
    private static final SchedulerConnector IDLE = new SchedulerConnector() {
        @Override
        public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
            return MatchResult.none();
        }

        @Override
        public void updateStateAfterAlloc(
                RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {}

        @Override
        public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
            return ConnectorMetadata.NONE;
        }
    };

    /** A worker side that allocates a host buffer of {@code slots} slots at registration, as offload does. */
    private static WorkerConnector allocating(int slots, List<Throwable> seen) {
        return new WorkerConnector() {
            @Override
            public void registerKvCaches(KvLayout layout, BlockCopyService copies) {
                try {
                    copies.allocateHostBuffer(slots);
                } catch (OutOfMemoryError e) {
                    seen.add(e);
                    throw e;
                }
            }

            @Override
            public void bindConnectorMetadata(ConnectorMetadata metadata) {}

            @Override
            public void startLoadKv() {}

            @Override
            public WorkerStepReport reportStep(Set<String> finishedRequestIds) {
                return WorkerStepReport.EMPTY;
            }
        };
    }

    @Test
    void hostBuffersBeyondTheBudgetFailTheStartAtRegisterKvCachesNamingTheBudget() {
        List<Throwable> seen = new CopyOnWriteArrayList<>();
        // A block of the test engines is 512 B on each of 2 workers: 80 slots each, 80 KiB in all, 64 KiB allowed.
        EngineSetup setup = TestEngines.setup(16, 2, false)
                .withConfig(c -> c.hostMemoryBudget(64 << 10))
                .withConnector(
                        Optional.of(new EngineSetup.ConnectorSides("hungry", IDLE, rank -> allocating(80, seen))));

        RuntimeException failure = assertThrows(RuntimeException.class, () -> new Engine(setup).close());

        assertEquals(1, seen.size(), "the first worker got its 40 KiB, the second was refused: " + seen);
        assertTrue(
                seen.getFirst() instanceof HostMemoryBudgetExceededError,
                seen.getFirst().toString());
        assertTrue(
                seen.getFirst()
                        .getMessage()
                        .contains("beyond the host memory budget of 64.0 KiB (65536 B, engine "
                                + "key host_memory_budget; 40.0 KiB in use)"),
                seen.getFirst().getMessage());
        EngineConfig config =
                EngineConfigReader.parse("{\"model\": \"tiny\", \"host_memory_budget\": \"64KiB\"}", "test");
        ConfigException e = MemoryStartFailure.explain(failure, config).orElseThrow();
        assertEquals("config.host_memory_budget", e.path());
        assertTrue(
                e.getMessage()
                        .startsWith("config.host_memory_budget: the connector's registerKvCaches failed: "
                                + "host buffer of 80 slot(s) x 512 B = 40.0 KiB on kv-copy-"),
                e.getMessage());
    }

    @Test
    void aKvCacheTheMachineCannotGiveIsNamedAsGpuBlocksWithTheTotal() {
        EngineConfig config =
                EngineConfigReader.parse("{\"model\": \"tiny\", \"workers\": 2, \"gpu_blocks\": 4096}", "test");
        // What the executor throws when HostKvMemory.allocate ran out of memory on worker 1.
        RuntimeException failure = new KvMemoryUnavailableException(
                "cannot allocate the KV cache of worker 1 of 2: " + "X", new OutOfMemoryError("Unable to allocate"));

        ConfigException e = MemoryStartFailure.explain(failure, config).orElseThrow();

        assertEquals(
                "config.gpu_blocks: cannot allocate the KV cache of worker 1 of 2: X; the KV cache of all "
                        + "workers needs 16.0 MiB (2 worker(s) x 4097 blocks x 2.0 KiB = 16.0 MiB); allowed: fewer blocks or "
                        + "workers, on this machine",
                e.getMessage());
        assertTrue(MemoryStartFailure.explain(new IllegalStateException("something else"), config)
                .isEmpty());
    }
}
