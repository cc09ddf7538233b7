package io.kvconnect.core.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

/** Repeated lines per kind: a bounded number written, the rest counted and summarized. */
class RateLimitedLogTest {
    private static final long MINUTE = Duration.ofMinutes(1).toNanos();

    private record Line(Level level, String text, Throwable cause) {}

    private final List<Line> lines = new ArrayList<>();
    private long now = 1_000;
    private final RateLimitedLog log = new RateLimitedLog(
            (level, text, cause) -> lines.add(new Line(level, text, cause)), 3, Duration.ofMinutes(1), () -> now);

    @Test
    void writesAtMostTheLimitPerKindAndIntervalAndCountsTheRest() {
        for (int i = 0; i < 1000; i++) {
            log.warn("unknown", "request {} is unknown", i);
        }

        assertEquals(3, lines.size());
        assertEquals("request 0 is unknown", lines.get(0).text());
        assertEquals("request 1 is unknown", lines.get(1).text());
        assertTrue(
                lines.get(2)
                        .text()
                        .startsWith("request 2 is unknown (line 3 of this kind in 60 s; more are "
                                + "counted, not written"),
                lines.get(2).text());
        assertEquals(997, log.suppressedTotal());
    }

    @Test
    void theSummaryComesOnceTheIntervalIsOverWithTheCountOfWhatWasHeldBack() {
        for (int i = 0; i < 10; i++) {
            log.warn("unknown", "request {} is unknown", i);
        }
        log.flushDue();
        assertEquals(3, lines.size(), "no summary before the interval is over");

        now += MINUTE;
        log.flushDue();

        assertEquals(4, lines.size());
        assertEquals(
                new Line(Level.WARN, "... and 7 more like this suppressed in the last 60 s (kind unknown)", null),
                lines.get(3));
        log.flushDue();
        assertEquals(4, lines.size(), "a summary is written once");
    }

    @Test
    void theNextLineAfterTheIntervalWritesTheSummaryFirstAndStartsAFreshInterval() {
        for (int i = 0; i < 5; i++) {
            log.error("late", "late {}", i);
        }
        now += 2 * MINUTE;

        log.error("late", "late {}", 5);

        assertEquals(5, lines.size());
        assertEquals(
                "... and 2 more like this suppressed in the last 120 s (kind late)",
                lines.get(3).text());
        assertEquals(Level.ERROR, lines.get(3).level());
        assertEquals("late 5", lines.get(4).text());
    }

    @Test
    void kindsHaveLimitsOfTheirOwn() {
        for (int i = 0; i < 5; i++) {
            log.warn("a", "a {}", i);
            log.warn("b", "b {}", i);
        }

        assertEquals(6, lines.size());
        assertEquals(3, lines.stream().filter(l -> l.text().startsWith("a ")).count());
        assertEquals(3, lines.stream().filter(l -> l.text().startsWith("b ")).count());

        log.flushAll();

        assertEquals(8, lines.size(), "flushAll writes the pending summaries even within the interval");
        assertTrue(
                lines.get(6).text().startsWith("... and 2 more like this suppressed"),
                lines.get(6).text());
        assertTrue(
                lines.get(7).text().startsWith("... and 2 more like this suppressed"),
                lines.get(7).text());
    }

    @Test
    void aTrailingThrowableIsTheCauseOfTheLine() {
        IllegalStateException boom = new IllegalStateException("boom");

        log.error("failed", "hook {} failed", "x", boom);
        log.warn("plain", "no cause {}", 1);

        assertEquals("hook x failed", lines.get(0).text());
        assertSame(boom, lines.get(0).cause());
        assertNull(lines.get(1).cause());
    }

    @Test
    void limitsMustBePositive() {
        assertThrows(
                IllegalArgumentException.class,
                () -> new RateLimitedLog((l, t, c) -> {}, 0, Duration.ofSeconds(1), () -> 0));
        assertThrows(
                IllegalArgumentException.class, () -> new RateLimitedLog((l, t, c) -> {}, 1, Duration.ZERO, () -> 0));
    }
}
