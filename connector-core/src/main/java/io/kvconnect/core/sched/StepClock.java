package io.kvconnect.core.sched;

/**
 * The scheduler's two step numbers: the step scheduled last ({@link #current()}) and the step
 * whose output was applied last ({@link #lastApplied()}). Under asynchronous scheduling the first
 * runs one ahead of the second. Shared by the scheduler's parts so that each reads the same step;
 * only the scheduler advances it. Engine thread only.
 */
final class StepClock {
    private long scheduled;
    private long applied;

    /** The step scheduled last; 0 before the first. */
    long current() {
        return scheduled;
    }

    /** Starts scheduling the next step and returns its number. */
    long next() {
        return ++scheduled;
    }

    /** The step whose output was applied last; 0 before the first. */
    long lastApplied() {
        return applied;
    }

    /** The output of {@code step} was applied. */
    void applied(long step) {
        applied = step;
    }
}
