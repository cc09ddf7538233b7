package io.kvconnect.core.workload;

import java.util.Arrays;
import java.util.Objects;

/**
 * One user turn of a chat session.
 *
 * <p>The array is copied on the way in and on the way out, so a turn is immutable; use
 * {@link #userTokenCount()} where only the length is needed.
 *
 * @param userTokens the tokens the user types this turn (not the whole prompt), non-empty, each
 *     at least 1 (token 0 is reserved)
 * @param maxOutputTokens how many tokens the model generates in reply, at least 1
 * @param thinkSeconds how long the user waits before sending this turn, counted from the previous
 *     turn's response (from the session's arrival for the first turn); finite and not negative
 */
public record Turn(int[] userTokens, int maxOutputTokens, double thinkSeconds) {
    /** How many tokens {@link #toString()} shows before abbreviating. */
    private static final int SHOWN_TOKENS = 8;

    /**
     * Copies the tokens and checks the ranges.
     *
     * @throws IllegalArgumentException if a value is outside the ranges above
     */
    public Turn {
        Objects.requireNonNull(userTokens, "userTokens");
        if (userTokens.length == 0) {
            throw new IllegalArgumentException("userTokens must not be empty");
        }
        userTokens = userTokens.clone();
        for (int i = 0; i < userTokens.length; i++) {
            if (userTokens[i] < 1) {
                throw new IllegalArgumentException(
                        "userTokens[" + i + "] is " + userTokens[i] + "; token ids must be at least 1 (0 is reserved)");
            }
        }
        if (maxOutputTokens < 1) {
            throw new IllegalArgumentException("maxOutputTokens is " + maxOutputTokens + "; must be at least 1");
        }
        if (!Double.isFinite(thinkSeconds) || thinkSeconds < 0) {
            throw new IllegalArgumentException("thinkSeconds is " + thinkSeconds + "; must be finite and >= 0");
        }
    }

    /** A copy of this turn's user tokens. */
    @Override
    public int[] userTokens() {
        return userTokens.clone();
    }

    /** How many tokens the user types this turn, without copying them. */
    public int userTokenCount() {
        return userTokens.length;
    }

    /** Equal when the token contents, output length and think time are equal. */
    @Override
    public boolean equals(Object o) {
        return o instanceof Turn other
                && Arrays.equals(userTokens, other.userTokens)
                && maxOutputTokens == other.maxOutputTokens
                && Double.compare(thinkSeconds, other.thinkSeconds) == 0;
    }

    /** Consistent with {@link #equals}: hashes the token contents. */
    @Override
    public int hashCode() {
        return (Arrays.hashCode(userTokens) * 31 + maxOutputTokens) * 31 + Double.hashCode(thinkSeconds);
    }

    /**
     * Shows the token contents, abbreviated after the first {@value #SHOWN_TOKENS} since a turn may
     * hold thousands.
     */
    @Override
    public String toString() {
        return "Turn[userTokens=" + abbreviate(userTokens) + ", maxOutputTokens=" + maxOutputTokens + ", thinkSeconds="
                + thinkSeconds + "]";
    }

    static String abbreviate(int[] tokens) {
        if (tokens.length <= SHOWN_TOKENS) {
            return Arrays.toString(tokens);
        }
        var out = new StringBuilder("[");
        for (int i = 0; i < SHOWN_TOKENS; i++) {
            out.append(tokens[i]).append(", ");
        }
        return out.append("... (").append(tokens.length).append(" tokens)]").toString();
    }
}
