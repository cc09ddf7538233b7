package io.kvconnect.core.workload;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** JSONL chat traces: the happy path and every refusal, each naming the line, the field and what is allowed. */
class TraceReaderTest {
    private static final int VOCAB = 32_000;
    private static final String TURN = "\"user_tokens\": 10, \"output_tokens\": 5";

    @TempDir
    Path dir;

    // ---- happy path -------------------------------------------------------------------------------

    @Test
    void readsInterleavedSessionsWithCommentsAndBlankLines() throws IOException {
        Workload w = read("""
                # a small trace
                {"session": "s1", "arrival_s": 0.0, "system_prompt": "support-bot", "system_prompt_tokens": 512, \
                "user_tokens": 120, "output_tokens": 64}

                {"session": "s2", "arrival_s": 0.5, "system_prompt": "support-bot", "user_tokens": 30, "output_tokens": 8}
                   # indented comment
                {"session": "s1", "user_tokens": 40, "output_tokens": 80, "think_s": 1.5}
                {"session": "s3", "arrival_s": 0.25, "user_tokens": 7, "output_tokens": 3, "think_s": 0.2}
                {"session": "s2", "arrival_s": 0.5, "system_prompt": "support-bot", "system_prompt_tokens": 512, \
                "user_tokens": 31, "output_tokens": 9, "think_s": 2}
                {"session": "s1", "system_prompt": "support-bot", "user_tokens": 1, "output_tokens": 1}
                """);

        assertEquals("trace trace.jsonl", w.description());
        assertEquals(1, w.systemPromptCount());
        assertEquals(512, w.systemPrompts().get(0).length);
        assertEquals(List.of("s1", "s3", "s2"), w.sessions().stream().map(ChatSession::id).toList(),
                "ordered by arrival");
        assertEquals(6, w.totalTurns());

        ChatSession s1 = w.sessions().get(0);
        assertEquals(0, s1.systemPrompt());
        assertEquals(0.0, s1.arrivalSeconds());
        assertEquals(List.of(120, 40, 1), s1.turns().stream().map(Turn::userTokenCount).toList());
        assertEquals(List.of(64, 80, 1), s1.turns().stream().map(Turn::maxOutputTokens).toList());
        assertEquals(List.of(0.0, 1.5, 0.0), s1.turns().stream().map(Turn::thinkSeconds).toList());

        ChatSession s3 = w.sessions().get(1);
        assertFalse(s3.hasSystemPrompt());
        assertEquals(0.25, s3.arrivalSeconds());
        assertEquals(0.2, s3.turns().get(0).thinkSeconds(), "the first turn's think time counts from arrival");

        ChatSession s2 = w.sessions().get(2);
        assertEquals(0, s2.systemPrompt(), "s1 and s2 share the prompt");
        assertEquals(List.of(30, 31), s2.turns().stream().map(Turn::userTokenCount).toList());
        assertEquals(2.0, s2.turns().get(1).thinkSeconds());
    }

    @Test
    void tokenContentsAreDeterministicPerSeedAndName() throws IOException {
        String text = """
                {"session": "a", "system_prompt": "p", "system_prompt_tokens": 16, "user_tokens": 10, "output_tokens": 1}
                {"session": "b", "user_tokens": 10, "output_tokens": 1}
                {"session": "a", "user_tokens": 10, "output_tokens": 1}
                """;
        Path file = write(text);
        Workload once = TraceReader.read(file, VOCAB, 7);
        Workload again = TraceReader.read(file, VOCAB, 7);
        Workload otherSeed = TraceReader.read(file, VOCAB, 8);

        assertEquals(once, again);
        assertNotEquals(once, otherSeed);
        assertArrayEquals(TokenSource.systemPrompt(7, "p", 16, VOCAB), once.systemPrompts().get(0));
        assertArrayEquals(TokenSource.userTurn(7, "a", 1, 10, VOCAB), once.sessions().get(0).turns().get(1).userTokens());
        assertFalse(java.util.Arrays.equals(once.sessions().get(0).turns().get(0).userTokens(),
                once.sessions().get(1).turns().get(0).userTokens()), "sessions differ in content");
        for (ChatSession s : once.sessions()) {
            for (Turn t : s.turns()) {
                for (int token : t.userTokens()) {
                    assertTrue(token >= 1 && token < VOCAB);
                }
            }
        }
    }

    @Test
    void aByteOrderMarkAndIntegralFloatsAreAccepted() throws IOException {
        Workload w = read("\uFEFF{\"session\": \"x\", \"user_tokens\": 3.0, \"output_tokens\": 2, \"arrival_s\": 1}\n");

        assertEquals(3, w.sessions().get(0).turns().get(0).userTokenCount());
        assertEquals(1.0, w.sessions().get(0).arrivalSeconds());
    }

    @Test
    void aPromptMayBeUsedBySessionsStartedWithoutRepeatingItsLength() throws IOException {
        Workload w = read("""
                {"session": "a", "system_prompt": "p", "system_prompt_tokens": 4, %s}
                {"session": "b", "system_prompt": "q", "system_prompt_tokens": 6, %s}
                {"session": "c", "system_prompt": "p", %s}
                """.formatted(TURN, TURN, TURN));

        assertEquals(List.of(0, 1, 0), w.sessions().stream().map(ChatSession::systemPrompt).toList());
        assertEquals(6, w.systemPrompts().get(1).length);
    }

    // ---- file-level errors ------------------------------------------------------------------------

    @Test
    void aMissingFileIsAClearError() {
        Path missing = dir.resolve("nope.jsonl");
        ConfigException e = assertThrows(ConfigException.class, () -> TraceReader.read(missing, VOCAB, 1));

        assertEquals("trace", e.path());
        assertEquals("trace: file " + missing + " does not exist", e.getMessage());
    }

    @Test
    void anEmptyTraceIsAnError() {
        ConfigException e = assertThrows(ConfigException.class, () -> read("# only a comment\n\n   \n"));

        assertEquals("trace", e.path());
        assertTrue(e.getMessage().contains("holds no turns; expected one JSON object per line"), e.getMessage());
    }

    @Test
    void aTooSmallVocabularyIsRefused() throws IOException {
        Path file = write("{\"session\": \"a\", " + TURN + "}\n");
        assertThrows(IllegalArgumentException.class, () -> TraceReader.read(file, 1, 1));
    }

    // ---- line syntax ------------------------------------------------------------------------------

    @Test
    void invalidJsonNamesTheLine() {
        ConfigException e = fails("# header\n{\"session\": \"a\", " + TURN + "}\n{\"session\": \"a\",\n");

        assertEquals("trace:3", e.path());
        assertTrue(e.getMessage().startsWith("trace:3: not a valid JSON object"), e.getMessage());
    }

    @Test
    void aLineThatIsNotAnObjectIsRefused() {
        assertEquals("trace:1", fails("[1, 2]\n").path());
        assertEquals("trace:1", fails("null\n").path());
        assertEquals("trace:1", fails("{\"session\": \"a\", " + TURN + "} {}\n").path());
    }

    @Test
    void aDuplicateKeyIsRefused() {
        ConfigException e = fails("{\"session\": \"a\", \"user_tokens\": 1, \"user_tokens\": 2, \"output_tokens\": 1}\n");

        assertEquals("trace:1", e.path());
        assertTrue(e.getMessage().contains("Duplicate field 'user_tokens'"), e.getMessage());
    }

    @Test
    void anUnknownKeyListsTheAllowedOnes() {
        ConfigException e = fails("{\"session\": \"a\", " + TURN + ", \"user_token\": 3}\n");

        assertEquals("trace:1.user_token", e.path());
        assertEquals("trace:1.user_token: unknown key; allowed keys: [arrival_s, output_tokens, session, "
                + "system_prompt, system_prompt_tokens, think_s, user_tokens]", e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "{\"user_tokens\": 1, \"output_tokens\": 1}|trace:1.session|is required but missing; allowed: a non-blank string",
        "{\"session\": \"a\", \"output_tokens\": 1}|trace:1.user_tokens|is required but missing; allowed: an integer in [1, 1000000]",
        "{\"session\": \"a\", \"user_tokens\": 1}|trace:1.output_tokens|is required but missing; allowed: an integer in [1, 100000]",
    })
    void aMissingRequiredKeyNamesTheFieldAndRange(String line, String path, String message) {
        ConfigException e = fails(line + "\n");

        assertEquals(path, e.path());
        assertTrue(e.getMessage().startsWith(path + ": " + message), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "\"session\": 5|trace:1.session|expected a string, got 5; allowed: a non-blank string of at most 256 characters",
        "\"session\": {}|trace:1.session|expected a string, got an object",
        "\"session\": \"  \"|trace:1.session|is blank; allowed: a non-blank string",
        "\"system_prompt\": true|trace:1.system_prompt|expected a string, got true",
        "\"user_tokens\": \"10\"|trace:1.user_tokens|expected an integer in [1, 1000000], got '10'",
        "\"user_tokens\": 1.5|trace:1.user_tokens|expected an integer in [1, 1000000], got 1.5",
        "\"output_tokens\": null|trace:1.output_tokens|null is not a value",
        "\"think_s\": \"1s\"|trace:1.think_s|expected a number in [0.0, 1000000.0], got '1s'",
        "\"arrival_s\": [1]|trace:1.arrival_s|expected a number in [0.0, 1.0E9], got a list",
    })
    void aWrongTypeNamesTheFieldAndTheAllowedValues(String field, String path, String message) {
        ConfigException e = fails(line(field));

        assertEquals(path, e.path());
        assertTrue(e.getMessage().startsWith(path + ": " + message), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "\"user_tokens\": 0|trace:1.user_tokens|0 is out of range; allowed: [1, 1000000]",
        "\"user_tokens\": -4|trace:1.user_tokens|-4 is out of range; allowed: [1, 1000000]",
        "\"user_tokens\": 1000001|trace:1.user_tokens|1000001 is out of range; allowed: [1, 1000000]",
        "\"output_tokens\": 0|trace:1.output_tokens|0 is out of range; allowed: [1, 100000]",
        "\"output_tokens\": 100001|trace:1.output_tokens|100001 is out of range; allowed: [1, 100000]",
        "\"system_prompt\": \"p\", \"system_prompt_tokens\": 0|trace:1.system_prompt_tokens|0 is out of range; "
                + "allowed: [1, 1000000]",
        "\"system_prompt\": \"p\", \"system_prompt_tokens\": 1000001|trace:1.system_prompt_tokens|1000001 is out of "
                + "range; allowed: [1, 1000000]",
        "\"arrival_s\": -0.5|trace:1.arrival_s|-0.5 is out of range; allowed: [0.0, 1.0E9]",
        "\"think_s\": -1|trace:1.think_s|-1.0 is out of range; allowed: [0.0, 1000000.0]",
        "\"think_s\": 1e999|trace:1.think_s|Infinity is out of range; allowed: [0.0, 1000000.0]",
        "\"arrival_s\": -1e999|trace:1.arrival_s|-Infinity is out of range; allowed: [0.0, 1.0E9]",
        "\"user_tokens\": 1e999|trace:1.user_tokens|expected an integer in [1, 1000000], got Infinity",
        "\"user_tokens\": 99999999999999999999|trace:1.user_tokens|integer 99999999999999999999 does not fit in 64 bits",
    })
    void anOutOfRangeValueNamesTheFieldAndRange(String field, String path, String message) {
        ConfigException e = fails(line(field));

        assertEquals(path, e.path());
        assertEquals(path + ": " + message, e.getMessage());
    }

    @Test
    void aTooLongNameIsRefused() {
        ConfigException e = fails(line("\"session\": \"" + "x".repeat(257) + "\""));

        assertEquals("trace:1.session", e.path());
        assertTrue(e.getMessage().contains("is 257 characters long; allowed: a non-blank string of at most 256"),
                e.getMessage());
    }

    // ---- rules across lines -----------------------------------------------------------------------

    @Test
    void aLaterArrivalBeforeTheSessionsStartIsRefused() {
        ConfigException e = fails("""
                {"session": "a", "arrival_s": 2.0, %s}
                {"session": "a", "arrival_s": 1.5, %s}
                """.formatted(TURN, TURN));

        assertEquals("trace:2.arrival_s", e.path());
        assertEquals("trace:2.arrival_s: 1.5 is before session 'a' arrived (2.0 s on line 1); allowed: at least 2.0",
                e.getMessage());
    }

    @Test
    void aLaterArrivalThatIsNotSmallerIsAccepted() throws IOException {
        Workload w = read("""
                {"session": "a", "arrival_s": 2.0, %s}
                {"session": "a", "arrival_s": 9.0, %s}
                """.formatted(TURN, TURN));

        assertEquals(2.0, w.sessions().get(0).arrivalSeconds(), "taken from the first line");
    }

    @Test
    void aSharedPromptWithTwoLengthsIsRefused() {
        ConfigException e = fails("""
                {"session": "a", "system_prompt": "p", "system_prompt_tokens": 512, %s}

                {"session": "b", "system_prompt": "p", "system_prompt_tokens": 256, %s}
                """.formatted(TURN, TURN));

        assertEquals("trace:3.system_prompt_tokens", e.path());
        assertEquals("trace:3.system_prompt_tokens: 256 differs from the 512 tokens given on line 1; allowed: 512 "
                + "(a shared prompt has one length)", e.getMessage());
    }

    @Test
    void aNewPromptNeedsItsLength() {
        ConfigException e = fails(line("\"system_prompt\": \"p\""));

        assertEquals("trace:1.system_prompt_tokens", e.path());
        assertEquals("trace:1.system_prompt_tokens: is required on the first line naming system prompt 'p'; "
                + "allowed: an integer in [1, 1000000]", e.getMessage());
    }

    @Test
    void aPromptLengthWithoutAPromptIsRefused() {
        ConfigException e = fails(line("\"system_prompt_tokens\": 8"));

        assertEquals("trace:1.system_prompt_tokens", e.path());
        assertTrue(e.getMessage().contains("allowed only together with a system_prompt name"), e.getMessage());
    }

    @Test
    void aSessionCannotChangeItsSystemPrompt() {
        ConfigException e = fails("""
                {"session": "a", "system_prompt": "p", "system_prompt_tokens": 4, %s}
                {"session": "a", "system_prompt": "q", "system_prompt_tokens": 4, %s}
                """.formatted(TURN, TURN));

        assertEquals("trace:2.system_prompt", e.path());
        assertEquals("trace:2.system_prompt: session 'a' started with system prompt 'p' on line 1; allowed: the same "
                + "prompt or none", e.getMessage());
    }

    @Test
    void aSessionStartedWithoutAPromptCannotGainOne() {
        ConfigException e = fails("""
                {"session": "b", "system_prompt": "p", "system_prompt_tokens": 4, %s}
                {"session": "a", %s}
                {"session": "a", "system_prompt": "p", %s}
                """.formatted(TURN, TURN, TURN));

        assertEquals("trace:3.system_prompt", e.path());
        assertTrue(e.getMessage().contains("session 'a' started with no system prompt on line 2"), e.getMessage());
    }

    private String line(String field) {
        String base = "\"session\": \"a\", \"user_tokens\": 10, \"output_tokens\": 5";
        String key = field.substring(0, field.indexOf(':'));
        // Replace the base's value for the same key, so each case changes exactly one field.
        String kept = java.util.Arrays.stream(base.split(", "))
                .filter(part -> !part.startsWith(key + ":"))
                .collect(java.util.stream.Collectors.joining(", "));
        return "{" + kept + ", " + field + "}\n";
    }

    private ConfigException fails(String text) {
        Path file;
        try {
            file = write(text);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return assertThrows(ConfigException.class, () -> TraceReader.read(file, VOCAB, 1));
    }

    private Workload read(String text) throws IOException {
        return TraceReader.read(write(text), VOCAB, 1);
    }

    private Path write(String text) throws IOException {
        Path file = dir.resolve("trace.jsonl");
        Files.writeString(file, text);
        return file;
    }
}
