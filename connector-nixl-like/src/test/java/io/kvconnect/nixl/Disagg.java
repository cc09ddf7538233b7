package io.kvconnect.nixl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.api.worker.MemoryKind;
import io.kvconnect.nixl.transport.NeedsUcx;
import io.kvconnect.testkit.KitEngine;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * A prefill engine, a decode engine and the router between them, in one test thread: requests go
 * to the prefill engine with one output token and {@code do_remote_decode}; a finished prefill's
 * response parameters go with the request to the decode engine. Also runs the baseline (one engine
 * without a connector) the outputs are compared with.
 */
final class Disagg implements AutoCloseable {
    static final NixlConnectorProvider PROVIDER = new NixlConnectorProvider();
    /** Bound on steps of one run: a stuck request fails the test instead of hanging it. */
    static final int MAX_STEPS = 200_000;

    /**
     * The test engines' KV layout (rank 0 of 1, 65 blocks of 4 tokens, per layer, host memory): what
     * a reader or process a test plays by hand needs to pass the engines' compatibility check.
     */
    static final KvLayout LAYOUT = new KvLayout(
            KitEngine.MODEL,
            0,
            1,
            65,
            4,
            KitEngine.MODEL.bytesPerTokenPerLayer(1) * 4,
            LayoutKind.PER_LAYER,
            MemoryKind.HOST);

    final KitEngine prefill;
    final KitEngine decode;
    /** The connector both engines run (nixl-like alone, or composed with offload). */
    final Composition composition;

    private final Map<String, int[]> prompts = new LinkedHashMap<>();
    private final Map<String, Integer> maxTokens = new HashMap<>();
    final Map<String, KitEngine.Finished> prefillDone = new LinkedHashMap<>();
    final Map<String, KitEngine.Finished> decodeDone = new LinkedHashMap<>();
    /** Whether the router forwards finished prefills to the decode engine by itself. */
    boolean autoForward = true;
    /** Called with each request the router forwards, before it is added to the decode engine. */
    Consumer<String> onForward = id -> {};

    Disagg(KitEngine prefill, KitEngine decode) {
        this(prefill, decode, Composition.ALONE);
    }

    Disagg(KitEngine prefill, KitEngine decode, Composition composition) {
        this.prefill = prefill;
        this.decode = decode;
        this.composition = composition;
    }

    /** The configuration of one side: TCP unless {@code more} names another {@code transport}. */
    static Map<String, Object> config(String role, Object... more) {
        var m = new HashMap<String, Object>();
        m.put("role", role);
        m.put("secret", "test-secret");
        m.put("transport", "tcp");
        for (int i = 0; i < more.length; i += 2) {
            m.put((String) more[i], more[i + 1]);
        }
        return m;
    }

    /** A pair with default options but {@code workers}, {@code async} and the decode engine's {@code gpuBlocks}. */
    static Disagg create(int workers, boolean async, int decodeBlocks) {
        return create("tcp", workers, async, decodeBlocks);
    }

    /** As {@link #create(int, boolean, int)} with both sides on {@code transport}. */
    static Disagg create(String transport, int workers, boolean async, int decodeBlocks) {
        return create(Composition.ALONE, transport, workers, async, decodeBlocks);
    }

    /** As {@link #create(String, int, boolean, int)} with both engines running {@code composition}. */
    static Disagg create(Composition composition, String transport, int workers, boolean async, int decodeBlocks) {
        return create(composition, transport, workers, async, decodeBlocks, false);
    }

    /**
     * As {@link #create(Composition, String, int, boolean, int)}, with both engines' KV caches in
     * CUDA device memory simulated on the host when {@code simulatedDeviceMemory}.
     */
    static Disagg create(
            Composition composition,
            String transport,
            int workers,
            boolean async,
            int decodeBlocks,
            boolean simulatedDeviceMemory) {
        var p = composition.engine(
                config("producer", "transport", transport),
                KitEngine.Options.defaults("prefill")
                        .withWorkers(workers)
                        .withAsyncScheduling(async)
                        .withSimulatedDeviceMemory(simulatedDeviceMemory));
        var d = composition.engine(
                config("consumer", "transport", transport),
                KitEngine.Options.defaults("decode")
                        .withWorkers(workers)
                        .withAsyncScheduling(async)
                        .withGpuBlocks(decodeBlocks)
                        .withSimulatedDeviceMemory(simulatedDeviceMemory));
        return new Disagg(p, d, composition);
    }

    void submit(String id, int[] prompt, int max) {
        prompts.put(id, prompt.clone());
        maxTokens.put(id, max);
        prefill.addRequest(id, prompt, 1, TransferParams.empty().with(RemoteParams.DO_REMOTE_DECODE, true));
    }

    /** Sends a finished prefill to the decode engine, with its response's parameters exactly as they came. */
    void forward(String id) {
        forward(id, p -> p);
    }

    /** Sends a finished prefill to the decode engine with its response's parameters as {@code change} makes them. */
    void forward(String id, UnaryOperator<TransferParams> change) {
        onForward.accept(id);
        KitEngine.Finished f = prefillDone.get(id);
        decode.addRequest(id, prompts.get(id), maxTokens.get(id), change.apply(f.transferParams()));
    }

    /** One step of each engine; forwards finished prefills. */
    void step() throws InterruptedException {
        if (prefill.hasWork()) {
            for (KitEngine.Finished f : prefill.step()) {
                prefillDone.put(f.requestId(), f);
                // An aborted or failed prefill has no response to forward.
                boolean ok = f.status().equals("FINISHED_LENGTH_CAPPED")
                        || f.status().equals("FINISHED_STOPPED");
                if (autoForward && ok) {
                    forward(f.requestId());
                }
            }
        }
        if (decode.hasWork()) {
            for (KitEngine.Finished f : decode.step()) {
                decodeDone.put(f.requestId(), f);
            }
        }
    }

    /** One step of the decode engine alone, recording what finished. */
    void stepDecode() throws InterruptedException {
        for (KitEngine.Finished f : decode.step()) {
            decodeDone.put(f.requestId(), f);
        }
    }

    /** Steps both engines until neither has work (bounded). */
    void drain() throws InterruptedException {
        for (int i = 0; i < MAX_STEPS && (prefill.hasWork() || decode.hasWork()); i++) {
            step();
        }
    }

    /** Steps until {@code id} finished on the prefill engine (bounded). */
    void untilPrefilled(String id) throws InterruptedException {
        for (int i = 0; i < MAX_STEPS && !prefillDone.containsKey(id); i++) {
            step();
        }
        assertTrue(prefillDone.containsKey(id), id + " did not finish its prefill");
    }

    /** The outputs of the same requests through one engine without a connector. */
    Map<String, int[]> baseline() throws InterruptedException {
        try (KitEngine single = KitEngine.create(Optional.empty(), Map.of(), KitEngine.Options.defaults("single"))) {
            Map<String, int[]> out = new HashMap<>();
            for (var e : prompts.entrySet()) {
                single.addRequest(e.getKey(), e.getValue(), maxTokens.get(e.getKey()), TransferParams.empty());
            }
            for (int i = 0; i < MAX_STEPS && single.hasWork(); i++) {
                for (KitEngine.Finished f : single.step()) {
                    out.put(f.requestId(), f.outputTokens());
                }
            }
            return out;
        }
    }

    /** Asserts that every decode output equals the baseline (requests in {@code except} excluded). */
    void assertSameOutputs(List<String> except) throws InterruptedException {
        Map<String, int[]> base = baseline();
        for (var e : decodeDone.entrySet()) {
            if (except.contains(e.getKey())) {
                continue;
            }
            assertEquals(
                    "FINISHED_LENGTH_CAPPED",
                    e.getValue().status(),
                    e.getKey() + ": " + e.getValue().reason());
            assertTrue(
                    Arrays.equals(base.get(e.getKey()), e.getValue().outputTokens()),
                    e.getKey() + " produced "
                            + Arrays.toString(e.getValue().outputTokens()) + " instead of "
                            + Arrays.toString(base.get(e.getKey())));
        }
    }

    /** Asserts both engines drained cleanly: nothing held, no wrong KV read, no leak, no hook failure. */
    void assertClean() {
        List<String> problems = new ArrayList<>();
        prefill.problems().forEach(p -> problems.add("prefill: " + p));
        decode.problems().forEach(p -> problems.add("decode: " + p));
        assertEquals(List.of(), problems);
    }

    /** nixl-like's counter {@code name} on engine {@code e} (wherever the composition keeps it). */
    long stat(KitEngine e, String name) {
        return composition.stat(e, name);
    }

    /** Skips the calling test, naming why, when {@code transport} is UCX and UCX does not work here. */
    static void assumeAvailable(String transport) {
        if (transport.equals("ucx")) {
            NeedsUcx.assumeUcx();
        }
    }

    static int[] prompt(SplittableRandom random, int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = 1 + random.nextInt(31_999);
        }
        return p;
    }

    @Override
    public void close() {
        prefill.close();
        decode.close();
    }
}
