package io.kvconnect.core.workload;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Turn, ChatSession and Workload: immutability, content equality and invariants. */
class WorkloadRecordsTest {

    @Test
    void aTurnCopiesItsTokensInAndOut() {
        int[] tokens = {1, 2, 3};
        var turn = new Turn(tokens, 8, 0.5);
        tokens[0] = 99;
        assertArrayEquals(new int[] {1, 2, 3}, turn.userTokens());

        turn.userTokens()[1] = 99;
        assertArrayEquals(new int[] {1, 2, 3}, turn.userTokens());
        assertEquals(3, turn.userTokenCount());
    }

    @Test
    void turnsCompareByTokenContents() {
        var a = new Turn(new int[] {5, 6}, 4, 1.0);
        var b = new Turn(new int[] {5, 6}, 4, 1.0);

        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, new Turn(new int[] {5, 7}, 4, 1.0));
        assertNotEquals(a, new Turn(new int[] {5, 6}, 5, 1.0));
        assertNotEquals(a, new Turn(new int[] {5, 6}, 4, 1.5));
    }

    @Test
    void aTurnShowsItsTokensAbbreviated() {
        assertEquals(
                "Turn[userTokens=[7, 8], maxOutputTokens=3, thinkSeconds=0.0]",
                new Turn(new int[] {7, 8}, 3, 0).toString());
        assertEquals(
                "Turn[userTokens=[1, 2, 3, 4, 5, 6, 7, 8, ... (10 tokens)], maxOutputTokens=3, thinkSeconds=0.0]",
                new Turn(new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 3, 0).toString());
    }

    @Test
    void aTurnRefusesInvalidValues() {
        assertThrows(IllegalArgumentException.class, () -> new Turn(new int[0], 1, 0));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Turn(new int[] {1, 0}, 1, 0))
                .getMessage()
                .contains("userTokens[1]"));
        assertThrows(IllegalArgumentException.class, () -> new Turn(new int[] {1}, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new Turn(new int[] {1}, 1, -1));
        assertThrows(IllegalArgumentException.class, () -> new Turn(new int[] {1}, 1, Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> new Turn(new int[] {1}, 1, Double.POSITIVE_INFINITY));
    }

    @Test
    void aSessionCopiesItsTurnsAndChecksItsValues() {
        var turns = new ArrayList<>(List.of(turn(1)));
        var session = new ChatSession("a", ChatSession.NO_SYSTEM_PROMPT, 0, turns);
        turns.add(turn(2));

        assertEquals(1, session.turns().size());
        assertFalse(session.hasSystemPrompt());
        assertThrows(IllegalArgumentException.class, () -> new ChatSession(" ", -1, 0, List.of(turn(1))));
        assertThrows(IllegalArgumentException.class, () -> new ChatSession("a", -2, 0, List.of(turn(1))));
        assertThrows(IllegalArgumentException.class, () -> new ChatSession("a", -1, -0.5, List.of(turn(1))));
        assertThrows(IllegalArgumentException.class, () -> new ChatSession("a", -1, 0, List.of()));
    }

    @Test
    void aWorkloadCountsTurnsAndHandsOutPromptCopies() {
        int[] prompt = {4, 5, 6};
        var workload = new Workload(
                "w",
                List.of(prompt),
                List.of(
                        new ChatSession("a", 0, 0, List.of(turn(1), turn(2))),
                        new ChatSession("b", -1, 1, List.of(turn(3)))));
        prompt[0] = 99;

        assertEquals(3, workload.totalTurns());
        assertEquals(1, workload.systemPromptCount());
        assertArrayEquals(
                new int[] {4, 5, 6}, workload.systemPromptOf(workload.sessions().get(0)));
        assertArrayEquals(
                new int[0], workload.systemPromptOf(workload.sessions().get(1)));
        workload.systemPrompts().get(0)[0] = 99;
        assertArrayEquals(new int[] {4, 5, 6}, workload.systemPrompts().get(0));
    }

    @Test
    void workloadsCompareByPromptContents() {
        var sessions = List.of(new ChatSession("a", 0, 0, List.of(turn(1))));
        var a = new Workload("w", List.of(new int[] {1, 2}), sessions);
        var b = new Workload("w", List.of(new int[] {1, 2}), sessions);

        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, new Workload("w", List.of(new int[] {1, 3}), sessions));
        assertEquals("Workload[w: 1 system prompts, 1 sessions, 1 turns]", a.toString());
    }

    @Test
    void aWorkloadChecksItsInvariants() {
        var one = List.of(turn(1));
        assertThrows(IllegalArgumentException.class, () -> new Workload("w", List.of(), List.of()));
        assertTrue(assertThrows(
                        IllegalArgumentException.class,
                        () -> new Workload(
                                "w",
                                List.of(),
                                List.of(new ChatSession("a", -1, 0, one), new ChatSession("a", -1, 1, one))))
                .getMessage()
                .contains("twice"));
        assertThrows(
                IllegalArgumentException.class,
                () -> new Workload("w", List.of(), List.of(new ChatSession("a", 0, 0, one))));
        assertTrue(assertThrows(
                        IllegalArgumentException.class,
                        () -> new Workload(
                                "w",
                                List.of(),
                                List.of(new ChatSession("a", -1, 2, one), new ChatSession("b", -1, 1, one))))
                .getMessage()
                .contains("before"));
        assertThrows(
                IllegalArgumentException.class,
                () -> new Workload("w", List.of(new int[0]), List.of(new ChatSession("a", -1, 0, one))));
        assertThrows(
                IllegalArgumentException.class,
                () -> new Workload("w", List.of(new int[] {0}), List.of(new ChatSession("a", -1, 0, one))));
    }

    private static Turn turn(int token) {
        return new Turn(new int[] {token}, 1, 0);
    }
}
