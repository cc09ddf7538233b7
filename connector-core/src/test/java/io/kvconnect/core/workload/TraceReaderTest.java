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
        assertEquals(
                List.of("s1", "s3", "s2"),
                w.sessions().stream().map(ChatSession::id).toList(),
                "ordered by arrival");
        assertEquals(6, w.totalTurns());

        ChatSession s1 = w.sessions().get(0);
        assertEquals(0, s1.systemPrompt());
        assertEquals(0.0, s1.arrivalSeconds());
        assertEquals(
                List.of(120, 40, 1),
                s1.turns().stream().map(Turn::userTokenCount).toList());
        assertEquals(
                List.of(64, 80, 1),
                s1.turns().stream().map(Turn::maxOutputTokens).toList());
        assertEquals(
                List.of(0.0, 1.5, 0.0),
                s1.turns().stream().map(Turn::thinkSeconds).toList());

        ChatSession s3 = w.sessions().get(1);
        assertFalse(s3.hasSystemPrompt());
        assertEquals(0.25, s3.arrivalSeconds());
        assertEquals(0.2, s3.turns().get(0).thinkSeconds(), "the first turn's think time counts from arrival");

        ChatSession s2 = w.sessions().get(2);
        assertEquals(0, s2.systemPrompt(), "s1 and s2 share the prompt");
        assertEquals(
                List.of(30, 31), s2.turns().stream().map(Turn::userTokenCount).toList());
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
        assertArrayEquals(
                TokenSource.systemPrompt(7, "p", 16, VOCAB),
                once.systemPrompts().get(0));
        assertArrayEquals(
                TokenSource.userTurn(7, "a", 1, 10, VOCAB),
                once.sessions().get(0).turns().get(1).userTokens());
        assertFalse(
                java.util.Arrays.equals(
                        once.sessions().get(0).turns().get(0).userTokens(),
                        once.sessions().get(1).turns().get(0).userTokens()),
                "sessions differ in content");
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

        assertEquals(
                List.of(0, 1, 0),
                w.sessions().stream().map(ChatSession::systemPrompt).toList());
        assertEquals(6, w.systemPrompts().get(1).length);
    }

    // ---- file-level errors ------------------------------------------------------------------------

    @Test
    void aMissingFileIsAClearError() {
        Path missing = dir.resolve("nope.jsonl");
        ConfigException e = assertThrows(ConfigException.class, () -> TraceReader.read(missing, VOCAB, 1));

        assertEquals(missing.toString(), e.path());
        assertEquals(missing + ": does not exist", e.getMessage());
    }

    @Test
    void anEmptyTraceIsAnError() {
        ConfigException e = assertThrows(ConfigException.class, () -> read("# only a comment\n\n   \n"));

        assertEquals(file().toString(), e.path());
        assertEquals(file() + ": holds no turns; expected one JSON object per line", e.getMessage());
    }

    @Test
    void aTooSmallVocabularyIsRefused() throws IOException {
        Path file = write("{\"session\": \"a\", " + TURN + "}\n");
        assertThrows(IllegalArgumentException.class, () -> TraceReader.read(file, 1, 1));
    }

    // ---- line syntax ------------------------------------------------------------------------------

    @Test
    void invalidJsonNamesTheFileLineColumnAndWhatWasExpected() {
        ConfigException e = fails("# header\n{\"session\": \"a\", " + TURN + "}\n{\"session\": \"a\",\n");

        assertEquals(at(3, 17), e.path());
        assertEquals(at(3, 17) + ": not valid JSON: expected ',' and a key in double quotes, or '}'", e.getMessage());
    }

    @Test
    void aLineThatIsNotAnObjectIsRefused() {
        assertEquals(
                at(1, 1) + ": expected '{': each line is one JSON object",
                fails("[1, 2]\n").getMessage());
        assertEquals(
                at(1, 1) + ": expected '{': each line is one JSON object",
                fails("null\n").getMessage());
        String twoObjects = "{\"session\": \"a\", " + TURN + "} {}";
        assertEquals(
                at(1, twoObjects.lastIndexOf('{') + 1) + ": expected the end of the line after the object",
                fails(twoObjects + "\n").getMessage());
    }

    @Test
    void aColumnCountsFromTheLinesFirstCharacterIndentationIncluded() {
        ConfigException e = fails("   {\"session\": 5, " + TURN + "}\n");

        assertEquals(at(1, 16), e.path());
    }

    @Test
    void aDuplicateKeyIsRefused() {
        String text = "{\"session\": \"a\", \"user_tokens\": 1, \"user_tokens\": 2, \"output_tokens\": 1}";
        ConfigException e = fails(text + "\n");

        assertEquals(
                at(1, text.lastIndexOf("\"user_tokens\"") + 1) + ": user_tokens: given twice; allowed: each key "
                        + "once",
                e.getMessage());
    }

    @Test
    void anUnknownKeyListsTheAllowedOnes() {
        String text = "{\"session\": \"a\", " + TURN + ", \"user_token\": 3}";
        ConfigException e = fails(text + "\n");

        assertEquals(at(1, text.indexOf("\"user_token\"") + 1), e.path());
        assertEquals(
                e.path() + ": unknown key; allowed keys: [arrival_s, output_tokens, session, "
                        + "system_prompt, system_prompt_tokens, think_s, user_tokens]",
                e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            quoteCharacter = '`',
            value = {
                "{\"user_tokens\": 1, \"output_tokens\": 1}|session: is required but missing; allowed: a non-blank string "
                        + "of at most 256 characters",
                "{\"session\": \"a\", \"output_tokens\": 1}|user_tokens: is required but missing; allowed: an integer in "
                        + "[1, 1000000]",
                "{\"session\": \"a\", \"user_tokens\": 1}|output_tokens: is required but missing; allowed: an integer in "
                        + "[1, 100000]",
            })
    void aMissingRequiredKeyNamesItAndItsRange(String line, String message) {
        ConfigException e = fails(line + "\n");

        assertEquals(at(1, 1) + ": " + message, e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            quoteCharacter = '`',
            value = {
                "\"session\": 5|session: expected a string, got a number; allowed: a non-blank string of at most 256 characters",
                "\"session\": {}|session: expected a string, got an object; allowed: a non-blank string of at most 256 "
                        + "characters",
                "\"session\": \"  \"|session: is blank; allowed: a non-blank string of at most 256 characters",
                "\"system_prompt\": true|system_prompt: expected a string, got true or false; allowed: a non-blank string of "
                        + "at most 256 characters",
                "\"user_tokens\": \"10\"|user_tokens: expected an integer in [1, 1000000], got a string",
                "\"user_tokens\": 1.5|user_tokens: not a whole number; allowed: an integer in [1, 1000000]",
                "\"output_tokens\": null|output_tokens: expected an integer in [1, 100000], got null",
                "\"think_s\": \"1s\"|think_s: expected a number in [0, 1000000], got a string",
                "\"arrival_s\": [1]|arrival_s: expected a number in [0, 1000000000], got a list",
                "\"arrival_s\": [1, [2, {\"a\": 3}]]|arrival_s: expected a number in [0, 1000000000], got a list",
            })
    void aWrongTypeNamesTheKeyAndTheAllowedValuesAtTheValuesColumn(String field, String message) {
        String text = line(field);
        ConfigException e = fails(text);

        String key = field.substring(1, field.indexOf('"', 1));
        assertEquals(at(1, valueColumn(text, key)) + ": " + message, e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            quoteCharacter = '`',
            value = {
                "\"user_tokens\": 0|user_tokens: out of range; allowed: an integer in [1, 1000000]",
                "\"user_tokens\": -4|user_tokens: out of range; allowed: an integer in [1, 1000000]",
                "\"user_tokens\": 1000001|user_tokens: out of range; allowed: an integer in [1, 1000000]",
                "\"output_tokens\": 0|output_tokens: out of range; allowed: an integer in [1, 100000]",
                "\"output_tokens\": 100001|output_tokens: out of range; allowed: an integer in [1, 100000]",
                "\"system_prompt\": \"p\", \"system_prompt_tokens\": 0|system_prompt_tokens: out of range; "
                        + "allowed: an integer in [1, 1000000]",
                "\"system_prompt\": \"p\", \"system_prompt_tokens\": 1000001|system_prompt_tokens: out of range; "
                        + "allowed: an integer in [1, 1000000]",
                "\"arrival_s\": -0.5|arrival_s: out of range; allowed: a number in [0, 1000000000]",
                "\"think_s\": -1|think_s: out of range; allowed: a number in [0, 1000000]",
                "\"think_s\": 1e999|think_s: out of range; allowed: a number in [0, 1000000]",
                "\"arrival_s\": -1e999|arrival_s: out of range; allowed: a number in [0, 1000000000]",
                "\"user_tokens\": 1e999|user_tokens: out of range; allowed: an integer in [1, 1000000]",
                "\"user_tokens\": 99999999999999999999|user_tokens: out of range; allowed: an integer in [1, 1000000]",
            })
    void anOutOfRangeValueNamesTheKeyAndRangeAtTheValuesColumn(String field, String message) {
        String text = line(field);
        ConfigException e = fails(text);

        String key = message.substring(0, message.indexOf(':'));
        assertEquals(at(1, valueColumn(text, key)) + ": " + message, e.getMessage());
    }

    @Test
    void aTooLongNameIsRefused() {
        ConfigException e = fails(line("\"session\": \"" + "x".repeat(257) + "\""));

        assertTrue(
                e.getMessage()
                        .endsWith(": session: is 257 characters long; allowed: a non-blank string of at "
                                + "most 256 characters"),
                e.getMessage());
    }

    // ---- rules across lines -----------------------------------------------------------------------

    @Test
    void aLaterArrivalBeforeTheSessionsStartIsRefused() {
        String second = "{\"session\": \"a\", \"arrival_s\": 1.5, " + TURN + "}";
        ConfigException e = fails("{\"session\": \"a\", \"arrival_s\": 2.0, " + TURN + "}\n" + second + "\n");

        assertEquals(
                at(2, valueColumn(second, "arrival_s")) + ": arrival_s: is before the arrival its session "
                        + "was given on line 1; allowed: at least that arrival",
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
        String third = "{\"session\": \"b\", \"system_prompt\": \"p\", \"system_prompt_tokens\": 256, " + TURN + "}";
        ConfigException e = fails("{\"session\": \"a\", \"system_prompt\": \"p\", \"system_prompt_tokens\": 512, "
                + TURN + "}\n\n" + third + "\n");

        assertEquals(
                at(3, valueColumn(third, "system_prompt_tokens")) + ": system_prompt_tokens: differs from "
                        + "the length this system prompt was given on line 1; allowed: that length (a shared prompt has one "
                        + "length)",
                e.getMessage());
    }

    @Test
    void aNewPromptNeedsItsLength() {
        String text = line("\"system_prompt\": \"p\"");
        ConfigException e = fails(text);

        assertEquals(
                at(1, valueColumn(text, "system_prompt")) + ": system_prompt_tokens: is required on the "
                        + "first line naming a system prompt; allowed: an integer in [1, 1000000]",
                e.getMessage());
    }

    @Test
    void aPromptLengthWithoutAPromptIsRefused() {
        ConfigException e = fails(line("\"system_prompt_tokens\": 8"));

        assertTrue(
                e.getMessage()
                        .contains("system_prompt_tokens: is given without system_prompt; allowed only "
                                + "together with a system_prompt name"),
                e.getMessage());
    }

    @Test
    void aSessionCannotChangeItsSystemPrompt() {
        String second = "{\"session\": \"a\", \"system_prompt\": \"q\", \"system_prompt_tokens\": 4, " + TURN + "}";
        ConfigException e = fails("{\"session\": \"a\", \"system_prompt\": \"p\", \"system_prompt_tokens\": 4, " + TURN
                + "}\n" + second + "\n");

        assertEquals(
                at(2, valueColumn(second, "system_prompt")) + ": system_prompt: its session started with "
                        + "another system prompt on line 1; allowed: the same prompt or none",
                e.getMessage());
    }

    @Test
    void aSessionStartedWithoutAPromptCannotGainOne() {
        ConfigException e = fails("""
                {"session": "b", "system_prompt": "p", "system_prompt_tokens": 4, %s}
                {"session": "a", %s}
                {"session": "a", "system_prompt": "p", %s}
                """.formatted(TURN, TURN, TURN));

        assertTrue(
                e.getMessage().contains("system_prompt: its session started with no system prompt on line 2"),
                e.getMessage());
    }

    // ---- no message quotes the file ---------------------------------------------------------------

    /**
     * {@code --trace} pointed at a file that is not a trace (a key, a password file) must not print
     * any of it: each of these files holds the secret where some error would otherwise quote it.
     */
    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            quoteCharacter = '`',
            value = {
                "hunter2secret",
                "hunter2secret = 1",
                "\"hunter2secret\"",
                "{hunter2secret: 1}",
                "{\"hunter2secret\": \"x\"}",
                "{\"session\": hunter2secret}",
                "{\"session\": \"a\", \"user_tokens\": \"hunter2secret\", \"output_tokens\": 1}",
                "{\"session\": \"a\", \"user_tokens\": 1, \"output_tokens\": 1, \"think_s\": \"hunter2secret\"}",
                "{\"session\": \"a\", \"user_tokens\": 1, \"output_tokens\": 1} hunter2secret",
                "{\"session\": \"a\", \"user_tokens\": [\"hunter2secret\", hunter2secret]}",
                "{\"session\": \"a\", \"user_tokens\": 1, \"output_tokens\": 1}\\n{\"session\": \"hunter2secret\"}",
                "{\"session\": \"hunter2secret\", \"system_prompt\": \"p\", \"system_prompt_tokens\": 4, \"user_tokens\": 1, "
                        + "\"output_tokens\": 1}\\n{\"session\": \"hunter2secret\", \"system_prompt\": \"hunter2secret\", "
                        + "\"user_tokens\": 1, \"output_tokens\": 1}",
                "{\"session\": \"a\", \"user_tokens\": 1, \"output_tokens\": 1, \"arrival_s\": 8}\\n{\"session\": \"a\", "
                        + "\"arrival_s\": 7.123456789, \"user_tokens\": 1, \"output_tokens\": 1}",
                "{\"session\": \"a\", \"user_tokens\": 123456789, \"output_tokens\": 1}",
                "{\"session\": \"a\", \"user_tokens\": 1.123456789, \"output_tokens\": 1}",
                "{\"session\": \"a\", \"user_tokens\": 1, \"output_tokens\": 1, \"session\": 1}",
            })
    void noMessageQuotesTheFile(String content) throws IOException {
        Path file = write(content.replace("\\n", "\n") + "\n");
        ConfigException e = assertThrows(ConfigException.class, () -> TraceReader.read(file, VOCAB, 1));

        assertTrue(e.path().startsWith(file + ":"), e.getMessage());
        for (String secret : List.of("hunter", "secret", "123456789", "7.12")) {
            assertFalse(
                    e.getMessage().replace(file.toString(), "").contains(secret),
                    "the message quotes the file: " + e.getMessage());
        }
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
        return Files.writeString(file(), text);
    }

    private Path file() {
        return dir.resolve("trace.jsonl");
    }

    /** The path of an error at {@code line} and {@code column} of the test's trace file. */
    private String at(int line, int column) {
        return file() + ":" + line + ":" + column;
    }

    /** The column (from 1) of the value of the first {@code key} in {@code text}. */
    private static int valueColumn(String text, String key) {
        String quoted = "\"" + key + "\":";
        int at = text.indexOf(quoted);
        assertTrue(at >= 0, quoted + " in " + text);
        return at + quoted.length() + 2; // the key, ':' and a space; the column counts from 1
    }
}
