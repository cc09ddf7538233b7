package io.kvconnect.nixl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.kvconnect.core.conformance.TestEngine;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Hostile peers and local processes against two real engines: whatever they do, the decode
 * engine's outputs equal a single engine's, no wrong KV is read, and both engines drain with
 * nothing held.
 */
class DisaggSecurityTest {

    @Test
    void aTransferNamingAHostOutsidePeersFailsItsLoadBeforeAnyConnection() throws Exception {
        var random = new SplittableRandom(31);
        var p = TestEngine.create(Optional.of(Disagg.PROVIDER), Disagg.config("producer", "lease_timeout", "300ms"),
                TestEngine.Options.defaults("prefill"));
        var c = TestEngine.create(Optional.of(Disagg.PROVIDER), Disagg.config("consumer"),
                TestEngine.Options.defaults("decode"));
        try (Disagg d = new Disagg(p, c);
             ServerSocketChannel elsewhere = ServerSocketChannel.open()) {
            d.autoForward = false;
            d.submit("r", Disagg.prompt(random, 20), 5);
            d.untilPrefilled("r");
            var params = RemoteParams.from(d.prefillDone.get("r").transferParams()).orElseThrow();
            // Another loopback address, outside the default peers, listening on the producer's port:
            // a request whose parameters were shaped to point there.
            elsewhere.bind(new InetSocketAddress("127.0.0.2", params.ports().get(0)));
            elsewhere.configureBlocking(false);
            d.forward("r", t -> t.with("remote_host", "127.0.0.2"));
            d.drain();
            try (SocketChannel connected = elsewhere.accept()) {
                assertNull(connected, "the decode engine connected to a host outside its peers");
            }
            assertEquals(1, d.stat(d.decode, "loads_failed_untrusted"));
            assertEquals(1, d.stat(d.decode, "loads_failed"));
            assertEquals(1, d.decode.schedulerCounts().get("load_failures"));
            // Recomputed locally; the producer's blocks freed by the lease.
            d.assertSameOutputs(List.of());
            assertEquals(1, d.stat(d.prefill, "leases_expired"));
            d.assertClean();
        }
    }
}
