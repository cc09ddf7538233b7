package io.kvconnect.api.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MatchResultTest {
    /** Compiles only because the switch over the sealed interface is exhaustive without a default. */
    private static String describe(MatchResult result) {
        return switch (result) {
            case MatchResult.Tokens(int count, boolean async) when async -> "async " + count;
            case MatchResult.Tokens(int count, boolean async) -> "sync " + count;
            case MatchResult.AskLater later -> "later";
        };
    }

    @Test
    void noneAndSyncZeroAreTheSameNoTokensAnswer() {
        assertSame(MatchResult.none(), MatchResult.sync(0));
        assertEquals(new MatchResult.Tokens(0, false), MatchResult.none());
    }

    @Test
    void syncAndAsyncCarryCountAndMode() {
        assertEquals(new MatchResult.Tokens(32, false), MatchResult.sync(32));
        var async = assertInstanceOf(MatchResult.Tokens.class, MatchResult.async(48));
        assertEquals(48, async.count());
        assertTrue(async.async());
        assertFalse(((MatchResult.Tokens) MatchResult.sync(5)).async());
    }

    @Test
    void asyncZeroRejected() {
        assertThrows(IllegalArgumentException.class, () -> MatchResult.async(0));
    }

    @Test
    void negativeCountsRejected() {
        assertThrows(IllegalArgumentException.class, () -> MatchResult.sync(-1));
        assertThrows(IllegalArgumentException.class, () -> MatchResult.async(-1));
        assertThrows(IllegalArgumentException.class, () -> new MatchResult.Tokens(-5, false));
    }

    @Test
    void askLaterIsTheAskLaterInstance() {
        assertSame(MatchResult.AskLater.INSTANCE, MatchResult.askLater());
        assertInstanceOf(MatchResult.AskLater.class, MatchResult.askLater());
    }

    @Test
    void exhaustivePatternMatchDistinguishesEveryCase() {
        assertEquals("sync 0", describe(MatchResult.none()));
        assertEquals("sync 16", describe(MatchResult.sync(16)));
        assertEquals("async 16", describe(MatchResult.async(16)));
        assertEquals("later", describe(MatchResult.askLater()));
    }
}
