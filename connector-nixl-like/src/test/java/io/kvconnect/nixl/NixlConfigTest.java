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
    void handshakeBoundsDefaultToSmallLimits() {
        NixlConfig c = parse(Map.of());
        assertEquals(Duration.ofSeconds(5), c.handshakeTimeout());
        assertEquals(64, c.maxPendingHandshakes());
        NixlConfig set = parse(Map.of("handshake_timeout", "2s", "max_pending_handshakes", 8L));
        assertEquals(Duration.ofSeconds(2), set.listenOptions().handshakeTimeout());
        assertEquals(8, set.listenOptions().maxPendingHandshakes());
        assertEquals(set.chunkBlocks(), set.connectOptions().readSlots());
        assertEquals("connector.config.max_pending_handshakes", assertThrows(ConfigException.class,
                () -> parse(Map.of("max_pending_handshakes", 0L))).path());
        assertEquals("connector.config.handshake_timeout", assertThrows(ConfigException.class,
                () -> parse(Map.of("handshake_timeout", "forever"))).path());
    }

    @Test
    void theSecretNeverShowsInTheConfigurationsText() {
        NixlConfig c = parse(Map.of("secret", "do-not-print-me"));
        assertTrue(!c.toString().contains("do-not-print-me") && c.toString().contains("secret=(redacted)"),
                c.toString());
        assertTrue(!c.listenOptions().toString().contains("do-not-print-me"), c.listenOptions().toString());
        assertTrue(!c.connectOptions().toString().contains("do-not-print-me"), c.connectOptions().toString());
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

    @Test
    void faultsAreOffByDefaultAndWhenAskedForWrapTheTransport() {
        assertEquals(TransportFaults.NONE, parse(Map.of()).faults());
        assertTrue(Transports.pick(parse(Map.of("transport", "tcp"))) instanceof TcpTransport);
        NixlConfig c = parse(Map.of("transport", "tcp", "faults", Map.of("drop", 0.01, "truncate", 0.02, "delay", 0.5,
                "delay_ms", 7L, "kill", 0.001, "seed", 3L, "only_type", 7L)));
        assertEquals(new TransportFaults(0.01, 0.02, 0.5, 7, 0.001, 3, 7), c.faults());
        Transport t = Transports.pick(c);
        assertTrue(t instanceof FaultyTransport, t.getClass().getName());
        assertEquals("tcp", t.name());
        // All rates zero: no relay at all.
        assertTrue(Transports.pick(parse(Map.of("transport", "tcp", "faults", Map.of("seed", 3L))))
                instanceof TcpTransport);
    }

    @Test
    void badFaultsNameTheField() {
        assertEquals("connector.config.faults.drop", assertThrows(ConfigException.class,
                () -> parse(Map.of("faults", Map.of("drop", 1.5)))).path());
        assertEquals("connector.config.faults.stall", assertThrows(ConfigException.class,
                () -> parse(Map.of("faults", Map.of("stall", 0.1)))).path());
        assertEquals("connector.config.faults", assertThrows(ConfigException.class,
                () -> parse(Map.of("faults", "drop=0.1"))).path());
    }
}
