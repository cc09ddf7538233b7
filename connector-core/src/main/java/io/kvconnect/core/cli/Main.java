package io.kvconnect.core.cli;

import io.kvconnect.api.common.ConfigException;
import io.kvconnect.core.sched.ConnectorFatalError;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The root of the {@code kvconnect} command line.
 *
 * <p>The engine's own command is {@code connectors}. The launcher's command line ({@code
 * kvconnect.tools}) adds the main job ({@code run}, whose default configuration names a bundled
 * connector, which the engine never does) and the commands that drive the engine from outside,
 * such as {@code soak} and {@code disagg}, through {@link #execute(PrintWriter, PrintWriter, List,
 * String...)}, so that one root command lists them all. Without a subcommand this root reports a
 * usage error; the launcher's runs {@code run}.
 *
 * <p>Exit codes: 0 success, 1 failure, 2 invalid configuration or arguments, 3 a connector failed
 * fatally (it exhausted the heap, or a worker is stuck in one of its hooks past every bound).
 */
@Command(
        name = "kvconnect",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "A plugin framework for the KV cache of an LLM inference engine.")
public final class Main implements Runnable {
    /** Exit code for invalid configuration. */
    static final int CONFIG_ERROR = 2;

    /** Runs the command line and exits the JVM with its exit code. */
    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line on the standard streams and returns its exit code; the JVM keeps running. */
    public static int execute(String... args) {
        return execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /** Runs the command line writing to {@code out} and {@code err}, and returns its exit code. */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        return execute(out, err, List.of(), args);
    }

    /**
     * Runs the command line with {@code commands} listed first, then the engine's own ({@code
     * connectors}) and {@code help}, writing to {@code out} and {@code err}, and returns its exit
     * code. Each command is an instance of a picocli {@code @Command} class; its configuration errors
     * ({@link ConfigException}) and fatal connector errors exit as the engine's own commands' do.
     */
    public static int execute(PrintWriter out, PrintWriter err, List<?> commands, String... args) {
        var cli = new CommandLine(new Main());
        // Added before the streams and the handler are set: picocli passes them on only to the
        // subcommands it already has. The order is the order of the help's list.
        commands.forEach(cli::addSubcommand);
        cli.addSubcommand(new ConnectorsCommand());
        cli.addSubcommand(new CommandLine.HelpCommand());
        cli.setOut(out).setErr(err);
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof ConfigException config) {
                commandLine.getErr().println("configuration error: " + config.getMessage());
                return CONFIG_ERROR;
            }
            throw e;
        });
        try {
            return cli.execute(args);
        } catch (ConnectorFatalError fatal) {
            // Errors pass picocli's exception handler by: report this one as what it is.
            err.println("fatal: " + fatal.getMessage() + "; the engine stopped");
            return ConnectorFatalError.EXIT_STATUS;
        }
    }

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        // Only reached when no subcommand is given. Thrown for this command line, so that the
        // message goes to its error stream.
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required; try --help");
    }
}
