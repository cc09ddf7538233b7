package io.kvconnect.nixl;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The disaggregation soak ({@link DisaggSoak}) with the realistic composition on each engine: a
 * {@code multi} of nixl-like and an offload host tier, alternating between the two orders (nixl-like
 * first with a small, evicting asynchronous tier; offload first with a larger synchronous one), the
 * two engines running the same order in half the rounds and different orders in the other half, so
 * the prefill's transfer parameters travel nested under a child key that may not be the decode
 * engine's, the handshake goes through the composite, and the decode engine's host tier sometimes
 * answers a lookup before nixl-like does. Same checks as {@link DisaggSoakTest}: every normally finished decode output
 * equals a single engine's, aborted and failed ones are prefixes (failed ones with a reason), both
 * engines drain with nothing held and every offered send freed, nothing escapes a thread.
 *
 * <p>The CI form runs 16 rounds of 10 requests (every transport that works here, 1 and 2 workers,
 * both orders). Longer runs take the system properties {@code kvconnect.multiDisaggSoak.rounds},
 * {@code kvconnect.multiDisaggSoak.duration} (such as {@code 10m}), {@code
 * kvconnect.multiDisaggSoak.seed} and {@code kvconnect.multiDisaggSoak.faults} (as {@code
 * kvconnect.disaggSoak.faults}), for example {@code mvn -pl connector-nixl-like test
 * -Dtest=MultiDisaggSoakTest -Dkvconnect.multiDisaggSoak.duration=10m}.
 */
class MultiDisaggSoakTest {
    /** nixl-like first with a 24-block asynchronous tier; offload first with a 96-block synchronous one. */
    static final List<Composition> COMPOSITIONS = List.of(
            Composition.withOffload(true, Map.of("capacity", "24KiB")),
            Composition.withOffload(false, Map.of("capacity", "96KiB", "load", "sync")));

    @Test
    void bothOrdersOfNixlLikeAndOffloadSurviveFaultsAbortsClockJumpsAndDeadProducers() {
        String defaultFaults = "drop=0.01,truncate=0.01,delay=0.05,delay_ms=3,kill=0.01";
        var settings = new DisaggSoak.Settings(
                Long.getLong("kvconnect.multiDisaggSoak.seed", 11),
                Integer.getInteger("kvconnect.multiDisaggSoak.rounds", 16),
                DisaggSoakTest.duration(System.getProperty("kvconnect.multiDisaggSoak.duration")),
                10,
                DisaggSoakTest.faults(System.getProperty("kvconnect.multiDisaggSoak.faults", defaultFaults)),
                2,
                DisaggSoakTest.transports(),
                5,
                COMPOSITIONS);
        DisaggSoak.Report report = DisaggSoak.run(settings);
        System.out.println(report.render());
        report.assertPassed();
        for (String kind : List.of("drop", "truncate", "kill", "clock_jump", "producer_death")) {
            assertTrue(
                    report.faultsInjected().getOrDefault(kind, 0L) > 0,
                    "no " + kind + " fault was injected:\n" + report.render());
        }
        assertTrue(report.finishedOk() > 0, report.render());
        // The host tiers took part: blocks were stored and looked up. Whether a lookup hits is not
        // the soak's to promise: a shared prefix is served from the GPU's prefix cache while it is
        // there, and from the host tier only once evicted, which depends on the threads' timing
        // (a few hits in two thousand lookups in a typical run, none in a slow one).
        // MultiDisaggLifecycleTest's aHostTierHitBeforeTheRemoteLoadStillFreesTheProducerByNotification
        // makes a host-tier hit happen (evicting the prefix from the GPU cache on purpose) and checks it.
        assertTrue(report.offloadStats().getOrDefault("stored_blocks", 0L) > 0, report.render());
        assertTrue(report.offloadStats().getOrDefault("lookups", 0L) > 0, report.render());
    }
}
