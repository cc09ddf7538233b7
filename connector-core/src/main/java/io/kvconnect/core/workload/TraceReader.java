package io.kvconnect.core.workload;

import io.kvconnect.api.common.ConfigException;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

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
 * <p>Every problem is a {@link ConfigException} whose path is {@code FILE:LINE:COLUMN} (or {@code
 * FILE} for the file as a whole, the file as given) and whose message names the key and says what
 * was expected there. No message quotes the file: not a token, key, value or name from it, since
 * {@code --trace} may be pointed at a file that is not a trace at all (a key or password file)
 * and the error would otherwise print part of it.
 */
public final class TraceReader {
    private TraceReader() {}

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
            throw new IllegalArgumentException(
                    "vocabSize is " + vocabSize + "; allowed: [2, " + Integer.MAX_VALUE + "]");
        }
        String name = file.toString();
        var trace = new TraceAssembler(vocabSize, seed);
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            int lineNumber = 0;
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                lineNumber++;
                // Editors on some systems write a UTF-8 byte-order mark; it is not JSON, but not an error either.
                String text = lineNumber == 1 && line.startsWith("\uFEFF") ? line.substring(1) : line;
                String content = text.strip();
                if (!content.isEmpty() && !content.startsWith("#")) {
                    trace.add(TraceLineParser.parse(new TraceSpot(name, lineNumber), text));
                }
            }
        } catch (NoSuchFileException e) {
            throw new ConfigException(name, "does not exist");
        } catch (IOException e) {
            // The exception's own message names the file or the decoding problem, never the file's text.
            throw new ConfigException(name, "cannot be read: " + e);
        }
        if (trace.isEmpty()) {
            throw new ConfigException(name, "holds no turns; expected one JSON object per line");
        }
        return trace.build("trace " + file.getFileName());
    }
}
