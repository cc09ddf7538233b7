package io.kvconnect.core.workload;

import java.util.List;
import java.util.Objects;

/**
 * One user's conversation: it arrives, then sends its turns one after another, each after the
 * previous response and the turn's think time.
 *
 * @param id a name unique within the workload, non-blank
 * @param systemPrompt index into {@link Workload#systemPrompts()}, or {@link #NO_SYSTEM_PROMPT}
 * @param arrivalSeconds when the session starts, relative to the start of the run; finite, >= 0
 * @param turns the turns in order, at least one (copied into an unmodifiable list)
 */
public record ChatSession(String id, int systemPrompt, double arrivalSeconds, List<Turn> turns) {
    /** The {@link #systemPrompt} of a session that has none. */
    public static final int NO_SYSTEM_PROMPT = -1;

    /**
     * Checks the ranges and copies the turns.
     *
     * @throws IllegalArgumentException if a value is outside the ranges above
     */
    public ChatSession {
        Objects.requireNonNull(id, "id");
        if (id.isBlank()) {
            throw new IllegalArgumentException("id must not be blank");
        }
        if (systemPrompt < NO_SYSTEM_PROMPT) {
            throw new IllegalArgumentException(
                    "systemPrompt is " + systemPrompt + "; must be an index >= 0 or -1 for none");
        }
        if (!Double.isFinite(arrivalSeconds) || arrivalSeconds < 0) {
            throw new IllegalArgumentException("arrivalSeconds is " + arrivalSeconds + "; must be finite and >= 0");
        }
        turns = List.copyOf(turns);
        if (turns.isEmpty()) {
            throw new IllegalArgumentException("session " + id + " has no turns; at least one is required");
        }
    }

    /** Whether this session starts with a shared system prompt. */
    public boolean hasSystemPrompt() {
        return systemPrompt != NO_SYSTEM_PROMPT;
    }
}
