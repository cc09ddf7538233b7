package io.kvconnect.core.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.core.engine.CacheHitTimeline;
import io.kvconnect.core.engine.Engine;
import io.kvconnect.core.engine.TestEngines;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** A run's figures are the engine's own counts: prefill tokens, cache hits over time, time to first token. */
class RunFiguresTest {
    @Test
    void aFollowUpThatHitsThePrefixCacheComputesOnlyItsNewTokensInPrefill() throws Exception {
        int[] first = TestEngines.prompt(new SplittableRandom(7), 20);
        int[] followUp = Arrays.copyOf(first, 24);
        System.arraycopy(TestEngines.prompt(new SplittableRandom(8), 4), 0, followUp, 20, 4);
        Engine engine = new Engine(TestEngines.setup(64, 1, false));
        try {
            engine.addRequest("a", first, 3);
            engine.drain();
            engine.addRequest("b", followUp, 3);
            engine.drain();
        } finally {
            engine.close();
        }
        RunFigures f = RunFigures.of(engine);

        // Blocks of 4 tokens: b finds a's 5 prompt blocks (20 tokens) and computes its 4 new ones.
        assertEquals(44, f.promptTokens());
        assertEquals(44, f.prefixQueries());
        assertEquals(20, f.prefixHits());
        assertEquals(20 + 4, f.prefillTokens(), "a's whole prompt, then b's new tokens");
        assertEquals(
                24 + 2 + 2,
                f.computedTokens(),
                "prefill, then two decodes each (the first token is " + "sampled in prefill)");
        assertEquals(0, f.connectorQueries());
        assertEquals(0, f.bytesToHost() + f.bytesFromHost());
        assertEquals(RunFigures.Verification.OK, f.verification());
        assertEquals(2, f.ttftSeconds().length);
        assertTrue(f.ttftSeconds()[0] <= f.ttftSeconds()[1], "ascending");
        assertEquals(f.ttftSeconds()[0] + (f.ttftSeconds()[1] - f.ttftSeconds()[0]) * 0.5, f.ttftP50Seconds(), 1e-12);

        List<CacheHitTimeline.Sample> timeline = f.hitTimeline();
        CacheHitTimeline.Sample last = timeline.getLast();
        assertEquals(
                List.of(44L, 20L), List.of(last.prefixQueries(), last.prefixHits()), "the last sample is the totals");
        assertEquals(20L, timeline.getFirst().prefixQueries(), "the first step admitted a alone");
        for (int i = 1; i < timeline.size(); i++) {
            assertTrue(timeline.get(i).seconds() >= timeline.get(i - 1).seconds(), "in modelled time order");
        }
    }
}
