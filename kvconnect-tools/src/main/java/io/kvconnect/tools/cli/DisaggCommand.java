package io.kvconnect.tools.cli;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.kvconnect.api.common.ConfigException;
import io.kvconnect.core.cli.EngineOptions;
import io.kvconnect.core.config.ConnectorEntry;
import io.kvconnect.core.config.EngineConfig;
import io.kvconnect.core.config.JsonConnectorConfig;
import io.kvconnect.core.engine.Engine;
import io.kvconnect.core.plugin.ConnectorRegistry;
import io.kvconnect.core.run.EngineFactory;
import io.kvconnect.core.run.RunReport;
import io.kvconnect.core.run.WorkloadDriver;
import io.kvconnect.core.workload.ChatSession;
import io.kvconnect.core.workload.PromptBuilder;
import io.kvconnect.core.workload.SyntheticChatSpec;
import io.kvconnect.core.workload.SyntheticChatWorkload;
import io.kvconnect.core.workload.Turn;
import io.kvconnect.core.workload.Workload;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
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
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Prefill/decode disaggregation end to end: starts a prefill engine and a decode engine as two
 * processes ({@code serve}, each with the {@code nixl-like} connector listening on loopback and a
 * shared secret drawn at random for the run), and acts as the router between them. Each turn of
 * the synthetic chat workload goes to the prefill engine with one output token and {@code
 * do_remote_decode}; its response's transfer parameters go with the turn to the decode engine,
 * which pulls the blocks and decodes. Turns are sent as soon as they can be (closed loop: a
 * session's next turn when its previous one finished).
 *
 * <p>Prints both engines' reports, the same workload through one in-process engine without a
 * connector, whether every output is identical to it, and the disaggregation summary: transport,
 * transfers and GB/s, and time to first token (wall time) split into prefill, transfer and first
 * decode step. Exit status 0 only if the outputs are identical and neither side read wrong KV.
 */
@Command(
        name = "disagg",
        mixinStandardHelpOptions = true,
        description = "Run the workload through a prefill and a decode engine (two processes) and a router.")
final class DisaggCommand implements Callable<Integer> {
    @Mixin
    EngineOptions options;

    @Spec
    CommandSpec spec;

    @Option(
            names = "--sessions",
            paramLabel = "N",
            defaultValue = "16",
            description = "Chat sessions of the synthetic workload (default ${DEFAULT-VALUE}).")
    int sessions;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "42", description = "Workload seed.")
    long seed;

    @Option(
            names = "--timeout",
            paramLabel = "SECONDS",
            defaultValue = "300",
            description = "Give up (and stop both engines) after this long (default ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Option(
            names = "--transport",
            paramLabel = "auto|tcp|ucx",
            defaultValue = "auto",
            description = "The nixl-like connector's transport on both engines (default ${DEFAULT-VALUE}: UCX "
                    + "where it is installed, else TCP).")
    String transport;

    @Option(
            names = "--faults",
            paramLabel = "SPEC",
            defaultValue = "",
            description = "Transport faults injected on the prefill engine's connections, a test aid: "
                    + "drop=P,truncate=P,delay=P,delay_ms=MS,kill=P[,seed=N] (rates in [0, 1]; default none). "
                    + "The decode engine then gives up on a silent read after 1s and leases last 5s; with "
                    + "load_failure_policy recompute every output must still be identical.")
    String faults;

    /** One line from a child, or its end. */
    private record Event(String side, Map<String, Object> body) {}

    /** One engine process. */
    private record Child(String side, Process process, OutputStream in) {}

    @Override
    public Integer call() throws Exception {
        if (sessions <= 0) {
            throw new ConfigException("--sessions", sessions + " is not allowed; allowed: a positive number");
        }
        if (!faults.isBlank()) {
            ServeCommand.faultsObject(faults); // malformed text is refused here, before any process starts
        }
        EngineConfig config = options.config();
        PrintWriter out = spec.commandLine().getOut();
        SyntheticChatSpec d = SyntheticChatSpec.defaults();
        Workload workload = SyntheticChatWorkload.generate(new SyntheticChatSpec(
                sessions,
                d.minTurns(),
                d.maxTurns(),
                d.systemPrompts(),
                d.minSystemPromptTokens(),
                d.maxSystemPromptTokens(),
                d.minUserTokens(),
                d.maxUserTokens(),
                d.minOutputTokens(),
                d.maxOutputTokens(),
                d.sessionsPerSecond(),
                d.meanThinkSeconds(),
                d.vocabSize(),
                seed));
        out.printf(
                "kvconnect disagg: model %s, block size %d, %d GPU blocks and %d worker(s) per engine; "
                        + "workload: %s%n",
                config.model().name(),
                config.blockSize(),
                config.gpuBlocks(),
                config.workers(),
                workload.description());
        // Before any engine process starts: a missing plugins directory, or a nixl-like connector
        // that is unknown or was refused, ends the run here, and each refused plugin is reported
        // once, here (the engine processes do not repeat it).
        ConnectorRegistry registry = options.discover(
                config.withConnector(Optional.of(new ConnectorEntry(
                        SoakCommand.NIXL_LIKE, JsonConnectorConfig.empty("connector.config"), "connector"))),
                out);
        out.flush();
        current = workload;

        var mapper = JsonMapper.builder()
                .enable(DeserializationFeature.USE_LONG_FOR_INTS)
                .build();
        // The nixl-like connector's shared secret: 256 random bits per run, handed to both engines
        // through their environment (not their command lines, which anyone on the host can list)
        // and never printed.
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        String secret = HexFormat.of().formatHex(key);
        BlockingQueue<Event> events = new LinkedBlockingQueue<>();
        List<Child> children = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        Map<String, int[]> outputs = new HashMap<>();
        Map<String, Map<String, Object>> reports = new HashMap<>();
        Map<String, DisaggReport.Times> times = new HashMap<>();
        int failures = 0;
        long wall0 = System.nanoTime();
        try {
            Child prefill = start("prefill", "producer", secret, events, mapper);
            children.add(prefill);
            Child decode = start("decode", "consumer", secret, events, mapper);
            children.add(decode);
            int ready = 0;
            while (ready < 2) {
                Event e = next(events, deadline);
                if ("ready".equals(e.body().get("event"))) {
                    ready++;
                } else if ("exit".equals(e.body().get("event"))) {
                    throw new IllegalStateException("the " + e.side() + " engine exited before it was ready");
                }
            }
            out.printf(
                    "prefill and decode engines ready (pids %d and %d); routing %d turns%n",
                    prefill.process().pid(), decode.process().pid(), workload.totalTurns());
            out.flush();
            List<ChatSession> all = workload.sessions();
            List<List<int[]>> histories = new ArrayList<>();
            Map<String, int[]> prompts = new HashMap<>();
            Map<String, int[]> turnOf = new HashMap<>();
            for (int s = 0; s < all.size(); s++) {
                histories.add(new ArrayList<>());
                submit(prefill, mapper, all, s, 0, histories, prompts, turnOf, times);
            }
            int done = 0;
            while (done < workload.totalTurns()) {
                Event e = next(events, deadline);
                Map<String, Object> b = e.body();
                String event = String.valueOf(b.get("event"));
                if (event.equals("exit")) {
                    throw new IllegalStateException("the " + e.side() + " engine exited unexpectedly");
                }
                String id = (String) b.get("id");
                if (e.side().equals("prefill") && event.equals("finished")) {
                    times.get(id).prefilled = System.nanoTime();
                    Map<String, Object> cmd = new LinkedHashMap<>();
                    cmd.put("op", "add");
                    cmd.put("id", id);
                    cmd.put("prompt", prompts.get(id));
                    cmd.put(
                            "max_tokens",
                            all.get(turnOf.get(id)[0])
                                    .turns()
                                    .get(turnOf.get(id)[1])
                                    .maxOutputTokens());
                    String status = (String) b.get("status");
                    // A prefill that did not end normally has no transfer: the decode engine computes it all.
                    boolean ok = status.equals("FINISHED_LENGTH_CAPPED") || status.equals("FINISHED_STOPPED");
                    cmd.put("params", ok ? b.getOrDefault("params", Map.of()) : Map.of());
                    times.get(id).forwarded = System.nanoTime();
                    send(decode, mapper, cmd);
                } else if (e.side().equals("decode") && event.equals("first")) {
                    times.get(id).firstToken = System.nanoTime();
                } else if (e.side().equals("decode") && event.equals("finished")) {
                    done++;
                    if (!"FINISHED_LENGTH_CAPPED".equals(b.get("status"))
                            && !"FINISHED_STOPPED".equals(b.get("status"))) {
                        failures++;
                        out.printf("turn %s failed: %s %s%n", id, b.get("status"), b.get("reason"));
                    }
                    int[] output = ((List<?>) b.get("output"))
                            .stream().mapToInt(o -> ((Number) o).intValue()).toArray();
                    outputs.put(id, output);
                    int[] st = turnOf.get(id);
                    ChatSession session = all.get(st[0]);
                    histories.get(st[0]).add(session.turns().get(st[1]).userTokens());
                    histories.get(st[0]).add(output);
                    if (st[1] + 1 < session.turns().size()) {
                        submit(prefill, mapper, all, st[0], st[1] + 1, histories, prompts, turnOf, times);
                    }
                }
            }
            for (Child c : children) {
                send(c, mapper, Map.of("op", "finish"));
            }
            while (reports.size() < 2) {
                Event e = next(events, deadline);
                if ("report".equals(e.body().get("event"))) {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> sections =
                            (Map<String, Object>) e.body().get("sections");
                    reports.put(e.side(), sections);
                } else if ("exit".equals(e.body().get("event")) && !reports.containsKey(e.side())) {
                    // (An engine that reported exits while the other still drains, e.g. waits for leases.)
                    throw new IllegalStateException("the " + e.side() + " engine exited before its report");
                }
            }
            for (Child c : children) {
                if (!c.process().waitFor(10, TimeUnit.SECONDS)) {
                    out.printf("the %s engine did not exit in time%n", c.side());
                }
            }
        } finally {
            for (Child c : children) {
                c.process().destroyForcibly();
            }
        }
        double wall = (System.nanoTime() - wall0) / 1e9;

        // The same workload through one engine without a connector.
        RunReport baseline;
        long b0 = System.nanoTime();
        Engine single = EngineFactory.create(config.withoutConnector(), registry, false);
        try {
            new WorkloadDriver(single, workload).run(n -> {});
        } finally {
            single.close();
        }
        baseline = RunReport.of("single engine", single, (System.nanoTime() - b0) / 1e9);
        RunReport p = DisaggReport.engineReport("prefill engine", reports.get("prefill"));
        RunReport dr = DisaggReport.engineReport("decode engine", reports.get("decode"));
        out.println();
        out.print(RunReport.render(List.of(p, dr, baseline)));
        boolean identical = baseline.sameOutputs(new RunReport("router", Map.of(), outputs));
        boolean verified = !"FAILED".equals(p.sections().get("KV verification").get("result"))
                && !"FAILED".equals(dr.sections().get("KV verification").get("result"));
        out.print(DisaggReport.summary(dr, times, wall, workload.totalTurns() - failures));
        out.println("outputs identical to a single engine: " + (identical ? "yes" : "NO"));
        out.println("KV verification on both engines: " + (verified ? "OK" : "FAILED"));
        out.flush();
        return identical && verified && failures == 0 ? 0 : 1;
    }

    private void submit(
            Child prefill,
            JsonMapper mapper,
            List<ChatSession> all,
            int s,
            int turn,
            List<List<int[]>> histories,
            Map<String, int[]> prompts,
            Map<String, int[]> turnOf,
            Map<String, DisaggReport.Times> times)
            throws IOException {
        ChatSession session = all.get(s);
        Turn t = session.turns().get(turn);
        int[] prompt = PromptBuilder.build(workloadSystemPrompt(session), histories.get(s), t.userTokens());
        String id = session.id() + "/" + turn;
        prompts.put(id, prompt);
        turnOf.put(id, new int[] {s, turn});
        var tm = new DisaggReport.Times();
        tm.submitted = System.nanoTime();
        times.put(id, tm);
        send(
                prefill,
                mapper,
                Map.of(
                        "op",
                        "add",
                        "id",
                        id,
                        "prompt",
                        prompt,
                        "max_tokens",
                        1,
                        "params",
                        Map.of("do_remote_decode", true)));
    }

    private Workload current;

    private int[] workloadSystemPrompt(ChatSession session) {
        return current.systemPromptOf(session);
    }

    /**
     * The JVM options of an engine process this command starts: the engine's own list ({@link
     * EngineJvmOptions}) and this JVM's {@code java.library.path}, where {@code ./kvconnect} puts
     * JCuda's JNI library, so that {@code memory: auto} finds CUDA in the child, or says why not,
     * exactly as in this engine. Called on the command's thread.
     *
     * @param libraryPath this JVM's {@code java.library.path}; null or blank adds nothing
     */
    static List<String> childJvmOptions(String libraryPath) {
        List<String> options = new ArrayList<>(EngineJvmOptions.options());
        if (libraryPath != null && !libraryPath.isBlank()) {
            options.add("-Djava.library.path=" + libraryPath);
        }
        return options;
    }

    private Child start(String side, String role, String secret, BlockingQueue<Event> events, JsonMapper mapper)
            throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        String modulePath = System.getProperty("jdk.module.path");
        if (modulePath == null) {
            throw new IllegalStateException("disagg must run from the module path (./kvconnect disagg)");
        }
        // The same JVM options as this engine: the child engines load the same plugins.
        List<String> cmd = new ArrayList<>(List.of(java));
        cmd.addAll(childJvmOptions(System.getProperty("java.library.path")));
        cmd.addAll(List.of(
                "--module-path",
                modulePath,
                "--module",
                "kvconnect.tools/io.kvconnect.tools.cli.Main",
                "serve",
                "--role",
                role,
                "--transport",
                transport));
        if (!faults.isBlank()) {
            // Faults are injected where blocks are served; the reader needs a short bound so that a
            // dropped answer costs a second, not the default ten.
            // A lost done notification holds the producer's blocks until the lease: 5s, not 30s.
            cmd.addAll(
                    role.equals("producer")
                            ? List.of("--faults", faults, "--lease-timeout", "5s")
                            : List.of("--io-timeout", "1s"));
        }
        if (options.configFile() != null) {
            cmd.addAll(List.of("--config", options.configFile().toString()));
        }
        if (options.pluginsDirectoryOption() != null) {
            cmd.addAll(List.of("--plugins-dir", options.pluginsDirectoryOption().toString()));
        }
        var pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().put(ServeCommand.SECRET_ENV, secret);
        Process process = pb.start();
        Thread.ofPlatform().daemon().name("disagg-" + side).start(() -> {
            try (var r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.startsWith("{")) {
                        @SuppressWarnings("unchecked")
                        Map<String, Object> m = mapper.readValue(line, Map.class);
                        events.add(new Event(side, m));
                    }
                }
            } catch (IOException e) {
                // the process went away; reported below
            }
            events.add(new Event(side, Map.of("event", "exit")));
        });
        return new Child(side, process, process.getOutputStream());
    }

    private static void send(Child c, JsonMapper mapper, Map<String, Object> cmd) throws IOException {
        c.in().write((mapper.writeValueAsString(cmd) + "\n").getBytes(StandardCharsets.UTF_8));
        c.in().flush();
    }

    private static Event next(BlockingQueue<Event> events, long deadline) throws InterruptedException {
        long left = deadline - System.nanoTime();
        Event e = left > 0 ? events.poll(left, TimeUnit.NANOSECONDS) : null;
        if (e == null) {
            throw new IllegalStateException("timed out waiting for the engines (--timeout)");
        }
        return e;
    }
}
