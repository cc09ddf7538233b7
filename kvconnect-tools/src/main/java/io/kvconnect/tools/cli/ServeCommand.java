package io.kvconnect.tools.cli;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.kvconnect.api.common.ConfigException;
import io.kvconnect.api.common.TransferParams;
import io.kvconnect.core.cli.EngineOptions;
import io.kvconnect.core.config.ConnectorEntry;
import io.kvconnect.core.config.EngineConfig;
import io.kvconnect.core.config.JsonConnectorConfig;
import io.kvconnect.core.engine.Engine;
import io.kvconnect.core.plugin.ConnectorDiscovery;
import io.kvconnect.core.plugin.ConnectorRegistry;
import io.kvconnect.core.run.EngineFactory;
import io.kvconnect.core.run.RunReport;
import io.kvconnect.core.sched.RequestUpdate;
import io.kvconnect.core.sched.RequestUpdates;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * One engine of a prefill/decode pair, driven by {@code disagg} (the router) over this process's
 * standard streams: one JSON object per line each way. Not for people; hidden from the help.
 *
 * <p>In: {@code {"op":"add","id":..,"prompt":[..],"max_tokens":n,"params":{..}}}, {@code
 * {"op":"abort","id":..}}, {@code {"op":"finish"}} (drain, report, exit). Out: {@code
 * {"event":"ready"}}, {@code {"event":"first","id":..}} (first output token), {@code
 * {"event":"finished","id":..,"status":..,"reason":..,"output":[..],"params":{..}}} and, last,
 * {@code {"event":"report","sections":{..}}}. The end of standard input ends the process too, so
 * a dead router leaves no engine behind. Logs go to standard error.
 *
 * <p>The engine uses the configuration's model and sizes with the {@code nixl-like} connector in
 * the given role; the shared secret comes from the environment variable {@value #SECRET_ENV}, so
 * it does not show in process listings. Without it the process refuses to start (exit 2): the
 * connector needs a secret, and {@code disagg} always sets one.
 */
@Command(name = "serve", hidden = true, description = "One engine of a prefill/decode pair (started by disagg).")
final class ServeCommand implements Callable<Integer> {
    static final String SECRET_ENV = "KVCONNECT_NIXL_SECRET";

    @Mixin
    EngineOptions options;

    @Option(names = "--role", required = true, description = "producer (prefill) or consumer (decode)")
    String role;

    @Option(names = "--lease-timeout", defaultValue = "30s", description = "Lease of a finished prefill's blocks.")
    String leaseTimeout;

    @Option(names = "--transport", defaultValue = "auto", description = "The connector's transport: auto, tcp or ucx.")
    String transport;

    @Option(names = "--io-timeout", defaultValue = "10s", description = "Bound on one read or notification.")
    String ioTimeout;

    @Option(
            names = "--faults",
            defaultValue = "",
            description = "Transport faults on the connections this engine "
                    + "serves (a test aid): drop=P,truncate=P,delay=P,delay_ms=MS,kill=P,seed=N.")
    String faults;

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        var mapper = JsonMapper.builder()
                .enable(DeserializationFeature.USE_LONG_FOR_INTS)
                .build();
        EngineConfig base = options.config();
        Map<String, Object> connector = new LinkedHashMap<>();
        connector.put("role", role);
        connector.put("lease_timeout", leaseTimeout);
        connector.put("transport", transport);
        connector.put("secret", secret());
        connector.put("io_timeout", ioTimeout);
        if (!faults.isBlank()) {
            connector.put("faults", faultsObject(faults));
        }
        EngineConfig config = base.withConnector(Optional.of(
                new ConnectorEntry("nixl-like", JsonConnectorConfig.of("connector.config", connector), "connector")));
        // Quiet about refused plugins: disagg, which started this process, reported them. One
        // that explains why nixl-like cannot be used is in the error creating the engine.
        ConnectorRegistry registry =
                ConnectorDiscovery.discover(options.pluginsDirectory(config), config.trustedPlugins());
        BlockingQueue<Map<String, Object>> inbox = new LinkedBlockingQueue<>();
        Thread.ofPlatform().daemon().name("serve-stdin").start(() -> {
            try (var in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    if (!line.isBlank()) {
                        @SuppressWarnings("unchecked")
                        Map<String, Object> m = mapper.readValue(line, Map.class);
                        inbox.add(m);
                    }
                }
            } catch (Exception e) {
                System.err.println("serve: reading commands failed: " + e);
            }
            inbox.add(Map.of("op", "eof"));
        });
        long t0 = System.nanoTime();
        Engine engine = EngineFactory.create(config, registry, false);
        boolean finishing = false;
        try {
            emit(out, mapper, Map.of("event", "ready"));
            while (true) {
                Map<String, Object> cmd = engine.hasWork() ? inbox.poll() : idlePoll(inbox);
                while (cmd != null) {
                    switch (String.valueOf(cmd.get("op"))) {
                        case "add" -> add(engine, cmd);
                        case "abort" -> engine.abort((String) cmd.get("id"));
                        case "finish" -> finishing = true;
                        case "eof" -> {
                            if (!finishing) {
                                System.err.println("serve: the router went away; shutting down");
                                return 1;
                            }
                        }
                        default -> System.err.println("serve: unknown command " + cmd);
                    }
                    cmd = inbox.poll();
                }
                if (engine.hasWork()) {
                    RequestUpdates updates = engine.step();
                    for (int i = 0; i < updates.size(); i++) {
                        report(out, mapper, updates, i);
                    }
                } else if (finishing) {
                    break;
                }
            }
        } finally {
            engine.close();
        }
        RunReport r = RunReport.of(role, engine, (System.nanoTime() - t0) / 1e9);
        emit(out, mapper, Map.of("event", "report", "sections", r.sections()));
        return 0;
    }

    /**
     * The next command, waiting up to 100 ms for one. Nothing here interrupts the engine thread,
     * so an interrupt can only be a connector's own thread's: it must not end the serving, and
     * ends only this wait ({@link Engine#ignoreStrayInterrupts()} logs and ignores the ones that
     * reach a step).
     */
    private static Map<String, Object> idlePoll(BlockingQueue<Map<String, Object>> inbox) {
        try {
            return inbox.poll(100, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            return null;
        }
    }

    /** The shared secret {@code disagg} hands both engines, never printed. */
    private static String secret() {
        String secret = Optional.ofNullable(System.getenv(SECRET_ENV)).orElse("");
        if (secret.isBlank()) {
            throw new ConfigException(
                    SECRET_ENV,
                    "is not set: the nixl-like connector's shared secret comes from "
                            + "this environment variable; 'disagg' starts 'serve' with a random one");
        }
        return secret;
    }

    private static void add(Engine engine, Map<String, Object> cmd) {
        List<?> prompt = (List<?>) cmd.get("prompt");
        int[] tokens = new int[prompt.size()];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = ((Number) prompt.get(i)).intValue();
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> params = (Map<String, Object>) cmd.getOrDefault("params", Map.of());
        engine.addRequest(
                (String) cmd.get("id"),
                tokens,
                ((Number) cmd.get("max_tokens")).intValue(),
                0,
                TransferParams.of(params),
                Optional.empty());
    }

    private static void report(PrintStream out, JsonMapper mapper, RequestUpdates updates, int i) throws Exception {
        if (!updates.isFinished(i)) {
            if (updates.numOutputTokens(i) == 1) {
                emit(out, mapper, Map.of("event", "first", "id", updates.requestId(i)));
            }
        } else {
            RequestUpdate.Finished f = updates.finished(i);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("event", "finished");
            m.put("id", f.requestId());
            m.put("status", f.status().name());
            m.put("reason", f.reason());
            m.put("output", f.outputTokens());
            m.put("params", f.transferParams().asMap());
            emit(out, mapper, m);
        }
    }

    private static void emit(PrintStream out, JsonMapper mapper, Map<String, Object> event) throws Exception {
        out.println(mapper.writeValueAsString(event));
        out.flush();
    }

    /**
     * The connector's {@code faults} object from {@code drop=0.01,delay_ms=5,...}: {@code delay_ms},
     * {@code seed} and {@code only_type} as integers, the rest as rates. The connector validates keys
     * and ranges (errors name {@code connector.config.faults.KEY}).
     */
    static Map<String, Object> faultsObject(String spec) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (String part : spec.split(",")) {
            String[] kv = part.split("=", 2);
            String key = kv[0].strip();
            if (kv.length != 2 || key.isEmpty()) {
                throw new ConfigException(
                        "--faults",
                        "'" + part.strip() + "' is not KEY=VALUE; allowed keys: drop, "
                                + "truncate, delay, delay_ms, kill, seed, only_type");
            }
            String value = kv[1].strip();
            try {
                boolean integer = key.equals("delay_ms") || key.equals("seed") || key.equals("only_type");
                m.put(key, integer ? (Object) Long.parseLong(value) : (Object) Double.parseDouble(value));
            } catch (NumberFormatException e) {
                throw new ConfigException("--faults." + key, "'" + value + "' is not a number");
            }
        }
        return m;
    }
}
