package io.kvconnect.core.workload;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;

/**
 * A chat workload: shared system prompts and the sessions that use them, in arrival order.
 *
 * <p>Immutable: the prompt arrays are copied on the way in and {@link #systemPrompts()} returns
 * copies. Equality compares the prompt contents, so two workloads generated from the same spec are
 * equal.
 *
 * @param description what the workload is, for reports (for example the spec or the trace file)
 * @param systemPrompts the shared system prompts, each non-empty with token ids at least 1
 * @param sessions the sessions, at least one, with unique ids, valid {@link ChatSession#systemPrompt}
 *     indexes and non-decreasing {@link ChatSession#arrivalSeconds}
 */
public record Workload(String description, List<int[]> systemPrompts, List<ChatSession> sessions) {

    /**
     * Copies the prompts and sessions and checks the invariants above.
     *
     * @throws IllegalArgumentException if an invariant does not hold
     */
    public Workload {
        Objects.requireNonNull(description, "description");
        systemPrompts = copyPrompts(systemPrompts);
        sessions = List.copyOf(sessions);
        if (sessions.isEmpty()) {
            throw new IllegalArgumentException("a workload needs at least one session");
        }
        var ids = new HashSet<String>();
        double previousArrival = 0;
        for (ChatSession s : sessions) {
            if (!ids.add(s.id())) {
                throw new IllegalArgumentException("session id " + s.id() + " appears twice");
            }
            if (s.systemPrompt() >= systemPrompts.size()) {
                throw new IllegalArgumentException("session " + s.id() + " uses system prompt " + s.systemPrompt()
                        + " but there are only " + systemPrompts.size());
            }
            // The driver releases sessions by walking the list, so it must be in arrival order.
            if (s.arrivalSeconds() < previousArrival) {
                throw new IllegalArgumentException("session " + s.id() + " arrives at " + s.arrivalSeconds()
                        + " s, before the session listed ahead of it (" + previousArrival + " s)");
            }
            previousArrival = s.arrivalSeconds();
        }
    }

    /** Copies of the shared system prompts, in index order. */
    @Override
    public List<int[]> systemPrompts() {
        return systemPrompts.stream().map(int[]::clone).toList();
    }

    /** How many shared system prompts there are. */
    public int systemPromptCount() {
        return systemPrompts.size();
    }

    /**
     * A copy of the system prompt {@code session} starts with; empty when it has none.
     *
     * @throws IllegalArgumentException if the session's prompt index is not one of this workload's
     */
    public int[] systemPromptOf(ChatSession session) {
        if (!session.hasSystemPrompt()) {
            return new int[0];
        }
        if (session.systemPrompt() >= systemPrompts.size()) {
            throw new IllegalArgumentException("session " + session.id() + " uses system prompt "
                    + session.systemPrompt() + " but there are only " + systemPrompts.size());
        }
        return systemPrompts.get(session.systemPrompt()).clone();
    }

    /** The number of turns over all sessions. */
    public int totalTurns() {
        int total = 0;
        for (ChatSession s : sessions) {
            total += s.turns().size();
        }
        return total;
    }

    /** Equal when the descriptions, prompt contents and sessions are equal. */
    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Workload other)
                || !description.equals(other.description)
                || systemPrompts.size() != other.systemPrompts.size()
                || !sessions.equals(other.sessions)) {
            return false;
        }
        for (int i = 0; i < systemPrompts.size(); i++) {
            if (!Arrays.equals(systemPrompts.get(i), other.systemPrompts.get(i))) {
                return false;
            }
        }
        return true;
    }

    /** Consistent with {@link #equals}: hashes the prompt contents. */
    @Override
    public int hashCode() {
        int h = description.hashCode();
        for (int[] prompt : systemPrompts) {
            h = h * 31 + Arrays.hashCode(prompt);
        }
        return h * 31 + sessions.hashCode();
    }

    /** A summary: the description and the sizes, not every token. */
    @Override
    public String toString() {
        return "Workload[" + description + ": " + systemPrompts.size() + " system prompts, " + sessions.size()
                + " sessions, " + totalTurns() + " turns]";
    }

    private static List<int[]> copyPrompts(List<int[]> prompts) {
        var copy = new ArrayList<int[]>(prompts.size());
        for (int i = 0; i < prompts.size(); i++) {
            int[] prompt = Objects.requireNonNull(prompts.get(i), "systemPrompts[" + i + "]")
                    .clone();
            if (prompt.length == 0) {
                throw new IllegalArgumentException("systemPrompts[" + i + "] is empty");
            }
            for (int token : prompt) {
                if (token < 1) {
                    throw new IllegalArgumentException("systemPrompts[" + i + "] holds token " + token
                            + "; token ids must be at least 1 (0 is reserved)");
                }
            }
            copy.add(prompt);
        }
        return List.copyOf(copy);
    }
}
