package io.kvconnect.nixl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.nixl.protocol.Compat;
import io.kvconnect.nixl.protocol.Frames;
import io.kvconnect.nixl.protocol.Handshake;
import io.kvconnect.nixl.protocol.RawConnection;
import io.kvconnect.nixl.protocol.SharedSecret;
import io.kvconnect.nixl.protocol.TransferException;
import io.kvconnect.nixl.protocol.TransferRef;
import io.kvconnect.nixl.transport.ArenaBlockBuffer;
import io.kvconnect.nixl.transport.ConnectOptions;
import io.kvconnect.nixl.transport.Peer;
import io.kvconnect.nixl.transport.TcpTransport;
import io.kvconnect.testkit.KitEngine;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Hostile peers and local processes against two real engines: whatever they do, the decode
 * engine's outputs equal a single engine's, no wrong KV is read, and both engines drain with
 * nothing held.
 */
class DisaggSecurityTest {

    @Test
    void aTransferNamingAHostOutsidePeersFailsItsLoadBeforeAnyConnection() throws Exception {
        var random = new SplittableRandom(31);
        var p = KitEngine.create(
                Optional.of(Disagg.PROVIDER),
                Disagg.config("producer", "lease_timeout", "300ms"),
                KitEngine.Options.defaults("prefill"));
        var c = KitEngine.create(
                Optional.of(Disagg.PROVIDER), Disagg.config("consumer"), KitEngine.Options.defaults("decode"));
        try (Disagg d = new Disagg(p, c);
                ServerSocketChannel elsewhere = ServerSocketChannel.open()) {
            d.autoForward = false;
            d.submit("r", Disagg.prompt(random, 20), 5);
            d.untilPrefilled("r");
            var params =
                    RemoteParams.from(d.prefillDone.get("r").transferParams()).orElseThrow();
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

    private static final String GUESS = "0".repeat(RemoteParams.TOKEN_HEX_DIGITS);

    /** An engine configuration without a secret, asked for explicitly. */
    private static Map<String, Object> insecure(String role, Object... more) {
        var m = Disagg.config(role, more);
        m.remove("secret");
        m.put("insecure_no_secret", true);
        return m;
    }

    /** A prefill and a decode engine without a secret: any local process can connect to them. */
    private static Disagg insecurePair() {
        var p = KitEngine.create(
                Optional.of(Disagg.PROVIDER), insecure("producer"), KitEngine.Options.defaults("prefill"));
        var c = KitEngine.create(
                Optional.of(Disagg.PROVIDER), insecure("consumer"), KitEngine.Options.defaults("decode"));
        return new Disagg(p, c);
    }

    /** Runs request "w" through both engines; returns its transfer's parameters (a producer port to attack). */
    private static RemoteParams finishedTransfer(Disagg d, SplittableRandom random) throws InterruptedException {
        d.submit("w", Disagg.prompt(random, 12), 3);
        d.drain();
        return RemoteParams.from(d.prefillDone.get("w").transferParams()).orElseThrow();
    }

    /** A local process that can connect and handshake (no secret is set) but never saw a response. */
    private static Peer localProcess(int port) throws TransferException {
        return new TcpTransport()
                .connect(
                        "127.0.0.1",
                        port,
                        Compat.of("local-process", NixlConnectorProvider.VERSION, Disagg.LAYOUT),
                        ConnectOptions.of("", Duration.ofSeconds(5)));
    }

    @Test
    void withoutItsTokenAProcessThatCanConnectNeitherReadsNorFreesATransfer() throws Exception {
        var random = new SplittableRandom(32);
        try (Disagg d = insecurePair()) {
            var first = finishedTransfer(d, random);
            try (Peer intruder = localProcess(first.ports().get(0));
                    var into = new ArenaBlockBuffer(64, Disagg.LAYOUT.bytesPerBlock())) {
                // Transfer ids are predictable: a done for the next one, ahead of its exposure.
                intruder.done(new TransferRef("prefill/r/2", GUESS));
                d.autoForward = false;
                d.submit("r", Disagg.prompt(random, 20), 5);
                d.untilPrefilled("r");
                d.prefill.step(); // the workers learn of the transfer and check the early done's token
                var params = RemoteParams.from(d.prefillDone.get("r").transferParams())
                        .orElseThrow();
                assertEquals("prefill/r/2", params.transferId());
                var guessed = new TransferRef(params.transferId(), GUESS);
                var read = assertThrows(TransferException.class, () -> intruder.read(guessed, params.blockIds(), into));
                assertTrue(read.getMessage().contains("not its token"), read.getMessage());
                var done = assertThrows(TransferException.class, () -> intruder.done(guessed));
                assertTrue(done.getMessage().contains("nothing was freed"), done.getMessage());
            }
            d.forward("r");
            d.drain();
            assertEquals(2, d.stat(d.decode, "loads_ok"));
            assertEquals(1, d.stat(d.prefill, "reads_refused_token"));
            assertEquals(2, d.stat(d.prefill, "notifications_refused_token"));
            assertEquals(2, d.stat(d.prefill, "sends_finished"));
            assertEquals(0, d.stat(d.prefill, "leases_expired"), "freed by the decode engine's notifications");
            d.assertSameOutputs(List.of());
            d.assertClean();
        }
    }

    @Test
    @Timeout(120)
    void doneNoticesForTransfersNeverExposedDoNotCrowdOutALaterEarlyOne() throws Exception {
        var random = new SplittableRandom(35);
        try (Disagg d = insecurePair()) {
            var first = finishedTransfer(d, random);
            try (Peer intruder = localProcess(first.ports().get(0))) {
                // More notices for transfers that are never exposed than the worker remembers ...
                intruder.done(IntStream.range(0, 20_000)
                        .mapToObj(i -> new TransferRef("prefill/never/" + i, GUESS))
                        .toList());
                // ... then one ahead of the next transfer's exposure.
                intruder.done(new TransferRef("prefill/r/2", GUESS));
            }
            d.submit("r", Disagg.prompt(random, 20), 5);
            d.drain();
            // The last notice was remembered: its token was checked when the transfer was exposed.
            assertEquals(1, d.stat(d.prefill, "notifications_refused_token"));
            assertEquals(2, d.stat(d.decode, "loads_ok"));
            d.assertSameOutputs(List.of());
            d.assertClean();
        }
    }

    @Test
    @Timeout(120)
    void anEarlyDoneOnAnotherConnectionDoesNotReplaceTheReadersOwn() throws Exception {
        var random = new SplittableRandom(38);
        try (Disagg d = insecurePair()) {
            var first = finishedTransfer(d, random);
            d.autoForward = false;
            d.submit("r", Disagg.prompt(random, 20), 5);
            d.untilPrefilled("r");
            var params =
                    RemoteParams.from(d.prefillDone.get("r").transferParams()).orElseThrow();
            // Before the producer's workers learn of the transfer: the real reader gives up on it
            // (its request aborted), between two notices of a process that guessed the id.
            try (Peer intruder = localProcess(first.ports().get(0));
                    Peer reader = localProcess(first.ports().get(0))) {
                intruder.done(new TransferRef(params.transferId(), GUESS));
                reader.done(params.transfer());
                intruder.done(new TransferRef(params.transferId(), "1".repeat(RemoteParams.TOKEN_HEX_DIGITS)));
            }
            for (int i = 0; i < 100 && d.stat(d.prefill, "sends_finished") < 2; i++) {
                d.prefill.step(); // exposes the transfer, ended by the reader's notice at once
            }
            assertEquals(2, d.stat(d.prefill, "sends_finished"), "the reader's early notice was lost");
            assertEquals(1, d.stat(d.prefill, "notifications_refused_token"), "the intruder's latest notice");
            assertEquals(0, d.stat(d.prefill, "leases_expired"));
            d.assertClean();
        }
    }

    @Test
    @Timeout(120)
    void doneNoticesNamingHugeIdsPushOutOlderOnesInsteadOfFillingTheHeap() throws Exception {
        var random = new SplittableRandom(36);
        try (Disagg d = insecurePair()) {
            var first = finishedTransfer(d, random);
            try (Peer intruder = localProcess(first.ports().get(0))) {
                // Ahead of the next transfer's exposure (kept, as the test of notices without the token shows) ...
                intruder.done(new TransferRef("prefill/r/2", GUESS));
                // ... then transfers that are never exposed, each id nearly a control frame long:
                // thousands of them would fill the producer's heap if each were kept.
                for (int i = 0; i < 5; i++) {
                    intruder.done(new TransferRef(i + "x".repeat(1_000_000), GUESS));
                }
            }
            d.submit("r", Disagg.prompt(random, 20), 5);
            d.drain();
            assertEquals(6, d.stat(d.prefill, "notifications_unknown"));
            // The huge ids pushed the first notice out: nothing checked its token at the exposure.
            assertEquals(0, d.stat(d.prefill, "notifications_refused_token"));
            assertEquals(2, d.stat(d.decode, "loads_ok"));
            d.assertSameOutputs(List.of());
            d.assertClean();
        }
    }

    @Test
    void aTransfersTokenReadsThatTransfersBlocksAndNoOthers() throws Exception {
        var random = new SplittableRandom(37);
        try (Disagg d = insecurePair()) {
            d.autoForward = false;
            d.submit("a", Disagg.prompt(random, 20), 5);
            d.submit("b", Disagg.prompt(random, 20), 5);
            d.untilPrefilled("a");
            d.untilPrefilled("b");
            d.prefill.step(); // the workers learn of both transfers
            var a = RemoteParams.from(d.prefillDone.get("a").transferParams()).orElseThrow();
            var b = RemoteParams.from(d.prefillDone.get("b").transferParams()).orElseThrow();
            int[][] foreign = {
                b.blockIds(), // another request's blocks
                {a.blockIds()[0], b.blockIds()[0]}, // one of its own, one of another's
                {Disagg.LAYOUT.numBlocks()}, // past the KV cache
            };
            try (Peer reader = localProcess(a.ports().get(0));
                    var into = new ArenaBlockBuffer(64, Disagg.LAYOUT.bytesPerBlock())) {
                for (int[] blocks : foreign) {
                    var e = assertThrows(TransferException.class, () -> reader.read(a.transfer(), blocks, into));
                    assertTrue(e.getMessage().contains("is not part of transfer"), e.getMessage());
                }
                // Refused reads leave the connection in step: its own blocks it gets.
                reader.read(a.transfer(), a.blockIds(), into);
            }
            d.forward("a");
            d.forward("b");
            d.drain();
            assertEquals(2, d.stat(d.decode, "loads_ok"));
            d.assertSameOutputs(List.of());
            d.assertClean();
        }
    }

    @Test
    void aReadWithoutTheTokenDoesNotRenewTheLease() throws Exception {
        var clock = new MutableClock();
        var random = new SplittableRandom(33);
        var p = KitEngine.create(
                Optional.of(Disagg.PROVIDER),
                insecure("producer", "lease_timeout", "5s"),
                KitEngine.Options.defaults("prefill").withClock(clock));
        var c = KitEngine.create(
                Optional.of(Disagg.PROVIDER), insecure("consumer"), KitEngine.Options.defaults("decode"));
        try (Disagg d = new Disagg(p, c)) {
            d.autoForward = false;
            d.submit("r", Disagg.prompt(random, 20), 5);
            d.untilPrefilled("r");
            d.prefill.step();
            var params =
                    RemoteParams.from(d.prefillDone.get("r").transferParams()).orElseThrow();
            clock.advance(Duration.ofSeconds(4));
            try (Peer intruder = localProcess(params.ports().get(0));
                    var into = new ArenaBlockBuffer(64, Disagg.LAYOUT.bytesPerBlock())) {
                assertThrows(
                        TransferException.class,
                        () -> intruder.read(new TransferRef(params.transferId(), GUESS), params.blockIds(), into));
            }
            // Past the lease the response set; a read renewing it would hold the blocks until 9 s.
            clock.advance(Duration.ofSeconds(2));
            d.drain();
            assertEquals(1, d.stat(d.prefill, "leases_expired"));
            assertEquals(1, d.stat(d.prefill, "reads_refused_token"));
            d.forward("r");
            d.drain();
            assertEquals(1, d.stat(d.decode, "loads_failed_expired"));
            d.assertSameOutputs(List.of());
            d.assertClean();
        }
    }

    /**
     * A process listening where a request's parameters point, knowing no secret, that answers
     * every read with garbage. {@code dialect} {@code v1} plays the earlier handshake (challenge
     * with fields, then OK without proving anything); {@code v2} this one, with a proof made
     * without the secret.
     */
    @ParameterizedTest(name = "{0}, fake producer speaking {1}")
    @CsvSource({"tcp,v1", "tcp,v2", "ucx,v1", "ucx,v2"})
    void aProducerThatCannotProveTheSecretIsNeverDecodedFrom(String transport, String dialect) throws Exception {
        Disagg.assumeAvailable(transport);
        var random = new SplittableRandom(34);
        var p = KitEngine.create(
                Optional.of(Disagg.PROVIDER),
                Disagg.config("producer", "transport", transport, "lease_timeout", "300ms"),
                KitEngine.Options.defaults("prefill"));
        var c = KitEngine.create(
                Optional.of(Disagg.PROVIDER),
                Disagg.config("consumer", "transport", transport),
                KitEngine.Options.defaults("decode"));
        List<Byte> fromReader = new CopyOnWriteArrayList<>();
        var fake = new ServerSocket(0, 4, InetAddress.getLoopbackAddress());
        Thread impostor = Thread.ofPlatform().daemon().start(() -> impersonate(fake, dialect, transport, fromReader));
        try (Disagg d = new Disagg(p, c)) {
            d.autoForward = false;
            d.submit("r", Disagg.prompt(random, 20), 5);
            d.untilPrefilled("r");
            d.forward("r", t -> t.with("remote_ports", List.of((long) fake.getLocalPort())));
            d.drain();
            assertEquals(1, d.stat(d.decode, "loads_failed"));
            assertEquals(0, d.stat(d.decode, "loads_ok"));
            // Recomputed locally, no wrong KV read, nothing held.
            d.assertSameOutputs(List.of());
            d.assertClean();
        } finally {
            fake.close();
            impostor.join(10_000);
        }
        assertTrue(
                fromReader.isEmpty() || fromReader.equals(List.of(Frames.HELLO)),
                "the reader went on after the handshake: " + fromReader);
    }

    /** Serves connections on {@code fake} as an impostor until it is closed; records the reader's frame types. */
    private static void impersonate(ServerSocket fake, String dialect, String transport, List<Byte> fromReader) {
        byte[] fields = Compat.of("prefill", NixlConnectorProvider.VERSION, Disagg.LAYOUT)
                .withTransport(transport)
                .encode()
                .getBytes(StandardCharsets.UTF_8);
        while (!fake.isClosed()) {
            try (var raw = RawConnection.of(fake.accept())) {
                byte[] ns = new byte[Handshake.NONCE_BYTES];
                new SecureRandom().nextBytes(ns);
                if (dialect.equals("v1")) {
                    raw.send(Frames.CHALLENGE, Frames.concat(ns, fields));
                } else {
                    raw.send(Frames.CHALLENGE, Frames.concat(new byte[] {Handshake.VERSION}, ns));
                }
                for (byte[] f = raw.next(); f != null; f = raw.next()) {
                    fromReader.add(f[0]);
                    switch (f[0]) {
                        case Frames.HELLO -> {
                            if (dialect.equals("v1")) {
                                raw.send(Frames.OK, new byte[0]);
                            } else {
                                byte[] nc = Arrays.copyOfRange(f, 1, 1 + Handshake.NONCE_BYTES);
                                raw.send(
                                        Frames.PROOF,
                                        Frames.concat(
                                                SharedSecret.of("guess").mac(Handshake.PRODUCER_PROOF, ns, nc, fields),
                                                fields));
                            }
                        }
                        // No UCX here: a reader falls back to reads over this connection.
                        case Frames.UCX_ATTACH ->
                            raw.send(Frames.ERROR, Frames.errorPayload(TransferException.Kind.FAILED, "no UCX"));
                        case Frames.READ -> raw.send(Frames.DATA, garbage(f));
                        default -> raw.send(Frames.OK, new byte[0]);
                    }
                }
            } catch (IOException | RuntimeException e) {
                // closed: the reader gave up, or the test ended
            }
        }
    }

    /** As many bytes as the earlier read format ({@code idLen, id, n, blocks}) asks for, all 0x5A. */
    private static byte[] garbage(byte[] frame) {
        var b = ByteBuffer.wrap(frame, 1, frame.length - 1);
        b.position(b.position() + 4 + b.getInt());
        byte[] data = new byte[Math.toIntExact(b.getInt() * Disagg.LAYOUT.bytesPerBlock())];
        Arrays.fill(data, (byte) 0x5A);
        return data;
    }
}
