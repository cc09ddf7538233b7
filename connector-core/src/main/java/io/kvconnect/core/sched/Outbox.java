package io.kvconnect.core.sched;

import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.core.kv.BlockPool;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What the scheduler decided and has not handed to the engine yet: request updates, resolutions of
 * held outputs, KV events and connector stats, each in the order they happened. Every part of the
 * scheduler writes here; only the scheduler's public calls take from it, each taking everything
 * of a kind at once, so nothing is handed over twice or lost between steps.
 *
 * <p>Taken lists are handed over, not copied (they are rebuilt after each take anyway): a step
 * that appends 256 tokens does not copy 256 updates.
 *
 * <p><b>Thread.</b> Engine thread only.
 */
final class Outbox {
    private static final int MIN_CAPACITY = 10;

    private List<RequestUpdate> updates = new ArrayList<>();
    private List<HoldResolution> resolutions = new ArrayList<>();
    private final List<KvEvent> events = new ArrayList<>();
    private final List<ConnectorStats> connectorStats = new ArrayList<>();
    /** The most updates taken at once lately, decaying (see {@link #takeUpdates}). */
    private int peakTaken;

    void update(RequestUpdate u) {
        updates.add(u);
    }

    void resolved(HoldResolution r) {
        resolutions.add(r);
    }

    void events(List<KvEvent> e) {
        events.addAll(e);
    }

    /** Moves the GPU pool's events here (no intermediate list: the pool has events most steps). */
    void events(BlockPool pool) {
        pool.drainEventsTo(events);
    }

    void connectorStats(ConnectorStats s) {
        connectorStats.add(s);
    }

    /** Every request update not yet taken, in order; read-only. */
    List<RequestUpdate> takeUpdates() {
        if (updates.isEmpty()) {
            return List.of();
        }
        List<RequestUpdate> taken = Collections.unmodifiableList(updates);
        // Sized for the largest take lately and some more, not for the last take: a step of 256
        // decoding requests would otherwise grow the list from 10 through nine copies whenever the
        // take before it was a request's arrival (one update), and a step with one update more than
        // the last (a request finished) would copy all of them once. The peak decays by 1/64 per
        // take, so a list shrinks again slowly after a burst.
        int n = updates.size();
        peakTaken = Math.max(n, peakTaken - (peakTaken >> 6));
        updates = new ArrayList<>(Math.max(MIN_CAPACITY, peakTaken + (peakTaken >> 3) + 8));
        return taken;
    }

    /** Every held-output resolution not yet taken, in order. */
    List<HoldResolution> takeResolutions() {
        if (resolutions.isEmpty()) {
            return List.of();
        }
        List<HoldResolution> taken = Collections.unmodifiableList(resolutions);
        resolutions = new ArrayList<>();
        return taken;
    }

    /** Every KV event not yet taken (GPU pool, connector, workers), in order. */
    List<KvEvent> takeEvents() {
        if (events.isEmpty()) {
            return List.of();
        }
        List<KvEvent> taken = List.copyOf(events);
        events.clear();
        return taken;
    }

    /** Every connector stats report not yet taken (scheduler and worker sides), in order. */
    List<ConnectorStats> takeConnectorStats() {
        if (connectorStats.isEmpty()) {
            return List.of();
        }
        List<ConnectorStats> taken = List.copyOf(connectorStats);
        connectorStats.clear();
        return taken;
    }
}
