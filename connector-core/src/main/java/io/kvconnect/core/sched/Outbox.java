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
 * <p>Request updates are kept by column ({@link RequestUpdates}): a step that samples 256 tokens
 * makes no object per token, and a step's outcome lends its arrays instead of copying them. Other
 * taken lists are handed over, not copied.
 *
 * <p><b>Thread.</b> Engine thread only.
 */
final class Outbox {
    private final RequestUpdates.Builder updates = new RequestUpdates.Builder();
    private List<HoldResolution> resolutions = new ArrayList<>();
    private final List<KvEvent> events = new ArrayList<>();
    private final List<ConnectorStats> connectorStats = new ArrayList<>();

    void update(RequestUpdate u) {
        updates.add(u);
    }

    /** A sampled, confirmed token: {@link RequestUpdate.TokenAdded} without the object. */
    void token(String requestId, int token, int numOutputTokens) {
        updates.token(requestId, token, numOutputTokens);
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

    /** Every request update not yet taken, in order, as an owned batch. */
    RequestUpdates takeUpdates() {
        return updates.take();
    }

    /**
     * Every request update not yet taken, in order, lent until {@link #reclaimUpdates()}: for a
     * step's outcome, which would otherwise copy a step's 256 updates every step.
     */
    RequestUpdates lendUpdates() {
        return updates.lend();
    }

    /** Ends the batch lent last: called as a step's update begins, so that its arrays are written again. */
    void reclaimUpdates() {
        updates.reclaim();
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
