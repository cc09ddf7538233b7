package io.kvconnect.api.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import org.junit.jupiter.api.Test;

class ConfigExceptionTest {
    @Test
    void pathAndMessageFormat() {
        var e = new ConfigException("connectors[0].config.capacity", "expected an integer");
        assertEquals("connectors[0].config.capacity", e.path());
        assertEquals("connectors[0].config.capacity: expected an integer", e.getMessage());
    }

    @Test
    void isAnIllegalArgumentException() {
        assertInstanceOf(IllegalArgumentException.class, new ConfigException("a", "b"));
    }
}
