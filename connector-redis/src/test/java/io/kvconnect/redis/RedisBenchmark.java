package io.kvconnect.redis;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.testkit.ConnectorConfigs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Throughput and per-block latency of the connector's Redis data path (a block's value encoded
 * with its header and checksum, written; read, checked and copied into host memory) against raw
 * SET and GET of the payload alone, through the same client, against the same freshly started
 * {@code redis-server}, in the same run. Not part of the test suite; run with
 *
 * <pre>mvn -pl connector-redis surefire:test -Dtest=RedisBenchmark -Dkvconnect.redis.bench=true</pre>
 *
 * and read {@code connector-redis/target/redis-benchmark.txt}.
 */
@EnabledIfSystemProperty(named = "kvconnect.redis.bench", matches = "true")
class RedisBenchmark {
    private static final int WINDOW = 32;
    private static final long BYTES_PER_PASS = 256L << 20;
    private static final int[] SIZES = {64 << 10, 512 << 10, 2 << 20};

    @Test
    void connectorPathAgainstRawSetAndGet() throws Exception {
        RedisServer.assumeInstalled();
        StringBuilder out = new StringBuilder();
        out.append(String.format(
                Locale.ROOT, "%-10s %-16s %10s %10s %10s%n", "block", "path", "GB/s", "p50 us", "p99 us"));
        try (RedisServer server = RedisServer.start();
                Arena arena = Arena.ofShared()) {
            RedisConfig config = RedisConfig.parse(
                    ConnectorConfigs.of("bench", Map.of("servers", List.of(server.address()), "timeout", "30s")),
                    n -> null);
            try (RedisStore store = new RedisStore(config, "bench")) {
                for (int size : SIZES) {
                    MemorySegment slot = arena.allocate(size);
                    ValueSeal seal = ValueSeal.checksum();
                    SplittableRandom random = new SplittableRandom(size);
                    for (long i = 0; i < size; i += 8) {
                        slot.set(ValueLayout.JAVA_LONG_UNALIGNED, i, random.nextLong());
                    }
                    int blocks = (int) Math.max(64, BYTES_PER_PASS / size);
                    byte[][] rawKeys = keys("raw:" + size + ":", blocks);
                    byte[][] kvKeys = keys("kvc:" + size + ":", blocks);
                    BlockHash[] hashes = new BlockHash[blocks];
                    for (int i = 0; i < blocks; i++) {
                        hashes[i] = new BlockHash(size, i, 0, 0);
                    }
                    for (int pass = 0; pass < 2; pass++) { // the first pass warms up
                        boolean report = pass == 1;
                        Result rawSet = run(blocks, size, i -> {
                            byte[] v = new byte[size];
                            MemorySegment.copy(slot, ValueLayout.JAVA_BYTE, 0, v, 0, size);
                            return store.set(rawKeys[i], v);
                        });
                        Result kvSet = run(
                                blocks,
                                size,
                                i -> store.set(kvKeys[i], BlockValue.encode(1, 0, hashes[i], slot, seal)));
                        MemorySegment into = arena.allocate(size);
                        // GETRANGE of the whole value: the reply GET sends, and what loads use.
                        Result rawGet = run(blocks, size, i -> store.getAtMost(rawKeys[i], size)
                                .thenApply(v -> {
                                    MemorySegment.copy(v, 0, into, ValueLayout.JAVA_BYTE, 0, v.length);
                                    return v;
                                }));
                        Result kvGet =
                                run(blocks, size, i -> store.getAtMost(kvKeys[i], BlockValue.headerBytes(seal) + size)
                                        .thenApply(v -> {
                                            if (BlockValue.check(v, 1, 0, hashes[i], size, seal) != null) {
                                                throw new IllegalStateException("refused");
                                            }
                                            BlockValue.copyPayload(v, into);
                                            return v;
                                        }));
                        if (report) {
                            String b = (size >> 10) + "KiB";
                            out.append(rawSet.line(b, "raw SET"));
                            out.append(kvSet.line(b, "connector store"));
                            out.append(rawGet.line(b, "raw GET"));
                            out.append(kvGet.line(b, "connector load"));
                            out.append(String.format(
                                    Locale.ROOT,
                                    "%-10s ratios: store %.2f of raw SET, load %.2f of raw GET (GB/s)%n",
                                    b,
                                    kvSet.gbps() / rawSet.gbps(),
                                    kvGet.gbps() / rawGet.gbps()));
                        }
                    }
                    server.cli("FLUSHALL");
                }
            }
        }
        Path file = Path.of("target", "redis-benchmark.txt");
        Files.writeString(file, out.toString(), StandardCharsets.UTF_8);
        System.out.print(out);
    }

    private record Result(long bytes, long nanos, long[] latencies) {
        double gbps() {
            return bytes / (double) nanos;
        }

        String line(String block, String path) {
            long[] l = latencies.clone();
            Arrays.sort(l);
            return String.format(
                    Locale.ROOT,
                    "%-10s %-16s %10.2f %10.0f %10.0f%n",
                    block,
                    path,
                    gbps(),
                    l[l.length / 2] / 1e3,
                    l[(int) (l.length * 0.99)] / 1e3);
        }
    }

    /** Runs {@code blocks} commands with {@link #WINDOW} in flight; latency from issue to completion. */
    private static Result run(int blocks, int size, IntFunction<CompletableFuture<?>> command)
            throws InterruptedException {
        Semaphore window = new Semaphore(WINDOW);
        long[] latencies = new long[blocks];
        java.util.concurrent.atomic.AtomicReference<Throwable> failure =
                new java.util.concurrent.atomic.AtomicReference<>();
        long start = System.nanoTime();
        for (int i = 0; i < blocks; i++) {
            window.acquire();
            int index = i;
            long issued = System.nanoTime();
            command.apply(i).whenComplete((v, e) -> {
                latencies[index] = System.nanoTime() - issued;
                if (e != null) {
                    failure.compareAndSet(null, e);
                }
                window.release();
            });
        }
        window.acquire(WINDOW);
        long nanos = System.nanoTime() - start;
        if (failure.get() != null) {
            throw new IllegalStateException("a command failed", failure.get());
        }
        return new Result((long) blocks * size, nanos, latencies);
    }

    private static byte[][] keys(String prefix, int n) {
        byte[][] k = new byte[n][];
        for (int i = 0; i < n; i++) {
            k[i] = (prefix + i).getBytes(StandardCharsets.US_ASCII);
        }
        return k;
    }
}
