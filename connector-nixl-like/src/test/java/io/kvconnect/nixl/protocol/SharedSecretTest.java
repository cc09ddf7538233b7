package io.kvconnect.nixl.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The handshake's MACs: every part and its length is covered, under a label of its own. */
class SharedSecretTest {
    @Test
    void macsCoverEveryPartAndItsLength() {
        SharedSecret key = SharedSecret.of("right");
        byte[] a = "ab".getBytes(StandardCharsets.UTF_8);
        byte[] b = "c".getBytes(StandardCharsets.UTF_8);
        assertTrue(key.verify(key.mac("label", a, b), "label", a, b));
        // Moving a byte from one part to the next changes the MAC: parts are length-prefixed.
        assertTrue(!key.verify(
                key.mac("label", a, b),
                "label",
                "a".getBytes(StandardCharsets.UTF_8),
                "bc".getBytes(StandardCharsets.UTF_8)));
        assertTrue(!key.verify(key.mac("label", a, b), "other label", a, b));
        assertTrue(!SharedSecret.of("wrong").verify(key.mac("label", a, b), "label", a, b));
        assertArrayEquals(key.mac("label", a, b), SharedSecret.of("right").mac("label", a, b));
        assertEquals("SharedSecret[redacted]", key.toString());
    }
}
