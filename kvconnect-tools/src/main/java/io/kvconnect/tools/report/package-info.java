/**
 * What the main job ({@code run}) shows of its runs: the side-by-side comparison of a run with its
 * connector and the same workload without it, the line that says what the connector saved
 * ({@code RunComparison}), and the same as an HTML page with charts ({@code HtmlReport}, drawn with
 * JFreeChart as PNG images inlined in the page).
 *
 * <p>Reads the runs' figures ({@code io.kvconnect.core.run.RunFigures}) only; names no connector.
 * Used by the command-line package; depends on nothing of it.
 */
package io.kvconnect.tools.report;
