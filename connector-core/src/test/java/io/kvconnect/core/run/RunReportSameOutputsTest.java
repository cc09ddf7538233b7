package io.kvconnect.core.run;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Two runs' outputs are identical only if every request produced exactly the same tokens. */
class RunReportSameOutputsTest {
    private static RunReport run(Map<String, int[]> outputs) {
        return new RunReport("r", Map.of(), outputs);
    }

    @Test
    void theSameTokensForTheSameRequestsAreIdenticalWhateverTheFinishingOrder() {
        assertTrue(run(Map.of("a", new int[] {1, 2}, "b", new int[] {3}))
                .sameOutputs(run(Map.of("b", new int[] {3}, "a", new int[] {1, 2}))));
    }

    @Test
    void oneDifferentTokenAMissingTokenOrAMissingRequestIsNotIdentical() {
        RunReport reference = run(Map.of("a", new int[] {1, 2}, "b", new int[] {3}));

        assertFalse(reference.sameOutputs(run(Map.of("a", new int[] {1, 9}, "b", new int[] {3}))), "a token");
        assertFalse(reference.sameOutputs(run(Map.of("a", new int[] {1}, "b", new int[] {3}))), "a shorter output");
        assertFalse(reference.sameOutputs(run(Map.of("a", new int[] {1, 2}))), "a request missing");
        assertFalse(reference.sameOutputs(run(Map.of("a", new int[] {1, 2}, "c", new int[] {3}))), "another request");
    }
}
