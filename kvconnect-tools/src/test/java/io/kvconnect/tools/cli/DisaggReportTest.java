package io.kvconnect.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kvconnect.core.run.RunReport;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The disaggregation summary, from a decode engine's report and the router's times. */
class DisaggReportTest {
    @Test
    void theSummaryReadsTheDecodeEnginesConnectorStatsAndSplitsTimeToFirstToken() {
        Map<String, Object> sections = new LinkedHashMap<>();
        sections.put("run", Map.of("workers", 2));
        sections.put(
                "connector",
                Map.of(
                        "stat: bytes_received",
                        4_000_000L,
                        "stat: receive_micros",
                        2_000L,
                        "stat: transfer_micros",
                        1_000L,
                        "stat: loads_ok",
                        4L,
                        "stat: read_requests",
                        5L,
                        "stat: read_descriptors",
                        6L,
                        "stat: transport_tcp_workers",
                        2L));
        RunReport decode = DisaggReport.engineReport("decode engine", sections);
        var done = new DisaggReport.Times();
        done.submitted = 1_000_000;
        done.prefilled = 3_000_000;
        done.forwarded = 4_000_000;
        done.firstToken = 11_000_000;
        var neverDecoded = new DisaggReport.Times();

        List<String> lines = DisaggReport.summary(decode, Map.of("s/0", done, "s/1", neverDecoded), 1.5, 1)
                .lines()
                .toList();

        assertEquals(
                List.of(
                        "disaggregation (wall time)",
                        "  transport                            tcp",
                        "  turns routed                         1 in 1.50 s",
                        "  loads (per worker)                   4",
                        "  KV bytes transferred                 4000000",
                        "  reads, descriptors                   5, 6",
                        "  descriptors per read / per load      1.20 / 1.50",
                        "  transfer GB/s (bytes moving)         8.000",
                        "  transfer GB/s (whole loads)          4.000",
                        "  TTFT p50/p99 [ms]                    10.00 / 10.00",
                        "    prefill p50/p99 [ms]               2.00 / 2.00",
                        "    router hop p50/p99 [ms]            1.00 / 1.00",
                        "    decode side p50/p99 [ms]           7.00 / 7.00",
                        "      transfer (load), mean [ms]       0.50",
                        "      first step + queueing, mean [ms] 6.50"),
                lines);
    }

    @Test
    void anEngineReportKeepsItsSectionsInOrder() {
        Map<String, Object> sections = new LinkedHashMap<>();
        sections.put("run", Map.of("workers", 1));
        sections.put("KV verification", Map.of("result", "OK"));

        RunReport r = DisaggReport.engineReport("prefill engine", sections);

        assertEquals("prefill engine", r.label());
        assertEquals(List.of("run", "KV verification"), List.copyOf(r.sections().keySet()));
        assertEquals("OK", r.sections().get("KV verification").get("result"));
    }
}
