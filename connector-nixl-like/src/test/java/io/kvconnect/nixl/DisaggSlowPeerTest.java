package io.kvconnect.nixl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.TransferParams;
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
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Slow peers against two real engines: a producer that accepts connections and never answers, one
 * that handshakes and then never answers a read, a reader that asks for blocks and never takes
 * them.
 */
class DisaggSlowPeerTest {
    /**
     * A prefill engine (id {@code silent}) that completes every handshake and never answers a read:
     * its fault relay swallows every read request. A hung or hostile producer that holds the secret.
     */
    private static KitEngine silentProducer() {
        return KitEngine.create(
                Optional.of(Disagg.PROVIDER),
                Disagg.config("producer", "lease_timeout", "300ms", "faults", Map.of("drop", 1.0, "only_type", (long)
                        Frames.READ)),
                KitEngine.Options.defaults("silent"));
    }

    /** Prefills {@code prompt} on {@code producer}; returns its response's transfer parameters. */
    private static TransferParams prefilledOn(KitEngine producer, String id, int[] prompt) throws InterruptedException {
        producer.addRequest(id, prompt, 1, TransferParams.empty().with(RemoteParams.DO_REMOTE_DECODE, true));
        for (int i = 0; i < Disagg.MAX_STEPS; i++) {
            for (KitEngine.Finished f : producer.step()) {
                if (f.requestId().equals(id)) {
                    return f.transferParams();
                }
            }
        }
        throw new AssertionError(id + " did not finish its prefill");
    }

    /** Steps {@code engine} until it has no work left (its leases expired or were ended), bounded. */
    private static void drain(KitEngine engine) throws InterruptedException {
        for (int i = 0; i < Disagg.MAX_STEPS && engine.hasWork(); i++) {
            engine.step();
        }
    }

    @Test
    @Timeout(60)
    void aProducerThatNeverAnswersAReadDoesNotHoldLoadsFromAnother() throws Exception {
        var random = new SplittableRandom(43);
        var p = KitEngine.create(
                Optional.of(Disagg.PROVIDER), Disagg.config("producer"), KitEngine.Options.defaults("prefill"));
        // A read waits for its answer far longer than this test may run: only a load that does not
        // queue behind the silent producer's can finish in time.
        var c = KitEngine.create(
                Optional.of(Disagg.PROVIDER),
                Disagg.config("consumer", "io_timeout", "10m"),
                KitEngine.Options.defaults("decode"));
        var silent = silentProducer();
        try (Disagg d = new Disagg(p, c)) {
            d.autoForward = false;
            d.submit("ok", Disagg.prompt(random, 20), 5);
            d.untilPrefilled("ok");
            int[] prompt = Disagg.prompt(random, 20);
            // One step's loads: the silent producer's first, then the live one's.
            d.decode.addRequest("s", prompt, 5, prefilledOn(silent, "s", prompt));
            d.forward("ok");
            for (int i = 0; i < Disagg.MAX_STEPS && !d.decodeDone.containsKey("ok"); i++) {
                d.step();
            }
            assertEquals(1, d.stat(d.decode, "loads_ok"));
            assertEquals(0, d.stat(d.decode, "loads_failed"), "the silent producer's load still waits");
            // The silent producer goes away: its connection ends and the load waiting on it fails.
            silent.close();
            d.drain();
            assertEquals(1, d.stat(d.decode, "loads_failed"));
            assertEquals("FINISHED_LENGTH_CAPPED", d.decodeDone.get("s").status(), "recomputed");
            d.assertSameOutputs(List.of("s"));
            d.assertClean();
        } finally {
            silent.close();
        }
    }

    @Test
    @Timeout(60)
    void afterAReadTimedOutTheLoadsQueuedForThatProducerFailAtOnce() throws Exception {
        var random = new SplittableRandom(44);
        var p = KitEngine.create(
                Optional.of(Disagg.PROVIDER), Disagg.config("producer"), KitEngine.Options.defaults("prefill"));
        var c = KitEngine.create(
                Optional.of(Disagg.PROVIDER),
                Disagg.config("consumer", "io_timeout", "300ms"),
                KitEngine.Options.defaults("decode"));
        try (var silent = silentProducer();
                Disagg d = new Disagg(p, c)) {
            // One step's loads, all from the silent producer: the first one's read times out.
            for (String id : List.of("s1", "s2", "s3")) {
                int[] prompt = Disagg.prompt(random, 20);
                d.decode.addRequest(id, prompt, 5, prefilledOn(silent, id, prompt));
            }
            d.drain();
            drain(silent);
            assertEquals(3, d.stat(d.decode, "loads_failed"));
            // Only the first load connected and asked: the others failed without a connection.
            assertEquals(1, d.stat(silent, "faults_injected_drop"), "read requests sent to the silent producer");
            assertEquals(1, d.stat(silent, "handshakes_ok"));
            assertEquals(2, d.stat(d.decode, "peers_held_off"));
            for (String id : List.of("s1", "s2", "s3")) {
                assertEquals("FINISHED_LENGTH_CAPPED", d.decodeDone.get(id).status(), id + " recomputed");
            }
            assertTrue(silent.problems().isEmpty(), silent.problems().toString());
            d.assertClean();
        }
    }

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
