package io.kvconnect.multi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.ConfigException;
import io.kvconnect.api.common.ConnectorConfig;
import io.kvconnect.offload.OffloadConnectorProvider;
import io.kvconnect.testkit.ConnectorConfigs;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Configuration: children in priority order, found through the catalog, errors naming the field. */
class ProviderTest {
    private final MultiConnectorProvider multi = new MultiConnectorProvider();
    private final FakeProvider a = new FakeProvider("a");
    private final FakeProvider b = new FakeProvider("b");
    private final FakeProvider.Catalog catalog = FakeProvider.Catalog.of(multi, a, b, new OffloadConnectorProvider());
    private final FakeProvider.Scheduler context = new FakeProvider.Scheduler(catalog, "connector");

    private static ConnectorConfig config(Object... children) {
        return ConnectorConfigs.of("config.connector.config", Map.of("connectors", List.of(children)));
    }

    private static Map<String, Object> child(String name, Map<String, Object> config) {
        return Map.of("name", name, "config", config);
    }

    @Test
    void describesItself() {
        assertEquals("multi", multi.name());
        assertTrue(multi.name().matches("[a-z][a-z0-9-]{0,63}"));
        assertTrue(!multi.description().isBlank() && !multi.version().isBlank());
    }

    @Test
    void createsEachChildInOrderWithItsOwnConfigurationAndContext() {
        var s = multi.createSchedulerConnector(
                config(child("a", Map.of("x", 1L)), child("b", Map.of()), child("a", Map.of("x", 2L))), context);

        assertInstanceOf(MultiScheduler.class, s);
        assertEquals(List.of("connector.0:a", "connector.2:a"), a.contexts, "two children of one type stay apart");
        assertEquals(List.of("connector.1:b"), b.contexts);
        assertEquals(1L, a.configs.get(0).asMap().get("x"));
        assertEquals(2L, a.configs.get(1).asMap().get("x"));
        assertEquals(
                "config.connector.config.connectors[2].config", a.configs.get(1).path());

        var w = multi.createWorkerConnector(
                config(child("a", Map.of()), child("b", Map.of())), new FakeProvider.Worker(catalog, "connector", 1));
        assertInstanceOf(MultiWorker.class, w);
        assertEquals("connector.0:a@1", a.contexts.getLast());
        assertEquals("connector.1:b@1", b.contexts.getLast());
    }

    @Test
    void oneChildIsThatChildItself() {
        var s = multi.createSchedulerConnector(config(child("a", Map.of())), context);
        assertSame(a.schedulers.getFirst(), s, "a composite of one adds nothing");
        var w = multi.createWorkerConnector(
                config(Map.of("name", "b")), new FakeProvider.Worker(catalog, "connector", 0));
        assertSame(b.workers.getFirst(), w);
        assertEquals(
                "config.connector.config.connectors[0].config",
                b.configs.getFirst().path(),
                "a missing config is an empty object at its path");
    }

    @Test
    void zeroChildrenIsAnError() {
        var missing = assertThrows(
                ConfigException.class,
                () -> multi.createSchedulerConnector(ConnectorConfigs.empty("config.connector.config"), context));
        assertEquals("config.connector.config.connectors", missing.path());
        assertTrue(missing.getMessage().contains("is required"), missing.getMessage());
        var empty = assertThrows(ConfigException.class, () -> multi.createSchedulerConnector(config(), context));
        assertEquals("config.connector.config.connectors", empty.path());
        assertTrue(empty.getMessage().contains("at least one"), empty.getMessage());
    }

    @Test
    void anUnknownChildNameNamesTheFieldAndListsTheKnownOnes() {
        var e = assertThrows(
                ConfigException.class,
                () -> multi.createSchedulerConnector(config(child("a", Map.of()), child("ofload", Map.of())), context));
        assertEquals("config.connector.config.connectors[1].name", e.path());
        assertTrue(
                e.getMessage().contains("unknown connector 'ofload'; available: a, b, multi, offload"), e.getMessage());
        assertEquals(List.of(), a.contexts, "nothing was created");
    }

    @Test
    void malformedEntriesNameTheField() {
        assertEquals(
                "config.connector.config.conectors",
                assertThrows(
                                ConfigException.class,
                                () -> multi.createSchedulerConnector(
                                        ConnectorConfigs.of("config.connector.config", Map.of("conectors", List.of())),
                                        context))
                        .path());
        assertEquals(
                "config.connector.config.connectors[0].nmae",
                assertThrows(
                                ConfigException.class,
                                () -> multi.createSchedulerConnector(config(Map.of("nmae", "a")), context))
                        .path());
        assertEquals(
                "config.connector.config.connectors[0].name",
                assertThrows(
                                ConfigException.class,
                                () -> multi.createSchedulerConnector(config(Map.of("config", Map.of())), context))
                        .path());
        assertEquals(
                "config.connector.config.connectors[0]",
                assertThrows(ConfigException.class, () -> multi.createSchedulerConnector(config("offload"), context))
                        .path());
        assertEquals(
                "config.connector.config.connectors",
                assertThrows(
                                ConfigException.class,
                                () -> multi.createSchedulerConnector(
                                        ConnectorConfigs.of("config.connector.config", Map.of("connectors", "offload")),
                                        context))
                        .path());
    }

    @Test
    void aChildsOwnConfigurationErrorKeepsItsFullPath() {
        var e = assertThrows(
                ConfigException.class,
                () -> multi.createSchedulerConnector(
                        config(child("a", Map.of()), child("offload", Map.of("capacity", "64MiB", "evicton", "lru"))),
                        context));
        assertEquals("config.connector.config.connectors[1].config.evicton", e.path());
    }

    @Test
    void whenALaterChildFailsTheEarlierOnesAreShutDown() {
        assertThrows(
                ConfigException.class,
                () -> multi.createSchedulerConnector(
                        config(child("a", Map.of()), child("b", Map.of("fail", true))), context));
        assertEquals(List.of("shutdown"), a.schedulers.getFirst().calls);
        assertThrows(
                ConfigException.class,
                () -> multi.createWorkerConnector(
                        config(child("a", Map.of()), child("b", Map.of("fail", true))),
                        new FakeProvider.Worker(catalog, "connector", 0)));
        assertEquals(List.of("shutdown"), a.workers.getFirst().calls);
    }

    @Test
    void aChildMayItselfBeAComposite() {
        var s = multi.createSchedulerConnector(
                config(
                        child("multi", Map.of("connectors", List.of(child("a", Map.of()), child("b", Map.of())))),
                        child("a", Map.of())),
                context);
        assertInstanceOf(MultiScheduler.class, s);
        assertEquals(List.of("connector.0:multi.0:a", "connector.1:a"), a.contexts);
        assertEquals(List.of("connector.0:multi.1:b"), b.contexts);
        var e = assertThrows(
                ConfigException.class,
                () -> multi.createSchedulerConnector(
                        config(
                                child("multi", Map.of("connectors", List.of(child("c", Map.of())))),
                                child("a", Map.of())),
                        context));
        assertEquals("config.connector.config.connectors[0].config.connectors[0].name", e.path());
    }
}
