package io.kvconnect.core.sched;

import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The tokens the workers sampled in one step. Workers produce them {@linkplain #byPosition by
 * position}: the token of the work entry at index {@code i} of {@link SchedulerOutput#work()} is at
 * index {@code i}, because a worker computes the entries in that order. Applying a step then costs
 * one array read per request, where a map keyed by request id cost a string-keyed lookup per
 * request and step (about a tenth of the scheduler's step at 256 running requests). Callers that
 * know only request ids (tests, replaying tools) use {@link #byId}.
 *
 * <p>Immutable; safe to pass between threads once built.
 */
public final class SampledTokens {
    /** Returned by {@link #token} for an entry that sampled nothing. */
    public static final int NONE = -1;

    private final long step;
    private final int @Nullable [] byPosition;
    private final @Nullable Map<String, Integer> byId;

    private SampledTokens(long step, int @Nullable [] byPosition, @Nullable Map<String, Integer> byId) {
        this.step = step;
        this.byPosition = byPosition;
        this.byId = byId;
    }

    /**
     * Tokens of step {@code step} by work position, {@link #NONE} where an entry sampled nothing.
     * Takes the array without copying it: the caller must not change it while the scheduler may
     * read it, that is until the {@code update} call that applies these tokens returned.
     *
     * @throws IllegalArgumentException if a token is negative and not {@link #NONE}
     */
    public static SampledTokens byPosition(long step, int[] tokens) {
        for (int t : tokens) {
            if (t < NONE) {
                throw new IllegalArgumentException("a sampled token must be >= 0, got " + t);
            }
        }
        return new SampledTokens(step, tokens, null);
    }

    /** Tokens by request id, for any step; read live through a read-only view, not copied. */
    public static SampledTokens byId(Map<String, Integer> tokens) {
        return new SampledTokens(-1, null, Collections.unmodifiableMap(tokens));
    }

    /**
     * The token sampled for the entry at {@code position} of step {@code step}'s work, which is the
     * work of {@code requestId}; {@link #NONE} if it sampled nothing.
     *
     * @throws IllegalStateException if these tokens are by position and of another step or another
     *     number of entries: applying them would hand requests each other's tokens
     */
    public int token(long step, int position, int positions, String requestId) {
        int[] tokens = byPosition;
        if (tokens == null) {
            Integer t = Objects.requireNonNull(byId).get(requestId);
            return t == null ? NONE : t;
        }
        if (this.step != step || tokens.length != positions) {
            throw new IllegalStateException("sampled tokens of step " + this.step + " for " + tokens.length
                    + " entries applied to step " + step + " with " + positions);
        }
        return tokens[position];
    }

    @Override
    public String toString() {
        return byPosition != null
                ? "SampledTokens[step " + step + ", " + Arrays.toString(byPosition) + "]"
                : "SampledTokens" + byId;
    }
}
