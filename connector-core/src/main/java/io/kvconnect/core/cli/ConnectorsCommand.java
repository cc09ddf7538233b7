package io.kvconnect.core.cli;

import io.kvconnect.core.config.EngineConfig;
import io.kvconnect.core.plugin.ConnectorDiscovery;
import io.kvconnect.core.plugin.ConnectorRegistry;
import io.kvconnect.core.plugin.DiscoveredConnector;
import io.kvconnect.core.plugin.PluginProblem;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** Lists the connectors the engine discovers, and the plugins it refused. */
@Command(name = "connectors", mixinStandardHelpOptions = true,
        description = "List discovered connectors: name, version, origin, module and jar location.")
public final class ConnectorsCommand implements Callable<Integer> {
    @Mixin
    EngineOptions options;

    @Spec
    CommandSpec spec;

    /** Created by picocli. */
    ConnectorsCommand() {
    }

    @Override
    public Integer call() {
        EngineConfig config = options.config();
        ConnectorRegistry registry = ConnectorDiscovery.discover(options.pluginsDirectory(config),
                config.trustedPlugins());
        PrintWriter out = spec.commandLine().getOut();
        print(registry, out);
        out.flush();
        return registry.problems().isEmpty() ? 0 : 1;
    }

    /**
     * Prints the connectors of {@code registry} as a table and the plugins it refused, with why;
     * {@code run} prints this too when a plugin was refused.
     */
    public static void print(ConnectorRegistry registry, PrintWriter out) {
        String format = "%-16s %-12s %-18s %-24s %s%n";
        out.printf(format, "NAME", "VERSION", "ORIGIN", "MODULE", "LOCATION");
        for (DiscoveredConnector c : registry.connectors()) {
            out.printf(format, c.name(), c.version(), c.origin().name().toLowerCase(java.util.Locale.ROOT),
                    c.module(), c.location());
        }
        if (registry.connectors().isEmpty()) {
            out.println("(no connectors found)");
        }
        if (!registry.problems().isEmpty()) {
            out.println();
            out.println("Refused plugins:");
            for (PluginProblem p : registry.problems()) {
                out.println("  " + p);
            }
        }
    }
}
