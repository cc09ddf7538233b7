package io.kvconnect.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class EngineSmokeTest {
    @ParameterizedTest
    @CsvSource({"1,false", "2,false", "1,true", "4,true"})
    void outputsDoNotDependOnWorkersOrSchedulingMode(int workers, boolean async) throws Exception {
        Map<String, int[]> reference = run(1, false, 256);
        Map<String, int[]> other = run(workers, async, 256);
        assertEquals(reference.keySet(), other.keySet());
        for (String id : reference.keySet()) {
            assertArrayEquals(reference.get(id), other.get(id), id);
        }
    }

    @ParameterizedTest
    @CsvSource({"false", "true"})
    void smallPoolPreemptsAndStillProducesTheSameOutputs(boolean async) throws Exception {
        Map<String, int[]> reference = run(1, false, 256);
        Map<String, int[]> small = run(2, async, 24);
        for (String id : reference.keySet()) {
            assertArrayEquals(reference.get(id), small.get(id), id);
        }
    }

    @org.junit.jupiter.api.Test
    void aRequestThatCanNeverFitFailsAtOnceWithAReasonAndTheEngineGoesOn() throws Exception {
        try (Engine engine = new Engine(TestEngines.setup(8, 1, false))) {
            engine.addRequest("huge", TestEngines.prompt(new java.util.SplittableRandom(1), 30), 4);
            engine.addRequest("fits", TestEngines.prompt(new java.util.SplittableRandom(2), 5), 4);
            var updates = engine.drain();
            var huge = updates.stream()
                    .filter(u -> u instanceof io.kvconnect.core.sched.RequestUpdate.Finished f
                            && f.requestId().equals("huge"))
                    .map(u -> (io.kvconnect.core.sched.RequestUpdate.Finished) u)
                    .findFirst()
                    .orElseThrow();
            assertEquals(io.kvconnect.api.scheduler.RequestStatus.FINISHED_ERROR, huge.status());
            assertEquals(
                    "request too large: 30 prompt tokens + 4 max tokens need 9 blocks of 4 tokens; the GPU pool "
                            + "has 8",
                    huge.reason());
            assertEquals(4, engine.metrics().outputs().get("fits").length);
            EngineInvariants.checkDrained(engine.scheduler());
        }
    }

    @org.junit.jupiter.api.Test
    void anAbortedRequestIsReportedAsAbortedWithItsReason() throws Exception {
        try (Engine engine = new Engine(TestEngines.setup(64, 1, false))) {
            engine.addRequest("a", TestEngines.prompt(new java.util.SplittableRandom(3), 9), 50);
            engine.step();
            engine.abort("a");
            engine.drain();
            assertEquals("aborted", engine.metrics().failures().get("a"));
            assertEquals(
                    1L,
                    engine.metrics().finishedByStatus().get(io.kvconnect.api.scheduler.RequestStatus.FINISHED_ABORTED));
            EngineInvariants.checkDrained(engine.scheduler());
        }
    }

    private static Map<String, int[]> run(int workers, boolean async, int blocks) throws Exception {
        SplittableRandom random = new SplittableRandom(7);
        int[] shared = TestEngines.prompt(random, 10);
        try (Engine engine = new Engine(TestEngines.setup(blocks, workers, async))) {
            for (int i = 0; i < 12; i++) {
                int[] own = TestEngines.prompt(random, 3 + random.nextInt(20));
                int[] prompt = new int[shared.length + own.length];
                System.arraycopy(shared, 0, prompt, 0, shared.length);
                System.arraycopy(own, 0, prompt, shared.length, own.length);
                engine.addRequest("r" + i, prompt, 5 + random.nextInt(10));
            }
            engine.drain();
            EngineInvariants.checkDrained(engine.scheduler());
            assertEquals(0, engine.metrics().mismatches());
            assertEquals(12, engine.metrics().outputs().size());
            return engine.metrics().outputs();
        }
    }
}
