package io.kvconnect.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.ConfigException;
import io.kvconnect.testkit.ConnectorConfigs;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Configuration errors name their key and what is allowed. */
class RedisConfigTest {
    private static RedisConfig parse(Map<String, Object> raw) {
        return RedisConfig.parse(ConnectorConfigs.of("connector.config", raw), name -> null);
    }

    private static String error(Map<String, Object> raw) {
        return assertThrows(ConfigException.class, () -> parse(raw)).getMessage();
    }

    @Test
    void defaultsAndAddresses() {
        RedisConfig c = parse(Map.of("servers", List.of("127.0.0.1:6379")));
        assertEquals(List.of(new RedisConfig.Server("127.0.0.1", 6379)), c.servers());
        assertEquals(Duration.ofMillis(500), c.timeout());
        assertEquals(
                List.of(new RedisConfig.Server("::1", 7000), new RedisConfig.Server("redis-a", 7001)),
                parse(Map.of("servers", List.of("[::1]:7000", "redis-a:7001"), "cluster", true))
                        .servers());
    }

    @Test
    void refusals() {
        assertTrue(error(Map.of()).contains("servers"));
        assertTrue(error(Map.of("servers", List.of("nohost"))).contains("host:port"));
        assertTrue(error(Map.of("servers", List.of("a:1", "b:2"))).contains("cluster"));
        assertTrue(error(Map.of("servers", List.of("a:1"), "user", "kv")).contains("password"));
        assertTrue(error(Map.of("servers", List.of("a:1"), "password", "x", "password_env", "Y"))
                .contains("password_env"));
        assertTrue(error(Map.of("servers", List.of("a:1"), "password_env", "UNSET_VARIABLE"))
                .contains("UNSET_VARIABLE"));
        assertTrue(error(Map.of("servers", List.of("a:1"), "tls_verify", "ca")).contains("tls"));
        assertTrue(error(Map.of("servers", List.of("a:1"), "namespace", "a b")).contains("namespace"));
        assertTrue(error(Map.of("servers", List.of("a:1"), "staging_blocks", 1)).contains("staging_blocks"));
        assertTrue(error(Map.of("servers", List.of("a:1"), "colour", "red")).contains("colour"));
    }

    @Test
    void aValueSecretIsLongAndNeverShown() {
        String secret = "0123456789abcdef-secret";
        RedisConfig c = parse(Map.of("servers", List.of("a:1"), "value_secret", secret));
        assertTrue(c.valueSecret().isPresent());
        assertTrue(!c.toString().contains(secret), c.toString());
        String tooShort = error(Map.of("servers", List.of("a:1"), "value_secret", "short-secret"));
        assertTrue(tooShort.contains("value_secret") && tooShort.contains("16 characters"), tooShort);
        assertTrue(!tooShort.contains("short-secret"), tooShort);
        assertTrue(error(Map.of("servers", List.of("a:1"), "value_secret", secret, "value_secret_env", "V"))
                .contains("value_secret_env"));
        assertTrue(error(Map.of("servers", List.of("a:1"), "value_secret_env", "UNSET_VARIABLE"))
                .contains("UNSET_VARIABLE"));
        RedisConfig fromEnv = RedisConfig.parse(
                ConnectorConfigs.of("connector.config", Map.of("servers", List.of("a:1"), "value_secret_env", "V")),
                name -> name.equals("V") ? secret : null);
        assertEquals(c.valueSecret(), fromEnv.valueSecret());
    }
}
