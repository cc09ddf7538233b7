package io.kvconnect.nixl;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.nixl.faults.TransportFaults;
import io.kvconnect.nixl.transport.UcxTransport;
import io.kvconnect.testkit.ConnectorConfigs;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The disaggregation soak ({@link DisaggSoak}) in its short CI form: 16 rounds of 10 requests over
 * every transport that works here, with transport faults, clock jumps past leases and the death of
 * the prefill engine every fifth round. A longer run takes the system properties {@code
 * kvconnect.disaggSoak.rounds}, {@code kvconnect.disaggSoak.duration} (such as {@code 10m}), {@code
 * kvconnect.disaggSoak.seed} and {@code kvconnect.disaggSoak.faults} (such as {@code
 * drop=0.05,truncate=0.05,delay=0.1,delay_ms=3,kill=0.02}), for example {@code mvn -pl
 * connector-nixl-like test -Dtest=DisaggSoakTest -Dkvconnect.disaggSoak.duration=10m}.
 */
class DisaggSoakTest {

    static List<String> transports() {
        List<String> t = new ArrayList<>(List.of("tcp"));
        if (UcxTransport.availability().available()) {
            t.add("ucx");
        }
        return t;
    }

    static Duration duration(String text) {
        if (text == null || text.isBlank()) {
            return Duration.ZERO;
        }
        String t = text.strip();
        long n = Long.parseLong(t.substring(0, t.length() - 1));
        return switch (t.charAt(t.length() - 1)) {
            case 's' -> Duration.ofSeconds(n);
            case 'm' -> Duration.ofMinutes(n);
            case 'h' -> Duration.ofHours(n);
            default -> throw new IllegalArgumentException("duration like 90s, 10m or 1h: " + t);
        };
    }

    /** Parses {@code drop=0.01,truncate=...} into the connector's own {@code faults} object. */
    static TransportFaults faults(String text) {
        var m = new java.util.HashMap<String, Object>();
        for (String part : text.split(",")) {
            String[] kv = part.split("=", 2);
            String key = kv[0].strip();
            m.put(
                    key,
                    key.equals("delay_ms") || key.equals("seed")
                            ? (Object) Long.parseLong(kv[1].strip())
                            : (Object) Double.parseDouble(kv[1].strip()));
        }
        return TransportFaults.parse(ConnectorConfigs.of("faults", m));
    }

    @Test
    void requestsThroughFaultsAbortsClockJumpsAndDeadProducersEndRightAndLeaveNothingHeld() {
        // Rates such that every kind of fault happens in 16 rounds (about 10 drops, truncations
        // and kills each), while a dropped frame's 250 ms timeout keeps the run short.
        String defaultFaults = "drop=0.01,truncate=0.01,delay=0.05,delay_ms=3,kill=0.01";
        var settings = new DisaggSoak.Settings(
                Long.getLong("kvconnect.disaggSoak.seed", 7),
                Integer.getInteger("kvconnect.disaggSoak.rounds", 16),
                duration(System.getProperty("kvconnect.disaggSoak.duration")),
                10,
                faults(System.getProperty("kvconnect.disaggSoak.faults", defaultFaults)),
                2,
                transports(),
                5);
        DisaggSoak.Report report = DisaggSoak.run(settings);
        System.out.println(report.render());
        report.assertPassed();
        // The soak soaked: faults of every kind were injected and requests got through them.
        for (String kind : List.of("drop", "truncate", "delay", "kill", "clock_jump", "producer_death")) {
            assertTrue(
                    report.faultsInjected().getOrDefault(kind, 0L) > 0,
                    "no " + kind + " fault was injected:\n" + report.render());
        }
        assertTrue(report.finishedOk() > 0, report.render());
    }
}
