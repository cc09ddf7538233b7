package io.kvconnect.tools.cli;

import io.kvconnect.core.run.RunReport;
import io.kvconnect.core.workload.Percentiles;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** What {@code disagg} prints after the run, besides the engines' own reports. */
final class DisaggReport {
    private DisaggReport() {}

    /**
     * Wall-clock times of one turn, in nanoseconds, as the router sees them: sent to the prefill
     * engine, prefill finished, forwarded to the decode engine, first token decoded (0 until then).
     */
    static final class Times {
        long submitted;
        long prefilled;
        long forwarded;
        long firstToken;
    }

    /** An engine process's report, from the sections it sent as JSON. */
    static RunReport engineReport(String label, Map<String, Object> sections) {
        Map<String, Map<String, Object>> s = new LinkedHashMap<>();
        sections.forEach((k, v) -> {
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) v;
            s.put(k, m);
        });
        return new RunReport(label, s, Map.of());
    }

    /**
     * The disaggregation summary: transport, turns routed, loads, bytes, reads and their
     * descriptors from the decode engine's connector stats, transfer throughput, and time to first
     * token split into prefill,
     * router hop and decode side (transfer, then first step and queueing).
     *
     * @param decode the decode engine's report
     * @param times each turn's wall-clock times; turns without a first token are left out
     * @param wall seconds the routing took
     * @param turns turns that finished normally
     */
    static String summary(RunReport decode, Map<String, Times> times, double wall, int turns) {
        Map<String, Object> c = decode.sections().getOrDefault("connector", Map.of());
        long bytes = number(c.get("stat: bytes_received"));
        long micros = number(c.get("stat: receive_micros"));
        long moving = number(c.get("stat: transfer_micros"));
        long loads = number(c.get("stat: loads_ok"));
        long reads = number(c.get("stat: read_requests"));
        long descriptors = number(c.get("stat: read_descriptors"));
        long workers = number(decode.sections().getOrDefault("run", Map.of()).get("workers"));
        String transport = c.keySet().stream()
                .filter(k -> k.startsWith("stat: transport_"))
                .map(k -> k.substring("stat: transport_".length()).replace("_workers", ""))
                .findFirst()
                .orElse("?");
        Percentiles prefill = new Percentiles();
        Percentiles decodePart = new Percentiles();
        Percentiles router = new Percentiles();
        Percentiles total = new Percentiles();
        for (Times t : times.values()) {
            if (t.firstToken == 0) {
                continue;
            }
            prefill.add((t.prefilled - t.submitted) / 1e6);
            router.add((t.forwarded - t.prefilled) / 1e6);
            decodePart.add((t.firstToken - t.forwarded) / 1e6);
            total.add((t.firstToken - t.submitted) / 1e6);
        }
        double transferMs = loads == 0 ? 0 : micros / 1e3 / loads;
        var sb = new StringBuilder("disaggregation (wall time)\n");
        sb.append(line("transport", transport));
        sb.append(line("turns routed", turns + " in " + String.format(Locale.ROOT, "%.2f s", wall)));
        sb.append(line("loads (per worker)", loads));
        sb.append(line("KV bytes transferred", bytes));
        // Each descriptor is a run of consecutive blocks: on real networks their number, more than
        // the bytes, sets a transfer's time.
        sb.append(line("reads, descriptors", reads + ", " + descriptors));
        sb.append(line(
                "descriptors per read / per load",
                (reads == 0 ? "-" : String.format(Locale.ROOT, "%.2f", (double) descriptors / reads)) + " / "
                        + (loads == 0 ? "-" : String.format(Locale.ROOT, "%.2f", (double) descriptors / loads))));
        // The micros add up the workers' loads, which run in parallel on the workers.
        sb.append(line(
                "transfer GB/s (bytes moving)",
                moving == 0
                        ? "-"
                        : String.format(Locale.ROOT, "%.3f", bytes / (moving / 1e6 / Math.max(1, workers)) / 1e9)));
        sb.append(line(
                "transfer GB/s (whole loads)",
                micros == 0
                        ? "-"
                        : String.format(Locale.ROOT, "%.3f", bytes / (micros / 1e6 / Math.max(1, workers)) / 1e9)));
        sb.append(line("TTFT p50/p99 [ms]", pp(total)));
        sb.append(line("  prefill p50/p99 [ms]", pp(prefill)));
        sb.append(line("  router hop p50/p99 [ms]", pp(router)));
        sb.append(line("  decode side p50/p99 [ms]", pp(decodePart)));
        sb.append(line("    transfer (load), mean [ms]", String.format(Locale.ROOT, "%.2f", transferMs)));
        sb.append(line(
                "    first step + queueing, mean [ms]",
                String.format(Locale.ROOT, "%.2f", Math.max(0, decodePart.mean() - transferMs))));
        return sb.toString();
    }

    private static String pp(Percentiles p) {
        return p.count() == 0 ? "-" : String.format(Locale.ROOT, "%.2f / %.2f", p.percentile(50), p.percentile(99));
    }

    private static String line(String key, Object value) {
        return String.format(Locale.ROOT, "  %-36s %s%n", key, value);
    }

    private static long number(Object o) {
        return o instanceof Number n ? n.longValue() : 0;
    }
}
