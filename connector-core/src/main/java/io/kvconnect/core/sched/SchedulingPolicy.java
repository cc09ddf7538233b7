package io.kvconnect.core.sched;

/** The order in which waiting requests are admitted and running ones are preempted. */
public enum SchedulingPolicy {
    /** First come, first served; the most recently admitted running request is preempted first. */
    FCFS,
    /** Lowest priority value first (ties by arrival); the highest value (latest arrival) is preempted first. */
    PRIORITY
}
