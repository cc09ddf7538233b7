package io.kvconnect.core.workload;

import java.util.List;
import java.util.Objects;

/**
 * Builds a turn's full prompt the way a chat front end does: the system prompt, then the whole
 * conversation so far, then the new user message. Every follow-up prompt therefore extends the
 * previous one, which is the prefix a KV connector can reuse.
 */
public final class PromptBuilder {
    /** The longest prompt that fits in a Java array, with headroom for the VM's array header. */
    public static final int MAX_PROMPT_TOKENS = Integer.MAX_VALUE - 8;

    private PromptBuilder() {}

    /**
     * Concatenates {@code systemPrompt}, every segment of {@code history} in order, and
     * {@code userTokens} into a new array. The inputs are not modified or retained.
     *
     * @param systemPrompt the session's system prompt; empty when it has none
     * @param history the earlier turns' segments in conversation order: for each earlier turn, its
     *     user tokens then the output the model generated for it
     * @param userTokens this turn's user tokens
     * @return the prompt, of length {@code systemPrompt.length + sum(history) + userTokens.length}
     * @throws IllegalArgumentException if the prompt would exceed {@link #MAX_PROMPT_TOKENS}
     */
    public static int[] build(int[] systemPrompt, List<int[]> history, int[] userTokens) {
        Objects.requireNonNull(systemPrompt, "systemPrompt");
        Objects.requireNonNull(userTokens, "userTokens");
        long length = (long) systemPrompt.length + userTokens.length;
        for (int[] segment : history) {
            length += segment.length;
        }
        if (length > MAX_PROMPT_TOKENS) {
            throw new IllegalArgumentException("prompt of " + length + " tokens exceeds " + MAX_PROMPT_TOKENS);
        }
        int[] prompt = new int[(int) length];
        int at = append(prompt, 0, systemPrompt);
        for (int[] segment : history) {
            at = append(prompt, at, segment);
        }
        append(prompt, at, userTokens);
        return prompt;
    }

    private static int append(int[] into, int at, int[] tokens) {
        System.arraycopy(tokens, 0, into, at, tokens.length);
        return at + tokens.length;
    }
}
