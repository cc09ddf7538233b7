package io.kvconnect.nixl.transport;

import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.nixl.protocol.SharedSecret;
import io.kvconnect.nixl.protocol.TransferRef;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Latency of the first reads on a new connection between two processes, as in {@code ./kvconnect
 * disagg}: a producer process (this class with {@code producer}) serves both backends; this process
 * connects a fresh peer per backend and shape and times each read, printing the mean per read in
 * buckets of read numbers. Two shapes: small reads (4 blocks of 4 KiB) and the tiny model's loads
 * (16 blocks of 256 KiB). Each is measured twice in the same processes: the first connection pays
 * the processes' warm-up too, the second only its own. Not a unit test: run by {@code
 * scripts/nixl-transport.sh --first-reads}.
 */
public final class FirstReads {
    /** One shape of read: blocks of {@code blockBytes}, {@code perRead} per read, timed in buckets. */
    private record Shape(String name, long blockBytes, int perRead, int[] buckets) {}

    private static final List<Shape> SHAPES = List.of(
            new Shape("4 x 4 KiB", 4096, 4, new int[] {10, 100, 1000, 4000}),
            new Shape("16 x 256 KiB", 256 * 1024, 16, new int[] {1, 10, 50, 200}));

    private FirstReads() {}

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("producer")) {
            producer();
            return;
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(
                        java,
                        "--enable-native-access=ALL-UNNAMED",
                        "-cp",
                        System.getProperty("java.class.path"),
                        FirstReads.class.getName(),
                        "producer")
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        // Not closed here: the thread that drains it holds its lock; it ends with the producer.
        var out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        try {
            int[][] ports = new int[SHAPES.size()][2];
            for (int[] pair : ports) {
                pair[0] = port(out);
                pair[1] = port(out);
            }
            // Whatever else the producer prints goes on to stderr, so it never blocks on a full pipe.
            Thread.ofPlatform().daemon().start(() -> out.lines().forEach(System.err::println));
            boolean ucx = UcxTransport.availability().available();
            for (int s = 0; s < SHAPES.size(); s++) {
                Shape shape = SHAPES.get(s);
                System.out.println("mean us per read of " + shape.name() + ", by read number on a new connection");
                System.out.println(header(shape));
                for (int round = 1; round <= 2; round++) {
                    System.out.println(row("tcp #" + round, new TcpTransport(), ports[s][0], shape));
                    if (ucx) {
                        System.out.println(row("ucx #" + round, new UcxTransport(), ports[s][1], shape));
                    }
                }
            }
        } finally {
            p.getOutputStream().close();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroy(); // a producer that does not stop in time must not hold the run
            }
        }
    }

    /** The next port the producer prints; skips what else it prints (UCX may log to stdout). */
    private static int port(BufferedReader out) throws IOException {
        for (String line = out.readLine(); line != null; line = out.readLine()) {
            if (line.strip().matches("[0-9]+")) {
                return Integer.parseInt(line.strip());
            }
        }
        throw new IOException("the producer process ended before it printed its ports");
    }

    private static String header(Shape shape) {
        var sb = new StringBuilder(String.format(Locale.ROOT, "%-8s", ""));
        int from = 1;
        for (int b : shape.buckets()) {
            sb.append(String.format(Locale.ROOT, " %12s", from + "-" + b));
            from = b + 1;
        }
        return sb.append(String.format(Locale.ROOT, " %12s", "connect ms")).toString();
    }

    private static String row(String name, Transport t, int port, Shape shape) throws Exception {
        var options = new ConnectOptions(
                SharedSecret.of("bench"), Duration.ofSeconds(5), Duration.ofSeconds(30), shape.perRead());
        int[] blocks = new int[shape.perRead()];
        java.util.Arrays.setAll(blocks, i -> i);
        int[] buckets = shape.buckets();
        long[] nanos = new long[buckets[buckets.length - 1]];
        var transfer = new TransferRef("t", TcpTransportTest.TOKEN);
        long c0 = System.nanoTime();
        try (var into = new ArenaBlockBuffer(shape.perRead(), shape.blockBytes());
                var peer = t.connect(
                        "127.0.0.1", port, TransportThroughput.compat(shape.blockBytes(), shape.perRead()), options)) {
            long connect = System.nanoTime() - c0;
            for (int i = 0; i < nanos.length; i++) {
                long r0 = System.nanoTime();
                peer.read(transfer, blocks, into);
                nanos[i] = System.nanoTime() - r0;
            }
            var sb = new StringBuilder(String.format(Locale.ROOT, "%-8s", name));
            int from = 0;
            for (int b : buckets) {
                long sum = 0;
                for (int i = from; i < b; i++) {
                    sum += nanos[i];
                }
                sb.append(String.format(Locale.ROOT, " %12.1f", sum / 1e3 / (b - from)));
                from = b;
            }
            return sb.append(String.format(Locale.ROOT, " %12.1f", connect / 1e6))
                    .toString();
        }
    }

    /** Serves every shape on both backends (ports printed in order) until stdin closes. */
    private static void producer() throws Exception {
        List<Listener> listeners = new ArrayList<>();
        for (Shape shape : SHAPES) {
            BlockSource source = new FilledSource(shape.blockBytes());
            var compat = TransportThroughput.compat(shape.blockBytes(), shape.perRead());
            listeners.add(new TcpTransport().listen("127.0.0.1", 0, compat, ListenOptions.of("bench"), source));
            listeners.add(new UcxTransport().listen("127.0.0.1", 0, compat, ListenOptions.of("bench"), source));
        }
        for (Listener l : listeners) {
            System.out.println(l.port());
        }
        System.out.flush();
        while (System.in.read() >= 0) {
            // serving until the parent closes stdin
        }
        for (Listener l : listeners) {
            l.close();
        }
    }

    /** Every block of every transfer readable; a block's bytes are its id. */
    private record FilledSource(long blockBytes) implements BlockSource {
        @Override
        public HostBlockBuffer allocateStaging(int slots) {
            return new ArenaBlockBuffer(slots, blockBytes);
        }

        @Override
        public void check(TransferRef transfer, int[] blocks) {}

        @Override
        public void read(TransferRef transfer, int[] blocks, HostBlockBuffer staging) {
            for (int i = 0; i < blocks.length; i++) {
                staging.slot(i).fill((byte) blocks[i]);
            }
        }

        @Override
        public void done(TransferRef transfer, long connection) {}
    }
}
