package io.kvconnect.nixl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kvconnect.testkit.KitEngine;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A producer that accepts connections and never answers, against a decode engine's reader. */
class DisaggSlowPeerTest {
    @Test
    @Timeout(120)
    void aSilentProducerCostsTheReaderOneConnectTimeoutNotOnePerLoad() throws Exception {
        var random = new SplittableRandom(41);
        var p = KitEngine.create(
                Optional.of(Disagg.PROVIDER),
                Disagg.config("producer", "lease_timeout", "5s"),
                KitEngine.Options.defaults("prefill"));
        var c = KitEngine.create(
                Optional.of(Disagg.PROVIDER),
                Disagg.config("consumer", "connect_timeout", "1s"),
                KitEngine.Options.defaults("decode"));
        List<Socket> held = new CopyOnWriteArrayList<>();
        var silent = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
        // A hung prefill engine: connections are accepted and never hear a challenge.
        Thread acceptor = Thread.ofPlatform().daemon().start(() -> {
            try {
                while (true) {
                    held.add(silent.accept());
                }
            } catch (IOException e) {
                // closed at the end of the test
            }
        });
        try (Disagg d = new Disagg(p, c)) {
            d.autoForward = false;
            List<String> toSilent = List.of("a", "b", "c");
            for (String id : List.of("a", "b", "c", "ok")) {
                d.submit(id, Disagg.prompt(random, 20), 5);
                d.untilPrefilled(id);
            }
            // One step's loads: three from the silent producer, then one from the live one.
            for (String id : toSilent) {
                d.forward(id, t -> t.with("remote_ports", List.of((long) silent.getLocalPort())));
            }
            d.forward("ok");
            d.drain();
            assertEquals(1, held.size(), "connections to the silent producer");
            assertEquals(3, d.stat(d.decode, "loads_failed"));
            assertEquals(1, d.stat(d.decode, "loads_ok"));
            d.assertSameOutputs(List.of());
            d.assertClean();
        } finally {
            silent.close();
            acceptor.join(10_000);
            for (Socket s : held) {
                s.close();
            }
        }
    }
}
