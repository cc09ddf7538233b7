package io.kvconnect.core.sched;

import java.util.List;
import java.util.Set;

/** Builds step inputs for tests that drive the workers' model directly, without a scheduler. */
public final class TestSchedulerOutputs {
    private TestSchedulerOutputs() {}

    /** A step that computes {@code work} and nothing else. */
    public static SchedulerOutput of(long step, List<ScheduledWork> work) {
        int total = work.stream().mapToInt(ScheduledWork::numTokens).sum();
        return new SchedulerOutput(step, List.of(), work, Set.of(), Set.of(), total);
    }
}
