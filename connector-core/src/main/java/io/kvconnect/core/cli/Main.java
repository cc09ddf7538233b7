package io.kvconnect.core.cli;

import io.kvconnect.api.common.ConfigException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code kvconnect} command line. Without a subcommand it runs the main job ({@code run}).
 *
 * <p>Exit codes: 0 success, 1 failure, 2 invalid configuration or arguments.
 */
@Command(name = "kvconnect", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "A plugin framework for the KV cache of an LLM inference engine.",
        subcommands = {RunCommand.class, ConnectorsCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    /** Exit code for invalid configuration. */
    static final int CONFIG_ERROR = 2;

    /** Runs the command line and exits the JVM with its exit code. */
    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns its exit code; the JVM keeps running. */
    public static int execute(String... args) {
        var cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof ConfigException config) {
                commandLine.getErr().println("configuration error: " + config.getMessage());
                return CONFIG_ERROR;
            }
            throw e;
        });
        if (args.length == 0) {
            return cli.execute("run");
        }
        return cli.execute(args);
    }

    @Override
    public void run() {
        // Only reached with options but no subcommand (for example --verbose alone): run the main job.
        new CommandLine(new Main()).execute("run");
    }
}
