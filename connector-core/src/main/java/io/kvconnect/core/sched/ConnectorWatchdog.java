package io.kvconnect.core.sched;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Bounds how long the engine waits for a connector. Every load the engine waits for (a request in
 * {@code WAITING_FOR_REMOTE_KV}, or a finished request whose blocks wait for its load) and every
 * send (a delayed free) gets a deadline when the wait starts; and when nothing is left to do but
 * the connector's own pending work or the GPU blocks it holds, the connector must show progress (a
 * finished transfer, a reference returned, pending work ending) within the timeout too.
 *
 * <p>Pure bookkeeping: the scheduler asks which waits expired and decides what to give up. Wall
 * time, not modelled time: a connector that hangs hangs in real time.
 *
 * <p><b>Thread.</b> The scheduler thread only.
 */
final class ConnectorWatchdog {
    private final long timeoutNanos;
    private final LongSupplier clock;
    private final Map<String, Long> receives = new HashMap<>();
    private final Map<String, Long> sends = new HashMap<>();
    private long idleSince = -1;
    private long idleFingerprint;
    private boolean idleGivenUp;
    private long givenUpFingerprint;

    /**
     * @param timeoutNanos how long a wait may last
     * @param clock nanoseconds, monotonic ({@link System#nanoTime()} outside tests)
     */
    ConnectorWatchdog(long timeoutNanos, LongSupplier clock) {
        this.timeoutNanos = timeoutNanos;
        this.clock = clock;
    }

    /** The timeout, for messages. */
    long timeoutNanos() {
        return timeoutNanos;
    }

    void receiveStarted(String id) {
        receives.put(id, clock.getAsLong() + timeoutNanos);
    }

    void receiveEnded(String id) {
        receives.remove(id);
    }

    void sendStarted(String id) {
        sends.put(id, clock.getAsLong() + timeoutNanos);
    }

    void sendEnded(String id) {
        sends.remove(id);
    }

    /** Loads whose deadline passed, in no particular order; they stay tracked until ended. */
    List<String> expiredReceives() {
        return expired(receives);
    }

    /** Sends whose deadline passed; they stay tracked until ended. */
    List<String> expiredSends() {
        return expired(sends);
    }

    private List<String> expired(Map<String, Long> deadlines) {
        if (deadlines.isEmpty()) {
            return List.of();
        }
        long now = clock.getAsLong();
        List<String> out = null;
        for (Map.Entry<String, Long> e : deadlines.entrySet()) {
            if (now - e.getValue() >= 0) {
                if (out == null) {
                    out = new ArrayList<>();
                }
                out.add(e.getKey());
            }
        }
        return out == null ? List.of() : out;
    }

    /**
     * Called once per step while the engine waits only for the connector.
     *
     * @param fingerprint changes whenever the connector makes progress
     * @return true once the connector made no progress for the timeout; the caller then gives up
     *     and reports the fingerprint after that with {@link #gaveUp}
     */
    boolean idleStalled(long fingerprint) {
        if (idleGivenUp) {
            if (fingerprint == givenUpFingerprint) {
                return false;
            }
            idleGivenUp = false; // progress since: wait for it again
            idleSince = -1;
        }
        long now = clock.getAsLong();
        if (idleSince < 0 || fingerprint != idleFingerprint) {
            idleSince = now;
            idleFingerprint = fingerprint;
            return false;
        }
        return now - idleSince >= timeoutNanos;
    }

    /** The engine gave up waiting; {@code fingerprint} is the connector's state after that. */
    void gaveUp(long fingerprint) {
        idleGivenUp = true;
        givenUpFingerprint = fingerprint;
        idleSince = -1;
    }

    /** The engine has other work again: the next idle wait starts afresh. */
    void notIdle() {
        idleSince = -1;
    }

    /** The connector reported no pending work: whatever it was stuck on is over. */
    void pendingEnded() {
        idleSince = -1;
        idleGivenUp = false;
    }

    /**
     * Whether the engine gave up waiting for the connector's pending work while idle and the
     * connector made no progress since: the engine then does not step for it. Progress (a finished
     * transfer, a reference taken or returned) or no pending work makes it wait again.
     */
    boolean givenUpAt(long fingerprint) {
        return idleGivenUp && fingerprint == givenUpFingerprint;
    }
}
