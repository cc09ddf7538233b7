package io.kvconnect.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.ConfigException;
import io.kvconnect.api.common.ConnectorConfig;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Regressions for bugs found in review: rounding, overflow, number normalization, messages. */
class JsonConnectorConfigRegressionTest {
    private static ConnectorConfig config(String key, Object value) {
        return JsonConnectorConfig.of("c", Map.of(key, value));
    }

    @Test
    void decimalByteSizesAreExact() {
        assertEquals(4_100_000L, config("b", "4.1 MB").getBytes("b", 0, 0, Long.MAX_VALUE));
        assertEquals(8_200_000L, config("b", "8.2MB").getBytes("b", 0, 0, Long.MAX_VALUE));
        assertEquals(1_610_612_736L, config("b", "1.5GiB").getBytes("b", 0, 0, Long.MAX_VALUE));
    }

    @Test
    void decimalDurationsAreExact() {
        assertEquals(
                Duration.ofSeconds(246),
                config("d", "4.1m").getDuration("d", Duration.ZERO, Duration.ZERO, Duration.ofDays(1)));
    }

    @Test
    void aByteSizeOfExactlyTwoToTheSixtyThreeIsTooLarge() {
        ConfigException e = assertThrows(
                ConfigException.class, () -> config("b", "8388608TiB").getBytes("b", 0, 0, Long.MAX_VALUE));
        assertTrue(e.getMessage().contains("too large"), e.getMessage());
    }

    @Test
    void integralDoublesAndDecimalsNormalizeToTheSameLong() {
        assertEquals(config("x", 3.0), config("x", new BigDecimal("3.0")));
        assertEquals(3L, config("x", 3.0).getLong("x", 0, 0, 10));
        assertEquals(3.5, config("x", 3.5).getDouble("x", 0, 0, 10));
    }

    @Test
    void repeatedAllowedKeysAreFine() {
        config("a", 1L).requireOnlyKeys("a", "a");
    }
}
