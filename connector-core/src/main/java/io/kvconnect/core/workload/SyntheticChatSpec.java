package io.kvconnect.core.workload;

/**
 * The shape of a synthetic multi-turn chat workload, for {@link SyntheticChatWorkload#generate}.
 * Every {@code min}/{@code max} pair is an inclusive range drawn from uniformly.
 *
 * @param sessions how many chat sessions, in [1, 1,000,000]
 * @param minTurns fewest turns per session, in [1, 1,000]
 * @param maxTurns most turns per session, in [minTurns, 1,000]
 * @param systemPrompts how many shared system prompts, in [0, 100,000]; 0 means no session has one
 * @param minSystemPromptTokens shortest system prompt, in [1, 1,000,000]
 * @param maxSystemPromptTokens longest system prompt, in [minSystemPromptTokens, 1,000,000]
 * @param minUserTokens shortest user message, in [1, 1,000,000]
 * @param maxUserTokens longest user message, in [minUserTokens, 1,000,000]
 * @param minOutputTokens shortest response, in [1, 100,000]
 * @param maxOutputTokens longest response, in [minOutputTokens, 100,000]
 * @param sessionsPerSecond mean session arrival rate (a Poisson process), in (0, 1,000,000]
 * @param meanThinkSeconds mean user think time between a response and the next turn
 *     (exponentially distributed), in [0, 1,000,000]
 * @param vocabSize the model's vocabulary size; token ids are drawn from [1, vocabSize), so it is
 *     in [2, 2,147,483,647]
 * @param seed the random seed; the same spec always generates the same workload
 */
public record SyntheticChatSpec(
        int sessions,
        int minTurns,
        int maxTurns,
        int systemPrompts,
        int minSystemPromptTokens,
        int maxSystemPromptTokens,
        int minUserTokens,
        int maxUserTokens,
        int minOutputTokens,
        int maxOutputTokens,
        double sessionsPerSecond,
        double meanThinkSeconds,
        int vocabSize,
        long seed) {

    private static final int MAX_TURNS = 1_000;
    private static final int MAX_PROMPT = 1_000_000;
    private static final int MAX_OUTPUT = 100_000;
    private static final double MAX_SECONDS = 1_000_000;

    /**
     * Checks every range above, and that the workload's worst case stays within
     * 500,000,000 tokens so that a mistyped size fails here rather than exhausting the heap.
     *
     * @throws IllegalArgumentException naming the first field out of range and its allowed range
     */
    public SyntheticChatSpec {
        range("sessions", sessions, 1, 1_000_000);
        range("minTurns", minTurns, 1, MAX_TURNS);
        range("maxTurns", maxTurns, minTurns, MAX_TURNS);
        range("systemPrompts", systemPrompts, 0, 100_000);
        range("minSystemPromptTokens", minSystemPromptTokens, 1, MAX_PROMPT);
        range("maxSystemPromptTokens", maxSystemPromptTokens, minSystemPromptTokens, MAX_PROMPT);
        range("minUserTokens", minUserTokens, 1, MAX_PROMPT);
        range("maxUserTokens", maxUserTokens, minUserTokens, MAX_PROMPT);
        range("minOutputTokens", minOutputTokens, 1, MAX_OUTPUT);
        range("maxOutputTokens", maxOutputTokens, minOutputTokens, MAX_OUTPUT);
        if (!(sessionsPerSecond > 0 && sessionsPerSecond <= MAX_SECONDS)) {
            throw new IllegalArgumentException("sessionsPerSecond is " + sessionsPerSecond + "; allowed: (0, 1000000]");
        }
        if (!(meanThinkSeconds >= 0 && meanThinkSeconds <= MAX_SECONDS)) {
            throw new IllegalArgumentException("meanThinkSeconds is " + meanThinkSeconds + "; allowed: [0, 1000000]");
        }
        range("vocabSize", vocabSize, 2, Integer.MAX_VALUE);
        long worstCase = (long) sessions * maxTurns * maxUserTokens + (long) systemPrompts * maxSystemPromptTokens;
        if (worstCase > TokenSource.MAX_TOTAL_TOKENS) {
            throw new IllegalArgumentException("sessions * maxTurns * maxUserTokens + systemPrompts * "
                    + "maxSystemPromptTokens is " + worstCase + "; allowed: at most " + TokenSource.MAX_TOTAL_TOKENS);
        }
    }

    /**
     * A small default: 48 sessions of 2 to 5 turns sharing 6 system prompts of 256 to 1024 tokens,
     * user messages of 16 to 192 tokens, responses of 16 to 96 tokens, 4 new sessions per second,
     * 2 s mean think time, a 32,000-token vocabulary and seed 42.
     */
    public static SyntheticChatSpec defaults() {
        return new SyntheticChatSpec(48, 2, 5, 6, 256, 1024, 16, 192, 16, 96, 4.0, 2.0, 32_000, 42L);
    }

    /** This spec with another seed. */
    public SyntheticChatSpec withSeed(long newSeed) {
        return new SyntheticChatSpec(
                sessions,
                minTurns,
                maxTurns,
                systemPrompts,
                minSystemPromptTokens,
                maxSystemPromptTokens,
                minUserTokens,
                maxUserTokens,
                minOutputTokens,
                maxOutputTokens,
                sessionsPerSecond,
                meanThinkSeconds,
                vocabSize,
                newSeed);
    }

    private static void range(String field, int value, int min, int max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(field + " is " + value + "; allowed: [" + min + ", " + max + "]");
        }
    }
}
