package io.kvconnect.tools.report;

import io.kvconnect.core.run.RunFigures;
import java.util.Objects;

/**
 * One run as a column of the main job's comparison and charts.
 *
 * @param label the column's heading, such as {@code "connector offload"} or {@code "baseline"}
 * @param figures what the run measured
 */
public record RunColumn(String label, RunFigures figures) {
    /** Checks for nulls. */
    public RunColumn {
        Objects.requireNonNull(label, "label");
        Objects.requireNonNull(figures, "figures");
    }
}
