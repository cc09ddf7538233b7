package io.kvconnect.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.api.SchedulerContext;
import io.kvconnect.api.WorkerContext;
import io.kvconnect.api.common.ConnectorConfig;
import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The catalog a {@link KitEngine}'s connector gets: the provider under test and the ones added beside it. */
class KitEngineCatalogTest {

    /** Delegates to the test connector, recording the catalog names each side's context shows. */
    private static ConnectorProvider recording(String name, List<List<String>> seen) {
        ConnectorProvider inner =
                TestProviders.hostCache(() -> TestConnectorConfig.builder().build());
        return new ConnectorProvider() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public String version() {
                return "1";
            }

            @Override
            public String description() {
                return "records its catalog";
            }

            @Override
            public SchedulerConnector createSchedulerConnector(ConnectorConfig c, SchedulerContext context) {
                seen.add(context.catalog().names());
                return inner.createSchedulerConnector(c, context);
            }

            @Override
            public WorkerConnector createWorkerConnector(ConnectorConfig c, WorkerContext context) {
                seen.add(context.catalog().names());
                return inner.createWorkerConnector(c, context);
            }
        };
    }

    @Test
    void bothSidesSeeTheProvidersAddedBesideTheOneUnderTest() throws InterruptedException {
        List<List<String>> seen = java.util.Collections.synchronizedList(new ArrayList<>());
        ConnectorProvider other = recording("other", new ArrayList<>());
        try (KitEngine e = KitEngine.create(
                Optional.of(recording("outer", seen)),
                List.of(other),
                Map.of(),
                KitEngine.Options.defaults("e").withWorkers(2))) {
            e.addRequest("r", new int[] {1, 2, 3, 4, 5}, 2, TransferParams.empty());
            while (e.hasWork()) {
                e.step();
            }
            assertEquals(List.of(), e.problems());
            // A connector that reports its failed loads in time (this one fails none) has no stale reports.
            assertEquals(0L, e.schedulerCounts().get("invalid_blocks_ignored"));
        }
        // The scheduler side and both workers' sides (in whatever order the engine makes them).
        assertEquals(3, seen.size(), seen.toString());
        seen.forEach(names -> assertEquals(List.of("other", "outer"), names));
    }

    @Test
    void withoutOthersTheCatalogHoldsOnlyTheProviderUnderTest() {
        List<List<String>> seen = java.util.Collections.synchronizedList(new ArrayList<>());
        try (KitEngine e =
                KitEngine.create(Optional.of(recording("alone", seen)), Map.of(), KitEngine.Options.defaults("e"))) {
            assertEquals(2, seen.size(), seen.toString());
            seen.forEach(names -> assertEquals(List.of("alone"), names));
            assertEquals(List.of(), e.problems());
        }
    }

    @Test
    void twoProvidersWithOneNameAreRefused() {
        List<List<String>> seen = java.util.Collections.synchronizedList(new ArrayList<>());
        assertThrows(
                IllegalArgumentException.class,
                () -> KitEngine.create(
                        Optional.of(recording("x", seen)),
                        List.of(recording("x", seen)),
                        Map.of(),
                        KitEngine.Options.defaults("e")));
    }
}
