package io.kvconnect.bench;

import io.kvconnect.api.ConnectorCatalog;
import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.EngineInfo;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.core.config.EngineConfig;
import io.kvconnect.core.config.JsonConnectorConfig;
import io.kvconnect.core.engine.Engine;
import io.kvconnect.core.engine.EngineSetup;
import io.kvconnect.core.memory.CopyFaults;
import io.kvconnect.core.run.EngineFactory;
import io.kvconnect.core.sched.SchedulerConfig;
import io.kvconnect.disk.DiskConnectorProvider;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The disk tier's store and load bandwidth against a plain sequential write and read of the same
 * bytes, in the same run and directory. One engine (1 worker, blocks of 1 MiB: 16 tokens of a model
 * with 16 layers, 8 KV heads of dim 128, FP16) runs {@code prompts} prompts of 15 full blocks and
 * one token to compute, so the disk tier writes every block; a second engine on the same directory
 * runs them again with an empty GPU cache, so the tier reads every block back. The tier's rates are
 * its worker's file I/O time only ({@code bytes_written / nanos_written}, {@code bytes_read /
 * nanos_read}: header, checksum, write and rename, or read and check), not the GPU copies. The plain
 * baseline writes one file of the same bytes sequentially in chunks of one block file, then reads it
 * back, with the same I/O mode (direct where the file system takes it). A report, not a test.
 *
 * <p>Run with {@code ./kvconnect bench disk [DIRECTORY] [PROMPTS]} (defaults: a new folder under
 * the system's temporary folder, 32 prompts: 480 MiB each way); the folder is deleted afterwards.
 */
public final class DiskTierBandwidth {
    private static final ModelShape MODEL = new ModelShape("bench-disk", 16, 8, 128, DType.FP16);
    private static final int BLOCK_SIZE = 16;
    private static final int BLOCKS_PER_PROMPT = 15;

    private DiskTierBandwidth() {}

    /** Entry point: {@code [DIRECTORY] [PROMPTS]}. */
    public static void main(String[] args) throws Exception {
        Path parent = args.length > 0 ? Path.of(args[0]) : Path.of(System.getProperty("java.io.tmpdir"));
        int prompts = args.length > 1 ? Integer.parseInt(args[1]) : 32;
        Files.createDirectories(parent);
        Path dir = Files.createTempDirectory(parent, "kvconnect-disk-bench");
        try {
            run(dir, prompts);
        } finally {
            deleteTree(dir);
        }
    }

    private static void run(Path dir, int prompts) throws Exception {
        Map<String, Object> tier = Map.of(
                "directory", dir.resolve("tier").toString(), "capacity", "4GiB", "staging_blocks", 32L, "load", "sync");
        List<int[]> work = new ArrayList<>();
        for (int p = 0; p < prompts; p++) {
            int[] tokens = new int[BLOCKS_PER_PROMPT * BLOCK_SIZE + 1];
            for (int t = 0; t < tokens.length; t++) {
                tokens[t] = 1 + (p * 7919 + t * 31) % 30_000;
            }
            work.add(tokens);
        }
        Map<String, Number> stored = runEngine(tier, work);
        Map<String, Number> loaded = runEngine(tier, work);
        long blockBytes = (long) BLOCK_SIZE * MODEL.numLayers() * MODEL.bytesPerTokenPerLayer(1);
        long bytes = stored.getOrDefault("bytes_written", 0).longValue();
        if (bytes == 0 || loaded.getOrDefault("bytes_read", 0).longValue() == 0) {
            throw new IllegalStateException("the tier stored or loaded nothing: " + stored + " / " + loaded);
        }
        double storeGbs = rate(bytes, stored.get("nanos_written").longValue());
        double loadGbs = rate(
                loaded.get("bytes_read").longValue(), loaded.get("nanos_read").longValue());
        Plain plain = plain(dir.resolve("plain"), bytes, blockBytes);
        System.out.printf(
                Locale.ROOT,
                "disk tier: %d MiB in blocks of %d KiB, 1 worker, %s; plain sequential file in the same folder%n",
                bytes >> 20,
                blockBytes >> 10,
                plain.mode());
        System.out.printf(Locale.ROOT, "%-8s %12s %12s %8s%n", "", "tier GB/s", "plain GB/s", "ratio");
        System.out.printf(
                Locale.ROOT, "%-8s %12.2f %12.2f %8.2f%n", "store", storeGbs, plain.write(), storeGbs / plain.write());
        System.out.printf(
                Locale.ROOT, "%-8s %12.2f %12.2f %8.2f%n", "load", loadGbs, plain.read(), loadGbs / plain.read());
    }

    /** Runs every prompt in a fresh engine on the tier's folder; returns the connector's stats. */
    private static Map<String, Number> runEngine(Map<String, Object> tier, List<int[]> work) throws Exception {
        EngineConfig config = EngineConfig.builder(MODEL, BLOCK_SIZE, 256, 1, SchedulerConfig.defaults())
                .build();
        EngineInfo info = new EngineInfo("bench-disk", MODEL, BLOCK_SIZE, 256, 1, false);
        ConnectorProvider disk = new DiskConnectorProvider();
        ConnectorCatalog catalog = new ConnectorCatalog() {
            @Override
            public Optional<ConnectorProvider> find(String name) {
                return name.equals(disk.name()) ? Optional.of(disk) : Optional.empty();
            }

            @Override
            public List<String> names() {
                return List.of(disk.name());
            }
        };
        EngineSetup.ConnectorSides sides = EngineFactory.sides(
                disk, JsonConnectorConfig.of("connector.config", tier), info, catalog, InstantSource.system());
        Engine engine = new Engine(new EngineSetup(config, Optional.of(sides), CopyFaults.NONE, false));
        try {
            for (int i = 0; i < work.size(); i++) {
                engine.addRequest("r" + i, work.get(i), 1);
                engine.drain();
            }
            if (engine.metrics().mismatches() > 0) {
                throw new IllegalStateException(
                        "the tier served wrong KV: " + engine.metrics().mismatchesByKind());
            }
        } finally {
            engine.close(); // waits for the writer thread, so every store is counted
        }
        return engine.metrics().connectorStats().map(ConnectorStats::summary).orElse(Map.of());
    }

    private record Plain(double write, double read, String mode) {}

    /** Writes {@code bytes} to one file sequentially, {@code chunk} at a time, then reads them back. */
    private static Plain plain(Path file, long bytes, long blockBytes) throws IOException {
        long chunk = blockBytes + 4096; // one block file: a 4 KiB header and the block
        OpenOption direct = directOption(file.getParent());
        String mode = direct == null ? "buffered I/O" : "direct I/O";
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(chunk, 4096);
            buffer.fill((byte) 0x5a);
            long t0 = System.nanoTime();
            try (FileChannel ch = open(file, direct, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                for (long done = 0; done < bytes; done += chunk) {
                    ByteBuffer b = buffer.asByteBuffer();
                    while (b.hasRemaining()) {
                        ch.write(b);
                    }
                }
            }
            double write = rate(bytes, System.nanoTime() - t0);
            t0 = System.nanoTime();
            try (FileChannel ch = open(file, direct, StandardOpenOption.READ)) {
                for (long done = 0; done < bytes; done += chunk) {
                    ByteBuffer b = buffer.asByteBuffer();
                    while (b.hasRemaining() && ch.read(b) >= 0) {
                        // read the whole chunk
                    }
                }
            }
            double read = rate(bytes, System.nanoTime() - t0);
            return new Plain(write, read, mode);
        }
    }

    private static FileChannel open(Path file, OpenOption direct, OpenOption... options) throws IOException {
        List<OpenOption> all = new ArrayList<>(List.of(options));
        if (direct != null) {
            all.add(direct);
        }
        return FileChannel.open(file, all.toArray(OpenOption[]::new));
    }

    /**
     * {@code com.sun.nio.file.ExtendedOpenOption.DIRECT} if {@code folder}'s file system takes it, as
     * the disk tier decides; null otherwise.
     */
    private static OpenOption directOption(Path folder) {
        OpenOption option = com.sun.nio.file.ExtendedOpenOption.DIRECT;
        Path probe = folder.resolve("probe");
        try (Arena arena = Arena.ofConfined();
                FileChannel ch = FileChannel.open(probe, StandardOpenOption.CREATE, StandardOpenOption.WRITE, option)) {
            ch.write(arena.allocate(4096, 4096).asByteBuffer());
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        } finally {
            try {
                Files.deleteIfExists(probe);
            } catch (IOException e) {
                // a leftover probe file in the benchmark's own scratch folder is harmless
            }
        }
        return option;
    }

    private static double rate(long bytes, long nanos) {
        return nanos <= 0 ? 0 : bytes / (double) nanos; // bytes per ns = GB/s
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
