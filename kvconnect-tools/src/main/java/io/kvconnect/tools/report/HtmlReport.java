package io.kvconnect.tools.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The main job's report as one self-contained HTML page: the comparison table and the saved line
 * of {@link RunComparison}, and three charts drawn by JFreeChart as PNG images inlined in the page: the
 * distribution of the time to first token of each run, the hit rate over time, and the KV bytes
 * moved in each direction. No script, no style sheet or image to fetch: the page opens offline.
 *
 * <p>The page is well-formed XML (XHTML served as HTML), so that it can be checked with any XML
 * parser. Called by {@code run} on its own thread after the runs; draws off screen (headless).
 */
public final class HtmlReport {
    /** The ids of the charts' figures, in page order. */
    public static final List<String> CHART_IDS = List.of("ttft", "hit-rate", "bytes");

    private static final int WIDTH = 760;
    private static final int HEIGHT = 380;
    /** Windows of the hit rate chart: enough to see it change, few enough to keep each one meaningful. */
    private static final int WINDOWS = 20;

    private static final Color[] RUN_COLORS = {new Color(0x1f77b4), new Color(0xd62728)};

    private HtmlReport() {}

    /**
     * Writes the page to {@code file}, replacing it.
     *
     * @param facts lines shown under the title (the model, the workload)
     * @param comparison the runs and their comparison
     * @param savedLine what the connector saved, with two runs
     * @throws IOException if the file cannot be written
     */
    public static void write(Path file, List<String> facts, RunComparison comparison, Optional<String> savedLine)
            throws IOException {
        Files.writeString(file, page(facts, comparison, savedLine));
    }

    /** The page's text (see {@link #write}). */
    public static String page(List<String> facts, RunComparison comparison, Optional<String> savedLine) {
        // Java2D draws the charts off screen; a DISPLAY variable naming an unreachable X server
        // must not be tried. Set before the first AWT class initializes.
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
        StringBuilder html = new StringBuilder();
        html.append("""
                <!DOCTYPE html>
                <html xmlns="http://www.w3.org/1999/xhtml" lang="en">
                <head>
                <meta charset="utf-8"/>
                <title>kvconnect run</title>
                <style>
                body { font-family: sans-serif; margin: 2em auto; max-width: 800px; color: #222; }
                table { border-collapse: collapse; margin: 1em 0; }
                th, td { padding: 0.2em 0.8em; border-bottom: 1px solid #ddd; }
                td.v { text-align: right; font-variant-numeric: tabular-nums; }
                p.saved { font-weight: bold; }
                figure { margin: 1em 0; }
                p.note { color: #666; font-size: 0.9em; }
                </style>
                </head>
                <body>
                <h1>kvconnect run</h1>
                """);
        for (String fact : facts) {
            html.append("<p>").append(escape(fact)).append("</p>\n");
        }
        savedLine.ifPresent(
                line -> html.append("<p class=\"saved\">").append(escape(line)).append("</p>\n"));
        html.append("<table>\n<tr><th></th>");
        for (RunColumn run : comparison.runs()) {
            html.append("<th>").append(escape(run.label())).append("</th>");
        }
        html.append("</tr>\n");
        for (RunComparison.Row row : comparison.rows()) {
            html.append("<tr><td>").append(escape(row.name())).append("</td>");
            for (String v : row.values()) {
                html.append("<td class=\"v\">").append(escape(v)).append("</td>");
            }
            html.append("</tr>\n");
        }
        html.append("</table>\n");
        List<JFreeChart> charts =
                List.of(ttftChart(comparison.runs()), hitRateChart(comparison.runs()), bytesChart(comparison.runs()));
        for (int i = 0; i < charts.size(); i++) {
            html.append("<figure id=\"")
                    .append(CHART_IDS.get(i))
                    .append("\">\n")
                    .append(png(charts.get(i), CHART_IDS.get(i)))
                    .append("\n<figcaption>")
                    .append(escape(charts.get(i).getTitle().getText()))
                    .append("</figcaption>\n</figure>\n");
        }
        html.append("""
                <p class="note">Times are modelled: each step costs the modelled GPU time of its work plus the real \
                time of everything else in it (scheduling, connector hooks, waits for copies). Hit rates count \
                prompt tokens: those the GPU prefix cache had, and those the connector loaded.</p>
                </body>
                </html>
                """);
        return html.toString();
    }

    /** The time to first token of each run as a cumulative distribution, on a logarithmic time axis. */
    static JFreeChart ttftChart(List<RunColumn> runs) {
        XYSeriesCollection data = new XYSeriesCollection();
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        for (int r = 0; r < runs.size(); r++) {
            RunColumn run = runs.get(r);
            XYSeries series = new XYSeries(run.label(), true, true);
            double[] ttft = run.figures().ttftSeconds();
            for (int i = 0; i < ttft.length; i++) {
                // A log axis cannot show 0; no request gets its first token in less than 1 µs.
                series.add(Math.max(ttft[i] * 1e3, 1e-3), 100.0 * (i + 1) / ttft.length);
            }
            line(renderer, data.getSeriesCount(), r, false);
            data.addSeries(series);
        }
        JFreeChart chart = ChartFactory.createXYLineChart(
                "Time to first token: share of requests at most x",
                "TTFT [ms], modelled (log scale)",
                "requests [%]",
                data);
        XYPlot plot = chart.getXYPlot();
        LogAxis axis = new LogAxis("TTFT [ms], modelled (log scale)");
        axis.setSmallestValue(1e-3);
        // Ticks labelled as plain numbers rather than as powers of ten: a tick per decade (1, 10,
        // 100 ms) over a wide range, else a tick per power of two (2, 4, 8, 16 ms), so that a
        // narrow range still has several.
        double decades = Math.log10(data.getDomainUpperBound(false) / data.getDomainLowerBound(false));
        axis.setTickUnit(new NumberTickUnit(decades >= 2 ? 1 : Math.log10(2)));
        axis.setNumberFormatOverride(new DecimalFormat("0.###", DecimalFormatSymbols.getInstance(Locale.ROOT)));
        plot.setDomainAxis(axis);
        ((NumberAxis) plot.getRangeAxis()).setRange(0, 100);
        style(plot, renderer);
        return chart;
    }

    /**
     * The share of prompt tokens not computed per window of modelled time, each run's: the GPU
     * prefix cache's and the connector's together (solid), and the GPU prefix cache's alone
     * (dashed) where the connector had any.
     */
    static JFreeChart hitRateChart(List<RunColumn> runs) {
        XYSeriesCollection data = new XYSeriesCollection();
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        for (int r = 0; r < runs.size(); r++) {
            RunColumn run = runs.get(r);
            List<HitRateWindows.Window> windows =
                    HitRateWindows.of(run.figures().hitTimeline(), WINDOWS);
            boolean connectorHits = run.figures().connectorHits() > 0;
            XYSeries cached = new XYSeries(
                    run.label() + (connectorHits ? ": GPU prefix cache + connector" : ": GPU prefix cache"),
                    false,
                    true);
            XYSeries gpu = new XYSeries(run.label() + ": GPU prefix cache alone", false, true);
            for (HitRateWindows.Window w : windows) {
                cached.add(w.seconds(), w.cachedPercent());
                gpu.add(w.seconds(), w.gpuPercent());
            }
            line(renderer, data.getSeriesCount(), r, false);
            data.addSeries(cached);
            if (connectorHits) {
                line(renderer, data.getSeriesCount(), r, true);
                data.addSeries(gpu);
            }
        }
        JFreeChart chart = ChartFactory.createXYLineChart(
                "Prompt tokens not computed, over time", "modelled time [s]", "of prompt tokens admitted [%]", data);
        XYPlot plot = chart.getXYPlot();
        ((NumberAxis) plot.getRangeAxis()).setRange(0, 100);
        style(plot, renderer);
        return chart;
    }

    /** The KV bytes copied in each direction, each run's, in MiB. */
    static JFreeChart bytesChart(List<RunColumn> runs) {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (RunColumn run : runs) {
            data.addValue(run.figures().bytesToHost() / (1024.0 * 1024.0), run.label(), "GPU->host (stores)");
            data.addValue(run.figures().bytesFromHost() / (1024.0 * 1024.0), run.label(), "host->GPU (loads)");
        }
        JFreeChart chart = ChartFactory.createBarChart("KV bytes moved", "direction", "MiB, all workers", data);
        CategoryPlot plot = chart.getCategoryPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        BarRenderer renderer = (BarRenderer) plot.getRenderer();
        renderer.setBarPainter(new StandardBarPainter());
        renderer.setShadowVisible(false);
        for (int i = 0; i < runs.size(); i++) {
            renderer.setSeriesPaint(i, RUN_COLORS[i % RUN_COLORS.length]);
        }
        return chart;
    }

    /** Series {@code series} drawn in run {@code run}'s colour, solid or dashed. */
    private static void line(XYLineAndShapeRenderer renderer, int series, int run, boolean dashed) {
        renderer.setSeriesPaint(series, RUN_COLORS[run % RUN_COLORS.length]);
        renderer.setSeriesStroke(
                series,
                dashed
                        ? new BasicStroke(
                                1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f)
                        : new BasicStroke(2f));
    }

    private static void style(XYPlot plot, XYLineAndShapeRenderer renderer) {
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        plot.setRenderer(renderer);
    }

    /**
     * The chart as an {@code img} element whose source is the PNG itself (a data URI), so the page
     * stays one file; its title is the image's text alternative.
     */
    private static String png(JFreeChart chart, String id) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            ChartUtils.writeChartAsPNG(bytes, chart, WIDTH, HEIGHT);
        } catch (IOException e) {
            // A byte array stream does not fail; an encoder that does is a bug worth its stack trace.
            throw new UncheckedIOException(e);
        }
        return "<img id=\"" + id + "-chart\" width=\"" + WIDTH + "\" height=\"" + HEIGHT + "\" alt=\""
                + escape(chart.getTitle().getText()) + "\" src=\"data:image/png;base64,"
                + Base64.getEncoder().encodeToString(bytes.toByteArray()) + "\"/>";
    }

    /** Text for an element's content or an attribute in double quotes. */
    static String escape(String text) {
        StringBuilder sb = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            switch (c) {
                case '&' -> sb.append("&amp;");
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '"' -> sb.append("&quot;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }
}
