package io.kvconnect.tools.capacity;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.util.Locale;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** The hit-rate curves of a {@link CapacityReport} as a PNG chart (JFreeChart, headless). */
public final class CapacityPlot {
    static final int WIDTH = 900;
    static final int HEIGHT = 520;

    private CapacityPlot() {}

    /** Writes the chart of {@code report} to {@code file} as PNG. */
    public static void write(CapacityReport report, Path file) throws IOException {
        ChartUtils.saveChartAsPNG(file.toFile(), chart(report), WIDTH, HEIGHT);
    }

    /**
     * Prefix hit rate against capacity (log scale) for MIN, LRU and ARC, MIN's block rate dashed,
     * the observed rate as a point at the capacity the trace was recorded at (none if not known),
     * and the judged capacity as a vertical line.
     */
    static JFreeChart chart(CapacityReport report) {
        XYSeries min = new XYSeries("optimum (Belady MIN), prefix", true, false);
        XYSeries minBlock = new XYSeries("optimum (Belady MIN), any block", true, false);
        XYSeries lru = new XYSeries("LRU, prefix", true, false);
        XYSeries arc = new XYSeries("ARC, prefix", true, false);
        for (CapacityReport.Point p : report.curve()) {
            min.add(p.capacity(), 100 * p.min().prefixHitRate());
            minBlock.add(p.capacity(), 100 * p.min().blockHitRate());
            lru.add(p.capacity(), 100 * p.lru().prefixHitRate());
            arc.add(p.capacity(), 100 * p.arc().prefixHitRate());
        }
        // The observed rate is of the capacity the trace was recorded at, wherever the report judges.
        XYSeries observed = new XYSeries("observed (the connector, at its capacity)", true, false);
        int recorded = report.trace().recordedCapacity();
        if (recorded > 0) {
            observed.add(recorded, 100 * report.observedRate());
        }
        XYSeriesCollection data = new XYSeriesCollection();
        data.addSeries(min);
        data.addSeries(minBlock);
        data.addSeries(lru);
        data.addSeries(arc);
        data.addSeries(observed);
        JFreeChart chart = ChartFactory.createXYLineChart(
                "Tier hit rate by capacity", "capacity [blocks] (log scale)", "block lookups hit [%]", data);
        XYPlot plot = chart.getXYPlot();
        LogAxis axis = new LogAxis("capacity [blocks] (log scale)");
        axis.setBase(2);
        axis.setSmallestValue(1);
        // Ticks at powers of two, labelled as plain block counts (1, 2, 4 ... 16,384).
        axis.setTickUnit(new NumberTickUnit(1));
        axis.setNumberFormatOverride(new DecimalFormat("#,##0", DecimalFormatSymbols.getInstance(Locale.ROOT)));
        plot.setDomainAxis(axis);
        ((NumberAxis) plot.getRangeAxis()).setRange(0, 100);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        Color[] colors = {
            new Color(0x1b9e77), new Color(0x1b9e77), new Color(0xd95f02), new Color(0x7570b3), Color.BLACK
        };
        for (int i = 0; i < colors.length; i++) {
            renderer.setSeriesPaint(i, colors[i]);
            renderer.setSeriesStroke(i, new BasicStroke(2f));
        }
        renderer.setSeriesStroke(
                1, new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
        renderer.setSeriesLinesVisible(4, false);
        renderer.setSeriesShapesVisible(4, true);
        plot.setRenderer(renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        ValueMarker tier = new ValueMarker(report.tierCapacity());
        tier.setPaint(Color.GRAY);
        tier.setLabel("tier capacity");
        plot.addDomainMarker(tier);
        return chart;
    }
}
