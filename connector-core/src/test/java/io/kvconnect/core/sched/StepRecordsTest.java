package io.kvconnect.core.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The records that carry a step's result into the scheduler and its outcome out. */
class StepRecordsTest {
    @Test
    void reportsWithoutAnyConnectorOutputAreNone() {
        assertTrue(WorkerReports.NONE.isNone());
        assertFalse(
                new WorkerReports(
                                List.of(FinishedTransfers.NONE),
                                Set.of(),
                                Optional.empty(),
                                List.of(),
                                Optional.empty())
                        .isNone(),
                "a connector that reported nothing still reported");
    }

    @Test
    void aStepResultReadsTokensByIdLive() {
        Map<String, Integer> tokens = new HashMap<>();
        StepResult result = StepResult.tokensOnly(tokens);
        tokens.put("r", 7);

        assertEquals(7, result.sampledTokens().token(3, 0, 1, "r"));
        assertEquals(SampledTokens.NONE, result.sampledTokens().token(3, 0, 1, "x"));
        assertEquals(WorkerReports.NONE, result.reports());
        assertEquals(List.of(), result.hookFailures());
    }

    @Test
    void tokensByPositionAreReadByTheEntryIndexOfTheirOwnStepOnly() {
        SampledTokens tokens = SampledTokens.byPosition(5, new int[] {11, SampledTokens.NONE, 0});

        assertEquals(11, tokens.token(5, 0, 3, "a"));
        assertEquals(SampledTokens.NONE, tokens.token(5, 1, 3, "b"));
        assertEquals(0, tokens.token(5, 2, 3, "c"));
        assertThrows(IllegalStateException.class, () -> tokens.token(6, 0, 3, "a"), "another step's tokens");
        assertThrows(IllegalStateException.class, () -> tokens.token(5, 0, 4, "a"), "another number of entries");
        assertThrows(IllegalArgumentException.class, () -> SampledTokens.byPosition(5, new int[] {-2}));
    }

    @Test
    void anOutcomeNeedsEveryPart() {
        assertThrows(
                NullPointerException.class,
                () -> new StepOutcome(null, Set.of(), Set.of(), List.of(), List.of(), List.of(), false));
    }
}
