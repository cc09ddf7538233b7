package io.kvconnect.core.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.core.engine.Engine;
import io.kvconnect.core.engine.EngineSetup;
import io.kvconnect.core.engine.TestEngines;
import io.kvconnect.core.memory.CudaSource;
import io.kvconnect.core.memory.MemorySelection;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The run report says where the KV caches were, in its table, and why, in a note below it; an engine
 * on device memory (simulated on the host) computes the same outputs as one on host memory.
 */
class RunReportKvMemoryTest {
    @Test
    void reportNamesTheKvMemoryAndDeviceMemoryGivesTheSameOutputs() throws Exception {
        EngineSetup host = TestEngines.setup(32, 2, false).withConfig(b -> b.memory(MemorySelection.HOST));
        EngineSetup device = TestEngines.setup(32, 2, false)
                .withConfig(b -> b.memory(MemorySelection.AUTO))
                .withCuda(CudaSource.hostFake(1));

        RunReport onHost = run("host", host);
        RunReport onDevice = run("device", device);

        assertEquals("host (memory: host)", onHost.sections().get("run").get("KV memory"));
        assertEquals("CUDA (1 device(s))", onDevice.sections().get("run").get("KV memory"));
        assertTrue(onHost.sameOutputs(onDevice), "outputs differ between host and device memory");
        String both = RunReport.render(List.of(onHost, onDevice));
        assertTrue(both.contains("\nhost: KV memory: host memory (memory: host)\n"), both);
        assertTrue(both.contains("\ndevice: KV memory: CUDA device memory (memory: auto, 1 device(s))\n"), both);
    }

    private static RunReport run(String label, EngineSetup setup) throws Exception {
        SplittableRandom random = new SplittableRandom(11);
        Engine engine = new Engine(setup);
        try {
            for (int i = 0; i < 6; i++) {
                engine.addRequest("r" + i, TestEngines.prompt(random, 18 + i), 5);
            }
            engine.drain();
        } finally {
            engine.close();
        }
        return RunReport.of(label, engine, 0);
    }
}
