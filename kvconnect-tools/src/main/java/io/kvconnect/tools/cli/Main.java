package io.kvconnect.tools.cli;

import java.io.PrintWriter;
import java.util.List;

/**
 * The {@code kvconnect} command line that {@code ./kvconnect} starts: the main job ({@code run}),
 * {@code plan} (a tier's capacity report from a recorded tier trace),
 * the commands that drive engines from outside: {@code soak}, {@code disagg} and the hidden {@code
 * serve} that {@code disagg} starts each of its engine processes with, and the engine's own
 * ({@code connectors}, {@code help}, {@code --version}). Without a subcommand it runs {@code run}.
 *
 * <p>Exit codes are the engine's: 0 success, 1 failure, 2 invalid configuration or arguments, 3 a
 * connector failed fatally.
 */
public final class Main {
    private Main() {}

    /** Runs the command line and exits the JVM with its exit code. */
    public static void main(String[] args) {
        System.exit(execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
    }

    /** Runs the command line writing to {@code out} and {@code err}, and returns its exit code. */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        // Fresh instances per call: picocli keeps the parsed options in them.
        return io.kvconnect.core.cli.Main.execute(
                out,
                err,
                List.of(
                        new RunCommand(),
                        new PlanCommand(),
                        new DisaggCommand(),
                        new SoakCommand(),
                        new ServeCommand()),
                args.length == 0 ? new String[] {"run"} : args);
    }
}
