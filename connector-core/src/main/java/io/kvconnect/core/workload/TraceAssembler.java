package io.kvconnect.core.workload;

import io.kvconnect.api.common.ConfigException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Groups validated trace lines into sessions and shared system prompts, enforcing the rules that
 * span lines (see {@link TraceReader}). Its messages refer to other lines by number, never by the
 * names or values on them. Not thread-safe; one per read.
 */
final class TraceAssembler {
    private final int vocabSize;
    private final long seed;
    private final Map<String, PromptEntry> prompts = new LinkedHashMap<>();
    private final List<int[]> promptTokens = new ArrayList<>();
    private final Map<String, SessionEntry> sessions = new LinkedHashMap<>();
    private long totalTokens;

    TraceAssembler(int vocabSize, long seed) {
        this.vocabSize = vocabSize;
        this.seed = seed;
    }

    /** Adds a line, a turn of its session. */
    void add(TraceLine line) {
        int lineNumber = line.spot().line();
        SessionEntry session = sessions.get(line.session());
        if (session == null) {
            int prompt = prompt(line);
            session = new SessionEntry(
                    line.session(),
                    lineNumber,
                    line.hasArrival() ? line.arrivalSeconds() : 0,
                    prompt,
                    prompt == ChatSession.NO_SYSTEM_PROMPT ? 0 : promptTokens.get(prompt).length);
            sessions.put(line.session(), session);
        } else {
            checkFollowUp(line, session);
        }
        // The driver's last prompt holds the whole conversation; it must fit in one array.
        session.conversationTokens += (long) line.userTokens() + line.outputTokens();
        if (session.conversationTokens > PromptBuilder.MAX_PROMPT_TOKENS) {
            throw error(
                    line,
                    "user_tokens",
                    "the session that started on line " + session.firstLine
                            + " grows past " + PromptBuilder.MAX_PROMPT_TOKENS + " tokens here; allowed: at most "
                            + PromptBuilder.MAX_PROMPT_TOKENS + " per session");
        }
        addTokens(line, "user_tokens", line.userTokens());
        int turn = session.turns.size();
        int[] tokens = TokenSource.userTurn(seed, session.id, turn, line.userTokens(), vocabSize);
        session.turns.add(new Turn(tokens, line.outputTokens(), line.thinkSeconds()));
    }

    boolean isEmpty() {
        return sessions.isEmpty();
    }

    /** The workload: sessions in arrival order, ties in order of first appearance. */
    Workload build(String description) {
        List<ChatSession> ordered = sessions.values().stream()
                .sorted(Comparator.comparingDouble((SessionEntry s) -> s.arrival)) // stable: ties keep file order
                .map(s -> new ChatSession(s.id, s.prompt, s.arrival, s.turns))
                .toList();
        return new Workload(description, promptTokens, ordered);
    }

    /** The prompt index a session's first line selects, registering a new shared prompt. */
    private int prompt(TraceLine line) {
        String name = line.systemPrompt();
        if (name == null) {
            if (line.systemPromptTokens() != 0) {
                throw error(
                        line,
                        "system_prompt_tokens",
                        "is given without system_prompt; allowed only together with a system_prompt name");
            }
            return ChatSession.NO_SYSTEM_PROMPT;
        }
        PromptEntry known = prompts.get(name);
        if (known != null) {
            checkLength(line, known);
            return known.index;
        }
        if (line.systemPromptTokens() == 0) {
            // Pointed at the prompt's name: the missing length has no column of its own.
            throw line.spot()
                    .error(
                            line.column("system_prompt"),
                            "system_prompt_tokens: is required on the first "
                                    + "line naming a system prompt; allowed: an integer in [1, 1000000]");
        }
        addTokens(line, "system_prompt_tokens", line.systemPromptTokens());
        var entry = new PromptEntry(
                promptTokens.size(), line.systemPromptTokens(), line.spot().line());
        prompts.put(name, entry);
        promptTokens.add(TokenSource.systemPrompt(seed, name, line.systemPromptTokens(), vocabSize));
        return entry.index;
    }

    /** Later lines of a session may repeat its arrival and prompt but not contradict them. */
    private void checkFollowUp(TraceLine line, SessionEntry session) {
        if (line.hasArrival() && line.arrivalSeconds() < session.arrival) {
            throw error(
                    line,
                    "arrival_s",
                    "is before the arrival its session was given on line " + session.firstLine
                            + "; allowed: at least that arrival");
        }
        String name = line.systemPrompt();
        if (name != null) {
            PromptEntry known = prompts.get(name);
            if (known == null || known.index != session.prompt) {
                String started = session.prompt == ChatSession.NO_SYSTEM_PROMPT
                        ? "with no system prompt"
                        : "with another system prompt";
                throw error(
                        line,
                        "system_prompt",
                        "its session started " + started + " on line " + session.firstLine
                                + "; allowed: the same prompt or none");
            }
            checkLength(line, known);
        } else if (line.systemPromptTokens() != 0) {
            throw error(
                    line,
                    "system_prompt_tokens",
                    "is given without system_prompt; allowed only together with a system_prompt name");
        }
    }

    private static void checkLength(TraceLine line, PromptEntry known) {
        if (line.systemPromptTokens() != 0 && line.systemPromptTokens() != known.length) {
            throw error(
                    line,
                    "system_prompt_tokens",
                    "differs from the length this system prompt was given on line " + known.line
                            + "; allowed: that length (a shared prompt has one length)");
        }
    }

    private void addTokens(TraceLine line, String key, int tokens) {
        totalTokens += tokens;
        if (totalTokens > TokenSource.MAX_TOTAL_TOKENS) {
            throw error(
                    line,
                    key,
                    "the trace holds more than " + TokenSource.MAX_TOTAL_TOKENS
                            + " user and system prompt tokens; allowed: at most " + TokenSource.MAX_TOTAL_TOKENS
                            + " in all");
        }
    }

    /** A problem with {@code key} on {@code line}, at that key's value. */
    private static ConfigException error(TraceLine line, String key, String problem) {
        return line.spot().error(line.column(key), key + ": " + problem);
    }

    private record PromptEntry(int index, int length, int line) {}

    /** A session being assembled; mutable, local to one read. */
    private static final class SessionEntry {
        final String id;
        final int firstLine;
        final double arrival;
        final int prompt;
        final List<Turn> turns = new ArrayList<>();
        long conversationTokens;

        SessionEntry(String id, int firstLine, double arrival, int prompt, int promptLength) {
            this.id = id;
            this.firstLine = firstLine;
            this.arrival = arrival;
            this.prompt = prompt;
            this.conversationTokens = promptLength;
        }
    }
}
