package io.kvconnect.nixl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Which {@code remote_host} values a consumer's {@code peers} allow, without any name lookup. */
class PeersTest {
    @Test
    void loopbackByDefault() {
        for (String host : List.of("127.0.0.1", "::1", "0:0:0:0:0:0:0:1", "[::1]", "localhost", "LOCALHOST")) {
            assertTrue(Peers.LOOPBACK.allows(host), host);
        }
        for (String host : List.of(
                "127.0.0.2",
                "10.0.0.1",
                "0.0.0.0",
                "::",
                "example.com",
                "localhost.",
                "",
                "127.0.0.1:80",
                "127.0.0.1\nx")) {
            assertFalse(Peers.LOOPBACK.allows(host), host);
        }
    }

    @Test
    void addressesMatchInAnyTextualFormAndNamesIgnoringCase() {
        Peers peers = new Peers(List.of("10.0.0.7", "fd00::1", "Prefill-1.Internal"));
        assertTrue(peers.allows("10.0.0.7"));
        assertTrue(peers.allows("fd00:0:0:0:0:0:0:1"));
        assertTrue(peers.allows("prefill-1.internal"));
        assertFalse(peers.allows("10.0.0.70"));
        assertFalse(peers.allows("prefill-2.internal"));
        // A name is not resolved: even one that would resolve to an allowed address is refused.
        assertFalse(new Peers(List.of("127.0.0.1")).allows("localhost"));
    }

    @Test
    void aHostIsLoggedWithoutControlCharacters() {
        assertEquals("evil?WARN forged line", Peers.printable("evil\nWARN forged line"));
        assertEquals(258, Peers.printable("x".repeat(300)).length());
    }
}
