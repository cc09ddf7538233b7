package io.kvconnect.core.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.core.engine.Engine;
import io.kvconnect.core.engine.EngineSetup;
import io.kvconnect.core.engine.TestEngines;
import io.kvconnect.core.memory.CudaAvailability;
import io.kvconnect.core.memory.CudaSource;
import io.kvconnect.core.memory.MemorySelection;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The side-by-side report stays as wide as its header: the CUDA probe's answer, over a hundred
 * characters on a machine without a driver, is a note below the table, not a value in it.
 */
class RunReportWidthTest {
    /** What the probe says on a machine with the CUDA runtime's library but no driver. */
    private static final String DETAIL = "libcuda.so.1 missing or too old (cudaErrorInsufficientDriver: CUDA "
            + "driver version is insufficient for CUDA runtime version)";

    @Test
    void noRowIsWiderThanTheHeaderAndTheProbesAnswerIsANoteBelowTheTable() throws Exception {
        EngineSetup setup = TestEngines.setup(32, 2, false)
                .withConfig(b -> b.memory(MemorySelection.AUTO))
                .withCuda(CudaSource.unusable(CudaAvailability.Reason.NO_DRIVER, DETAIL));
        RunReport with = run("connector offload", setup);
        RunReport without = run("baseline", setup);

        String text = RunReport.render(List.of(with, without));
        String table = text.substring(0, text.indexOf("\n\n") + 1);
        List<String> lines = table.lines().toList();
        int width = lines.getFirst().length(); // the header of labels
        assertEquals(RunReport.KEY_WIDTH + 2 * RunReport.VALUE_WIDTH, width, lines.getFirst());
        for (String line : lines) {
            assertTrue(line.length() <= width, "wider than the header (" + width + "):\n" + line);
        }
        assertTrue(table.contains("host (no CUDA driver)"), table);
        assertEquals(
                "KV memory: host memory (memory: auto; no CUDA driver: " + DETAIL + ")\n",
                text.substring(table.length() + 1),
                "the reason, once for both runs");
    }

    private static RunReport run(String label, EngineSetup setup) throws Exception {
        SplittableRandom random = new SplittableRandom(5);
        Engine engine = new Engine(setup);
        try {
            for (int i = 0; i < 4; i++) {
                engine.addRequest("r" + i, TestEngines.prompt(random, 17 + i), 4);
            }
            engine.drain();
        } finally {
            engine.close();
        }
        return RunReport.of(label, engine, 1.25);
    }
}
