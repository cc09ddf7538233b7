package io.kvconnect.api.scheduler;

import io.kvconnect.api.common.Stability;

/**
 * The answer of {@link SchedulerConnector#getNumNewMatchedTokens}: how many tokens beyond the
 * local prefix hit the connector can provide, and whether it loads them asynchronously; or that it
 * cannot decide yet.
 */
@Stability(Stability.Level.STABLE)
public sealed interface MatchResult permits MatchResult.Tokens, MatchResult.AskLater {

    /** No external tokens. */
    static MatchResult none() {
        return Tokens.NONE;
    }

    /** {@code tokens} external tokens, loaded during the request's first forward pass. */
    static MatchResult sync(int tokens) {
        return tokens == 0 ? Tokens.NONE : new Tokens(tokens, false);
    }

    /**
     * {@code tokens} external tokens loaded asynchronously: the request waits (status
     * {@code WAITING_FOR_REMOTE_KV}) until a worker reports it in finished receives.
     */
    static MatchResult async(int tokens) {
        return new Tokens(tokens, true);
    }

    /** Not decided yet (a lookup still in flight): skip the request this step, ask again later. */
    static MatchResult askLater() {
        return AskLater.INSTANCE;
    }

    /**
     * A decided answer.
     *
     * @param count external tokens beyond the local hit, {@code >= 0}
     * @param async whether they are loaded asynchronously; requires {@code count > 0}
     */
    @Stability(Stability.Level.STABLE)
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
    @Stability(Stability.Level.STABLE)
    enum AskLater implements MatchResult {
        /** The only instance. */
        INSTANCE
    }
}
