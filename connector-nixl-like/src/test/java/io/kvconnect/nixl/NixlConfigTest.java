package io.kvconnect.nixl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.ConfigException;
import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.EngineInfo;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.nixl.faults.FaultyTransport;
import io.kvconnect.nixl.faults.TransportFaults;
import io.kvconnect.nixl.transport.TcpTransport;
import io.kvconnect.nixl.transport.Transport;
import io.kvconnect.nixl.transport.UcxTransport;
import io.kvconnect.testkit.ConnectorConfigs;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NixlConfigTest {
    /** 80 layers of 8 KV heads of 128 in FP16, blocks of 16 tokens on one rank: 5 MiB per block. */
    private static final EngineInfo LARGE =
            new EngineInfo("e", new ModelShape("large", 80, 8, 128, DType.FP16), 16, 1000, 1, false);

    private static void checkChunkFits(Map<String, ?> m) {
        var config = ConnectorConfigs.of("connector.config", m);
        NixlConfig.parse(config).checkChunkFits(config, LARGE);
    }

    @Test
    void aReadOfChunkBlocksMustFitOneDataFrame() {
        // 2 GiB - 1 byte holds 409 blocks of 5 MiB (5,242,880 bytes).
        checkChunkFits(Map.of("secret", "s", "chunk_blocks", 409));
        ConfigException tooLarge =
                assertThrows(ConfigException.class, () -> checkChunkFits(Map.of("secret", "s", "chunk_blocks", 410)));
        assertTrue(tooLarge.getMessage().contains("chunk_blocks"), tooLarge.getMessage());
        assertTrue(tooLarge.getMessage().contains("at most 409"), tooLarge.getMessage());
        assertTrue(tooLarge.getMessage().contains("5242880 bytes"), tooLarge.getMessage());
        // The default (64) fits, and the tiny model's blocks never come close.
        checkChunkFits(Map.of("secret", "s"));
    }

    private static NixlConfig parse(Map<String, Object> m) {
        return NixlConfig.parse(ConnectorConfigs.of("connector.config", m));
    }

    @Test
    void defaultsBindLoopbackWithAThirtySecondLease() {
        NixlConfig c = parse(Map.of("secret", "s"));
        assertEquals(NixlConfig.Role.BOTH, c.role());
        assertEquals("127.0.0.1", c.host());
        assertEquals(0, c.port());
        assertEquals(Duration.ofSeconds(30), c.leaseTimeout());
        assertEquals(NixlConfig.TransportKind.AUTO, c.transport());
        assertEquals(
                UcxTransport.availability().available() ? "ucx" : "tcp",
                Transports.pick(c).name());
        assertEquals(
                "tcp",
                Transports.pick(parse(Map.of("secret", "s", "transport", "tcp")))
                        .name());
    }

    @Test
    void readsAreVerifiedUnlessTheConfigurationSaysNot() {
        assertTrue(parse(Map.of("secret", "s")).connectOptions().verifyReads());
        assertFalse(parse(Map.of("secret", "s", "verify_reads", false))
                .connectOptions()
                .verifyReads());
    }

    @Test
    void peersAndHandshakeBoundsDefaultToLoopbackAndSmallLimits() {
        NixlConfig c = parse(Map.of("secret", "s"));
        assertEquals(Peers.LOOPBACK, c.peers());
        assertEquals(Duration.ofSeconds(5), c.handshakeTimeout());
        assertEquals(64, c.maxPendingHandshakes());
        assertEquals(false, c.insecureNoSecret());
        NixlConfig set = parse(Map.of(
                "secret",
                "s",
                "peers",
                List.of("10.0.0.7", "prefill-1.internal"),
                "handshake_timeout",
                "2s",
                "max_pending_handshakes",
                8L));
        assertEquals(List.of("10.0.0.7", "prefill-1.internal"), set.peers().entries());
        assertEquals(Duration.ofSeconds(2), set.listenOptions().handshakeTimeout());
        assertEquals(8, set.listenOptions().maxPendingHandshakes());
        assertEquals(set.chunkBlocks(), set.connectOptions().readSlots());
    }

    @Test
    void anEngineWithoutASecretRefusesToStartNamingTheKeyAndTheFix() {
        for (String role : List.of("producer", "both", "consumer")) {
            var e = assertThrows(ConfigException.class, () -> parse(Map.of("role", role)));
            assertEquals("connector.config.secret", e.path());
            assertTrue(
                    e.getMessage().contains("is required for role '" + role + "'")
                            && e.getMessage().contains("same long random string as 'secret' on both engines")
                            && e.getMessage().contains("\"insecure_no_secret\": true"),
                    e.getMessage());
            assertEquals(
                    "connector.config.secret",
                    assertThrows(ConfigException.class, () -> parse(Map.of("role", role, "secret", "")))
                            .path());
        }
        assertTrue(assertThrows(ConfigException.class, () -> parse(Map.of("role", "producer")))
                .getMessage()
                .contains("read their KV blocks"));
    }

    @Test
    void runningWithoutASecretMustBeAskedForAndExcludesOne() {
        NixlConfig c = parse(Map.of("role", "producer", "insecure_no_secret", true));
        assertTrue(c.insecureNoSecret());
        assertEquals("", c.secret());
        var both = assertThrows(ConfigException.class, () -> parse(Map.of("secret", "s", "insecure_no_secret", true)));
        assertEquals("connector.config.insecure_no_secret", both.path());
        // false is the default and changes nothing.
        assertEquals(
                "connector.config.secret",
                assertThrows(ConfigException.class, () -> parse(Map.of("insecure_no_secret", false)))
                        .path());
    }

    @Test
    void theSecretNeverShowsInTheConfigurationsText() {
        NixlConfig c = parse(Map.of("secret", "do-not-print-me"));
        assertTrue(
                !c.toString().contains("do-not-print-me") && c.toString().contains("secret=(redacted)"), c.toString());
        assertTrue(
                !c.listenOptions().toString().contains("do-not-print-me"),
                c.listenOptions().toString());
        assertTrue(
                !c.connectOptions().toString().contains("do-not-print-me"),
                c.connectOptions().toString());
    }

    @Test
    void badPeersAndBoundsNameTheField() {
        assertEquals(
                "connector.config.peers",
                assertThrows(ConfigException.class, () -> parse(Map.of("secret", "s", "peers", List.of())))
                        .path());
        assertEquals(
                "connector.config.peers[1]",
                assertThrows(
                                ConfigException.class,
                                () -> parse(Map.of("secret", "s", "peers", List.of("127.0.0.1", " "))))
                        .path());
        assertEquals(
                "connector.config.peers",
                assertThrows(ConfigException.class, () -> parse(Map.of("secret", "s", "peers", "127.0.0.1")))
                        .path());
        assertEquals(
                "connector.config.max_pending_handshakes",
                assertThrows(ConfigException.class, () -> parse(Map.of("secret", "s", "max_pending_handshakes", 0L)))
                        .path());
        assertEquals(
                "connector.config.handshake_timeout",
                assertThrows(ConfigException.class, () -> parse(Map.of("secret", "s", "handshake_timeout", "forever")))
                        .path());
    }

    @Test
    void forcedUcxIsUsedWhereItWorksAndOtherwiseRefusedNamingWhy() {
        var ucx = UcxTransport.availability();
        if (ucx.available()) {
            assertEquals(
                    "ucx",
                    Transports.pick(parse(Map.of("secret", "s", "transport", "ucx")))
                            .name());
        } else {
            var e = assertThrows(ConfigException.class, () -> parse(Map.of("transport", "ucx")));
            assertEquals("connector.config.transport", e.path());
            assertTrue(
                    e.getMessage().contains(ucx.reason()) && e.getMessage().contains("allowed values: auto"),
                    e.getMessage());
        }
    }

    @Test
    void unknownKeysAndBadValuesNameTheField() {
        assertEquals(
                "connector.config.lease",
                assertThrows(ConfigException.class, () -> parse(Map.of("secret", "s", "lease", "5s")))
                        .path());
        assertEquals(
                "connector.config.role",
                assertThrows(ConfigException.class, () -> parse(Map.of("secret", "s", "role", "router")))
                        .path());
        assertEquals(
                "connector.config.lease_timeout",
                assertThrows(ConfigException.class, () -> parse(Map.of("secret", "s", "lease_timeout", "forever")))
                        .path());
    }

    @Test
    void faultsAreOffByDefaultAndWhenAskedForWrapTheTransport() {
        assertEquals(TransportFaults.NONE, parse(Map.of("secret", "s")).faults());
        assertTrue(Transports.pick(parse(Map.of("secret", "s", "transport", "tcp"))) instanceof TcpTransport);
        NixlConfig c = parse(Map.of(
                "secret",
                "s",
                "transport",
                "tcp",
                "faults",
                Map.of(
                        "drop",
                        0.01,
                        "truncate",
                        0.02,
                        "delay",
                        0.5,
                        "delay_ms",
                        7L,
                        "kill",
                        0.001,
                        "seed",
                        3L,
                        "only_type",
                        7L)));
        assertEquals(new TransportFaults(0.01, 0.02, 0.5, 7, 0.001, 3, 7), c.faults());
        Transport t = Transports.pick(c);
        assertTrue(t instanceof FaultyTransport, t.getClass().getName());
        assertEquals("tcp", t.name());
        // All rates zero: no relay at all.
        assertTrue(
                Transports.pick(parse(Map.of("secret", "s", "transport", "tcp", "faults", Map.of("seed", 3L))))
                        instanceof TcpTransport);
    }

    @Test
    void badFaultsNameTheField() {
        assertEquals(
                "connector.config.faults.drop",
                assertThrows(ConfigException.class, () -> parse(Map.of("secret", "s", "faults", Map.of("drop", 1.5))))
                        .path());
        assertEquals(
                "connector.config.faults.stall",
                assertThrows(ConfigException.class, () -> parse(Map.of("secret", "s", "faults", Map.of("stall", 0.1))))
                        .path());
        assertEquals(
                "connector.config.faults",
                assertThrows(ConfigException.class, () -> parse(Map.of("secret", "s", "faults", "drop=0.1")))
                        .path());
    }
}
