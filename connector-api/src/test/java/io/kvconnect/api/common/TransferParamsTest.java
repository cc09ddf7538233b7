package io.kvconnect.api.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class TransferParamsTest {
    @Test
    void emptyHasNoValues() {
        assertTrue(TransferParams.empty().isEmpty());
        assertTrue(TransferParams.empty().asMap().isEmpty());
        assertSame(TransferParams.empty(), TransferParams.of(Map.of()));
    }

    @Test
    void ofCopiesAndNormalizesNumbers() {
        var source = new HashMap<String, Object>(Map.of("port", 5600));
        var p = TransferParams.of(source);
        source.put("port", 1);
        source.put("host", "x");
        assertFalse(p.isEmpty());
        assertEquals(Map.of("port", 5600L), p.asMap());
        assertThrows(UnsupportedOperationException.class, () -> p.asMap().put("k", 1L));
    }

    @Test
    void withReturnsACopyAndLeavesOriginalUnchanged() {
        var original = TransferParams.of(Map.of("host", "a"));
        var changed = original.with("host", "b").with("port", 7);
        assertEquals(Optional.of("a"), original.getString("host"));
        assertFalse(original.get("port").isPresent());
        assertEquals(Optional.of("b"), changed.getString("host"));
        assertEquals(Optional.of(7L), changed.getLong("port"));
        assertEquals(Map.of("host", "a"), original.asMap());
    }

    @Test
    void withOnEmptyDoesNotChangeEmpty() {
        var p = TransferParams.empty().with("k", true);
        assertTrue(p.getFlag("k"));
        assertTrue(TransferParams.empty().isEmpty());
    }

    @Test
    void withRejectsNullAndNonJsonValues() {
        var e = assertThrows(ConfigException.class, () -> TransferParams.empty().with("k", null));
        assertEquals("transfer_params.k", e.path());
        assertThrows(ConfigException.class, () -> TransferParams.empty().with("k", new Object()));
    }

    @Test
    void typedGettersReturnEmptyOnWrongTypeOrAbsence() {
        var p = TransferParams.of(Map.of("s", "x", "n", 3, "b", true, "nb", "true", "l", List.of(1)));
        assertEquals(Optional.of("x"), p.getString("s"));
        assertEquals(Optional.empty(), p.getString("n"));
        assertEquals(Optional.of(3L), p.getLong("n"));
        assertEquals(Optional.empty(), p.getLong("s"));
        assertTrue(p.getFlag("b"));
        assertFalse(p.getFlag("nb"));
        assertFalse(p.getFlag("missing"));
        assertEquals(Optional.of(List.of(1L)), p.get("l"));
        assertEquals(Optional.empty(), p.get("missing"));
    }

    @Test
    void equalityByValues() {
        var a = TransferParams.of(Map.of("n", 1, "s", "x"));
        var b = TransferParams.empty().with("s", "x").with("n", 1L);
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, a.with("n", 2));
        assertNotEquals(a, TransferParams.empty());
    }
}
