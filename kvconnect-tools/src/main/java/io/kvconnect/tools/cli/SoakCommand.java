package io.kvconnect.tools.cli;

import io.kvconnect.api.common.ConfigException;
import io.kvconnect.core.cli.EngineOptions;
import io.kvconnect.core.config.ConnectorEntry;
import io.kvconnect.core.config.EngineConfig;
import io.kvconnect.core.config.JsonConnectorConfig;
import io.kvconnect.core.plugin.ConnectorRegistry;
import io.kvconnect.core.plugin.DiscoveredConnector;
import io.kvconnect.testkit.FaultPlan;
import io.kvconnect.testkit.Soak;
import io.kvconnect.testkit.SoakReport;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Soaks the configured connector (see {@link Soak}): randomized rounds through a small engine of
 * the soak's own shape, with faults at the given rates; prints the report and exits 1 if it found
 * a problem. The {@code nixl-like} connector is refused with a pointer to the soaks that fit it: it
 * only moves KV between two engines.
 */
@Command(
        name = "soak",
        mixinStandardHelpOptions = true,
        description = "Soak the configured connector: randomized requests, aborts, preemptions and injected faults.")
final class SoakCommand implements Callable<Integer> {
    /** The disaggregation connector, which needs two engines (see {@link DisaggCommand}). */
    static final String NIXL_LIKE = "nixl-like";

    @Mixin
    EngineOptions options;

    @Spec
    CommandSpec spec;

    @Option(names = "--rounds", paramLabel = "N", description = "Rounds to run (default 20).")
    Integer rounds;

    @Option(
            names = "--duration",
            paramLabel = "TIME",
            description = "Run rounds for this long instead, such as 90s or 10m.")
    String duration;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(
            names = "--faults",
            paramLabel = "SPEC",
            defaultValue = "none",
            description = "Faults to inject: copy_fail=P,copy_stall=P,stall_ms=MS,hook_throw=P,late_errors=P "
                    + "(rates in [0, 1]; default none).")
    String faults;

    @Override
    public Integer call() throws Exception {
        FaultPlan plan = FaultPlan.parse(faults);
        if (rounds != null && duration != null) {
            throw new ConfigException("--rounds", "give --rounds or --duration, not both");
        }
        if (rounds != null && rounds < 1) {
            throw new ConfigException("--rounds", rounds + " is not allowed; allowed: at least 1");
        }
        Duration length = duration == null ? null : parseDuration(duration);
        EngineConfig config = options.config();
        ConnectorEntry entry = config.connector()
                .orElseThrow(() ->
                        new ConfigException("config.connector", "is required: the soak runs the configured connector"));
        if (entry.name().equals(NIXL_LIKE)) {
            // Its transfers only happen between a prefill and a decode engine: one engine would
            // soak nothing and pass, which would be a false assurance.
            throw new ConfigException(
                    entry.path() + ".name",
                    "'" + NIXL_LIKE + "' moves KV between two engines (a "
                            + "prefill and a decode engine); this one-engine soak would exercise none of it. Soak it with "
                            + "'./kvconnect disagg --faults drop=0.01,truncate=0.01,delay=0.05,kill=0.001' (two engine "
                            + "processes with transport faults) or the disaggregation soak: mvn -pl connector-nixl-like test "
                            + "-Dtest=DisaggSoakTest -Dkvconnect.disaggSoak.duration=10m");
        }
        PrintWriter out = spec.commandLine().getOut();
        ConnectorRegistry registry = options.discover(config, out);
        DiscoveredConnector found = registry.require(entry.path() + ".name", entry.name());
        Soak soak =
                Soak.of(found.provider(), entry.config(), registry).faults(plan).seed(seed);
        if (length != null) {
            soak.duration(length);
        } else {
            soak.rounds(rounds == null ? 20 : rounds);
        }
        out.printf(
                "soak: connector '%s' %s from %s, faults %s, seed %d%n",
                found.name(), found.version(), found.source(), plan, seed);
        out.printf("soak: uses %s%n", Soak.USES);
        out.flush();
        SoakReport report = soak.run();
        out.println(report.render());
        out.flush();
        return report.passed() ? 0 : 1;
    }

    /** Parses like a configuration duration (500ms, 30s, 2m, 1h), between 1 ms and 30 days. */
    private static Duration parseDuration(String text) {
        try {
            return JsonConnectorConfig.of("soak", Map.of("duration", text))
                    .getDuration("duration", null, Duration.ofMillis(1), Duration.ofDays(30));
        } catch (ConfigException e) {
            throw new ConfigException(
                    "--duration", "'" + text + "' is not a duration such as 90s or 10m between " + "1ms and 30 days");
        }
    }
}
