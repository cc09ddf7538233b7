package io.kvconnect.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.kvconnect.testkit.ConnectorConfigs;
import io.kvconnect.testkit.KitEngine;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Authentication (password, ACL user) and TLS against real servers; the password never shows in
 * the configuration's text, the connector's stats or its errors.
 */
@Timeout(120)
class RedisSecurityTest {
    private static final String PASSWORD = "s3cret-Pa55word-never-logged";
    private static final List<int[]> PROMPTS = Engines.prompts(7, 4);

    @BeforeAll
    static void needsRedis() {
        RedisServer.assumeInstalled();
    }

    @Test
    void aPasswordServerIsSharedAndAWrongPasswordCostsOnlyHits() throws Exception {
        Map<String, List<Integer>> expected = Engines.baseline(PROMPTS, 1);
        try (RedisServer server = RedisServer.start("--requirepass", PASSWORD)) {
            Map<String, Object> config = new HashMap<>(Engines.config(server.address()));
            config.put("password", PASSWORD);
            sharedBetweenTwoEngines(config, expected);

            config.put("password", "wrong");
            config.put("connect_timeout", "300ms");
            try (KitEngine e = Engines.engine("wrong", config, 1)) {
                assertEquals(expected, Engines.run(e, PROMPTS));
                assertEquals(0, Engines.stat(e, "hit_blocks"));
                assertTrue(
                        Engines.stat(e, "lookup_unavailable") > 0,
                        e.connectorStats().toString());
                assertNoPassword(e.connectorStats().toString());
            }
            assertNoPassword(server.log());
        }
    }

    @Test
    void anAclUserFromTheEnvironment() throws Exception {
        Map<String, List<Integer>> expected = Engines.baseline(PROMPTS, 1);
        try (RedisServer server = RedisServer.start()) {
            server.cli("ACL", "SETUSER", "kv", "on", ">" + PASSWORD, "~kvc:*", "+@all");
            Map<String, Object> raw =
                    Map.of("servers", List.of(server.address()), "user", "kv", "password_env", "KVC_REDIS_PASSWORD");
            RedisConfig parsed = RedisConfig.parse(
                    ConnectorConfigs.of("connector.config", raw),
                    name -> name.equals("KVC_REDIS_PASSWORD") ? PASSWORD : null);
            assertNoPassword(parsed.toString());
            // The engine reads the real environment; the parsed password goes in as a plain key.
            Map<String, Object> config = new HashMap<>(Engines.config(server.address()));
            config.put("user", "kv");
            config.put("password", PASSWORD);
            sharedBetweenTwoEngines(config, expected);
        }
    }

    @Test
    void configurationErrorsNeverShowThePassword() {
        Map<String, Object> raw =
                Map.of("servers", List.of("user:" + PASSWORD + "@127.0.0.1:6379"), "password", PASSWORD);
        var e = org.junit.jupiter.api.Assertions.assertThrows(
                io.kvconnect.api.common.ConfigException.class,
                () -> RedisConfig.parse(ConnectorConfigs.of("connector.config", raw), n -> null));
        assertNoPassword(e.getMessage());
        RedisConfig ok = RedisConfig.parse(
                ConnectorConfigs.of(
                        "connector.config", Map.of("servers", List.of("127.0.0.1:6379"), "password", PASSWORD)),
                n -> null);
        assertNoPassword(ok.toString());
        assertTrue(ok.password().isPresent());
    }

    @Test
    void tlsWithAThrowAwayCertificate(@TempDir Path dir) throws Exception {
        assumeTrue(RedisServer.onPath("openssl"), "openssl is not installed: no throw-away certificate");
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        RedisServer.run(List.of(
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout",
                key.toString(),
                "-out",
                cert.toString()));
        int port = RedisServer.freePort();
        Map<String, List<Integer>> expected = Engines.baseline(PROMPTS, 1);
        RedisServer server;
        try {
            server = RedisServer.start(
                    RedisServer.freePort(),
                    List.of(
                            "--tls-port",
                            String.valueOf(port),
                            "--tls-cert-file",
                            cert.toString(),
                            "--tls-key-file",
                            key.toString(),
                            "--tls-ca-cert-file",
                            cert.toString(),
                            "--tls-auth-clients",
                            "no"));
        } catch (java.io.IOException e) {
            assumeTrue(false, "this redis-server does not support TLS: " + e.getMessage());
            return;
        }
        try (server) {
            Map<String, Object> config =
                    Map.of("servers", List.of("127.0.0.1:" + port), "tls", true, "tls_ca_file", cert.toString());
            sharedBetweenTwoEngines(config, expected);
            // Without TLS the TLS port answers nothing a client understands: misses only.
            Map<String, Object> plain =
                    Map.of("servers", List.of("127.0.0.1:" + port), "timeout", "200ms", "connect_timeout", "300ms");
            try (KitEngine e = Engines.engine("plain", plain, 1)) {
                assertEquals(expected, Engines.run(e, PROMPTS));
                assertEquals(0, Engines.stat(e, "hit_blocks"));
            }
        }
    }

    private static void sharedBetweenTwoEngines(Map<String, Object> config, Map<String, List<Integer>> expected)
            throws InterruptedException {
        try (KitEngine a = Engines.engine("a", config, 1)) {
            assertEquals(expected, Engines.run(a, PROMPTS));
            assertTrue(Engines.stat(a, "stored_blocks") > 0, a.connectorStats().toString());
        }
        try (KitEngine b = Engines.engine("b", config, 1)) {
            assertEquals(expected, Engines.run(b, PROMPTS));
            assertTrue(Engines.stat(b, "hit_blocks") > 0, b.connectorStats().toString());
        }
    }

    private static void assertNoPassword(String text) {
        assertFalse(text.contains(PASSWORD), "the password shows in: " + text);
    }
}
