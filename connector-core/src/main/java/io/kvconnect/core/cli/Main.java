package io.kvconnect.core.cli;

import io.kvconnect.api.common.ConfigException;
import java.io.PrintWriter;
import java.util.List;
import io.kvconnect.core.sched.ConnectorFatalError;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code kvconnect} command line. Without a subcommand it runs the main job ({@code run}).
 *
 * <p>The engine's own commands are {@code run} and {@code connectors}. The launcher's command line
 * ({@code kvconnect.tools}) adds the commands that drive the engine from outside, such as {@code
 * soak} and {@code disagg}, through {@link #execute(PrintWriter, PrintWriter, List, String...)}, so
 * that one root command lists them all.
 *
 * <p>Exit codes: 0 success, 1 failure, 2 invalid configuration or arguments, 3 a connector failed
 * fatally (it exhausted the heap, or a worker is stuck in one of its hooks past every bound).
 */
@Command(name = "kvconnect", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "A plugin framework for the KV cache of an LLM inference engine.",
        subcommands = {RunCommand.class, ConnectorsCommand.class})
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
     * Runs the command line with {@code commands} added after the engine's own and before {@code
     * help}, writing to {@code out} and {@code err}, and returns its exit code. Each command is an
     * instance of a picocli {@code @Command} class; its configuration errors ({@link
     * ConfigException}) and fatal connector errors exit as the engine's own commands' do.
     */
    public static int execute(PrintWriter out, PrintWriter err, List<?> commands, String... args) {
        var cli = new CommandLine(new Main());
        // Added before the streams and the handler are set: picocli passes them on only to the
        // subcommands it already has.
        commands.forEach(cli::addSubcommand);
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
            return cli.execute(args.length == 0 ? new String[] {"run"} : args);
        } catch (ConnectorFatalError fatal) {
            // Errors pass picocli's exception handler by: report this one as what it is.
            err.println("fatal: " + fatal.getMessage() + "; the engine stopped");
            return ConnectorFatalError.EXIT_STATUS;
        }
    }

    @Override
    public void run() {
        // Only reached when no subcommand is given; execute() maps that case to "run" before parsing.
        throw new CommandLine.ParameterException(new CommandLine(this), "a command is required; try --help");
    }
}
