package io.kvconnect.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.scheduler.ScheduledRequest;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.core.memory.HostKvMemory;
import io.kvconnect.core.memory.KvLayouts;
import io.kvconnect.core.sched.ScheduledWork;
import io.kvconnect.core.sched.TestSchedulerOutputs;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The verifying model behaves like a transformer where it matters for connectors: KV written in a
 * layer above 0 depends on the KV read in the layer below, so a wrong block read contaminates what
 * is computed after it, and verification tells a wrongly loaded block from a contaminated one.
 */
class ModelRunnerTest {
    private static final ModelShape MODEL = new ModelShape("tiny", 2, 2, 16, DType.FP16);
    private static final int BLOCK = 4;
    private static final int[] TOKENS = {11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22};
    private static final long POSITION_BYTES = 2L * 2 * 16 * 2; // K and V x heads x head dim x bytes

    /** Request {@code a} computes 12 positions in blocks 1-3 of a fresh cache. */
    private static ModelRunner runner(HostKvMemory memory, boolean verify, double eosRate) {
        return new ModelRunner(memory, 0, verify, eosRate);
    }

    private static HostKvMemory memory() {
        return HostKvMemory.allocate(KvLayouts.of(MODEL, 0, 1, 8, BLOCK, LayoutKind.PER_LAYER));
    }

    private static long[] step(ModelRunner runner, long step, ScheduledWork... work) {
        runner.beginStep(TestSchedulerOutputs.of(step, List.of(work)));
        for (int l = 0; l < runner.numLayers(); l++) {
            runner.computeLayer(l);
        }
        runner.endCompute();
        return runner.partialDigests();
    }

    private static ScheduledWork fresh(String id, int start, int[] blocks) {
        return new ScheduledWork(
                id,
                ScheduledRequest.Kind.NEW,
                start,
                TOKENS.length - start,
                Arrays.copyOfRange(TOKENS, start, TOKENS.length),
                Arrays.copyOf(TOKENS, start),
                blocks,
                true,
                0);
    }

    /** The expected first word of position {@code p}'s slot in {@code layer}, head 0. */
    private static long expectedWord(int p, int layer) {
        long h = KvContent.ROOT;
        for (int i = 0; i <= p; i++) {
            h = KvContent.positionHash(h, TOKENS[i]);
        }
        return KvContent.word(KvContent.value(h, layer, 0), 0);
    }

    private static MemorySegment slot(HostKvMemory memory, int block, int layer, int p) {
        return memory.blockLayer(block, layer).asSlice((p % BLOCK) * POSITION_BYTES, POSITION_BYTES);
    }

    @Test
    void correctKvIsAPureFunctionOfTheTokens() {
        try (HostKvMemory memory = memory()) {
            ModelRunner runner = runner(memory, true, 0);
            step(runner, 1, fresh("a", 0, new int[] {1, 2, 3}));
            for (int p = 0; p < TOKENS.length; p++) {
                for (int layer = 0; layer < 2; layer++) {
                    assertEquals(
                            expectedWord(p, layer),
                            slot(memory, 1 + p / BLOCK, layer, p).get(ValueLayout.JAVA_LONG_UNALIGNED, 0),
                            "position " + p + ", layer " + layer);
                }
            }
            assertEquals(Map.of(), runner.takeMismatchCounts());
        }
    }

    @Test
    void aWrongBlockReadContaminatesWhatIsComputedAfterItAndVerificationTellsTheTwoApart() {
        try (HostKvMemory memory = memory()) {
            ModelRunner writer = runner(memory, true, 0);
            step(writer, 1, fresh("a", 0, new int[] {1, 2, 3}));
            // A wrong load into block 2 (positions 4-7) in layer 0; request b reads blocks 1-2 as
            // its prefix (a hit or a load) and computes positions 8-11 into block 4.
            MemorySegment bad = memory.blockLayer(2, 0);
            bad.set(ValueLayout.JAVA_LONG_UNALIGNED, 8, 0x5eed_bad0_5eed_bad0L);
            ModelRunner reader = runner(memory, true, 0);
            long[] wrong = step(reader, 2, fresh("b", 8, new int[] {1, 2, 4}));

            List<KvMismatch> found = reader.takeMismatches();
            Set<KvMismatch.Kind> kinds = found.stream().map(KvMismatch::kind).collect(Collectors.toSet());
            assertEquals(Set.of(KvMismatch.Kind.WRONG_LOAD, KvMismatch.Kind.CONTAMINATED), kinds, found.toString());
            for (KvMismatch m : found) {
                assertEquals("b", m.requestId());
                if (m.kind() == KvMismatch.Kind.WRONG_LOAD) {
                    assertEquals(2, m.blockId(), m.toString());
                    assertEquals(0, m.layer(), m.toString());
                    assertTrue(m.position() >= 4 && m.position() < 8, m.toString());
                } else {
                    assertEquals(4, m.blockId(), m.toString());
                    assertEquals(1, m.layer(), m.toString());
                    assertTrue(m.position() >= 8, m.toString());
                }
            }
            // What b computed: layer 0 is still right (it depends on the tokens only), layer 1 is not.
            for (int p = 8; p < 12; p++) {
                assertEquals(expectedWord(p, 0), slot(memory, 4, 0, p).get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
                assertNotEquals(
                        expectedWord(p, 1),
                        slot(memory, 4, 1, p).get(ValueLayout.JAVA_LONG_UNALIGNED, 0),
                        "position " + p + " in layer 1 must be computed from the wrong KV read in layer 0");
            }
            // And the token b samples differs from what correct KV gives.
            try (HostKvMemory clean = memory()) {
                step(runner(clean, true, 0), 1, fresh("a", 0, new int[] {1, 2, 3}));
                long[] right = step(runner(clean, true, 0), 2, fresh("b", 8, new int[] {1, 2, 4}));
                assertNotEquals(right[0], wrong[0]);
            }
        }
    }

    @Test
    void contaminationIsWrittenEvenWithoutVerification() {
        try (HostKvMemory memory = memory()) {
            step(runner(memory, false, 0), 1, fresh("a", 0, new int[] {1, 2, 3}));
            memory.blockLayer(1, 0).set(ValueLayout.JAVA_LONG_UNALIGNED, 0, 42L);
            ModelRunner reader = runner(memory, false, 0);
            step(reader, 2, fresh("b", 8, new int[] {1, 2, 4}));
            assertEquals(List.of(), reader.takeMismatches());
            assertNotEquals(expectedWord(8, 1), slot(memory, 4, 1, 8).get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
        }
    }

    @Test
    void readingKvItComputedItselfAfterItChangedIsReportedAsOverwritten() {
        try (HostKvMemory memory = memory()) {
            ModelRunner runner = runner(memory, true, 0);
            step(
                    runner,
                    1,
                    new ScheduledWork(
                            "a",
                            ScheduledRequest.Kind.NEW,
                            0,
                            8,
                            Arrays.copyOf(TOKENS, 8),
                            new int[0],
                            new int[] {1, 2, 3},
                            false,
                            0));
            memory.blockLayer(1, 1).set(ValueLayout.JAVA_LONG_UNALIGNED, 8, 7L);
            step(
                    runner,
                    2,
                    new ScheduledWork(
                            "a",
                            ScheduledRequest.Kind.CONTINUING,
                            8,
                            4,
                            Arrays.copyOfRange(TOKENS, 8, 12),
                            new int[0],
                            new int[0],
                            true,
                            0));
            assertTrue(runner.takeMismatches().stream()
                    .anyMatch(m -> m.kind() == KvMismatch.Kind.OVERWRITTEN && m.blockId() == 1 && m.layer() == 1));
        }
    }

    @Test
    void theEndOfSequenceRateDecidesHowOftenTheModelStops() {
        int stops = 0;
        int samples = 2_000;
        long threshold = KvContent.eosThreshold(0.25);
        for (int i = 0; i < samples; i++) {
            int token = KvContent.sample(KvContent.mix(i), i, threshold);
            if (token == KvContent.EOS) {
                stops++;
            } else {
                assertTrue(token > KvContent.EOS && token < KvContent.VOCAB, "token " + token);
            }
        }
        assertTrue(stops > samples / 8 && stops < samples / 2, stops + " stops in " + samples);
        for (int i = 0; i < 100; i++) {
            assertNotEquals(KvContent.EOS, KvContent.sample(KvContent.mix(i), i, KvContent.eosThreshold(0)));
            assertEquals(KvContent.EOS, KvContent.sample(KvContent.mix(i), i, KvContent.eosThreshold(1)));
        }
    }
}
