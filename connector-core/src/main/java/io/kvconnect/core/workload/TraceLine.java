package io.kvconnect.core.workload;

/**
 * One validated trace line, before the cross-line rules are applied.
 *
 * @param session the session name
 * @param userTokens the user message length
 * @param outputTokens the response length
 * @param arrivalSeconds the arrival time, or NaN when the line has none
 * @param thinkSeconds the think time before this turn
 * @param systemPrompt the system prompt name, or null when the line has none
 * @param systemPromptTokens the system prompt length, or 0 when the line has none
 */
record TraceLine(String session, int userTokens, int outputTokens, double arrivalSeconds, double thinkSeconds,
        String systemPrompt, int systemPromptTokens) {

    boolean hasArrival() {
        return !Double.isNaN(arrivalSeconds);
    }
}
