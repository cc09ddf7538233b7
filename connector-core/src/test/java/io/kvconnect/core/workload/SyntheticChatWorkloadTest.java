package io.kvconnect.core.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The synthetic chat generator: reproducible, within the spec's ranges, skewed and ordered. */
class SyntheticChatWorkloadTest {
    private static final SyntheticChatSpec DEFAULTS = SyntheticChatSpec.defaults();

    @Test
    void theDefaultsAreTheDocumentedOnes() {
        assertEquals(new SyntheticChatSpec(48, 2, 5, 6, 256, 1024, 16, 192, 16, 96, 4.0, 2.0, 32_000, 42L), DEFAULTS);
    }

    @Test
    void theSameSpecGeneratesTheSameWorkload() {
        Workload a = SyntheticChatWorkload.generate(DEFAULTS);
        Workload b = SyntheticChatWorkload.generate(SyntheticChatSpec.defaults());

        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
    }

    @Test
    void anotherSeedGeneratesAnotherWorkload() {
        Workload a = SyntheticChatWorkload.generate(DEFAULTS);
        Workload b = SyntheticChatWorkload.generate(DEFAULTS.withSeed(43));

        assertNotEquals(a, b);
        assertNotEquals(
                a.sessions().get(0).turns().get(0), b.sessions().get(0).turns().get(0));
        assertTrue(!Arrays.equals(a.systemPrompts().get(0), b.systemPrompts().get(0)));
    }

    @ParameterizedTest
    @ValueSource(longs = {42, 7, -1, 123_456_789})
    void everyValueLiesWithinTheSpec(long seed) {
        var spec = DEFAULTS.withSeed(seed);
        Workload w = SyntheticChatWorkload.generate(spec);

        assertEquals(spec.sessions(), w.sessions().size());
        assertEquals(spec.systemPrompts(), w.systemPromptCount());
        for (int[] prompt : w.systemPrompts()) {
            assertInRange(prompt.length, spec.minSystemPromptTokens(), spec.maxSystemPromptTokens());
            assertTokensInVocabulary(prompt, spec.vocabSize());
        }
        for (ChatSession s : w.sessions()) {
            assertInRange(s.systemPrompt(), 0, spec.systemPrompts() - 1);
            assertInRange(s.turns().size(), spec.minTurns(), spec.maxTurns());
            assertEquals(0.0, s.turns().get(0).thinkSeconds(), "the first turn is sent on arrival");
            for (Turn t : s.turns()) {
                assertInRange(t.userTokenCount(), spec.minUserTokens(), spec.maxUserTokens());
                assertInRange(t.maxOutputTokens(), spec.minOutputTokens(), spec.maxOutputTokens());
                assertTokensInVocabulary(t.userTokens(), spec.vocabSize());
                assertTrue(t.thinkSeconds() >= 0 && Double.isFinite(t.thinkSeconds()));
            }
        }
    }

    @Test
    void arrivalsStartAtZeroAndNeverGoBackwards() {
        Workload w = SyntheticChatWorkload.generate(DEFAULTS);

        assertEquals(0.0, w.sessions().get(0).arrivalSeconds());
        for (int i = 1; i < w.sessions().size(); i++) {
            assertTrue(w.sessions().get(i).arrivalSeconds()
                    >= w.sessions().get(i - 1).arrivalSeconds());
        }
    }

    @Test
    void arrivalsAndThinkTimesFollowTheirMeans() {
        var spec = new SyntheticChatSpec(4000, 2, 2, 1, 4, 4, 1, 1, 1, 1, 10.0, 3.0, 100, 5);
        Workload w = SyntheticChatWorkload.generate(spec);

        double last = w.sessions().getLast().arrivalSeconds();
        assertEquals(0.1, last / (spec.sessions() - 1), 0.01, "mean gap 1 / sessionsPerSecond");
        double think = w.sessions().stream()
                .mapToDouble(s -> s.turns().get(1).thinkSeconds())
                .average()
                .orElseThrow();
        assertEquals(3.0, think, 0.3, "mean think time");
    }

    @Test
    void aFewSystemPromptsAreSharedByMostSessions() {
        var spec = new SyntheticChatSpec(600, 1, 1, 20, 8, 8, 1, 1, 1, 1, 4.0, 0.0, 100, 42);
        int[] uses = new int[spec.systemPrompts()];
        for (ChatSession s : SyntheticChatWorkload.generate(spec).sessions()) {
            uses[s.systemPrompt()]++;
        }
        int[] byPopularity = Arrays.stream(uses)
                .boxed()
                .sorted((a, b) -> b - a)
                .mapToInt(Integer::intValue)
                .toArray();

        assertTrue(
                byPopularity[0] > 3 * spec.sessions() / spec.systemPrompts(),
                "the most popular prompt is used far more than a uniform share: " + Arrays.toString(uses));
        assertTrue(
                byPopularity[0] + byPopularity[1] + byPopularity[2] > spec.sessions() / 3,
                "three prompts serve over a third of the sessions: " + Arrays.toString(uses));
        assertTrue(uses[0] > uses[spec.systemPrompts() - 1], "rank 0 is the popular end");
    }

    @Test
    void theDefaultWorkloadReusesSystemPrompts() {
        Set<Integer> used = new HashSet<>();
        for (ChatSession s : SyntheticChatWorkload.generate(DEFAULTS).sessions()) {
            used.add(s.systemPrompt());
        }
        assertTrue(used.size() <= DEFAULTS.systemPrompts() && used.size() < DEFAULTS.sessions());
    }

    @Test
    void zeroSystemPromptsMeansNoSessionHasOne() {
        var spec = new SyntheticChatSpec(5, 1, 2, 0, 1, 1, 1, 4, 1, 4, 1.0, 1.0, 50, 1);
        Workload w = SyntheticChatWorkload.generate(spec);

        assertEquals(0, w.systemPromptCount());
        assertTrue(w.sessions().stream().noneMatch(ChatSession::hasSystemPrompt));
    }

    @Test
    void aTwoTokenVocabularyUsesOnlyTokenOne() {
        var spec = new SyntheticChatSpec(2, 1, 1, 1, 3, 3, 5, 5, 1, 1, 1.0, 0.0, 2, 9);
        Workload w = SyntheticChatWorkload.generate(spec);

        for (ChatSession s : w.sessions()) {
            assertEquals("[1, 1, 1, 1, 1]", Arrays.toString(s.turns().get(0).userTokens()));
        }
    }

    @Test
    void tokenContentsMatchTheTraceReadersForTheSameNames() {
        Workload w = SyntheticChatWorkload.generate(DEFAULTS);
        int[] prompt = w.systemPrompts().get(0);
        Turn first = w.sessions().get(0).turns().get(0);

        assertEquals(
                Arrays.toString(TokenSource.systemPrompt(42, "system-0", prompt.length, 32_000)),
                Arrays.toString(prompt));
        assertEquals(
                Arrays.toString(TokenSource.userTurn(42, "s0", 0, first.userTokenCount(), 32_000)),
                Arrays.toString(first.userTokens()));
    }

    @Test
    void invalidSpecsNameTheFieldAndTheRange() {
        assertMessage(
                "sessions is 0; allowed: [1, 1000000]",
                () -> new SyntheticChatSpec(0, 2, 5, 6, 256, 1024, 16, 192, 16, 96, 4.0, 2.0, 32_000, 42L));
        assertMessage(
                "maxTurns is 1; allowed: [2, 1000]",
                () -> new SyntheticChatSpec(48, 2, 1, 6, 256, 1024, 16, 192, 16, 96, 4.0, 2.0, 32_000, 42L));
        assertMessage(
                "systemPrompts is -1; allowed: [0, 100000]",
                () -> new SyntheticChatSpec(48, 2, 5, -1, 256, 1024, 16, 192, 16, 96, 4.0, 2.0, 32_000, 42L));
        assertMessage(
                "maxSystemPromptTokens is 100; allowed: [256, 1000000]",
                () -> new SyntheticChatSpec(48, 2, 5, 6, 256, 100, 16, 192, 16, 96, 4.0, 2.0, 32_000, 42L));
        assertMessage(
                "minUserTokens is 0; allowed: [1, 1000000]",
                () -> new SyntheticChatSpec(48, 2, 5, 6, 256, 1024, 0, 192, 16, 96, 4.0, 2.0, 32_000, 42L));
        assertMessage(
                "maxOutputTokens is 100001; allowed: [16, 100000]",
                () -> new SyntheticChatSpec(48, 2, 5, 6, 256, 1024, 16, 192, 16, 100_001, 4.0, 2.0, 32_000, 42L));
        assertMessage(
                "sessionsPerSecond is 0.0; allowed: (0, 1000000]",
                () -> new SyntheticChatSpec(48, 2, 5, 6, 256, 1024, 16, 192, 16, 96, 0.0, 2.0, 32_000, 42L));
        assertMessage(
                "sessionsPerSecond is NaN; allowed: (0, 1000000]",
                () -> new SyntheticChatSpec(48, 2, 5, 6, 256, 1024, 16, 192, 16, 96, Double.NaN, 2.0, 32_000, 42L));
        assertMessage(
                "meanThinkSeconds is Infinity; allowed: [0, 1000000]",
                () -> new SyntheticChatSpec(
                        48, 2, 5, 6, 256, 1024, 16, 192, 16, 96, 4.0, Double.POSITIVE_INFINITY, 32_000, 42L));
        assertMessage(
                "vocabSize is 1; allowed: [2, 2147483647]",
                () -> new SyntheticChatSpec(48, 2, 5, 6, 256, 1024, 16, 192, 16, 96, 4.0, 2.0, 1, 42L));
        IllegalArgumentException tooBig = assertThrows(
                IllegalArgumentException.class,
                () -> new SyntheticChatSpec(1_000_000, 2, 1000, 6, 256, 1024, 16, 1000, 16, 96, 4.0, 2.0, 32_000, 42L));
        assertTrue(tooBig.getMessage().contains("allowed: at most 500000000"), tooBig.getMessage());
    }

    private static void assertMessage(String expected, Runnable construction) {
        assertEquals(
                expected,
                assertThrows(IllegalArgumentException.class, construction::run).getMessage());
    }

    private static void assertInRange(int value, int min, int max) {
        assertTrue(value >= min && value <= max, value + " not in [" + min + ", " + max + "]");
    }

    private static void assertTokensInVocabulary(int[] tokens, int vocabSize) {
        for (int token : tokens) {
            assertInRange(token, 1, vocabSize - 1);
        }
    }
}
