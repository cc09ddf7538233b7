package io.kvconnect.core.engine;

import static io.kvconnect.core.engine.ConnectorTestSupport.assertSameOutputs;
import static io.kvconnect.core.engine.ConnectorTestSupport.drain;
import static io.kvconnect.core.engine.ConnectorTestSupport.prompt;
import static io.kvconnect.core.engine.ConnectorTestSupport.reference;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.core.sched.LoadFailurePolicy;
import io.kvconnect.core.sched.RequestUpdate;
import io.kvconnect.core.sched.SchedulerConfig;
import io.kvconnect.core.sched.SchedulingPolicy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Priority scheduling: a lower priority value is admitted first (arrival order on ties), and under
 * block pressure the victim of preemption is the running request with the highest priority value
 * (latest arrival on ties) — not the last running one, as under FCFS. Outputs do not depend on the
 * policy: the model is deterministic per prefix.
 */
class PrioritySchedulingTest {
    private static final int MAX_TOKENS = 4;

    private static EngineSetup setup(int gpuBlocks, int workers, boolean async, SchedulingPolicy policy, int budget) {
        return TestEngines.setup(gpuBlocks, workers, async)
                .withConfig(c ->
                        c.scheduler(new SchedulerConfig(budget, 16, budget, policy, async, LoadFailurePolicy.FAIL)));
    }

    private static void add(Engine engine, String id, int[] prompt, int maxTokens, int priority) {
        engine.addRequest(id, prompt, maxTokens, priority, TransferParams.empty(), Optional.empty());
    }

    /**
     * Four 12-token prompts and a budget of 12 tokens a step: the first step admits one request
     * only. Under PRIORITY that is the lowest value (the earlier of two equal ones), and the first
     * tokens come in priority order; under FCFS in arrival order.
     */
    @ParameterizedTest(name = "{0} workers={1} async={2}")
    @CsvSource({"PRIORITY,1,false", "PRIORITY,2,true", "FCFS,1,false"})
    void lowerPriorityValueIsAdmittedFirstWhenTheBudgetAdmitsOne(SchedulingPolicy policy, int workers, boolean async)
            throws Exception {
        Map<String, int[]> prompts = new LinkedHashMap<>();
        Map<String, Integer> priorities = new LinkedHashMap<>();
        // In arrival order.
        prompts.put("a", prompt(301, 12));
        priorities.put("a", 7);
        prompts.put("b", prompt(302, 12));
        priorities.put("b", 3);
        prompts.put("c", prompt(303, 12));
        priorities.put("c", 0);
        prompts.put("d", prompt(304, 12));
        priorities.put("d", 0);
        Map<String, int[]> expected = reference(1, false, prompts, MAX_TOKENS);
        try (Engine engine = new Engine(setup(64, workers, async, policy, 12))) {
            prompts.forEach((id, p) -> add(engine, id, p, MAX_TOKENS, priorities.get(id)));
            List<RequestUpdate> updates = new ArrayList<>(engine.step());
            String first = policy == SchedulingPolicy.PRIORITY ? "c" : "a";
            assertEquals(
                    List.of(first),
                    engine.scheduler().view().runningRequests().stream()
                            .map(RequestView::requestId)
                            .toList(),
                    "admitted by the first step");
            for (String id : prompts.keySet()) {
                if (!id.equals(first)) {
                    assertEquals(
                            RequestStatus.WAITING,
                            engine.scheduler()
                                    .view()
                                    .findRequest(id)
                                    .orElseThrow()
                                    .status(),
                            id);
                }
            }
            updates.addAll(drain(engine));
            Set<String> firstTokens = new LinkedHashSet<>();
            for (RequestUpdate u : updates) {
                if (u instanceof RequestUpdate.TokenAdded t) {
                    firstTokens.add(t.requestId());
                }
            }
            List<String> expectedOrder =
                    policy == SchedulingPolicy.PRIORITY ? List.of("c", "d", "b", "a") : List.of("a", "b", "c", "d");
            assertEquals(expectedOrder, List.copyOf(firstTokens), "order of first tokens");
            assertSameOutputs(expected, engine.metrics().outputs());
            assertEquals(0, engine.scheduler().stats().preemptions());
            EngineInvariants.checkDrained(engine.scheduler());
            assertEquals(0, engine.metrics().mismatches(), "KV mismatches");
        }
    }

    /**
     * "lazy" (priority 9) runs alone for two steps, then "urgent" (0), "mid" (5) and "mid2" (5)
     * arrive. All four grow until the pool is short: under PRIORITY the first victim is "lazy",
     * although it is the first running request, then "mid2" (the later of the two 5s) before
     * "mid"; "urgent" is never preempted. Under FCFS the first victim is the last running request.
     */
    @ParameterizedTest(name = "{0} workers={1} async={2}")
    @CsvSource({"PRIORITY,1,false", "PRIORITY,1,true", "PRIORITY,2,true", "FCFS,1,false"})
    void victimOfPreemptionIsTheHighestPriorityValue(SchedulingPolicy policy, int workers, boolean async)
            throws Exception {
        int maxTokens = 16;
        Map<String, int[]> prompts = new LinkedHashMap<>();
        prompts.put("lazy", prompt(311, 8));
        prompts.put("urgent", prompt(312, 8));
        prompts.put("mid", prompt(313, 8));
        prompts.put("mid2", prompt(314, 8));
        Map<String, Integer> priorities = Map.of("lazy", 9, "urgent", 0, "mid", 5, "mid2", 5);
        Map<String, int[]> expected = reference(1, false, prompts, maxTokens);
        try (Engine engine = new Engine(setup(14, workers, async, policy, 64))) {
            add(engine, "lazy", prompts.get("lazy"), maxTokens, priorities.get("lazy"));
            engine.step();
            engine.step();
            for (String id : List.of("urgent", "mid", "mid2")) {
                add(engine, id, prompts.get(id), maxTokens, priorities.get(id));
            }
            List<String> victims = new ArrayList<>();
            Map<String, Integer> seen = new HashMap<>();
            int steps = 0;
            while (engine.hasWork()) {
                if (++steps > ConnectorTestSupport.MAX_STEPS) {
                    fail("engine did not drain: " + ConnectorTestSupport.state(engine));
                }
                engine.step();
                for (String id : prompts.keySet()) {
                    Optional<RequestView> r = engine.scheduler().view().findRequest(id);
                    if (r.isEmpty()) {
                        continue;
                    }
                    int n = r.get().numPreemptions();
                    for (int k = seen.getOrDefault(id, 0); k < n; k++) {
                        victims.add(id);
                        assertFalse(
                                engine.scheduler().view().runningRequests().contains(r.get()),
                                id + " preempted but running");
                    }
                    seen.put(id, n);
                }
            }
            long preemptions = engine.scheduler().stats().preemptions();
            assertTrue(preemptions > 0, "the pool was not under pressure");
            assertEquals(preemptions, victims.size(), "preemptions seen: " + victims);
            if (policy == SchedulingPolicy.PRIORITY) {
                assertEquals("lazy", victims.getFirst(), "first victim: " + victims);
                assertFalse(victims.contains("urgent"), "the most urgent request was preempted: " + victims);
                int mid2 = victims.indexOf("mid2");
                int mid = victims.indexOf("mid");
                assertTrue(mid2 >= 0, "the pressure never reached the tie: " + victims);
                assertTrue(mid < 0 || mid2 < mid, "the later arrival of a tie goes first: " + victims);
            } else {
                assertEquals("mid2", victims.getFirst(), "first victim under FCFS: " + victims);
            }
            assertSameOutputs(expected, engine.metrics().outputs());
            EngineInvariants.checkDrained(engine.scheduler());
            assertEquals(0, engine.metrics().mismatches(), "KV mismatches");
        }
    }
}
