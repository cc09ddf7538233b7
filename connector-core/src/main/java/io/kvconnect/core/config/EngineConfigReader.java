package io.kvconnect.core.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.kvconnect.api.common.ConfigException;
import io.kvconnect.api.common.ConnectorConfig;
import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.core.kv.ConnectorBlockView;
import io.kvconnect.core.memory.ByteSizes;
import io.kvconnect.core.memory.HostMemoryBudget;
import io.kvconnect.core.memory.KvCacheSize;
import io.kvconnect.core.memory.MachineMemory;
import io.kvconnect.core.memory.MemoryPlacement;
import io.kvconnect.core.memory.MemorySelection;
import io.kvconnect.core.model.ModelCost;
import io.kvconnect.core.plugin.PluginsDirectory;
import io.kvconnect.core.sched.ConnectorErrorPolicy;
import io.kvconnect.core.sched.LoadFailurePolicy;
import io.kvconnect.core.sched.SchedulerConfig;
import io.kvconnect.core.sched.SchedulingPolicy;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads the engine's JSON configuration file. Every problem is a {@link ConfigException} naming the
 * field and the allowed values; unknown keys are errors, so a misspelt setting never goes unnoticed.
 *
 * <p>The file format (every key optional):
 * <pre>{@code
 * {
 *   "model": "llama-3.2-1b",          // a preset name, or {"name", "layers", "kv_heads", "head_dim", "dtype"}
 *   "block_size": 16,
 *   "gpu_blocks": 2048,
 *   "workers": 1,
 *   "async_scheduling": false,
 *   "load_failure_policy": "fail",    // or "recompute"
 *   "scheduler": {"max_batched_tokens": 2048, "max_running_requests": 256, "long_prefill_chunk": 2048,
 *                 "policy": "fcfs"},  // or "priority"
 *   "kv_layout": "per_layer",         // or "cross_layer"
 *   "memory": "auto",                 // "host" or "cuda": where the KV caches live (auto: CUDA if usable)
 *   "verify_kv": true,
 *   "connector_errors": "fail_requests", // or "disable"
 *   "load_failure_window": 1,         // steps a connector may report a failed load late (0 to 16)
 *   "connector_timeout": "120s",      // how long the engine waits for a connector that makes no progress
 *   "hook_timeout": "30s",            // how long one call of a connector hook may run
 *   "connector_block_references": 1024, // most GPU block references the connector may hold
 *                                     // (default: half of gpu_blocks; 1 to 2^30)
 *   "host_memory_budget": "6GiB",     // host memory the connector's host buffers may take, all workers
 *                                     // (default: a quarter of the machine's memory, 4GiB if unknown)
 *   "kv_memory_limit": "18GiB",       // the KV cache's memory, all workers; a larger cache is refused
 *                                     // (default: the machine's memory less host_memory_budget)
 *   "eos_rate": 0.02,                 // the model's end-of-sequence probability per sampled token
 *   "pacing": "loads",                // or "off" or "always": steps last their modelled time in wall time
 *   "cost": {"prefill_tokens_per_s": 25000, "decode_step_ms": 6, "decode_request_ms": 0.05,
 *            "context_token_ns": 2},
 *   "plugins_dir": "plugins",         // relative to the working directory; must exist when set
 *                                     // (unset: plugins/ in the working directory, if it is there)
 *   "trusted_plugins": [],            // plugin module names that may use jdk.unsupported and the like
 *   "connector": {"name": "offload", "config": {...}}
 * }
 * }</pre>
 */
public final class EngineConfigReader {
    /** The embedded default configuration, used when no file is given. */
    public static final String DEFAULT_RESOURCE = "/io/kvconnect/core/config/default-config.json";

    private static final String ROOT = "config";
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    private static final int MAX_BYTES = 1 << 20;
    /** The key of the limit on the KV cache's memory, all workers together. */
    public static final String KV_MEMORY_LIMIT = "kv_memory_limit";
    /** The default end-of-sequence rate: with responses of up to a hundred tokens, many stop early. */
    public static final double DEFAULT_EOS_RATE = 0.02;

    private static final Pattern MODULE_NAME =
            Pattern.compile("\\p{javaJavaIdentifierStart}\\p{javaJavaIdentifierPart}*"
                    + "(\\.\\p{javaJavaIdentifierStart}\\p{javaJavaIdentifierPart}*)*");

    private EngineConfigReader() {}

    /** Reads the embedded default configuration. */
    public static EngineConfig readDefault() {
        try (InputStream in = EngineConfigReader.class.getResourceAsStream(DEFAULT_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("embedded default configuration missing: " + DEFAULT_RESOURCE);
            }
            return parse(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8), "embedded default");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Reads a configuration file.
     *
     * @throws ConfigException if the file is missing, too large, not JSON or invalid
     */
    public static EngineConfig read(Path file) {
        try {
            if (Files.size(file) > MAX_BYTES) {
                throw new ConfigException(ROOT, "file " + file + " is larger than " + MAX_BYTES + " bytes");
            }
            String text = Files.readString(file);
            // Editors on some systems write a UTF-8 byte-order mark; it is not JSON, but not an error either.
            return parse(text.startsWith("\uFEFF") ? text.substring(1) : text, file.toString());
        } catch (NoSuchFileException e) {
            throw new ConfigException(ROOT, "file " + file + " does not exist");
        } catch (IOException e) {
            throw new ConfigException(ROOT, "cannot read " + file + ": " + e.getMessage());
        }
    }

    /**
     * Parses configuration text.
     *
     * @param source what the text is, for messages
     * @throws ConfigException if it is not a JSON object or is invalid
     */
    public static EngineConfig parse(String text, String source) {
        return parse(text, source, MachineMemory.physicalBytes());
    }

    /**
     * {@link #parse(String, String)} on a machine of {@code physicalMemory} bytes (empty: unknown),
     * which sets the defaults of {@code host_memory_budget} and {@code kv_memory_limit}.
     */
    static EngineConfig parse(String text, String source, OptionalLong physicalMemory) {
        Map<String, Object> tree;
        try {
            tree = JSON.readValue(text, new TypeReference<LinkedHashMap<String, Object>>() {});
        } catch (JsonProcessingException e) {
            var where = e.getLocation();
            String position = where == null ? "" : " at line " + where.getLineNr() + ", column " + where.getColumnNr();
            throw new ConfigException(
                    ROOT, source + " is not a valid JSON object" + position + ": " + e.getOriginalMessage());
        }
        if (tree == null) {
            throw new ConfigException(ROOT, source + " is empty; expected a JSON object");
        }
        return fromTree(JsonConnectorConfig.of(ROOT, tree), physicalMemory);
    }

    private static EngineConfig fromTree(ConnectorConfig c, OptionalLong physicalMemory) {
        c.requireOnlyKeys(
                "model",
                "block_size",
                "gpu_blocks",
                "workers",
                "async_scheduling",
                "load_failure_policy",
                "scheduler",
                "kv_layout",
                "verify_kv",
                "cost",
                "connector_errors",
                "plugins_dir",
                "trusted_plugins",
                "connector",
                "load_failure_window",
                "connector_timeout",
                "hook_timeout",
                "eos_rate",
                "pacing",
                ConnectorBlockView.MAX_REFERENCES_KEY,
                HostMemoryBudget.KEY,
                KV_MEMORY_LIMIT,
                "kv_events",
                MemoryPlacement.KEY);
        ModelShape model = model(c);
        int workers = c.getInt("workers", 1, 1, 64);
        int heads = model.numKvHeads();
        if (heads % workers != 0 && workers % heads != 0) {
            throw new ConfigException(
                    c.fieldPath("workers"),
                    workers + " workers cannot split " + heads + " KV heads; allowed: a divisor of " + heads
                            + " or a multiple of it");
        }
        int blockSize = c.getInt("block_size", 16, 1, 1024);
        int gpuBlocks = c.getInt("gpu_blocks", 2048, 2, 16_777_216);
        SchedulerConfig scheduler = scheduler(c);
        LayoutKind layout = c.getEnum("kv_layout", LayoutKind.class, LayoutKind.PER_LAYER);
        boolean verify = c.getBoolean("verify_kv", true);
        ModelCost cost = cost(c);
        PluginsDirectory plugins = pluginsDirectory(c);
        Set<String> trusted = trustedPlugins(c);
        Optional<ConnectorEntry> connector = connector(c);
        double eosRate = c.getDouble("eos_rate", DEFAULT_EOS_RATE, 0, 1);
        Pacing pacing = c.getEnum("pacing", Pacing.class, Pacing.LOADS);
        long hostBudget =
                c.getBytes(HostMemoryBudget.KEY, HostMemoryBudget.defaultBytes(physicalMemory), 0, Long.MAX_VALUE);
        long kvLimit = c.getBytes(
                KV_MEMORY_LIMIT,
                physicalMemory.isPresent() ? Math.max(0, physicalMemory.getAsLong() - hostBudget) : Long.MAX_VALUE,
                1,
                Long.MAX_VALUE);
        checkKvMemory(c, KvCacheSize.of(model, blockSize, gpuBlocks, workers), kvLimit, physicalMemory, hostBudget);
        MemorySelection memory = c.getEnum(MemoryPlacement.KEY, MemorySelection.class, MemorySelection.AUTO);
        return new EngineConfig(
                model,
                blockSize,
                gpuBlocks,
                workers,
                scheduler,
                layout,
                verify,
                cost,
                plugins,
                trusted,
                connector,
                eosRate,
                pacing,
                hostBudget,
                kvLimit,
                kvEvents(c),
                memory);
    }

    /**
     * Refuses a configuration whose KV cache, all workers together, is larger than {@code limit}:
     * the cache is off-heap memory the engine allocates and zeroes at start, so a configuration the
     * machine cannot hold would commit memory until the system killed the process, or end in an
     * {@link OutOfMemoryError}. The error names {@code gpu_blocks}, the sizes and what would fit.
     */
    private static void checkKvMemory(
            ConnectorConfig c, KvCacheSize size, long limit, OptionalLong physicalMemory, long hostBudget) {
        if (size.totalBytes() <= limit) {
            return;
        }
        String available = c.has(KV_MEMORY_LIMIT)
                ? KV_MEMORY_LIMIT + " " + ByteSizes.format(limit)
                : ByteSizes.format(limit) + ": the machine's memory, " + ByteSizes.format(physicalMemory.orElseThrow())
                        + ", less " + HostMemoryBudget.KEY + " " + ByteSizes.format(hostBudget);
        throw new ConfigException(
                c.fieldPath("gpu_blocks"),
                (size.blocksPerWorker() - 1) + " blocks per worker need "
                        + ByteSizes.format(size.totalBytes()) + " of KV memory (" + size.describe() + "), more than is "
                        + "available for it (" + available + "); allowed: at most "
                        + size.maxBlocksPerWorkerWithin(limit)
                        + " blocks per worker with this model, block size and number of workers, or a larger "
                        + KV_MEMORY_LIMIT);
    }

    private static SchedulerConfig scheduler(ConnectorConfig c) {
        boolean async = c.getBoolean("async_scheduling", false);
        LoadFailurePolicy policy = c.getEnum("load_failure_policy", LoadFailurePolicy.class, LoadFailurePolicy.FAIL);
        ConnectorConfig s = c.getObjectOrEmpty("scheduler");
        s.requireOnlyKeys("max_batched_tokens", "max_running_requests", "long_prefill_chunk", "policy");
        return new SchedulerConfig(
                s.getInt("max_batched_tokens", 2048, 1, 1 << 20),
                s.getInt("max_running_requests", 256, 1, 65_536),
                s.getInt("long_prefill_chunk", 2048, 1, 1 << 20),
                s.getEnum("policy", SchedulingPolicy.class, SchedulingPolicy.FCFS),
                async,
                policy,
                c.getEnum("connector_errors", ConnectorErrorPolicy.class, ConnectorErrorPolicy.FAIL_REQUESTS),
                c.getInt(
                        "load_failure_window",
                        SchedulerConfig.DEFAULT_LOAD_FAILURE_WINDOW,
                        0,
                        SchedulerConfig.MAX_LOAD_FAILURE_WINDOW),
                c.getDuration(
                        "connector_timeout",
                        SchedulerConfig.DEFAULT_CONNECTOR_TIMEOUT,
                        Duration.ofMillis(1),
                        Duration.ofDays(1)),
                c.getDuration(
                        "hook_timeout",
                        SchedulerConfig.DEFAULT_HOOK_TIMEOUT,
                        Duration.ofMillis(1),
                        Duration.ofHours(1)),
                c.has(ConnectorBlockView.MAX_REFERENCES_KEY)
                        ? OptionalInt.of(c.getInt(
                                ConnectorBlockView.MAX_REFERENCES_KEY, 1, 1, ConnectorBlockView.MAX_REFERENCES_LIMIT))
                        : OptionalInt.empty());
    }

    private static ModelCost cost(ConnectorConfig c) {
        ConnectorConfig m = c.getObjectOrEmpty("cost");
        m.requireOnlyKeys("prefill_tokens_per_s", "decode_step_ms", "decode_request_ms", "context_token_ns");
        ModelCost d = ModelCost.defaults();
        return new ModelCost(
                m.getDouble("prefill_tokens_per_s", d.prefillTokensPerSecond(), 1, 1e9),
                m.getDouble("decode_step_ms", d.decodeStepSeconds() * 1e3, 0, 1e6) / 1e3,
                m.getDouble("decode_request_ms", d.decodeRequestSeconds() * 1e3, 0, 1e6) / 1e3,
                m.getDouble("context_token_ns", d.contextTokenSeconds() * 1e9, 0, 1e9) / 1e9);
    }

    /** The file's {@code plugins_dir}, which must then exist, or the default, which may be absent. */
    private static PluginsDirectory pluginsDirectory(ConnectorConfig c) {
        if (!c.has("plugins_dir")) {
            return PluginsDirectory.byDefault();
        }
        String dir = c.getString("plugins_dir", PluginsDirectory.DEFAULT_NAME);
        try {
            return PluginsDirectory.setBy(c.fieldPath("plugins_dir"), Path.of(dir));
        } catch (InvalidPathException e) {
            throw new ConfigException(
                    c.fieldPath("plugins_dir"), "'" + dir + "' is not a valid path: " + e.getReason());
        }
    }

    /** Module names: dot-separated Java identifiers, as a plugin's module-info or jar name gives them. */
    private static Set<String> trustedPlugins(ConnectorConfig c) {
        List<String> names = c.getStringList("trusted_plugins");
        for (int i = 0; i < names.size(); i++) {
            if (!MODULE_NAME.matcher(names.get(i)).matches()) {
                throw new ConfigException(
                        c.fieldPath("trusted_plugins") + "[" + i + "]",
                        "'" + names.get(i)
                                + "' is not a module name; allowed: a plugin's module name, such as com.example.connector");
            }
        }
        return Set.copyOf(names);
    }

    private static ModelShape model(ConnectorConfig c) {
        if (!c.has("model")) {
            return Objects.requireNonNull(ModelPresets.all().get("llama-3.2-1b"), "the default preset");
        }
        if (c.asMap().get("model") instanceof String preset) {
            ModelShape shape = ModelPresets.all().get(preset);
            if (shape == null) {
                throw new ConfigException(
                        c.fieldPath("model"),
                        "unknown preset '" + preset + "'; allowed presets: "
                                + String.join(", ", ModelPresets.all().keySet()) + ", or an object with name, layers, "
                                + "kv_heads, head_dim and dtype");
            }
            return shape;
        }
        ConnectorConfig m = c.getObject("model").orElseThrow();
        m.requireOnlyKeys("name", "layers", "kv_heads", "head_dim", "dtype");
        return new ModelShape(
                m.getString("name", "custom"),
                m.getInt("layers", 16, 1, 1024),
                m.getInt("kv_heads", 8, 1, 1024),
                m.getInt("head_dim", 64, 1, 4096),
                m.getEnum("dtype", DType.class, DType.BF16));
    }

    /**
     * {@code kv_events: {"sink": "file:<path>" | "tcp:<host>:<port>", "engine_id": ..., "queue":
     * ...}}; absent: not published.
     */
    private static Optional<KvEventsConfig> kvEvents(ConnectorConfig c) {
        Optional<ConnectorConfig> entry = c.getObject("kv_events");
        if (entry.isEmpty()) {
            return Optional.empty();
        }
        ConnectorConfig e = entry.get();
        e.requireOnlyKeys("sink", "engine_id", "queue");
        KvEventsConfig.Sink sink;
        try {
            sink = KvEventsConfig.Sink.parse(e.requireString("sink"));
        } catch (IllegalArgumentException bad) {
            throw new ConfigException(e.fieldPath("sink"), String.valueOf(bad.getMessage()));
        }
        if (sink instanceof KvEventsConfig.File f) {
            Path parent = f.path().toAbsolutePath().getParent();
            if (parent == null || !Files.isDirectory(parent)) {
                throw new ConfigException(
                        e.fieldPath("sink"), "the directory of " + f.path() + " does not exist; create it first");
            }
        }
        String engineId = e.getString("engine_id", defaultEngineId());
        if (engineId.isBlank()) {
            throw new ConfigException(e.fieldPath("engine_id"), "is blank; name the engine as the router knows it");
        }
        int queue = e.getInt("queue", KvEventsConfig.DEFAULT_QUEUE, 1, 1_000_000);
        return Optional.of(new KvEventsConfig(sink, engineId, queue));
    }

    /** The host name and process id: unique per engine process on a network. */
    private static String defaultEngineId() {
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            host = "localhost";
        }
        return host + "-" + ProcessHandle.current().pid();
    }

    private static Optional<ConnectorEntry> connector(ConnectorConfig c) {
        Optional<ConnectorConfig> entry = c.getObject("connector");
        if (entry.isEmpty()) {
            return Optional.empty();
        }
        ConnectorConfig e = entry.get();
        e.requireOnlyKeys("name", "config");
        String name = e.requireString("name");
        ConnectorConfig own = e.getObjectOrEmpty("config");
        return Optional.of(new ConnectorEntry(name, own, e.path()));
    }
}
