package io.kvconnect.api.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import org.junit.jupiter.api.Test;

class ConfigExceptionTest {
    @Test
    void pathAndMessageFormat() {
        var e = new ConfigException("config.connector.config.capacity", "expected an integer");
        assertEquals("config.connector.config.capacity", e.path());
        assertEquals("config.connector.config.capacity: expected an integer", e.getMessage());
    }

    @Test
    void isAnIllegalArgumentException() {
        assertInstanceOf(IllegalArgumentException.class, new ConfigException("a", "b"));
    }
}
