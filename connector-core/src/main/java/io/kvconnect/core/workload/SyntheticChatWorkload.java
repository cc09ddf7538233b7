package io.kvconnect.core.workload;

import java.util.ArrayList;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Generates a synthetic multi-turn chat workload from a {@link SyntheticChatSpec}.
 *
 * <p>The shape follows what makes KV reuse matter in production chat traffic:
 * <ul>
 *   <li>sessions arrive as a Poisson process (exponential gaps at {@code sessionsPerSecond}), the
 *       first at time 0 so a run does not open idle;</li>
 *   <li>each session picks a shared system prompt with Zipf-like popularity (weight
 *       {@code 1 / (rank + 1)^1.1}), so a few prompts are used by many sessions;</li>
 *   <li>the first turn is sent on arrival; later turns follow exponential think times.</li>
 * </ul>
 *
 * <p>Reproducible: the same spec (seed included) always yields an equal {@link Workload}. Token
 * contents are keyed by name (prompt {@code system-<i>}, session {@code s<i>} and turn index; see
 * {@link TokenSource}), so they match what {@link TraceReader} generates for the same names.
 */
public final class SyntheticChatWorkload {
    /** The Zipf exponent of system prompt popularity; slightly above 1 as measured in chat services. */
    private static final double PROMPT_SKEW = 1.1;

    private SyntheticChatWorkload() {}

    /**
     * Generates the workload {@code spec} describes.
     *
     * @return a workload of {@code spec.sessions()} sessions in arrival order
     */
    public static Workload generate(SyntheticChatSpec spec) {
        // Timing, lengths and prompt choices come from one sequential stream; token contents from
        // keyed streams (TokenSource), so a length change in one turn does not reshuffle the rest.
        var random = new SplittableRandom(spec.seed());
        var prompts = new ArrayList<int[]>(spec.systemPrompts());
        for (int i = 0; i < spec.systemPrompts(); i++) {
            int length = random.nextInt(spec.minSystemPromptTokens(), spec.maxSystemPromptTokens() + 1);
            prompts.add(TokenSource.systemPrompt(spec.seed(), "system-" + i, length, spec.vocabSize()));
        }
        double[] popularity = cumulativeZipf(spec.systemPrompts());
        var sessions = new ArrayList<ChatSession>(spec.sessions());
        double arrival = 0;
        for (int s = 0; s < spec.sessions(); s++) {
            if (s > 0) {
                arrival += exponential(random, 1.0 / spec.sessionsPerSecond());
            }
            String id = "s" + s;
            int prompt = popularity.length == 0 ? ChatSession.NO_SYSTEM_PROMPT : pick(random, popularity);
            int turnCount = random.nextInt(spec.minTurns(), spec.maxTurns() + 1);
            var turns = new ArrayList<Turn>(turnCount);
            for (int t = 0; t < turnCount; t++) {
                int userLength = random.nextInt(spec.minUserTokens(), spec.maxUserTokens() + 1);
                int output = random.nextInt(spec.minOutputTokens(), spec.maxOutputTokens() + 1);
                double think = t == 0 ? 0 : exponential(random, spec.meanThinkSeconds());
                turns.add(new Turn(
                        TokenSource.userTurn(spec.seed(), id, t, userLength, spec.vocabSize()), output, think));
            }
            sessions.add(new ChatSession(id, prompt, arrival, turns));
        }
        return new Workload(describe(spec), prompts, sessions);
    }

    private static String describe(SyntheticChatSpec spec) {
        return String.format(
                Locale.ROOT,
                "synthetic chat: %d sessions of %d-%d turns, %d system prompts, " + "%.3g sessions/s, seed %d",
                spec.sessions(),
                spec.minTurns(),
                spec.maxTurns(),
                spec.systemPrompts(),
                spec.sessionsPerSecond(),
                spec.seed());
    }

    /** An exponentially distributed sample with the given mean (0 when the mean is 0). */
    private static double exponential(SplittableRandom random, double mean) {
        // 1 - u lies in (0, 1], so the logarithm is finite; the 0 case avoids returning -0.0.
        double standard = -Math.log(1.0 - random.nextDouble());
        return standard == 0 ? 0 : mean * standard;
    }

    /** Cumulative, normalised Zipf weights over {@code n} ranks; empty when {@code n} is 0. */
    private static double[] cumulativeZipf(int n) {
        double[] cumulative = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += 1.0 / Math.pow(i + 1, PROMPT_SKEW);
            cumulative[i] = sum;
        }
        for (int i = 0; i < n; i++) {
            cumulative[i] /= sum;
        }
        return cumulative;
    }

    /** The first rank whose cumulative weight exceeds a uniform draw. */
    private static int pick(SplittableRandom random, double[] cumulative) {
        double u = random.nextDouble();
        int low = 0;
        int high = cumulative.length - 1;
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (cumulative[mid] > u) {
                high = mid;
            } else {
                low = mid + 1;
            }
        }
        return low;
    }
}
