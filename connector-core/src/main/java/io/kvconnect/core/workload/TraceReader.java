package io.kvconnect.core.workload;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.kvconnect.api.common.ConfigException;
import io.kvconnect.api.common.ConnectorConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads a chat workload from a JSONL trace: one JSON object per line, one line per turn.
 *
 * <pre>{@code
 * # comment lines and blank lines are ignored
 * {"session": "s1", "arrival_s": 0.0, "system_prompt": "support-bot", "system_prompt_tokens": 512,
 *  "user_tokens": 120, "output_tokens": 64}
 * {"session": "s1", "user_tokens": 40, "output_tokens": 80, "think_s": 1.5}
 * }</pre>
 *
 * <p>Keys (every other key is an error):
 * <ul>
 *   <li>{@code session} (required): a non-blank string of at most 256 characters; the lines of a
 *       session are its turns, in file order, and may be interleaved with other sessions' lines;</li>
 *   <li>{@code user_tokens} (required): the user message length, in [1, 1,000,000];</li>
 *   <li>{@code output_tokens} (required): the response length, in [1, 100,000];</li>
 *   <li>{@code arrival_s}: the session's start in seconds, in [0, 1,000,000,000], default 0; taken
 *       from the session's first line; on later lines it is optional and must not be smaller;</li>
 *   <li>{@code think_s}: seconds between the previous response and this turn (from the arrival for
 *       the first turn), in [0, 1,000,000], default 0;</li>
 *   <li>{@code system_prompt}: the name of a shared system prompt (at most 256 characters), set on
 *       the session's first line; later lines may repeat it but not change it;</li>
 *   <li>{@code system_prompt_tokens}: that prompt's length, in [1, 1,000,000]; required on the
 *       first line naming the prompt, and a prompt has one length throughout the trace.</li>
 * </ul>
 *
 * <p>Token contents are synthetic and deterministic: a system prompt's from (seed, name), a user
 * turn's from (seed, session, turn index). Sessions are ordered by arrival, ties in file order.
 * Every problem is a {@link ConfigException} whose path is {@code trace:LINE.field} (or
 * {@code trace} for the file as a whole) and whose message gives the allowed values.
 */
public final class TraceReader {
    private static final String ROOT = "trace";
    private static final int MAX_NAME = 256;
    private static final int MAX_USER_TOKENS = 1_000_000;
    private static final int MAX_SYSTEM_PROMPT_TOKENS = 1_000_000;
    private static final int MAX_OUTPUT_TOKENS = 100_000;
    private static final double MAX_ARRIVAL_S = 1e9;
    private static final double MAX_THINK_S = 1e6;
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    private static final TypeReference<LinkedHashMap<String, Object>> OBJECT = new TypeReference<>() { };

    private TraceReader() {
    }

    /**
     * Reads a trace file.
     *
     * @param file the JSONL trace, UTF-8
     * @param vocabSize the model's vocabulary size; token ids are drawn from [1, vocabSize)
     * @param seed the seed of the synthetic token contents
     * @return the workload, described as the trace's file name
     * @throws ConfigException if the file is missing, unreadable, empty or has an invalid line
     * @throws IllegalArgumentException if {@code vocabSize} is below 2
     */
    public static Workload read(Path file, int vocabSize, long seed) {
        if (vocabSize < 2) {
            throw new IllegalArgumentException("vocabSize is " + vocabSize + "; allowed: [2, " + Integer.MAX_VALUE + "]");
        }
        var trace = new TraceAssembler(vocabSize, seed);
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            int lineNumber = 0;
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                lineNumber++;
                // Editors on some systems write a UTF-8 byte-order mark; it is not JSON, but not an error either.
                String text = (lineNumber == 1 && line.startsWith("\uFEFF") ? line.substring(1) : line).strip();
                if (!text.isEmpty() && !text.startsWith("#")) {
                    trace.add(lineNumber, parseLine(text, lineNumber));
                }
            }
        } catch (NoSuchFileException e) {
            throw new ConfigException(ROOT, "file " + file + " does not exist");
        } catch (IOException e) {
            throw new ConfigException(ROOT, "cannot read " + file + ": " + e);
        }
        if (trace.isEmpty()) {
            throw new ConfigException(ROOT, file + " holds no turns; expected one JSON object per line");
        }
        return trace.build("trace " + file.getFileName());
    }

    /** Parses and validates one line; the cross-line rules are {@link TraceAssembler}'s. */
    private static TraceLine parseLine(String text, int lineNumber) {
        String path = ROOT + ":" + lineNumber;
        Map<String, Object> tree;
        try {
            tree = JSON.readValue(text, OBJECT);
        } catch (JsonProcessingException e) {
            var where = e.getLocation();
            String column = where == null ? "" : " at column " + where.getColumnNr();
            throw new ConfigException(path, "not a valid JSON object" + column + ": " + e.getOriginalMessage());
        }
        if (tree == null) {
            throw new ConfigException(path, "expected a JSON object, got null");
        }
        ConnectorConfig c = ConnectorConfig.of(path, tree);
        c.requireOnlyKeys("session", "arrival_s", "system_prompt", "system_prompt_tokens", "user_tokens",
                "output_tokens", "think_s");
        return new TraceLine(
                name(c, "session", true),
                requireInt(c, "user_tokens", MAX_USER_TOKENS),
                requireInt(c, "output_tokens", MAX_OUTPUT_TOKENS),
                c.has("arrival_s") ? c.getDouble("arrival_s", 0, 0, MAX_ARRIVAL_S) : Double.NaN,
                c.getDouble("think_s", 0, 0, MAX_THINK_S),
                name(c, "system_prompt", false),
                c.getInt("system_prompt_tokens", 0, 1, MAX_SYSTEM_PROMPT_TOKENS));
    }

    private static int requireInt(ConnectorConfig c, String key, int max) {
        if (!c.has(key)) {
            throw new ConfigException(c.fieldPath(key), "is required but missing; allowed: an integer in [1, " + max + "]");
        }
        return c.getInt(key, 0, 1, max);
    }

    /** A name field, or null when absent and optional. */
    private static String name(ConnectorConfig c, String key, boolean required) {
        if (!required && !c.has(key)) {
            return null;
        }
        String allowed = "; allowed: a non-blank string of at most " + MAX_NAME + " characters";
        if (!c.has(key)) {
            throw new ConfigException(c.fieldPath(key), "is required but missing" + allowed);
        }
        Object value = c.asMap().get(key);
        if (!(value instanceof String s)) {
            String got = switch (value) {
                case Map<?, ?> m -> "an object";
                case java.util.List<?> l -> "a list";
                default -> String.valueOf(value);
            };
            throw new ConfigException(c.fieldPath(key), "expected a string, got " + got + allowed);
        }
        if (s.isBlank() || s.length() > MAX_NAME) {
            throw new ConfigException(c.fieldPath(key), (s.isBlank() ? "is blank" : "is " + s.length()
                    + " characters long") + allowed);
        }
        return s;
    }
}
