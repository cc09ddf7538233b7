package io.kvconnect.nixl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** The early done notices a producer worker keeps: bounded by count and by the characters of their ids. */
class EarlyDonesTest {
    @Test
    void theOldestNoticeIsForgottenBeyondTheCount() {
        var early = new EarlyDones(2, 1_000);
        early.put("a", "ta");
        early.put("b", "tb");
        early.put("c", "tc");
        assertNull(early.take("a"));
        assertEquals("tb", early.take("b"));
        assertEquals("tc", early.take("c"));
    }

    @Test
    void longIdsPushOutOlderNoticesUntilTheCharactersFit() {
        var early = new EarlyDones(100, 10);
        early.put("a", "ta");
        early.put("bbbb", "tb");
        early.put("cccccc", "tc"); // 11 characters with a: a goes
        assertNull(early.take("a"));
        early.put("x".repeat(11), "tx"); // longer than the bound alone: nothing of it is kept
        assertNull(early.take("bbbb"));
        assertNull(early.take("cccccc"));
        assertNull(early.take("x".repeat(11)));
    }

    @Test
    void aNoticeTakenOrReplacedNoLongerCountsAgainstTheBound() {
        var early = new EarlyDones(100, 10);
        early.put("aaaaa", "t1");
        early.put("aaaaa", "t2"); // the same id again: counted once, the later token kept
        early.put("bbbbb", "tb");
        assertEquals("t2", early.take("aaaaa"));
        early.put("ccccc", "tc");
        assertEquals("tb", early.take("bbbbb"));
        assertEquals("tc", early.take("ccccc"));
    }
}
