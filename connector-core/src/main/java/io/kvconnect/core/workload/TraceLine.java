package io.kvconnect.core.workload;

import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One validated trace line, before the cross-line rules are applied.
 *
 * @param spot where the line is, for messages
 * @param session the session name
 * @param userTokens the user message length
 * @param outputTokens the response length
 * @param arrivalSeconds the arrival time, or NaN when the line has none
 * @param thinkSeconds the think time before this turn
 * @param systemPrompt the system prompt name, or null when the line has none
 * @param systemPromptTokens the system prompt length, or 0 when the line has none
 * @param columns the column (from 1) of each key's value on the line
 */
record TraceLine(
        TraceSpot spot,
        String session,
        int userTokens,
        int outputTokens,
        double arrivalSeconds,
        double thinkSeconds,
        @Nullable String systemPrompt,
        int systemPromptTokens,
        Map<String, Integer> columns) {

    TraceLine {
        columns = Map.copyOf(columns);
    }

    boolean hasArrival() {
        return !Double.isNaN(arrivalSeconds);
    }

    /** The column of {@code key}'s value, or 1 (the line's start) when the line has no such key. */
    int column(String key) {
        return columns.getOrDefault(key, 1);
    }
}
