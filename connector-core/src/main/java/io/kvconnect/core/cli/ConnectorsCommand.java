package io.kvconnect.core.cli;

import io.kvconnect.core.config.EngineConfig;
import io.kvconnect.core.plugin.ConnectorDiscovery;
import io.kvconnect.core.plugin.ConnectorRegistry;
import io.kvconnect.core.plugin.DiscoveredConnector;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** Lists the connectors the engine discovers, and the plugins it refused. */
@Command(
        name = "connectors",
        mixinStandardHelpOptions = true,
        description = "List discovered connectors: name, version, origin, module and jar location.")
final class ConnectorsCommand implements Callable<Integer> {
    @Mixin
    EngineOptions options;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        EngineConfig config = options.config();
        // Every connector and every refusal is listed; the configured connector is not checked.
        ConnectorRegistry registry =
                ConnectorDiscovery.discover(options.pluginsDirectory(config), config.trustedPlugins());
        PrintWriter out = spec.commandLine().getOut();
        print(registry, out);
        out.flush();
        return registry.problems().isEmpty() ? 0 : 1;
    }

    private static void print(ConnectorRegistry registry, PrintWriter out) {
        String format = "%-16s %-12s %-18s %-24s %s%n";
        out.printf(format, "NAME", "VERSION", "ORIGIN", "MODULE", "LOCATION");
        for (DiscoveredConnector c : registry.connectors()) {
            out.printf(
                    format,
                    c.name(),
                    c.version(),
                    c.origin().name().toLowerCase(java.util.Locale.ROOT),
                    c.module(),
                    c.location());
        }
        if (registry.connectors().isEmpty()) {
            out.println("(no connectors found)");
        }
        if (!registry.problems().isEmpty()) {
            out.println();
            EngineOptions.printRefused(registry.problems(), out);
        }
    }
}
