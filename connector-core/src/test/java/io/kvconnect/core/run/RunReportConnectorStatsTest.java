package io.kvconnect.core.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import io.kvconnect.core.engine.Engine;
import io.kvconnect.core.engine.EngineSetup;
import io.kvconnect.core.engine.InertSchedulerConnector;
import io.kvconnect.core.engine.TestEngines;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The values of a connector's stats summary are plugin objects: the report keeps the JDK's
 * numbers as they are and turns any other into its text while the summary is read, so a number
 * whose own {@code toString} throws costs the stats lines, never the report.
 */
class RunReportConnectorStatsTest {
    /** A number of the plugin's own class: {@code toString} as given. */
    private static final class PluginNumber extends Number {
        private static final long serialVersionUID = 1L;
        private final boolean printable;

        PluginNumber(boolean printable) {
            this.printable = printable;
        }

        @Override
        public int intValue() {
            return 7;
        }

        @Override
        public long longValue() {
            return 7;
        }

        @Override
        public float floatValue() {
            return 7;
        }

        @Override
        public double doubleValue() {
            return 7;
        }

        @Override
        public String toString() {
            if (!printable) {
                throw new IllegalStateException("toString");
            }
            return "seven";
        }
    }

    private record Stats(Map<String, Number> summary) implements ConnectorStats {
        @Override
        public ConnectorStats aggregate(ConnectorStats other) {
            return this;
        }

        @Override
        public boolean isEmpty() {
            return false;
        }
    }

    private record Reporting(Stats stats) implements InertSchedulerConnector {
        @Override
        public Optional<ConnectorStats> takeStats() {
            return Optional.of(stats);
        }
    }

    private record Silent() implements WorkerConnector {
        @Override
        public void registerKvCaches(KvLayout layout, BlockCopyService copies) {}

        @Override
        public void bindConnectorMetadata(ConnectorMetadata metadata) {}

        @Override
        public void startLoadKv() {}

        @Override
        public WorkerStepReport reportStep(Set<String> finishedRequestIds) {
            return WorkerStepReport.EMPTY;
        }
    }

    private static RunReport run(Map<String, Number> summary) throws Exception {
        EngineSetup setup = TestEngines.setup(32, 1, false)
                .withConnector(Optional.of(new EngineSetup.ConnectorSides(
                        "stats", new Reporting(new Stats(summary)), rank -> new Silent())));
        Engine engine = new Engine(setup);
        try {
            engine.addRequest("r", TestEngines.prompt(new SplittableRandom(3), 18), 3);
            engine.drain();
        } finally {
            engine.close();
        }
        return RunReport.of("stats", engine, 0);
    }

    @Test
    void statsOfTheJdksNumbersAreKeptAndAPluginNumberAsItsText() throws Exception {
        Map<String, Number> summary = new LinkedHashMap<>();
        summary.put("loads", 3L);
        summary.put("own", new PluginNumber(true));

        Map<String, Object> connector = run(summary).sections().get("connector");

        assertEquals(3L, connector.get("stat: loads"));
        assertEquals("seven", connector.get("stat: own"));
    }

    @Test
    void aNumberThatCannotBePrintedCostsTheStatsLinesNotTheReport() throws Exception {
        Map<String, Number> summary = new LinkedHashMap<>();
        summary.put("loads", 3L);
        summary.put("broken", new PluginNumber(false));

        RunReport report = run(summary);
        String rendered = RunReport.render(List.of(report));

        Map<String, Object> connector = report.sections().get("connector");
        assertFalse(connector.containsKey("stat: loads"), "no partial stats");
        assertTrue(String.valueOf(connector.get("stats")).startsWith("unavailable"), String.valueOf(connector));
        assertTrue(rendered.contains("unavailable"), rendered);
    }
}
