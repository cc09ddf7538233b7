package io.kvconnect.nixl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Prefill/decode over TCP on loopback with both engines' KV caches in CUDA device memory simulated
 * on the host: the producer's sends and the consumer's loads stage through the engine's copy
 * service (pinned buffers, device copies fenced against the model), and every decode output equals
 * a single engine's with no wrong KV read. The device path's logic, not a GPU.
 */
class DisaggOnDeviceMemoryTest {
    @ParameterizedTest(name = "workers={0}, async={1}")
    @CsvSource({"1,false", "2,true"})
    void promptsDecodeLikeOneEngineOnSimulatedDeviceMemory(int workers, boolean async) throws Exception {
        var random = new SplittableRandom(1);
        try (Disagg d = Disagg.create(Composition.ALONE, "tcp", workers, async, 64, true)) {
            int[] lengths = {3, 4, 8, 13, 30};
            for (int i = 0; i < lengths.length; i++) {
                d.submit("r" + i, Disagg.prompt(random, lengths[i]), 4 + i);
            }
            d.drain();
            assertEquals(lengths.length, d.decodeDone.size());
            d.assertSameOutputs(List.of());
            assertEquals((long) lengths.length * workers, d.stat(d.decode, "loads_ok"));
            assertTrue(d.stat(d.decode, "bytes_received") > 0);
            assertEquals(d.stat(d.prefill, "bytes_sent"), d.stat(d.decode, "bytes_received"));
        }
    }
}
