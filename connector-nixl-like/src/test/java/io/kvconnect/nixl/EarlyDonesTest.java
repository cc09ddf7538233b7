package io.kvconnect.nixl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The early done notices a producer worker keeps: one per connection and transfer, bounded by
 * count and by the characters of their ids.
 */
class EarlyDonesTest {
    @Test
    void theOldestNoticeIsForgottenBeyondTheCount() {
        var early = new EarlyDones(2, 1_000);
        early.put("a", 1, "ta");
        early.put("b", 1, "tb");
        early.put("c", 1, "tc");
        assertEquals(List.of(), early.take("a"));
        assertEquals(List.of("tb"), early.take("b"));
        assertEquals(List.of("tc"), early.take("c"));
    }

    @Test
    void longIdsPushOutOlderNoticesUntilTheCharactersFit() {
        var early = new EarlyDones(100, 10);
        early.put("a", 1, "ta");
        early.put("bbbb", 1, "tb");
        early.put("cccccc", 1, "tc"); // 11 characters with a: a goes
        assertEquals(List.of(), early.take("a"));
        early.put("x".repeat(11), 1, "tx"); // longer than the bound alone: nothing of it is kept
        assertEquals(List.of(), early.take("bbbb"));
        assertEquals(List.of(), early.take("cccccc"));
        assertEquals(List.of(), early.take("x".repeat(11)));
    }

    @Test
    void aNoticeTakenOrReplacedNoLongerCountsAgainstTheBound() {
        var early = new EarlyDones(100, 10);
        early.put("aaaaa", 1, "t1");
        early.put("aaaaa", 1, "t2"); // the same id again on the same connection: counted once, the later token kept
        early.put("bbbbb", 1, "tb");
        assertEquals(List.of("t2"), early.take("aaaaa"));
        early.put("ccccc", 1, "tc");
        assertEquals(List.of("tb"), early.take("bbbbb"));
        assertEquals(List.of("tc"), early.take("ccccc"));
    }

    @Test
    void aNoticeOnAnotherConnectionDoesNotReplaceOne() {
        var early = new EarlyDones(100, 1_000);
        early.put("t", 1, "right");
        early.put("t", 2, "forged");
        early.put("t", 2, "forged again"); // replaces only its own connection's
        assertEquals(List.of("right", "forged again"), early.take("t"));
        assertEquals(List.of(), early.take("t"));
    }

    @Test
    void everyConnectionsNoticeCountsAgainstTheBoundAndTheOldestTransferGoesWhole() {
        var early = new EarlyDones(3, 1_000);
        early.put("a", 1, "a1");
        early.put("a", 2, "a2");
        early.put("b", 1, "b1");
        early.put("c", 1, "c1"); // four notices: a's two go
        assertEquals(List.of(), early.take("a"));
        assertEquals(List.of("b1"), early.take("b"));
        assertEquals(List.of("c1"), early.take("c"));
    }
}
