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
    void aStepResultReadsTheTokensLiveButCannotChangeThem() {
        Map<String, Integer> tokens = new HashMap<>();
        StepResult result = StepResult.tokensOnly(tokens);
        tokens.put("r", 7);

        assertEquals(Map.of("r", 7), result.sampledTokens());
        assertThrows(UnsupportedOperationException.class, () -> result.sampledTokens()
                .put("x", 1));
        assertEquals(WorkerReports.NONE, result.reports());
        assertEquals(List.of(), result.hookFailures());
    }

    @Test
    void anOutcomeNeedsEveryPart() {
        assertThrows(
                NullPointerException.class,
                () -> new StepOutcome(null, Set.of(), Set.of(), List.of(), List.of(), List.of(), false));
    }
}
