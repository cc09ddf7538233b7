package io.kvconnect.core.cli;

import io.kvconnect.api.common.ConfigException;
import java.io.PrintWriter;
import io.kvconnect.core.sched.ConnectorFatalError;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code kvconnect} command line. Without a subcommand it runs the main job ({@code run}).
 *
 * <p>Exit codes: 0 success, 1 failure, 2 invalid configuration or arguments, 3 a connector failed
 * fatally (it exhausted the heap, or a worker is stuck in one of its hooks past every bound).
 */
@Command(name = "kvconnect", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "A plugin framework for the KV cache of an LLM inference engine.",
        subcommands = {RunCommand.class, ConnectorsCommand.class, DisaggCommand.class, SoakCommand.class,
            ServeCommand.class, CommandLine.HelpCommand.class})
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
        var cli = new CommandLine(new Main()).setOut(out).setErr(err);
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
