package io.kvconnect.tools.cli;

import io.kvconnect.api.common.ConfigException;
import io.kvconnect.tools.capacity.CapacityPlot;
import io.kvconnect.tools.capacity.CapacityReport;
import io.kvconnect.tools.capacity.TierTrace;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * Sizes a tier from a recorded tier trace ({@code run --capacity-report --capacity-trace FILE}):
 * prints the same capacity report as {@code run --capacity-report}, for any tier capacity, without
 * running the engine.
 */
@Command(
        name = "plan",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Size a KV tier from a tier trace written by run --capacity-report --capacity-trace FILE: "
                    + "the hit rate the trace's connector had, the optimum (Belady MIN) and LRU and ARC at the "
                    + "trace's capacity (or --tier-blocks) and over a range of capacities. See docs/operations.md, "
                    + "sizing a tier."
        })
final class PlanCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "TRACE", description = "The tier trace.")
    Path trace;

    @Option(
            names = "--tier-blocks",
            paramLabel = "N",
            description = "The tier capacity to judge, in engine blocks (default: the capacity the trace was "
                    + "recorded at; the connector's observed rate is of that capacity only).")
    Integer tierBlocks;

    @Option(names = "--plot", paramLabel = "FILE", description = "Also draw the hit rate by capacity as a PNG chart.")
    Path plot;

    @Override
    public Integer call() throws Exception {
        if (tierBlocks != null && tierBlocks < 1) {
            throw new ConfigException("--tier-blocks", tierBlocks + " is not allowed; allowed: 1 or more blocks");
        }
        if (plot != null) {
            Path parent = plot.toAbsolutePath().getParent();
            if (parent == null || !Files.isDirectory(parent)) {
                throw new ConfigException("--plot", "folder " + parent + " does not exist");
            }
        }
        TierTrace t;
        try {
            t = TierTrace.read(trace);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("TRACE", e.getMessage());
        }
        int capacity = tierBlocks != null ? tierBlocks : t.recordedCapacity();
        if (capacity < 1) {
            throw new ConfigException("--tier-blocks", "is required: the trace does not say its tier's capacity");
        }
        CapacityReport report = CapacityReport.of(t, capacity);
        PrintWriter out = spec.commandLine().getOut();
        out.print(report.render());
        if (plot != null) {
            CapacityPlot.write(report, plot);
            out.println("hit rate by capacity drawn in " + plot);
        }
        out.flush();
        return 0;
    }
}
