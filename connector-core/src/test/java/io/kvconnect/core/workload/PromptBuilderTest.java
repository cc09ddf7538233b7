package io.kvconnect.core.workload;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Follow-up prompts: system prompt, the conversation so far, then the new message. */
class PromptBuilderTest {

    @Test
    void concatenatesInConversationOrder() {
        int[] system = {1, 2};
        List<int[]> history = List.of(new int[] {10, 11}, new int[] {20}, new int[] {12}, new int[] {21, 22});
        int[] user = {13, 14};

        assertArrayEquals(new int[] {1, 2, 10, 11, 20, 12, 21, 22, 13, 14}, PromptBuilder.build(system, history, user));
    }

    @Test
    void theFirstTurnIsSystemPromptAndUserTokens() {
        assertArrayEquals(new int[] {1, 2, 3}, PromptBuilder.build(new int[] {1, 2}, List.of(), new int[] {3}));
    }

    @Test
    void withoutASystemPromptTheConversationStartsTheSequence() {
        assertArrayEquals(
                new int[] {5, 6, 7}, PromptBuilder.build(new int[0], List.of(new int[] {5, 6}), new int[] {7}));
    }

    @Test
    void eachFollowUpExtendsThePreviousPrompt() {
        int[] system = {1, 2, 3};
        int[] first = PromptBuilder.build(system, List.of(), new int[] {4});
        int[] second = PromptBuilder.build(system, List.of(new int[] {4}, new int[] {5, 6}), new int[] {7});

        assertArrayEquals(first, java.util.Arrays.copyOf(second, first.length));
    }

    @Test
    void theInputsAreNotRetained() {
        int[] system = {1};
        int[] prompt = PromptBuilder.build(system, List.of(), new int[] {2});
        prompt[0] = 9;

        assertArrayEquals(new int[] {1}, system);
    }
}
