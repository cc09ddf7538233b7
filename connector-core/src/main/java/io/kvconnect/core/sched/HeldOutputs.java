package io.kvconnect.core.sched;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Outputs held back while a load may still be reported failed (the load failure window): what a
 * request computed from loaded KV is confirmed, cached and shown to connectors, and its sampled
 * tokens reach the client, only once the step that settles its loads ({@code Request.settleStep})
 * was applied. Until then they are held here; a load failure (or an abort, a preemption) drops
 * them instead. Each release or drop is reported to the {@link Outbox} as a {@link
 * HoldResolution}, so the engine can judge wrong KV reads of held steps once it is known whether
 * their outputs were used.
 *
 * <p>Keeps the bookkeeping only: confirming, caching and appending released tokens is the
 * caller's, since a released token may finish the request.
 *
 * <p><b>Thread.</b> Engine thread only.
 */
final class HeldOutputs {
    /**
     * What a release hands back.
     *
     * @param confirmThrough the positions to confirm
     * @param tokens the held tokens, in order
     */
    record Released(int confirmThrough, int[] tokens) {}

    private final Set<Request> holding = new LinkedHashSet<>();
    private final SchedulerStats stats;
    private final Outbox outbox;

    HeldOutputs(SchedulerStats stats, Outbox outbox) {
        this.stats = stats;
        this.outbox = outbox;
    }

    /** Holds back {@code r}'s confirmation up to {@code through} and, unless {@link SampledTokens#NONE}, a sampled token. */
    void hold(Request r, int through, int token) {
        r.heldConfirm = Math.max(r.heldConfirm, through);
        if (token != SampledTokens.NONE) {
            r.holdToken(token);
        }
        holding.add(r);
    }

    /**
     * Releases {@code r}'s held outputs: they are no longer held and their release is reported.
     *
     * @return what to confirm and the tokens to append, in order
     */
    Released release(Request r) {
        holding.remove(r);
        int confirm = r.heldConfirm;
        int[] tokens = new int[r.numHeldTokens()];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = r.heldToken(i);
        }
        r.clearHeld();
        stats.heldOutputsReleased++;
        outbox.resolved(new HoldResolution(r.requestId(), true));
        return new Released(confirm, tokens);
    }

    /** Drops {@code r}'s held outputs, if any: they may stem from wrong KV, or nobody will read them. */
    void drop(Request r) {
        if (!holding.remove(r)) {
            return;
        }
        r.clearHeld();
        stats.heldOutputsDropped++;
        outbox.resolved(new HoldResolution(r.requestId(), false));
    }

    /** Whether no request holds outputs. */
    boolean isEmpty() {
        return holding.isEmpty();
    }

    /** The requests holding outputs, in the order they started to; a copy. */
    List<Request> holdingRequests() {
        return List.copyOf(holding);
    }
}
