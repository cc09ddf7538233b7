package io.kvconnect.nixl.transport;

import static io.kvconnect.nixl.transport.TcpTransportTest.compat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.nixl.protocol.Compat;
import io.kvconnect.nixl.protocol.Frames;
import io.kvconnect.nixl.protocol.Handshake;
import io.kvconnect.nixl.protocol.RawConnection;
import io.kvconnect.nixl.protocol.SharedSecret;
import io.kvconnect.nixl.protocol.TransferException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Mutual authentication on the wire: neither side gets anything but a nonce from the other before
 * it proved the shared secret, a producer that cannot prove it is never read from, recorded
 * messages are worthless on a new connection, and fields altered on the way fail the handshake.
 */
class HandshakeTest {
    private static final ModelShape MODEL = new ModelShape("m", 2, 2, 16, DType.FP16);
    private static final Compat PRODUCER = compat("prefill", MODEL, 4);
    private static final Compat READER = compat("decode", MODEL, 4);
    private static final int BOUND_MILLIS = 10_000;
    private final TcpTransport tcp = new TcpTransport();

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new SecureRandom().nextBytes(b);
        return b;
    }

    private static byte[] fields(Compat c) {
        return c.withTransport("tcp").encode().getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void theProducerSendsOnlyANonceUntilTheReaderProvedTheSecret() throws Exception {
        try (var listener = tcp.listen(
                        "127.0.0.1", 0, PRODUCER, ListenOptions.of("right"), new TcpTransportTest.Source(1));
                var raw = RawConnection.to(listener.port())) {
            byte[] challenge = raw.next();
            assertEquals(Frames.CHALLENGE, challenge[0]);
            // The version and 32 random bytes: no engine id, no model, no compatibility field.
            assertEquals(1 + Handshake.CHALLENGE_BYTES, challenge.length);
            assertEquals(Handshake.VERSION, challenge[1]);
            byte[] ns = Arrays.copyOfRange(challenge, 2, challenge.length);
            byte[] nc = random(Handshake.NONCE_BYTES);
            raw.send(Frames.HELLO, Frames.concat(nc, SharedSecret.of("guess").mac(Handshake.READER_HELLO, ns, nc)));
            byte[] answer = raw.next();
            assertEquals(Frames.ERROR, answer[0]);
            String text = new String(answer, StandardCharsets.UTF_8);
            assertTrue(text.contains("shared secret does not match") && !text.contains("prefill"), text);
            assertEquals(List.of(), raw.rest(), "nothing after the refusal, the producer's fields least of all");
            assertEquals(Map.of("handshakes_refused_secret", 1L), listener.takeCounters());
        }
    }

    /**
     * A fake producer at a port the reader connects to, knowing no secret: it answers the hello in
     * one of several ways and records every frame the reader sends.
     */
    @ParameterizedTest
    @ValueSource(strings = {"proof under a guessed secret", "ok without a proof", "challenge with its fields"})
    void aProducerThatCannotProveTheSecretIsNeverReadFrom(String how) throws Exception {
        List<Byte> fromReader = new CopyOnWriteArrayList<>();
        BiConsumer<RawConnection, byte[]> answer = (raw, ns) -> {
            try {
                byte[] hello = raw.next();
                fromReader.add(hello[0]);
                byte[] nc = Arrays.copyOfRange(hello, 1, 1 + Handshake.NONCE_BYTES);
                byte[] mine = fields(PRODUCER);
                if (how.equals("proof under a guessed secret")) {
                    raw.send(
                            Frames.PROOF,
                            Frames.concat(SharedSecret.of("guess").mac(Handshake.PRODUCER_PROOF, ns, nc, mine), mine));
                } else {
                    raw.send(Frames.OK, new byte[0]);
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        };
        try (var fake = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread producer = Thread.ofPlatform().daemon().start(() -> {
                try (RawConnection raw = RawConnection.of(fake.accept())) {
                    byte[] ns = random(Handshake.NONCE_BYTES);
                    if (how.equals("challenge with its fields")) {
                        // The earlier protocol's challenge: nonce and fields at once.
                        raw.send(Frames.CHALLENGE, Frames.concat(ns, fields(PRODUCER)));
                    } else {
                        raw.send(Frames.CHALLENGE, Frames.concat(new byte[] {Handshake.VERSION}, ns));
                        answer.accept(raw, ns);
                    }
                    raw.rest().forEach(fromReader::add);
                } catch (IOException e) {
                    // the reader hung up
                }
            });
            var e = assertThrows(
                    TransferException.class,
                    () -> tcp.connect("127.0.0.1", fake.getLocalPort(), READER, TcpTransportTest.client("right")));
            assertEquals(TransferException.Kind.HANDSHAKE, e.kind(), e.getMessage());
            producer.join(BOUND_MILLIS);
            // At most the hello: no fields of this engine, no read request.
            assertTrue(fromReader.isEmpty() || fromReader.equals(List.of(Frames.HELLO)), fromReader.toString());
        }
    }

    @Test
    void aRecordedProofIsRefusedOnANewConnection() throws Exception {
        try (var listener = tcp.listen(
                        "127.0.0.1", 0, PRODUCER, ListenOptions.of("right"), new TcpTransportTest.Source(1));
                var relay = new FrameRelay(listener.port(), f -> f)) {
            // A connection recorded on its way.
            tcp.connect("127.0.0.1", relay.port(), READER, TcpTransportTest.client("right"))
                    .close();
            byte[] challenge = relay.first(true, Frames.CHALLENGE);
            byte[] proof = relay.first(true, Frames.PROOF);
            // Played back to a reader by a producer that does not know the secret.
            try (var fake = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                List<Byte> fromReader = new CopyOnWriteArrayList<>();
                Thread producer = Thread.ofPlatform().daemon().start(() -> {
                    try (RawConnection raw = RawConnection.of(fake.accept())) {
                        raw.send(Frames.CHALLENGE, challenge);
                        fromReader.add(raw.next()[0]);
                        raw.send(Frames.PROOF, proof);
                        raw.rest().forEach(fromReader::add);
                    } catch (IOException e) {
                        // the reader hung up
                    }
                });
                var e = assertThrows(
                        TransferException.class,
                        () -> tcp.connect("127.0.0.1", fake.getLocalPort(), READER, TcpTransportTest.client("right")));
                assertTrue(e.getMessage().contains("did not prove the shared secret"), e.getMessage());
                producer.join(BOUND_MILLIS);
                assertEquals(List.of(Frames.HELLO), fromReader);
            }
        }
    }

    @Test
    void aRecordedHelloIsRefusedOnANewConnection() throws Exception {
        try (var listener = tcp.listen(
                        "127.0.0.1", 0, PRODUCER, ListenOptions.of("right"), new TcpTransportTest.Source(1));
                var relay = new FrameRelay(listener.port(), f -> f)) {
            tcp.connect("127.0.0.1", relay.port(), READER, TcpTransportTest.client("right"))
                    .close();
            byte[] hello = relay.first(false, Frames.HELLO);
            try (var raw = RawConnection.to(listener.port())) {
                assertEquals(Frames.CHALLENGE, raw.next()[0]);
                raw.send(Frames.HELLO, hello);
                byte[] answer = raw.next();
                assertEquals(Frames.ERROR, answer[0]);
                assertEquals(List.of(), raw.rest());
            }
            assertEquals(1L, listener.takeCounters().get("handshakes_refused_secret"));
        }
    }

    /** Replaces the first occurrence of {@code from} in {@code payload} with {@code to} (same length). */
    private static byte[] replace(byte[] payload, String from, String to) {
        String text = new String(payload, StandardCharsets.ISO_8859_1);
        assertTrue(text.contains(from), from);
        return text.replaceFirst(from, to).getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void fieldsAlteredOnTheWayFailTheHandshake() throws Exception {
        try (var listener =
                tcp.listen("127.0.0.1", 0, PRODUCER, ListenOptions.of("right"), new TcpTransportTest.Source(1))) {
            // The producer's fields, altered on their way to the reader.
            try (var relay = new FrameRelay(
                    listener.port(),
                    f -> f.type() == Frames.PROOF
                            ? new FrameRelay.Frame(f.toReader(), f.type(), replace(f.payload(), "prefill", "prefilx"))
                            : f)) {
                var e = assertThrows(
                        TransferException.class,
                        () -> tcp.connect("127.0.0.1", relay.port(), READER, TcpTransportTest.client("right")));
                assertTrue(e.getMessage().contains("did not prove the shared secret"), e.getMessage());
            }
            // The reader's fields, altered on their way to the producer.
            try (var relay = new FrameRelay(
                    listener.port(),
                    f -> f.type() == Frames.FIELDS
                            ? new FrameRelay.Frame(f.toReader(), f.type(), replace(f.payload(), "decode", "decodx"))
                            : f)) {
                var e = assertThrows(
                        TransferException.class,
                        () -> tcp.connect("127.0.0.1", relay.port(), READER, TcpTransportTest.client("right")));
                assertEquals(TransferException.Kind.HANDSHAKE, e.kind());
                assertTrue(e.getMessage().contains("MAC that does not match"), e.getMessage());
            }
            // The producer's confirmation, altered on its way to the reader.
            try (var relay = new FrameRelay(
                    listener.port(),
                    f -> f.type() == Frames.OK
                            ? new FrameRelay.Frame(f.toReader(), f.type(), random(SharedSecret.MAC_BYTES))
                            : f)) {
                var e = assertThrows(
                        TransferException.class,
                        () -> tcp.connect("127.0.0.1", relay.port(), READER, TcpTransportTest.client("right")));
                assertTrue(e.getMessage().contains("did not confirm the handshake"), e.getMessage());
            }
            Map<String, Long> counters = listener.takeCounters();
            assertEquals(1L, counters.get("handshakes_refused_secret"), counters.toString());
        }
    }

    /**
     * Version 2 named every block of a read on its own; 3 had no batched done notices; 4 no
     * checksum of UCX reads; 5 moved UCX blocks by gets.
     */
    @ParameterizedTest
    @ValueSource(bytes = {2, 3, 4, 5})
    void aProducerOfAnEarlierProtocolVersionIsReportedClearly(byte version) throws Exception {
        assertEquals(6, Handshake.VERSION, "this engine speaks version 6");
        try (var fake = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread producer = Thread.ofPlatform().daemon().start(() -> {
                try (RawConnection raw = RawConnection.of(fake.accept())) {
                    raw.send(Frames.CHALLENGE, Frames.concat(new byte[] {version}, random(Handshake.NONCE_BYTES)));
                    raw.rest();
                } catch (IOException e) {
                    // the reader hung up
                }
            });
            var e = assertThrows(
                    TransferException.class,
                    () -> tcp.connect(
                            "127.0.0.1",
                            fake.getLocalPort(),
                            READER,
                            ConnectOptions.of("right", Duration.ofSeconds(10))));
            assertEquals(TransferException.Kind.HANDSHAKE, e.kind(), e.getMessage());
            assertTrue(
                    e.getMessage().contains("version " + version + ", this engine " + Handshake.VERSION),
                    e.getMessage());
            assertTrue(e.getMessage().contains("run the same kvconnect version"), e.getMessage());
            producer.join(BOUND_MILLIS);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4})
    void aReaderOfAnEarlierProtocolVersionIsRefusedNamingTheProtocolField(int version) throws Exception {
        var fields = new java.util.LinkedHashMap<>(READER.fields());
        fields.put("protocol", "nixl-like-tcp/" + version);
        Compat older = new Compat(READER.engineId(), READER.rank(), fields);
        try (var listener =
                tcp.listen("127.0.0.1", 0, PRODUCER, ListenOptions.of("right"), new TcpTransportTest.Source(16))) {
            var e = assertThrows(
                    TransferException.class,
                    () -> tcp.connect(
                            "127.0.0.1", listener.port(), older, ConnectOptions.of("right", Duration.ofSeconds(10))));
            assertEquals(TransferException.Kind.HANDSHAKE, e.kind(), e.getMessage());
            assertTrue(e.getMessage().contains("protocol differs"), e.getMessage());
            assertTrue(e.getMessage().contains("nixl-like-tcp/" + Handshake.VERSION), e.getMessage());
        }
    }
}
