package io.kvconnect.nixl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.ConfigException;
import io.kvconnect.api.common.ConnectorConfig;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NixlConfigTest {
    private static NixlConfig parse(Map<String, Object> m) {
        return NixlConfig.parse(ConnectorConfig.of("connector.config", m));
    }

    @Test
    void defaultsBindLoopbackWithAThirtySecondLease() {
        NixlConfig c = parse(Map.of());
        assertEquals(NixlConfig.Role.BOTH, c.role());
        assertEquals("127.0.0.1", c.host());
        assertEquals(0, c.port());
        assertEquals(Duration.ofSeconds(30), c.leaseTimeout());
        assertEquals(NixlConfig.TransportKind.AUTO, c.transport());
        assertEquals(UcxTransport.availability().available() ? "ucx" : "tcp", Transports.pick(c).name());
        assertEquals("tcp", Transports.pick(parse(Map.of("transport", "tcp"))).name());
    }

    @Test
    void forcedUcxIsUsedWhereItWorksAndOtherwiseRefusedNamingWhy() {
        var ucx = UcxTransport.availability();
        if (ucx.available()) {
            assertEquals("ucx", Transports.pick(parse(Map.of("transport", "ucx"))).name());
        } else {
            var e = assertThrows(ConfigException.class, () -> parse(Map.of("transport", "ucx")));
            assertEquals("connector.config.transport", e.path());
            assertTrue(e.getMessage().contains(ucx.reason()) && e.getMessage().contains("allowed values: auto"),
                    e.getMessage());
        }
    }

    @Test
    void unknownKeysAndBadValuesNameTheField() {
        assertEquals("connector.config.lease", assertThrows(ConfigException.class,
                () -> parse(Map.of("lease", "5s"))).path());
        assertEquals("connector.config.role", assertThrows(ConfigException.class,
                () -> parse(Map.of("role", "router"))).path());
        assertEquals("connector.config.lease_timeout", assertThrows(ConfigException.class,
                () -> parse(Map.of("lease_timeout", "forever"))).path());
    }
}
