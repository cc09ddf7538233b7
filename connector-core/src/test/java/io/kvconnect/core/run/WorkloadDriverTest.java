package io.kvconnect.core.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.core.engine.Engine;
import io.kvconnect.core.engine.EngineInvariants;
import io.kvconnect.core.engine.TestEngines;
import io.kvconnect.core.workload.ChatSession;
import io.kvconnect.core.workload.Turn;
import io.kvconnect.core.workload.Workload;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The driver runs every turn, and a follow-up turn's prompt carries the conversation so far. */
class WorkloadDriverTest {
    @Test
    void followUpTurnsCarryTheConversationAndHitThePrefixCache() throws Exception {
        int[] system = {5, 6, 7, 8, 9, 10, 11, 12};
        Workload workload = new Workload(
                "test",
                List.of(system),
                List.of(new ChatSession(
                        "s",
                        0,
                        0.0,
                        List.of(new Turn(new int[] {1, 2, 3}, 4, 0.0), new Turn(new int[] {4, 5}, 3, 0.5)))));
        try (Engine engine = new Engine(TestEngines.setup(64, 1, false))) {
            new WorkloadDriver(engine, workload).run(done -> {});

            Map<String, int[]> outputs = engine.metrics().outputs();
            assertEquals(List.of("s/0", "s/1"), List.copyOf(outputs.keySet()));
            assertEquals(4, outputs.get("s/0").length);
            assertEquals(3, outputs.get("s/1").length);
            // 8 system + 3 user + 4 answer + 2 user = 17 prompt tokens for turn 2; its first 12
            // (three full blocks of 4 tokens, all known after turn 1) are GPU prefix hits.
            assertEquals(11 + 17, engine.metrics().promptTokens());
            assertEquals(12, engine.scheduler().stats().prefixHits());
            assertTrue(engine.now() >= 0.5, "the second turn waited for its think time");
            EngineInvariants.checkDrained(engine.scheduler());
        }
    }

    @Test
    void theSameWorkloadGivesTheSameOutputsAgain() throws Exception {
        Workload workload = io.kvconnect.core.workload.SyntheticChatWorkload.generate(
                new io.kvconnect.core.workload.SyntheticChatSpec(4, 2, 3, 2, 16, 32, 4, 8, 3, 6, 5.0, 0.2, 32_000, 3));
        Map<String, int[]> first = run(workload);
        Map<String, int[]> second = run(workload);
        assertEquals(first.keySet(), second.keySet());
        for (String id : first.keySet()) {
            assertArrayEquals(first.get(id), second.get(id), id);
        }
    }

    private static Map<String, int[]> run(Workload workload) throws Exception {
        try (Engine engine = new Engine(TestEngines.setup(64, 2, true))) {
            new WorkloadDriver(engine, workload).run(done -> {});
            EngineInvariants.checkDrained(engine.scheduler());
            assertEquals(workload.totalTurns(), engine.metrics().outputs().size());
            return engine.metrics().outputs();
        }
    }
}
