package io.kvconnect.nixl.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.nixl.protocol.Compat;
import io.kvconnect.nixl.protocol.Frames;
import io.kvconnect.nixl.protocol.Handshake;
import io.kvconnect.nixl.protocol.ReadRequest;
import io.kvconnect.nixl.protocol.SharedSecret;
import io.kvconnect.nixl.protocol.TransferException;
import io.kvconnect.nixl.protocol.TransferRef;
import io.kvconnect.nixl.protocol.Wire;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Fuzzed handshake and transfer frames against both ends of the TCP wire protocol (which is also
 * the UCX backend's control channel).
 *
 * <p>Producer side: a stranger sends random bytes or mutated frames (wrong magic, random types,
 * lengths cut short, too long, negative or huge, read requests with corrupted fields or a quarter
 * million block ids), before or after a valid handshake, then stops sending. The listener must
 * close that connection within a bounded time, never allocate staging for more blocks than a
 * transfer holds, and go on serving a well-formed reader.
 *
 * <p>Reader side: a fake producer answers the handshake or a read with random or mutated frames,
 * or with silence. The reader must end with a {@link TransferException} (or, when the answer
 * happens to be a well-formed one, succeed) within its timeouts, never with another exception.
 *
 * <p>No exception may escape any thread: an uncaught one anywhere fails the container.
 */
class WireFuzzTest {
    private static final ModelShape MODEL = new ModelShape("m", 2, 2, 16, DType.FP16);
    private static final String SECRET = "s3cret";
    /** Liveness bound only: how long the listener may take to close a hostile connection. */
    private static final int CLOSE_BOUND_MILLIS = 15_000;

    private static final Duration SHORT = Duration.ofMillis(150);

    private static final List<String> UNCAUGHT = new CopyOnWriteArrayList<>();
    private static Thread.UncaughtExceptionHandler previousHandler;
    private static Compat server;
    private static long blockBytes;
    private static CountingSource source;
    private static Listener withSecret;
    private static Listener withoutSecret;

    /** The test source, remembering the largest staging buffer it was asked for. */
    static final class CountingSource extends TcpTransportTest.Source {
        final AtomicInteger maxSlots = new AtomicInteger();

        /** Reads that got as far as copying blocks. */
        final AtomicInteger reads = new AtomicInteger();

        CountingSource(long blockBytes) {
            super(blockBytes);
        }

        @Override
        public void read(TransferRef transfer, int[] blocks, HostBlockBuffer staging) throws TransferException {
            super.read(transfer, blocks, staging);
            reads.incrementAndGet();
        }

        @Override
        public HostBlockBuffer allocateStaging(int slots) {
            maxSlots.accumulateAndGet(slots, Math::max);
            return super.allocateStaging(slots);
        }
    }

    @BeforeContainer
    static void start() throws IOException {
        previousHandler = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> UNCAUGHT.add(t.getName() + ": " + e));
        server = TcpTransportTest.compat("prefill", MODEL, 4);
        blockBytes = Long.parseLong(server.fields().get("bytes_per_block"));
        source = new CountingSource(blockBytes);
        var tcp = new TcpTransport();
        withSecret = tcp.listen("127.0.0.1", 0, server, ListenOptions.of(SECRET), source);
        // Without a secret a stranger gets past the MACs, so its handshake fields are parsed.
        withoutSecret = tcp.listen("127.0.0.1", 0, server, ListenOptions.of(""), source);
    }

    @AfterContainer
    static void stop() {
        withSecret.close();
        withoutSecret.close();
        Thread.setDefaultUncaughtExceptionHandler(previousHandler);
        assertEquals(List.of(), UNCAUGHT, "exceptions escaped a thread");
    }

    // ---- the producer's listener under attack ----------------------------------------------------

    /**
     * What a stranger sends.
     *
     * @param secretListener whether it attacks the listener with a secret (else the one without)
     * @param handshake whether it completes a valid handshake first
     * @param bytes what it sends then, before it stops sending
     */
    record Attack(boolean secretListener, boolean handshake, byte[] bytes) {
        @Override
        public String toString() {
            return "Attack[secret=" + secretListener + ", handshake=" + handshake + ", " + bytes.length + " bytes: "
                    + Arrays.toString(Arrays.copyOf(bytes, Math.min(bytes.length, 48))) + "]";
        }
    }

    @Property(tries = 250)
    void hostileFramesEndTheConnectionAndTheListenerKeepsServing(@ForAll("attacks") Attack attack) throws Exception {
        Listener target = attack.secretListener() ? withSecret : withoutSecret;
        String secret = attack.secretListener() ? SECRET : "";
        SocketChannel channel =
                SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), target.port()));
        try (Wire wire = new Wire(channel)) {
            if (attack.handshake()) {
                Handshake.asReader(
                        wire,
                        TcpTransportTest.compat("fuzzer", MODEL, 4),
                        SharedSecret.of(secret),
                        System.nanoTime() + CLOSE_BOUND_MILLIS * 1_000_000L,
                        "listener");
            }
            try {
                wire.writeFully(ByteBuffer.wrap(attack.bytes()), CLOSE_BOUND_MILLIS);
                channel.shutdownOutput();
            } catch (IOException e) {
                // The listener already hung up on us: that is an answer too.
            }
            assertTrue(
                    closedByPeer(wire),
                    "the listener did not close the connection within " + CLOSE_BOUND_MILLIS + " ms");
        }
        assertTrue(source.maxSlots.get() <= 64, "staging for " + source.maxSlots.get() + " blocks was allocated");
        // Still serving a well-formed reader.
        try (var into = new ArenaBlockBuffer(2, blockBytes);
                var peer = new TcpTransport()
                        .connect(
                                "127.0.0.1",
                                target.port(),
                                TcpTransportTest.compat("decode", MODEL, 4),
                                ConnectOptions.of(secret, Duration.ofSeconds(5)))) {
            peer.read(TcpTransportTest.T1, new int[] {3, 5}, into);
            assertEquals(5, into.slot(1).get(ValueLayout.JAVA_BYTE, 0));
        }
        assertEquals(List.of(), UNCAUGHT, "exceptions escaped a thread");
    }

    @Example
    void aReadNamingMoreBlocksThanTheTransferHoldsIsRefusedBeforeStagingIsSized() throws Exception {
        try (Wire wire = new Wire(
                SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), withSecret.port())))) {
            Handshake.asReader(
                    wire,
                    TcpTransportTest.compat("fuzzer", MODEL, 4),
                    SharedSecret.of(SECRET),
                    System.nanoTime() + CLOSE_BOUND_MILLIS * 1_000_000L,
                    "listener");
            // The test transfer holds 64 blocks; the transport's own bound is 4096 per read.
            for (int n : new int[] {65, 5_000, 200_000, Integer.MAX_VALUE}) {
                wire.writeFrame(Frames.READ, manyBlocks(n), CLOSE_BOUND_MILLIS);
                var h = wire.readHeader(CLOSE_BOUND_MILLIS);
                byte[] answer = wire.readPayload(h, CLOSE_BOUND_MILLIS);
                assertEquals(Frames.ERROR, h.type(), "a read of " + n + " blocks");
                assertEquals(TransferException.Kind.FAILED, Frames.errorKind(answer));
            }
            assertTrue(source.maxSlots.get() <= 64, "staging for " + source.maxSlots.get() + " blocks was allocated");
            // The connection is still in step: a well-formed read on it is served.
            wire.writeFrame(
                    Frames.READ,
                    ReadRequest.of(TcpTransportTest.T1, new int[] {3, 5}).encode(),
                    CLOSE_BOUND_MILLIS);
            var h = wire.readHeader(CLOSE_BOUND_MILLIS);
            assertEquals(Frames.DATA, h.type());
            assertEquals(2 * blockBytes, h.length());
        }
    }

    @Example
    void runsThatOverlapOrLeaveTheGrantAreRefusedAsStrictlyAsSingleBlocks() throws Exception {
        try (Wire wire = new Wire(
                SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), withSecret.port())))) {
            Handshake.asReader(
                    wire,
                    TcpTransportTest.compat("fuzzer", MODEL, 4),
                    SharedSecret.of(SECRET),
                    System.nanoTime() + CLOSE_BOUND_MILLIS * 1_000_000L,
                    "listener");
            int copiedBefore = source.reads.get();
            // Transfer t1 grants blocks 0 to 63.
            int[][] hostile = {
                {3, 2, 4, 1}, // the second run lies inside the first
                {10, 5, 2, 9}, // the second run ends inside the first
                {7, 1, 7, 1}, // the same block twice
                {60, 10}, // runs past the grant's last block
                {63, 1, 64, 1}, // a second run just past it
                {Integer.MAX_VALUE - 1, 2}, // up to the largest block id
                {0, 64, 0, 64}, // within the grant twice: more than it holds, and overlapping
            };
            for (int[] runs : hostile) {
                wire.writeFrame(Frames.READ, new ReadRequest(TcpTransportTest.T1, runs).encode(), CLOSE_BOUND_MILLIS);
                var h = wire.readHeader(CLOSE_BOUND_MILLIS);
                byte[] answer = wire.readPayload(h, CLOSE_BOUND_MILLIS);
                assertEquals(Frames.ERROR, h.type(), "runs " + Arrays.toString(runs));
                assertEquals(TransferException.Kind.FAILED, Frames.errorKind(answer), Frames.errorMessage(answer));
            }
            assertEquals(copiedBefore, source.reads.get(), "blocks were copied for a refused read");
            // Still in step: the whole grant as one run is served.
            wire.writeFrame(
                    Frames.READ, new ReadRequest(TcpTransportTest.T1, new int[] {0, 64}).encode(), CLOSE_BOUND_MILLIS);
            var h = wire.readHeader(CLOSE_BOUND_MILLIS);
            assertEquals(Frames.DATA, h.type());
            assertEquals(64 * blockBytes, h.length());
        }
    }

    /** Reads (and discards) until end of stream; false if the bound passed first. */
    private static boolean closedByPeer(Wire wire) {
        ByteBuffer sink = ByteBuffer.allocate(8192);
        try {
            while (true) {
                sink.clear();
                wire.readFully(sink, CLOSE_BOUND_MILLIS);
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // end of stream, or reset by the peer
        }
    }

    @Provide
    Arbitrary<Attack> attacks() {
        Arbitrary<byte[]> frames = frame().list().ofMinSize(1).ofMaxSize(4).map(WireFuzzTest::join);
        Arbitrary<byte[]> bytes = Arbitraries.frequencyOf(
                Tuple.of(
                        6,
                        Combinators.combine(
                                        frames,
                                        Arbitraries.doubles().between(0, 1),
                                        Arbitraries.integers().between(0, 3))
                                .as(WireFuzzTest::cut)),
                Tuple.of(1, randomBytes(300)));
        return Combinators.combine(Arbitraries.of(true, false), Arbitraries.of(true, false), bytes)
                .as(Attack::new);
    }

    /** {@code bytes}, possibly cut short (a quarter of the time); {@code keep} is the fraction kept. */
    private static byte[] cut(byte[] bytes, double keep, int whether) {
        return whether == 0 ? Arrays.copyOf(bytes, (int) (bytes.length * keep)) : bytes;
    }

    private static Arbitrary<byte[]> randomBytes(int max) {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(max);
    }

    /** How a frame's length field relates to its payload. */
    enum Length {
        EXACT,
        SHORTER,
        LONGER,
        NEGATIVE,
        HUGE,
        OVER_CONTROL
    }

    private static Arbitrary<byte[]> frame() {
        Arbitrary<Byte> type = Arbitraries.frequencyOf(
                Tuple.of(8, Arbitraries.bytes().between((byte) 1, (byte) 12)), Tuple.of(1, Arbitraries.bytes()));
        Arbitrary<byte[]> payload = Arbitraries.frequencyOf(
                Tuple.of(4, randomBytes(200)),
                Tuple.of(6, readRequest()),
                Tuple.of(2, Arbitraries.of("t1", "gone", "", "x\u0000y").map(s -> s.getBytes(StandardCharsets.UTF_8))),
                Tuple.of(1, Arbitraries.of(manyBlocks(5_000), manyBlocks(200_000))));
        Arbitrary<Length> length = Arbitraries.frequencyOf(
                Tuple.of(10, Arbitraries.just(Length.EXACT)), Tuple.of(5, Arbitraries.of(Length.values())));
        Arbitrary<Boolean> badMagic =
                Arbitraries.frequencyOf(Tuple.of(15, Arbitraries.just(false)), Tuple.of(1, Arbitraries.just(true)));
        // Read requests mostly as reads, so their fields get past the framing.
        Arbitrary<byte[]> read = Combinators.combine(
                        Arbitraries.just(Frames.READ),
                        Arbitraries.frequencyOf(
                                Tuple.of(8, readRequest()),
                                Tuple.of(1, Arbitraries.of(manyBlocks(65), manyBlocks(5_000), manyBlocks(200_000)))),
                        length,
                        badMagic)
                .as(WireFuzzTest::encode);
        return Arbitraries.oneOf(
                Combinators.combine(type, payload, length, badMagic).as(WireFuzzTest::encode), read);
    }

    private static byte[] encode(byte type, byte[] payload, Length length, boolean badMagic) {
        int declared =
                switch (length) {
                    case EXACT -> payload.length;
                    case SHORTER -> Math.max(0, payload.length - 1 - payload.length / 2);
                    case LONGER -> payload.length + 1 + payload.length / 3;
                    case NEGATIVE -> -1 - payload.length;
                    case HUGE -> Integer.MAX_VALUE;
                    case OVER_CONTROL -> Frames.MAX_CONTROL + 1;
                };
        return ByteBuffer.allocate(Frames.HEADER_BYTES + payload.length)
                .putInt(badMagic ? 0x12345678 : Frames.MAGIC)
                .put(type)
                .putInt(declared)
                .put(payload)
                .array();
    }

    /** A read request with corrupted fields: id length, descriptor count and runs. */
    private static Arbitrary<byte[]> readRequest() {
        Arbitrary<String> id = Arbitraries.frequencyOf(
                Tuple.of(5, Arbitraries.of("t1", "gone", "unknown")),
                Tuple.of(1, Arbitraries.strings().ofMaxLength(20)));
        Arbitrary<Integer> idLengthDelta = Arbitraries.frequencyOf(
                Tuple.of(8, Arbitraries.just(0)),
                Tuple.of(1, Arbitraries.integers().between(-5, 5)),
                Tuple.of(1, Arbitraries.of(Integer.MIN_VALUE / 2, Integer.MAX_VALUE / 2)));
        Arbitrary<List<Integer>> blocks = Arbitraries.frequencyOf(
                        Tuple.of(5, Arbitraries.integers().between(0, 70)), Tuple.of(1, Arbitraries.integers()))
                .list()
                .ofMaxSize(80);
        Arbitrary<Integer> countDelta = Arbitraries.frequencyOf(
                Tuple.of(8, Arbitraries.just(0)),
                Tuple.of(1, Arbitraries.integers().between(-3, 3)),
                Tuple.of(1, Arbitraries.of(Integer.MIN_VALUE, Integer.MAX_VALUE, 262_143)));
        Arbitrary<String> token = Arbitraries.frequencyOf(
                Tuple.of(5, Arbitraries.just(TcpTransportTest.TOKEN)),
                Tuple.of(1, Arbitraries.strings().ofMaxLength(80)));
        return Combinators.combine(id, idLengthDelta, token, blocks, countDelta).as((s, dl, t, b, dc) -> {
            byte[] idBytes = s.getBytes(StandardCharsets.UTF_8);
            byte[] tokenBytes = t.getBytes(StandardCharsets.UTF_8);
            var buf = ByteBuffer.allocate(12 + idBytes.length + tokenBytes.length + 4 * b.size());
            buf.putInt(idBytes.length + dl)
                    .put(idBytes)
                    .putInt(tokenBytes.length)
                    .put(tokenBytes)
                    .putInt(b.size() / 2 + dc);
            b.forEach(buf::putInt);
            return buf.array();
        });
    }

    /** A well-formed read of transfer t1 naming one run of {@code n} blocks from block 0. */
    private static byte[] manyBlocks(int n) {
        return new ReadRequest(TcpTransportTest.T1, new int[] {0, n}).encode();
    }

    private static byte[] join(List<byte[]> parts) {
        var out = new java.io.ByteArrayOutputStream();
        parts.forEach(out::writeBytes);
        return out.toByteArray();
    }

    // ---- the reader against a hostile producer ---------------------------------------------------

    /**
     * What a fake producer does.
     *
     * @param handshake whether it plays a valid handshake first (then answers the read)
     * @param answer the bytes it sends (instead of the challenge, or as the read's answer)
     * @param silent whether it then keeps the connection open without a word (else it closes)
     */
    record Answer(boolean handshake, byte[] answer, boolean silent) {
        @Override
        public String toString() {
            return "Answer[handshake=" + handshake + ", silent=" + silent + ", " + answer.length + " bytes: "
                    + Arrays.toString(Arrays.copyOf(answer, Math.min(answer.length, 48))) + "]";
        }
    }

    @Property(tries = 200)
    void hostileAnswersEndAReadWithATransferException(@ForAll("answers") Answer answer) throws Exception {
        try (ServerSocketChannel fake = TcpTransportTest.loopbackServer()) {
            List<Throwable> fakeErrors = new CopyOnWriteArrayList<>();
            Thread producer = Thread.ofPlatform().daemon().start(() -> {
                try (Wire wire = answer.handshake()
                        ? TcpTransportTest.acceptAuthenticated(fake, server, "")
                        : new Wire(fake.accept())) {
                    if (answer.handshake()) {
                        wire.readPayload(wire.readHeader(CLOSE_BOUND_MILLIS), CLOSE_BOUND_MILLIS); // the read
                    }
                    wire.writeFully(ByteBuffer.wrap(answer.answer()), CLOSE_BOUND_MILLIS);
                    if (answer.silent()) {
                        closedByPeer(wire); // until the reader gives up
                    }
                } catch (IOException e) {
                    // The reader hung up: expected for many answers.
                } catch (RuntimeException | Error e) {
                    fakeErrors.add(e);
                }
            });
            try (var into = new ArenaBlockBuffer(2, blockBytes)) {
                Peer peer = null;
                try {
                    peer = new TcpTransport()
                            .connect(
                                    "127.0.0.1",
                                    TcpTransportTest.port(fake),
                                    TcpTransportTest.compat("decode", MODEL, 4),
                                    ConnectOptions.of("", SHORT));
                    peer.read(TcpTransportTest.T1, new int[] {3, 5}, into);
                } catch (TransferException e) {
                    assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), "an error says why");
                } finally {
                    if (peer != null) {
                        peer.close();
                    }
                }
            }
            producer.join(CLOSE_BOUND_MILLIS);
            assertEquals(List.of(), fakeErrors);
        }
        assertEquals(List.of(), UNCAUGHT, "exceptions escaped a thread");
    }

    @Provide
    Arbitrary<Answer> answers() {
        Arbitrary<byte[]> frames =
                answerFrame().list().ofMinSize(1).ofMaxSize(3).map(WireFuzzTest::join);
        Arbitrary<byte[]> bytes = Arbitraries.frequencyOf(
                Tuple.of(
                        6,
                        Combinators.combine(
                                        frames,
                                        Arbitraries.doubles().between(0, 1),
                                        Arbitraries.integers().between(0, 3))
                                .as(WireFuzzTest::cut)),
                Tuple.of(1, randomBytes(300)));
        Arbitrary<Boolean> silent =
                Arbitraries.frequencyOf(Tuple.of(8, Arbitraries.just(false)), Tuple.of(1, Arbitraries.just(true)));
        return Combinators.combine(Arbitraries.of(true, false), bytes, silent).as(Answer::new);
    }

    /** Frames a producer could send: challenges, data of right and wrong sizes, errors, junk. */
    private static Arbitrary<byte[]> answerFrame() {
        Arbitrary<byte[]> challenge = Arbitraries.frequencyOf(
                Tuple.of(2, randomBytes(120)),
                Tuple.of(
                        2,
                        Arbitraries.strings()
                                .ofMaxLength(80)
                                .map(s -> Frames.concat(new byte[32], s.getBytes(StandardCharsets.UTF_8)))),
                Tuple.of(
                        2,
                        Arbitraries.just(Frames.concat(
                                new byte[32],
                                server == null ? new byte[0] : server.encode().getBytes(StandardCharsets.UTF_8)))),
                // This protocol's challenge, then proofs that cannot be right.
                Tuple.of(2, Arbitraries.just(Frames.concat(new byte[] {Handshake.VERSION}, new byte[32]))),
                Tuple.of(
                        2,
                        Arbitraries.just(Frames.concat(
                                new byte[32],
                                server == null ? new byte[0] : server.encode().getBytes(StandardCharsets.UTF_8)))));
        Arbitrary<byte[]> payload = Arbitraries.frequencyOf(
                Tuple.of(3, challenge),
                Tuple.of(2, Arbitraries.of(1, 2, 3).map(n -> new byte[n * 1024])),
                Tuple.of(
                        2,
                        Combinators.combine(Arbitraries.bytes(), randomBytes(60))
                                .as((k, m) -> Frames.concat(new byte[] {k}, m))));
        Arbitrary<Byte> type = Arbitraries.frequencyOf(
                Tuple.of(8, Arbitraries.bytes().between((byte) 1, (byte) 12)), Tuple.of(1, Arbitraries.bytes()));
        Arbitrary<Length> length = Arbitraries.frequencyOf(
                Tuple.of(10, Arbitraries.just(Length.EXACT)), Tuple.of(5, Arbitraries.of(Length.values())));
        Arbitrary<Boolean> badMagic =
                Arbitraries.frequencyOf(Tuple.of(15, Arbitraries.just(false)), Tuple.of(1, Arbitraries.just(true)));
        return Combinators.combine(type, payload, length, badMagic).as(WireFuzzTest::encode);
    }
}
