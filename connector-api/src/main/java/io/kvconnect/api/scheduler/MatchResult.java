package io.kvconnect.api.scheduler;

import io.kvconnect.api.Stability;

/**
 * The answer of {@link SchedulerConnector#getNumNewMatchedTokens}: how many tokens beyond the
 * local prefix hit the connector can provide, and whether it loads them asynchronously; or that it
 * cannot decide yet.
 */
@Stability(value = Stability.Level.STABLE, since = "0.1")
public sealed interface MatchResult permits MatchResult.Tokens, MatchResult.AskLater {

    /** {@return the answer "no external tokens"} */
    static MatchResult none() {
        return Tokens.NONE;
    }

    /**
     * {@return the answer "{@code tokens} external tokens, loaded synchronously"} The workers load
     * them during the request's first forward pass, before its layers read them.
     *
     * @param tokens external tokens beyond the local hit, {@code >= 0}; 0 is {@link #none()}
     * @throws IllegalArgumentException if {@code tokens < 0}
     */
    static MatchResult sync(int tokens) {
        return tokens == 0 ? Tokens.NONE : new Tokens(tokens, false);
    }

    /**
     * {@return the answer "{@code tokens} external tokens, loaded asynchronously"} The request
     * waits (status {@code WAITING_FOR_REMOTE_KV}, outside the steps) until the workers have
     * reported it in finished receives: every worker, or as many as {@link
     * SchedulerConnector#expectedFinishedCount()} names.
     *
     * @param tokens external tokens beyond the local hit, {@code > 0}
     * @throws IllegalArgumentException if {@code tokens <= 0}
     */
    static MatchResult async(int tokens) {
        return new Tokens(tokens, true);
    }

    /**
     * {@return the answer "not decided yet"} For a lookup still in flight: the engine skips the
     * request in this step and asks again in a later one.
     */
    static MatchResult askLater() {
        return AskLater.INSTANCE;
    }

    /**
     * A decided answer.
     *
     * @param count external tokens beyond the local hit, {@code >= 0}
     * @param async whether they are loaded asynchronously; requires {@code count > 0}
     */
    @Stability(value = Stability.Level.STABLE, since = "0.1")
    record Tokens(int count, boolean async) implements MatchResult {
        static final Tokens NONE = new Tokens(0, false);

        /** Validates. */
        public Tokens {
            if (count < 0) {
                throw new IllegalArgumentException("external token count must be >= 0, got " + count);
            }
            if (async && count == 0) {
                throw new IllegalArgumentException("an asynchronous load needs at least one token");
            }
        }
    }

    /** "Ask again in a later step." */
    @Stability(value = Stability.Level.STABLE, since = "0.1")
    enum AskLater implements MatchResult {
        /** The only instance. */
        INSTANCE
    }
}
