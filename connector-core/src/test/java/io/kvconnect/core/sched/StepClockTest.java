package io.kvconnect.core.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The scheduled and the applied step advance separately; under pipelining one runs ahead. */
class StepClockTest {
    @Test
    void theScheduledStepRunsAheadOfTheAppliedOne() {
        StepClock clock = new StepClock();
        assertEquals(0, clock.current());
        assertEquals(0, clock.lastApplied());

        assertEquals(1, clock.next());
        assertEquals(2, clock.next());
        clock.applied(1);

        assertEquals(2, clock.current());
        assertEquals(1, clock.lastApplied());
    }
}
