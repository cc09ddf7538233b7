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
