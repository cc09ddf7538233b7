package io.kvconnect.core.run;

import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.core.engine.Engine;
import io.kvconnect.core.engine.EngineMetrics;
import io.kvconnect.core.memory.CopyFaults.Direction;
import io.kvconnect.core.memory.MemoryPlacement;
import io.kvconnect.core.sched.ContainedThrowable;
import io.kvconnect.core.sched.SchedulerStats;
import io.kvconnect.core.workload.Percentiles;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * The end report of one run: an ordered map of sections of named values, printable as aligned
 * text (several runs side by side) and as JSON. Built from the engine after the run.
 *
 * <p>A value is kept short enough for its column ({@link #render}); what needs a sentence (why the
 * KV caches are not in CUDA device memory) is a note, printed once below the table.
 *
 * @param label what was run (for example "with connector 'offload'" or "baseline")
 * @param sections section name to (metric name to value)
 * @param outputs each finished request's output tokens, for comparing runs
 * @param notes sentences too long for a column, each naming what it explains (e.g. "KV memory: host
 *     memory (memory: auto; no CUDA driver: ...)")
 */
public record RunReport(
        String label, Map<String, Map<String, Object>> sections, Map<String, int[]> outputs, List<String> notes) {
    /** Copies. */
    public RunReport {
        Objects.requireNonNull(label, "label");
        sections = new LinkedHashMap<>(sections);
        outputs = new LinkedHashMap<>(outputs);
        notes = List.copyOf(notes);
    }

    /** A report without notes (one read back from another process's JSON sections). */
    public RunReport(String label, Map<String, Map<String, Object>> sections, Map<String, int[]> outputs) {
        this(label, sections, outputs, List.of());
    }

    /** Width of the column of names, indent included. */
    static final int KEY_WIDTH = 30;

    /**
     * Least width of a column of values; a value of at most this less one character (as {@link
     * MemoryPlacement#BRIEF_MAX}) fits with a space before it.
     */
    static final int VALUE_WIDTH = MemoryPlacement.BRIEF_MAX + 1;

    /** Gathers the report of a finished run. */
    public static RunReport of(String label, Engine engine, double wallSeconds) {
        EngineMetrics m = engine.metrics();
        SchedulerStats s = engine.scheduler().stats();
        Map<String, Map<String, Object>> sections = new LinkedHashMap<>();

        Map<String, Object> run = new LinkedHashMap<>();
        run.put("wall time [s]", round(wallSeconds, 2));
        run.put("modelled time [s]", round(engine.now(), 2));
        run.put("steps", m.steps());
        run.put("workers", engine.setup().config().workers());
        run.put("scheduling", engine.setup().config().scheduler().asyncScheduling() ? "async" : "sync");
        // Where the KV caches were, in a few words (e.g. host memory because memory: auto found no
        // CUDA driver); the probe's full answer is a note, too long for a column.
        MemoryPlacement placement = engine.memoryPlacement();
        run.put("KV memory", placement.brief());
        sections.put("run", run);

        Map<String, Object> requests = new LinkedHashMap<>();
        long total = 0;
        for (Map.Entry<RequestStatus, Long> e : m.finishedByStatus().entrySet()) {
            requests.put("finish reason: " + finishReason(e.getKey()), e.getValue());
            total += e.getValue();
        }
        requests.put("total", total);
        requests.put("preemptions", s.preemptions());
        requests.put("load failures", s.loadFailures());
        requests.put("load failures reported late", s.lateLoadFailureReports());
        requests.put("stale invalid blocks ignored", s.ignoredInvalidBlocks());
        requests.put("loads refused after a failure", s.loadsRefusedAfterFailure());
        requests.put("connector hook failures", s.hookFailures());
        requests.put("transfers given up", s.transfersGivenUp());
        sections.put("requests", requests);

        Map<String, Object> tokens = new LinkedHashMap<>();
        tokens.put("prompt", m.promptTokens());
        tokens.put("output", m.outputTokens());
        tokens.put("computed", m.computedTokens());
        tokens.put("computed in prefill", m.prefillTokens());
        tokens.put("GPU prefix hit rate", percent(s.prefixHits(), s.prefixQueries()));
        tokens.put("connector hit tokens", s.connectorHits());
        tokens.put("connector hit rate", percent(s.connectorHits(), s.connectorQueries()));
        sections.put("tokens", tokens);

        Map<String, Object> moved = new LinkedHashMap<>();
        var ex = engine.executor();
        int workers = engine.setup().config().workers();
        for (Direction d : Direction.values()) {
            String name = d == Direction.TO_HOST ? "GPU->host" : "host->GPU";
            long bytes = ex.bytesCopied(d);
            moved.put(name + " blocks", ex.blocksCopied(d));
            moved.put(name + " bytes", bytes);
            double seconds = ex.copyNanos(d) / 1e9 / workers;
            moved.put(name + " GB/s", seconds > 0 ? round(bytes / seconds / 1e9, 2) : "-");
        }
        sections.put("KV moved", moved);

        Map<String, Object> latency = new LinkedHashMap<>();
        putPercentiles(latency, "TTFT", m.timeToFirstToken(), 1e3, "ms");
        putPercentiles(latency, "ITL", m.interTokenLatency(), 1e3, "ms");
        putPercentiles(latency, "scheduler step", m.schedulerStepMicros(), 1, "µs");
        sections.put("latency", latency);

        Map<String, Object> verify = new LinkedHashMap<>();
        var model = ex.modelCounters();
        verify.put("enabled", engine.setup().config().verifyKv());
        verify.put("verified block reads", model.verifiedBlockReads());
        verify.put("mismatches", m.mismatches());
        verify.put("  wrong loads", m.mismatchesByKind().wrongLoads());
        verify.put("  contaminated", m.mismatchesByKind().contaminated());
        verify.put("  overwritten", m.mismatchesByKind().overwritten());
        verify.put("wrong reads in discarded steps", m.discardedWrongReads());
        verify.put("result", !engine.setup().config().verifyKv() ? "off" : m.mismatches() == 0 ? "OK" : "FAILED");
        verify.put("output digest", digest(m.outputs()));
        sections.put("KV verification", verify);

        Map<String, Object> connector = new LinkedHashMap<>();
        engine.setup().connector().ifPresent(c -> connector.put("name", c.name()));
        connector.put("ignored duplicate signals", s.duplicateFinishedReports());
        connector.put("ignored late signals", s.lateFinishedReports());
        connector.put("ignored unknown signals", s.unknownFinishedReports());
        connector.put("leaked block references", s.leakedConnectorReferences());
        connector.put("stalls (no progress)", s.connectorStalls());
        var refused = ex.refusedCopies();
        // The count in the column; what they were, too long for it, in a note.
        connector.put("copies refused", refused.total());
        List<String> notes = new ArrayList<>();
        notes.add("KV memory: " + placement.why());
        if (refused.total() > 0) {
            notes.add("copies refused: " + refused.notInUse() + " of free blocks, " + refused.notLoadTarget()
                    + " into blocks not granted, " + refused.freed() + " of blocks freed before they ran, "
                    + refused.queueFull() + " while the copy queue was full");
        }
        connector.put("loads claimed, not filled", ex.unfilledLoads());
        connector.put("references taken back", s.reclaimedConnectorReferences());
        connector.put("disabled after a hook failure", s.connectorDisabled() ? "yes" : "no");
        m.connectorStats().ifPresent(cs -> {
            try {
                // Read whole, here: a value is plugin code until it is made one of the JDK's.
                Map<String, Object> lines = new LinkedHashMap<>();
                cs.summary().forEach((k, v) -> lines.put("stat: " + k, reportable(v)));
                connector.putAll(lines);
            } catch (Throwable e) {
                // Plugin code: a broken summary() loses the stats lines, never the report.
                io.kvconnect.core.exec.ContainedFailures.rethrowIfFatal(e);
                connector.put("stats", "unavailable: the connector's summary() threw " + ContainedThrowable.of(e));
            }
        });
        m.eventCounts().forEach((k, v) -> connector.put("events: " + k, v));
        sections.put("connector", connector);
        return new RunReport(label, sections, m.outputs(), notes);
    }

    /**
     * A connector's stat as the report keeps it: a number of one of the JDK's final classes as it
     * is, any other (a class of the plugin's, whose methods are plugin code) as the text it gives
     * now, while the caller contains what it throws.
     */
    private static Object reportable(@Nullable Number v) {
        return v instanceof Long
                        || v instanceof Integer
                        || v instanceof Double
                        || v instanceof Float
                        || v instanceof Short
                        || v instanceof Byte
                ? v
                : String.valueOf(v);
    }

    /** Whether this run produced exactly the output tokens of {@code other} for every request. */
    public boolean sameOutputs(RunReport other) {
        if (!outputs.keySet().equals(other.outputs.keySet())) {
            return false;
        }
        for (Map.Entry<String, int[]> e : outputs.entrySet()) {
            if (!java.util.Arrays.equals(e.getValue(), other.outputs.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    /**
     * The reports as aligned text, one column per run, then their notes: each once, prefixed with
     * the labels of the runs it belongs to unless it belongs to all of them.
     */
    public static String render(List<RunReport> runs) {
        StringBuilder sb = new StringBuilder();
        int keyWidth = KEY_WIDTH;
        int colWidth = VALUE_WIDTH;
        for (RunReport r : runs) {
            colWidth = Math.max(colWidth, r.label.length() + 2);
        }
        sb.append(String.format(Locale.ROOT, "%-" + keyWidth + "s", ""));
        for (RunReport r : runs) {
            sb.append(String.format(Locale.ROOT, "%" + colWidth + "s", r.label));
        }
        sb.append('\n');
        List<String> sectionNames = new ArrayList<>();
        for (RunReport r : runs) {
            for (String name : r.sections.keySet()) {
                if (!sectionNames.contains(name)) {
                    sectionNames.add(name);
                }
            }
        }
        for (String section : sectionNames) {
            sb.append(section).append('\n');
            List<String> keys = new ArrayList<>();
            for (RunReport r : runs) {
                for (String k : r.sections.getOrDefault(section, Map.of()).keySet()) {
                    if (!keys.contains(k)) {
                        keys.add(k);
                    }
                }
            }
            for (String k : keys) {
                sb.append(String.format(Locale.ROOT, "  %-" + (keyWidth - 2) + "s", k));
                // A key longer than its column takes room from the first value column, so the
                // columns stay aligned (while the value still fits with a space before it).
                int overflow = Math.max(0, k.length() - (keyWidth - 2));
                boolean first = true;
                for (RunReport r : runs) {
                    Object v = r.sections.getOrDefault(section, Map.of()).get(k);
                    String text = v == null ? "" : v.toString();
                    // A value longer than its column (a connector's stat as text) pushes the rest
                    // of its line right instead of running into the value before it.
                    int width = Math.max(text.length() + 1, first ? colWidth - overflow : colWidth);
                    sb.append(String.format(Locale.ROOT, "%" + width + "s", text));
                    first = false;
                }
                sb.append('\n');
            }
        }
        appendNotes(sb, runs);
        return sb.toString();
    }

    private static void appendNotes(StringBuilder sb, List<RunReport> runs) {
        Map<String, List<String>> labelsByNote = new LinkedHashMap<>();
        for (RunReport r : runs) {
            for (String note : r.notes) {
                labelsByNote.computeIfAbsent(note, n -> new ArrayList<>()).add(r.label);
            }
        }
        if (labelsByNote.isEmpty()) {
            return;
        }
        sb.append('\n');
        labelsByNote.forEach((note, labels) -> {
            if (labels.size() < runs.size()) {
                sb.append(String.join(", ", labels)).append(": ");
            }
            sb.append(note).append('\n');
        });
    }

    /** The report as plain JSON-ready values (outputs left out; the digest identifies them). */
    public Map<String, Object> toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("label", label);
        sections.forEach((k, v) -> json.put(k, new LinkedHashMap<>(v)));
        if (!notes.isEmpty()) {
            json.put("notes", notes);
        }
        return json;
    }

    /** The reference engine's finish reason of a finished status: stop, length, abort or error. */
    static String finishReason(RequestStatus status) {
        return switch (status) {
            case FINISHED_STOPPED -> "stop";
            case FINISHED_LENGTH_CAPPED -> "length";
            case FINISHED_ABORTED -> "abort";
            case FINISHED_ERROR -> "error";
            default -> status.name().toLowerCase(Locale.ROOT);
        };
    }

    private static void putPercentiles(Map<String, Object> out, String name, Percentiles p, double scale, String unit) {
        out.put(name + " p50 [" + unit + "]", p.count() == 0 ? "-" : round(p.percentile(50) * scale, 2));
        out.put(name + " p99 [" + unit + "]", p.count() == 0 ? "-" : round(p.percentile(99) * scale, 2));
    }

    private static Object percent(long part, long whole) {
        return whole == 0 ? "-" : String.format(Locale.ROOT, "%.1f%%", 100.0 * part / whole);
    }

    private static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

    /** SHA-256 over every request's id and output tokens, in id order: equal digests, equal outputs. */
    static String digest(Map<String, int[]> outputs) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (Map.Entry<String, int[]> e : new TreeMap<>(outputs).entrySet()) {
                md.update(e.getKey().getBytes(StandardCharsets.UTF_8));
                md.update((byte) 0);
                for (int t : e.getValue()) {
                    md.update(new byte[] {(byte) (t >>> 24), (byte) (t >>> 16), (byte) (t >>> 8), (byte) t});
                }
                md.update((byte) 0xFF);
            }
            return HexFormat.of().formatHex(md.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime must provide SHA-256", e);
        }
    }
}
