package io.kvconnect.nixl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kvconnect.nixl.protocol.Compat;
import io.kvconnect.nixl.protocol.Frames;
import io.kvconnect.nixl.protocol.Handshake;
import io.kvconnect.nixl.protocol.ReadRequest;
import io.kvconnect.nixl.protocol.SharedSecret;
import io.kvconnect.nixl.protocol.Wire;
import io.kvconnect.testkit.KitEngine;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Slow peers against two real engines: a producer that accepts connections and never answers, a
 * reader that asks for blocks and never takes them.
 */
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

    @Test
    @Timeout(120)
    void aReaderThatStopsReadingHoldsItsTransferOnlyUntilItsConnectionEnds() throws Exception {
        var random = new SplittableRandom(42);
        var p = KitEngine.create(
                Optional.of(Disagg.PROVIDER), Disagg.config("producer"), KitEngine.Options.defaults("prefill"));
        var c = KitEngine.create(
                Optional.of(Disagg.PROVIDER), Disagg.config("consumer"), KitEngine.Options.defaults("decode"));
        try (Disagg d = new Disagg(p, c)) {
            d.autoForward = false;
            d.submit("r", Disagg.prompt(random, 20), 5);
            d.untilPrefilled("r");
            d.prefill.step(); // the workers learn of the transfer
            var params =
                    RemoteParams.from(d.prefillDone.get("r").transferParams()).orElseThrow();
            byte[] read = ReadRequest.of(params.transfer(), params.blockIds()).encode();
            var address = new InetSocketAddress(
                    InetAddress.getLoopbackAddress(), params.ports().get(0));
            // A reader with the secret and the transfer's parameters (a broken decode engine).
            try (var stalled = new Wire(SocketChannel.open(address))) {
                Handshake.asReader(
                        stalled,
                        Compat.of("stalled", NixlConnectorProvider.VERSION, Disagg.LAYOUT),
                        SharedSecret.of("test-secret"),
                        System.nanoTime() + 5_000_000_000L,
                        "producer");
                // Reads asked for and never taken, until the producer stops taking requests: its
                // connection thread is stuck sending blocks nobody reads.
                assertThrows(SocketTimeoutException.class, () -> {
                    for (int i = 0; i < 1_000_000; i++) {
                        stalled.writeFrame(Frames.READ, read, 2_000);
                    }
                });
                // Meanwhile the decode engine reads the same transfer on its own connection.
                d.forward("r");
                for (int i = 0; i < Disagg.MAX_STEPS && !d.decodeDone.containsKey("r"); i++) {
                    d.step();
                }
                assertEquals(1, d.stat(d.decode, "loads_ok"));
            }
            // The stalled connection ended: its send fails and lets go of the transfer's blocks.
            d.drain();
            assertEquals(1, d.stat(d.prefill, "sends_finished"));
            d.assertSameOutputs(List.of());
            d.assertClean();
        }
    }
}
