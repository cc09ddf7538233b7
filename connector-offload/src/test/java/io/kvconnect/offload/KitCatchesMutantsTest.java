package io.kvconnect.offload;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.testkit.ConformanceResult;
import io.kvconnect.testkit.ConnectorConformance;
import io.kvconnect.testkit.Soak;
import io.kvconnect.testkit.SoakReport;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The conformance kit fails deliberately broken variants of the offload connector ({@link Mutants},
 * {@link WithoutGpuHoldProvider}), one realistic bug each, in the scenario written for that kind
 * of bug. {@link OffloadConformanceTest} shows the same scenarios passing with the real connector.
 * Each test runs only the scenarios it names, to stay short.
 */
class KitCatchesMutantsTest {
    private static final Map<String, Object> CONFIG = Map.of("capacity", "4MiB");
    /** A tier of 12 blocks of the kit. */
    private static final Map<String, Object> TIGHT = Map.of("capacity", "12KiB");

    private static ConformanceResult run(ConnectorProvider mutant, String scenarioStart) {
        return ConnectorConformance.of(mutant, CONFIG)
                .withTightConfig(TIGHT)
                .onlyScenarios(name -> name.startsWith(scenarioStart))
                .run();
    }

    /** Asserts that the one scenario run failed, and that its detail says {@code why}. */
    private static void assertCaught(ConformanceResult result, String why) {
        assertFalse(result.scenarios().isEmpty(), "no scenario ran");
        assertFalse(result.passed(), result.summary());
        assertTrue(
                result.scenarios().stream()
                        .anyMatch(s -> !s.passed() && s.detail().contains(why)),
                "expected a failure saying '" + why + "':\n" + result.summary());
    }

    @Test
    void withoutItsGpuBlockHoldTheStalledStoreScenarioFails() {
        // The engine refuses a store of a block freed before it ran, so the mutant's missing hold
        // shows as refused copies rather than as wrong KV served later.
        assertCaught(run(new WithoutGpuHoldProvider(), "stores stalled"), "of blocks freed before the copy ran");
    }

    @Test
    void evictingPinnedEntriesLoadsWrongKvWhenStoresOvertakeLoads() {
        assertCaught(
                run(Mutants.withTier(Mutants.EvictsPinnedEntries::new), "a load still reading host slots"),
                "had wrong content");
    }

    @Test
    void keysByABlocksOwnTokensServeOtherPrefixesAndSalts() {
        assertCaught(
                run(Mutants.decorated(Mutants.OwnTokenKeys::new), "keys name the whole prefix"),
                "served external tokens for prefixes it never stored");
    }

    @Test
    void pinsNeverGivenBackMakeTheResetAfterTheRunFail() {
        assertCaught(run(Mutants.withTier(Mutants.LeaksPins::new), "after a drained run"), "resetCache failed");
    }

    @Test
    void aBlockTableKeptFromBeforeAPreemptionIsCaught() {
        ConformanceResult result = run(Mutants.decorated(Mutants.StaleBlockTable::new), "requests preempted");
        assertFalse(result.passed(), result.summary());
        assertTrue(result.scenarios().getFirst().exercised().preemptions() > 0, result.summary());
    }

    @Test
    void hitsCountedPerLookupAreCaught() {
        assertCaught(
                run(Mutants.decorated(Mutants.HitsPerLookup::new), "requests preempted"), "hit_tokens counter says");
    }

    @Test
    void storedEventsForBlocksNeverStoredAreCaught() {
        assertCaught(
                run(Mutants.decorated(Mutants.EventsForUnstoredBlocks::new), "keys name the whole prefix"),
                "KV events announced");
    }

    @Test
    void aHookThrowingForAGrantedAsynchronousLoadFailsTheScenarioInsteadOfHanging() {
        assertCaught(
                run(
                        Mutants.decorated(Mutants.ThrowsOnFirstAsyncLoad::new),
                        "outputs equal the run without the connector (sync scheduling, 1 worker"),
                "connector hook(s) threw");
    }

    @Test
    void storingBlocksBeforeTheirKvIsComputedFailsTheSoakWhosePromptsExtendEarlierOutputs()
            throws InterruptedException {
        SoakReport report = Soak.of(Mutants.decorated(Mutants.StoresUncomputedTokens::new), CONFIG)
                .rounds(8)
                .seed(11)
                .run();
        assertFalse(report.passed(), report.render());
    }
}
