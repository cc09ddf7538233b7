package io.kvconnect.tools.report;

import io.kvconnect.core.run.RunFigures;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * The main job's short report: the figures that show what a connector does, one column per run
 * (the run with the connector, then the same workload without it), and the one line that says
 * what the connector saved. Every value is read from the runs' {@link RunFigures}; nothing here
 * knows a connector.
 *
 * @param runs one run, or the run with the connector and the run without it, in that order
 * @param outputsIdentical with two runs, whether every request's output tokens were the same in
 *     both; empty with one run
 */
public record RunComparison(List<RunColumn> runs, Optional<Boolean> outputsIdentical) {
    // The row names, in the order of rows(); OUTPUTS_IDENTICAL only with two runs.

    /** Prompt tokens found in the GPU prefix cache, of those looked up. */
    public static final String PREFIX_HIT_RATE = "GPU prefix hit rate";
    /** Prompt tokens the connector had, of those asked of it. */
    public static final String CONNECTOR_HIT_RATE = "connector hit rate";
    /** Median time to first token. */
    public static final String TTFT_P50 = "TTFT p50 [ms]";
    /** 99th percentile of the time to first token. */
    public static final String TTFT_P99 = "TTFT p99 [ms]";
    /** Tokens computed in prefill. */
    public static final String PREFILL_COMPUTED = "prefill tokens computed";
    /** Tokens computed in prefill and decode. */
    public static final String ALL_COMPUTED = "tokens computed (all)";
    /** KV bytes copied from GPU to host memory. */
    public static final String TO_HOST = "GPU->host bytes";
    /** KV bytes copied from host to GPU memory. */
    public static final String FROM_HOST = "host->GPU bytes";
    /** Whether the outputs of both runs were the same. */
    public static final String OUTPUTS_IDENTICAL = "outputs identical";
    /** The KV verification result. */
    public static final String KV_VERIFICATION = "KV verification";

    /** Checks that the runs and the identity of their outputs go together. */
    public RunComparison {
        runs = List.copyOf(runs);
        Objects.requireNonNull(outputsIdentical, "outputsIdentical");
        if (runs.isEmpty() || runs.size() > 2) {
            throw new IllegalArgumentException("one or two runs, not " + runs.size());
        }
        if (outputsIdentical.isPresent() != (runs.size() == 2)) {
            throw new IllegalArgumentException(
                    "whether the outputs are identical is known exactly when there are " + "two runs");
        }
    }

    /** One run on its own. */
    public static RunComparison of(RunColumn run) {
        return new RunComparison(List.of(run), Optional.empty());
    }

    /** The run with the connector and the same workload without it. */
    public static RunComparison of(RunColumn withConnector, RunColumn without, boolean outputsIdentical) {
        return new RunComparison(List.of(withConnector, without), Optional.of(outputsIdentical));
    }

    /**
     * A row of the comparison.
     *
     * @param name what the row shows
     * @param values one formatted value per run, in the order of the runs
     */
    public record Row(String name, List<String> values) {
        /** Copies. */
        public Row {
            values = List.copyOf(values);
        }
    }

    /** The rows, in the order they are printed. */
    public List<Row> rows() {
        List<Row> rows = new ArrayList<>();
        rows.add(row(PREFIX_HIT_RATE, f -> percent(f.prefixHits(), f.prefixQueries())));
        rows.add(row(CONNECTOR_HIT_RATE, f -> percent(f.connectorHits(), f.connectorQueries())));
        rows.add(row(TTFT_P50, f -> millis(f.ttftP50Seconds())));
        rows.add(row(TTFT_P99, f -> millis(f.ttftP99Seconds())));
        rows.add(row(PREFILL_COMPUTED, f -> count(f.prefillTokens())));
        rows.add(row(ALL_COMPUTED, f -> count(f.computedTokens())));
        rows.add(row(TO_HOST, f -> bytes(f.bytesToHost())));
        rows.add(row(FROM_HOST, f -> bytes(f.bytesFromHost())));
        outputsIdentical.ifPresent(same -> rows.add(new Row(OUTPUTS_IDENTICAL, List.of(same ? "yes" : "NO", ""))));
        rows.add(row(
                KV_VERIFICATION,
                f -> f.verification() == RunFigures.Verification.OFF
                        ? "off"
                        : f.verification().name()));
        return rows;
    }

    /** The rows as aligned text under a header of the runs' labels, one line per row. */
    public String table() {
        int nameWidth = 26;
        int width = 20;
        for (RunColumn r : runs) {
            width = Math.max(width, r.label().length() + 2);
        }
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-" + nameWidth + "s", ""));
        for (RunColumn r : runs) {
            sb.append(String.format(Locale.ROOT, "%" + width + "s", r.label()));
        }
        sb.append('\n');
        for (Row row : rows()) {
            sb.append(String.format(Locale.ROOT, "%-" + nameWidth + "s", row.name()));
            for (String v : row.values()) {
                sb.append(String.format(Locale.ROOT, "%" + width + "s", v));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /**
     * The one line that says what the connector saved, such as {@code "offload saved 58% of
     * prefill tokens (26,899 instead of 64,309) and cut TTFT p50 from 18.02 ms to 15.62 ms; outputs
     * identical; KV verified"}; present with two runs.
     *
     * @param connector the connector's name, which starts the line
     */
    public Optional<String> savedLine(String connector) {
        if (runs.size() != 2) {
            return Optional.empty();
        }
        RunFigures with = runs.get(0).figures();
        RunFigures without = runs.get(1).figures();
        StringBuilder line = new StringBuilder(connector);
        long a = with.prefillTokens();
        long b = without.prefillTokens();
        boolean savedTokens = a < b;
        if (a == b) {
            line.append(" saved no prefill tokens (").append(count(a)).append(" computed either way)");
        } else if (savedTokens) {
            line.append(" saved ")
                    .append(share(b - a, b))
                    .append(" of prefill tokens (")
                    .append(count(a))
                    .append(" instead of ")
                    .append(count(b))
                    .append(')');
        } else if (b == 0) {
            line.append(" computed ").append(count(a)).append(" prefill tokens, the run without it none");
        } else {
            line.append(" computed ")
                    .append(share(a - b, b))
                    .append(" more prefill tokens (")
                    .append(count(a))
                    .append(" instead of ")
                    .append(count(b))
                    .append(')');
        }
        String x = millis(without.ttftP50Seconds());
        String y = millis(with.ttftP50Seconds());
        if (Double.isNaN(with.ttftP50Seconds()) || Double.isNaN(without.ttftP50Seconds())) {
            line.append("; no TTFT to compare");
        } else {
            // Compared as printed, so that the words never contradict the numbers beside them.
            int cmp = Double.compare(Double.parseDouble(y), Double.parseDouble(x));
            boolean cutTtft = cmp < 0;
            line.append(savedTokens == cutTtft || a == b ? " and " : " but ");
            if (cmp < 0) {
                line.append("cut TTFT p50 from ")
                        .append(x)
                        .append(" ms to ")
                        .append(y)
                        .append(" ms");
            } else if (cmp > 0) {
                line.append("TTFT p50 rose from ")
                        .append(x)
                        .append(" ms to ")
                        .append(y)
                        .append(" ms");
            } else {
                line.append("TTFT p50 stayed at ").append(x).append(" ms");
            }
        }
        line.append(outputsIdentical.orElseThrow() ? "; outputs identical" : "; outputs DIFFER");
        line.append("; ").append(verification(with.verification(), without.verification()));
        return Optional.of(line.toString());
    }

    private static String verification(RunFigures.Verification a, RunFigures.Verification b) {
        if (a == RunFigures.Verification.FAILED || b == RunFigures.Verification.FAILED) {
            return "KV verification FAILED";
        }
        if (a == RunFigures.Verification.OK && b == RunFigures.Verification.OK) {
            return "KV verified";
        }
        return "KV not verified (verify_kv off)";
    }

    private Row row(String name, Function<RunFigures, String> value) {
        return new Row(name, runs.stream().map(r -> value.apply(r.figures())).toList());
    }

    /** {@code part} of {@code whole} as a percentage: whole numbers, one decimal below 1%. */
    static String share(long part, long whole) {
        double p = 100.0 * part / whole;
        return p >= 1 || p == 0 ? String.format(Locale.ROOT, "%.0f%%", p) : String.format(Locale.ROOT, "%.1f%%", p);
    }

    static String percent(long part, long whole) {
        return whole == 0 ? "-" : String.format(Locale.ROOT, "%.1f%%", 100.0 * part / whole);
    }

    static String millis(double seconds) {
        return Double.isNaN(seconds) ? "-" : String.format(Locale.ROOT, "%.2f", seconds * 1e3);
    }

    static String count(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    /** Bytes in binary units with two decimals ({@code "6.29 MiB"}); below 1 KiB exact. */
    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.2f %s", v, units[u]);
    }
}
