package io.kvconnect.nixl.transport;

import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.worker.BlockSend;
import io.kvconnect.api.worker.CopyFailedException;
import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.api.worker.MemoryKind;
import io.kvconnect.core.memory.EngineBlockCopyService;
import io.kvconnect.core.memory.HostKvMemory;
import io.kvconnect.nixl.protocol.Compat;
import io.kvconnect.nixl.protocol.ReadRequest;
import io.kvconnect.nixl.protocol.SharedSecret;
import io.kvconnect.nixl.protocol.TransferException;
import io.kvconnect.nixl.protocol.TransferRef;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;

/**
 * Transfer throughput of the transport backends for blocks of 16 KiB to 4 MiB, against a raw
 * loopback socket copy of the same bytes measured in the same run (one thread writes direct
 * buffers into a socket channel, another reads them: the ceiling for any TCP transport on this
 * host); each is the best of three alternating rounds. A transport's number includes what a real
 * read does, out of a producer KV cache in host memory behind the engine's copy service, into the
 * consumer's buffer:
 *
 * <ul>
 *   <li>{@code tcp}: the engine writes the blocks straight from the KV cache into the socket
 *       ({@code BlockCopyService.openSend}), as the connector does where the KV cache is host
 *       memory;
 *   <li>{@code staged}: the producer copies the blocks into its staging buffer first and sends
 *       that, as it does where the KV cache is a device's;
 *   <li>{@code ucx}: tagged messages the producer sends from its staging memory (always staged),
 *       over whatever {@code UCX_TLS} allows: shared memory by default on one host, {@code
 *       UCX_TLS=tcp} for UCX over TCP.
 * </ul>
 *
 * <p>Each row also says how many blocks one read request names and in how many descriptors (runs
 * of consecutive blocks): on real systems the number of descriptors, not the link, dominates the
 * time of a transfer.
 *
 * <p>UCX is measured twice in each round: with reads verified against the producer's checksum (the
 * default, {@code verify_reads}) and without ({@code unverified}).
 *
 * <p>Run with {@code scripts/nixl-transport.sh [--quick]}; not a unit test (timings are not
 * asserted anywhere). The UCX column says why it is missing where UCX does not work.
 */
public final class TransportThroughput {
    private TransportThroughput() {}

    /** Runs the measurement; {@code --quick} moves less data per point. */
    public static void main(String[] args) throws Exception {
        boolean quick = args.length > 0 && args[0].equals("--quick");
        long bytesPerPoint = quick ? 64L << 20 : 256L << 20;
        int[] blockKiB = {16, 64, 256, 1024, 4096};
        var ucxAvailable = UcxTransport.availability();
        System.out.println("ucx: "
                + (ucxAvailable.available()
                        ? UcxTransport.describeEnvironment()
                        : "not available: " + ucxAvailable.reason()));
        // Descriptors: what a request names. Protocol 3 names each run of consecutive blocks once
        // (these reads are one run); protocol 2 named every block.
        System.out.printf(
                Locale.ROOT,
                "%-10s %10s %9s %15s %10s %10s %10s %10s %10s %10s %15s %15s%n",
                "block",
                "blocks/req",
                "desc/req",
                "raw socket GB/s",
                "tcp GB/s",
                "tcp/raw",
                "staged",
                "staged/raw",
                "ucx GB/s",
                "ucx/raw",
                "unverified GB/s",
                "unverified/raw");
        for (int kib : blockKiB) {
            long blockBytes = kib * 1024L;
            // A read request asks for up to 8 MiB (at least one block), as the connector's chunks do.
            int perRead = (int) Math.max(1, (8L << 20) / blockBytes);
            // Alternating rounds, best of each: on a shared machine the slowest rounds measure the
            // neighbours, not the copy.
            double raw = 0;
            double tcp = 0;
            double staged = 0;
            double ucx = 0;
            double unverified = 0;
            for (int round = 0; round < 3; round++) {
                raw = Math.max(raw, rawSocket(blockBytes * perRead, bytesPerPoint));
                tcp = Math.max(tcp, transport(new TcpTransport(), blockBytes, perRead, bytesPerPoint, true, true));
                staged = Math.max(
                        staged, transport(new TcpTransport(), blockBytes, perRead, bytesPerPoint, true, false));
                if (ucxAvailable.available()) {
                    ucx = Math.max(ucx, transport(new UcxTransport(), blockBytes, perRead, bytesPerPoint, true, false));
                    // verify_reads off: no checksum on either side.
                    unverified = Math.max(
                            unverified,
                            transport(new UcxTransport(), blockBytes, perRead, bytesPerPoint, false, false));
                }
            }
            int[] ids = new int[perRead];
            java.util.Arrays.setAll(ids, i -> i);
            System.out.printf(
                    Locale.ROOT,
                    "%-10s %10d %9d %15.2f %10.2f %10.2f %10.2f %10.2f %10s %10s %15s %15s%n",
                    kib + " KiB",
                    perRead,
                    ReadRequest.of(new TransferRef("t", TcpTransportTest.TOKEN), ids)
                            .descriptors(),
                    raw,
                    tcp,
                    tcp / raw,
                    staged,
                    staged / raw,
                    ucxAvailable.available() ? String.format(Locale.ROOT, "%.2f", ucx) : "-",
                    ucxAvailable.available() ? String.format(Locale.ROOT, "%.2f", ucx / raw) : "-",
                    ucxAvailable.available() ? String.format(Locale.ROOT, "%.2f", unverified) : "-",
                    ucxAvailable.available() ? String.format(Locale.ROOT, "%.2f", unverified / raw) : "-");
        }
    }

    /** GB/s of one writer thread and one reader over a loopback socket, {@code chunk} bytes per write. */
    static double rawSocket(long chunk, long total) throws Exception {
        try (var server = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                var arena = Arena.ofShared()) {
            ByteBuffer src = arena.allocate(chunk).asByteBuffer();
            ByteBuffer dst = arena.allocate(chunk).asByteBuffer();
            Thread writer = Thread.ofPlatform().start(() -> {
                try (SocketChannel c = SocketChannel.open(server.getLocalAddress())) {
                    for (long sent = 0; sent < total; sent += chunk) {
                        src.clear();
                        while (src.hasRemaining()) {
                            c.write(src);
                        }
                    }
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            long t0 = System.nanoTime();
            try (SocketChannel c = server.accept()) {
                long got = 0;
                while (got < total) {
                    dst.clear();
                    int n = c.read(dst);
                    if (n < 0) {
                        break;
                    }
                    got += n;
                }
            }
            double s = (System.nanoTime() - t0) / 1e9;
            writer.join();
            return total / s / 1e9;
        }
    }

    /** The handshake fields of a one-layer model whose blocks are {@code blockBytes} long. */
    static Compat compat(long blockBytes, int blocks) {
        return Compat.of("bench", TcpTransportTest.CONNECTOR_VERSION, layout(blockBytes, blocks));
    }

    /** A one-layer host cache of {@code blocks} blocks (and the null block) of {@code blockBytes}. */
    static KvLayout layout(long blockBytes, int blocks) {
        var model = new ModelShape("bench", 1, 1, (int) (blockBytes / 2 / 2), DType.FP16);
        return new KvLayout(model, 0, 1, blocks + 1, 1, blockBytes, LayoutKind.CROSS_LAYER, MemoryKind.HOST);
    }

    /**
     * GB/s of one-sided reads through {@code tcp} (either backend), {@code perRead} blocks per read,
     * out of a producer KV cache in host memory behind the engine's copy service: staged (the
     * producer copies the blocks into its staging buffer, then sends that), or with {@code direct}
     * sent straight from the KV cache where the backend does that (TCP; UCX always stages).
     */
    static double transport(Transport tcp, long blockBytes, int perRead, long total, boolean verify, boolean direct)
            throws Exception {
        Compat compat = compat(blockBytes, perRead);
        try (var kv = HostKvMemory.allocate(layout(blockBytes, perRead));
                var copies = new EngineBlockCopyService(kv, "bench-copy")) {
            BlockSource source = new BlockSource() {
                @Override
                public long blockBytes() {
                    return blockBytes;
                }

                @Override
                public HostBlockBuffer allocateStaging(int slots) {
                    return copies.allocateHostBuffer(slots);
                }

                @Override
                public void check(TransferRef transfer, int[] blocks) {
                    // Every block of the cache is readable.
                }

                @Override
                public void read(TransferRef transfer, int[] blocks, HostBlockBuffer staging) throws TransferException {
                    // The copy out of KV memory a staging producer does.
                    int[] slots = new int[blocks.length];
                    java.util.Arrays.setAll(slots, i -> i);
                    try {
                        copies.copyToHost(blocks, staging, slots).await();
                    } catch (CopyFailedException | InterruptedException e) {
                        throw new TransferException(TransferException.Kind.FAILED, e.toString(), e);
                    }
                }

                @Override
                public Optional<DirectSend> openSend(TransferRef transfer, int[] blocks) throws TransferException {
                    if (!direct) {
                        return Optional.empty();
                    }
                    try {
                        BlockSend send = copies.openSend(blocks).orElseThrow();
                        return Optional.of(DirectSend.of(send, "bench blocks", () -> {}));
                    } catch (CopyFailedException e) {
                        throw new TransferException(TransferException.Kind.FAILED, e.toString(), e);
                    }
                }

                @Override
                public void done(TransferRef transfer, long connection) {}
            };
            // Block 0 is the null block, never copied or sent.
            int[] blocks = new int[perRead];
            java.util.Arrays.setAll(blocks, i -> i + 1);
            var options = new ConnectOptions(
                    SharedSecret.of("bench"), Duration.ofSeconds(5), Duration.ofSeconds(30), perRead, verify);
            var transfer = new TransferRef("t", TcpTransportTest.TOKEN);
            try (var listener = tcp.listen("127.0.0.1", 0, compat, ListenOptions.of("bench"), source);
                    var into = new ArenaBlockBuffer(perRead, blockBytes);
                    var peer = tcp.connect("127.0.0.1", listener.port(), compat, options)) {
                // Untimed warm-up of the same volume: UCX over shared memory takes a few hundred MB to
                // reach their speed (mappings, caches), and the JIT needs its rounds for TCP too.
                for (long warm = 0; warm < total; warm += perRead * blockBytes) {
                    peer.read(transfer, blocks, into);
                }
                long t0 = System.nanoTime();
                long moved = 0;
                while (moved < total) {
                    peer.read(transfer, blocks, into);
                    moved += perRead * blockBytes;
                }
                return moved / ((System.nanoTime() - t0) / 1e9) / 1e9;
            }
        }
    }
}
