package io.kvconnect.core.workload;

import io.kvconnect.api.common.ConfigException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Groups validated trace lines into sessions and shared system prompts, enforcing the rules that
 * span lines (see {@link TraceReader}). Not thread-safe; one per read.
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

    /** Adds line {@code lineNumber}, a turn of its session. */
    void add(int lineNumber, TraceLine line) {
        String path = "trace:" + lineNumber;
        SessionEntry session = sessions.get(line.session());
        if (session == null) {
            int prompt = prompt(path, lineNumber, line);
            session = new SessionEntry(line.session(), lineNumber, line.hasArrival() ? line.arrivalSeconds() : 0,
                    prompt, prompt == ChatSession.NO_SYSTEM_PROMPT ? 0 : promptTokens.get(prompt).length);
            sessions.put(line.session(), session);
        } else {
            checkFollowUp(path, lineNumber, line, session);
        }
        // The driver's last prompt holds the whole conversation; it must fit in one array.
        session.conversationTokens += (long) line.userTokens() + line.outputTokens();
        if (session.conversationTokens > PromptBuilder.MAX_PROMPT_TOKENS) {
            throw new ConfigException(path + ".user_tokens", "session '" + session.id + "' grows to "
                    + session.conversationTokens + " tokens; allowed: at most " + PromptBuilder.MAX_PROMPT_TOKENS
                    + " per session");
        }
        addTokens(path + ".user_tokens", line.userTokens());
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
    private int prompt(String path, int lineNumber, TraceLine line) {
        String name = line.systemPrompt();
        if (name == null) {
            if (line.systemPromptTokens() != 0) {
                throw new ConfigException(path + ".system_prompt_tokens",
                        "is given without system_prompt; allowed only together with a system_prompt name");
            }
            return ChatSession.NO_SYSTEM_PROMPT;
        }
        PromptEntry known = prompts.get(name);
        if (known != null) {
            checkLength(path, line, known);
            return known.index;
        }
        if (line.systemPromptTokens() == 0) {
            throw new ConfigException(path + ".system_prompt_tokens", "is required on the first line naming system "
                    + "prompt '" + name + "'; allowed: an integer in [1, 1000000]");
        }
        addTokens(path + ".system_prompt_tokens", line.systemPromptTokens());
        var entry = new PromptEntry(promptTokens.size(), line.systemPromptTokens(), lineNumber);
        prompts.put(name, entry);
        promptTokens.add(TokenSource.systemPrompt(seed, name, line.systemPromptTokens(), vocabSize));
        return entry.index;
    }

    /** Later lines of a session may repeat its arrival and prompt but not contradict them. */
    private void checkFollowUp(String path, int lineNumber, TraceLine line, SessionEntry session) {
        if (line.hasArrival() && line.arrivalSeconds() < session.arrival) {
            throw new ConfigException(path + ".arrival_s", line.arrivalSeconds() + " is before session '" + session.id
                    + "' arrived (" + session.arrival + " s on line " + session.firstLine + "); allowed: at least "
                    + session.arrival);
        }
        String name = line.systemPrompt();
        if (name != null) {
            PromptEntry known = prompts.get(name);
            if (known == null || known.index != session.prompt) {
                String current = session.prompt == ChatSession.NO_SYSTEM_PROMPT ? "no system prompt"
                        : "system prompt '" + nameOf(session.prompt) + "'";
                throw new ConfigException(path + ".system_prompt", "session '" + session.id + "' started with "
                        + current + " on line " + session.firstLine + "; allowed: the same prompt or none");
            }
            checkLength(path, line, known);
        } else if (line.systemPromptTokens() != 0) {
            throw new ConfigException(path + ".system_prompt_tokens",
                    "is given without system_prompt; allowed only together with a system_prompt name");
        }
    }

    private void checkLength(String path, TraceLine line, PromptEntry known) {
        if (line.systemPromptTokens() != 0 && line.systemPromptTokens() != known.length) {
            throw new ConfigException(path + ".system_prompt_tokens", line.systemPromptTokens() + " differs from the "
                    + known.length + " tokens given on line " + known.line + "; allowed: " + known.length
                    + " (a shared prompt has one length)");
        }
    }

    private void addTokens(String path, int tokens) {
        totalTokens += tokens;
        if (totalTokens > TokenSource.MAX_TOTAL_TOKENS) {
            throw new ConfigException(path, "the trace holds more than " + TokenSource.MAX_TOTAL_TOKENS
                    + " user and system prompt tokens; allowed: at most " + TokenSource.MAX_TOTAL_TOKENS + " in all");
        }
    }

    private String nameOf(int index) {
        for (var e : prompts.entrySet()) {
            if (e.getValue().index == index) {
                return e.getKey();
            }
        }
        throw new IllegalStateException("no prompt " + index);
    }

    private record PromptEntry(int index, int length, int line) {
    }

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
