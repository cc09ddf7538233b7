package io.kvconnect.multi;

import io.kvconnect.api.common.ConnectorOutput;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The scheduler side's book of awaited transfers: which children delayed each request's free,
 * which child loads each request asynchronously, and (in relay mode) how many ranks of each child
 * reported so far. From it each child learns of exactly its own finished transfers, as it would
 * alone: a child never sees a finished send it did not delay or a finished load it did not start.
 *
 * <p><b>Direct mode</b> (every child needs a report from every worker, the default): each rank's
 * worker side reports a request as sent only once every child that delayed its free reported it on
 * that rank, and as received only once every child that loads a part of it did ({@link
 * MultiWorker}), so the engine's per-rank count completes exactly when the last of them finished
 * on every rank. Here the engine's finished sets are then split by child: a composed load is
 * reported to each of its loaders once the whole request is received.
 *
 * <p><b>Relay mode</b> (some child needs fewer reports than there are workers, so the ranks that
 * report may differ between children and no rank can decide alone): the workers put their
 * children's reports in the worker metadata instead; this book counts them per child by distinct
 * rank up to that child's own count, tells each child when its count completes, and once the last
 * delaying child (or every loader) completed, <em>releases</em> the request: the next step's metadata
 * asks rank 0 to report it, and the composite asks the engine for one report per transfer. This
 * costs one step of latency, only in this mode.
 *
 * <p>Scheduler thread only.
 */
final class FinishedRouting {
    /** A request whose free some children delayed. */
    private static final class Send {
        final BitSet delayers;
        /** Delaying children whose sends are not finished yet (relay mode). */
        final BitSet waiting;
        /** Ranks that reported so far, per waiting child (relay mode). */
        final Map<Integer, BitSet> ranks = new HashMap<>();

        Send(BitSet delayers) {
            this.delayers = (BitSet) delayers.clone();
            this.waiting = (BitSet) delayers.clone();
        }
    }

    /**
     * A request that one child, or several children each into its own blocks, load asynchronously.
     */
    private static final class Receive {
        final BitSet loaders;
        /** Loaders whose part is not finished yet (relay mode) and not cancelled. */
        final BitSet waiting;
        /** Whether the load's completion is decided (relay mode: counted, or cancelled by the composite). */
        boolean done;

        /** Ranks that reported so far, per waiting loader (relay mode). */
        final Map<Integer, BitSet> ranks = new HashMap<>();

        Receive(BitSet loaders) {
            this.loaders = (BitSet) loaders.clone();
            this.waiting = (BitSet) loaders.clone();
        }
    }

    /** Each child's finished transfers of one output. */
    record Routed(List<Set<String>> sending, List<Set<String>> receiving) {}

    private final int numChildren;
    private boolean relay;
    private int[] expected;
    private final Map<String, Send> sends = new HashMap<>();
    private final Map<String, Receive> receives = new HashMap<>();
    private final Map<String, Set<Integer>> newDelayed = new LinkedHashMap<>();
    private final Set<String> releaseSending = new LinkedHashSet<>();
    private final Set<String> releaseReceiving = new LinkedHashSet<>();
    /** The answer when nothing finished. */
    private final Routed nothing;

    FinishedRouting(int numChildren) {
        this.numChildren = numChildren;
        this.expected = new int[numChildren];
        List<Set<String>> none = new ArrayList<>(numChildren);
        for (int i = 0; i < numChildren; i++) {
            none.add(Set.of());
        }
        this.nothing = new Routed(List.copyOf(none), List.copyOf(none));
    }

    /** Sets the mode and each child's expected report count (once, before the first step). */
    void configure(boolean relayMode, int[] expectedPerChild) {
        this.relay = relayMode;
        this.expected = expectedPerChild.clone();
    }

    boolean relay() {
        return relay;
    }

    /** Children {@code delayers} delayed the free of {@code requestId} ({@code requestFinished}). */
    void sendDelayed(String requestId, BitSet delayers) {
        sends.put(requestId, new Send(delayers));
        newDelayed.put(requestId, indices(delayers));
    }

    /**
     * Children {@code loaders} load {@code requestId} asynchronously, each its own blocks ({@code
     * updateStateAfterAlloc}); the request is received once every one of them finished.
     */
    void loadStarted(String requestId, BitSet loaders) {
        receives.put(requestId, new Receive(loaders));
    }

    /**
     * Child {@code child} will not report its part of {@code requestId}'s load (its orders were
     * never handed to a worker): the request no longer waits for it, and if no other loader is
     * left, the composite's workers report it received themselves in the next step.
     */
    void cancelLoad(String requestId, int child) {
        Receive r = receives.get(requestId);
        if (r == null || r.done) {
            return;
        }
        r.waiting.clear(child);
        r.ranks.remove(child);
        if (r.waiting.isEmpty()) {
            cancelReceive(requestId);
        }
    }

    /**
     * No child will report {@code requestId} received (its load was never handed to a worker): the
     * composite's workers report it themselves in the next step, so the engine releases its blocks.
     */
    void cancelReceive(String requestId) {
        releaseReceiving.add(requestId);
        Receive r = receives.get(requestId);
        if (r != null) {
            r.done = true;
        }
    }

    /**
     * Splits one step's output by child and, in relay mode, counts the children's reports in
     * {@code reports} ({@code null} when the workers sent none).
     */
    Routed route(ConnectorOutput output, MultiWorkerMetadata reports) {
        if (output.finishedSending().isEmpty() && output.finishedReceiving().isEmpty() && (!relay || reports == null)) {
            return nothing; // the usual step: no allocation
        }
        List<Set<String>> sending = emptySets();
        List<Set<String>> receiving = emptySets();
        if (!relay) {
            for (String id : output.finishedSending()) {
                Send s = sends.remove(id);
                if (s != null) {
                    s.delayers.stream().forEach(i -> sending.get(i).add(id));
                }
            }
            for (String id : output.finishedReceiving()) {
                Receive r = receives.remove(id);
                if (r != null) {
                    r.loaders.stream().forEach(i -> receiving.get(i).add(id));
                }
            }
            return new Routed(sending, receiving);
        }
        // Relay mode: the engine's finished sets are our own releases coming back; the children
        // were told when their counts completed.
        for (String id : output.finishedSending()) {
            sends.remove(id);
        }
        for (String id : output.finishedReceiving()) {
            receives.remove(id);
        }
        if (reports != null) {
            for (int i = 0; i < numChildren; i++) {
                ChildReport report = reports.child(i);
                int child = i;
                report.sending().forEach((id, ranks) -> countSend(child, id, ranks, sending));
                report.receiving().forEach((id, ranks) -> countReceive(child, id, ranks, receiving));
            }
        }
        return new Routed(sending, receiving);
    }

    private void countSend(int child, String id, Set<Integer> ranks, List<Set<String>> sending) {
        Send s = sends.get(id);
        if (s == null || !s.waiting.get(child)) {
            return; // not awaited from this child (it did not delay, or already finished): as the engine would drop it
        }
        BitSet got = s.ranks.computeIfAbsent(child, k -> new BitSet());
        ranks.forEach(got::set);
        if (got.cardinality() >= expected[child]) {
            s.waiting.clear(child);
            s.ranks.remove(child);
            sending.get(child).add(id);
            if (s.waiting.isEmpty()) {
                releaseSending.add(id);
            }
        }
    }

    private void countReceive(int child, String id, Set<Integer> ranks, List<Set<String>> receiving) {
        Receive r = receives.get(id);
        if (r == null || !r.waiting.get(child) || r.done) {
            return;
        }
        BitSet got = r.ranks.computeIfAbsent(child, k -> new BitSet());
        ranks.forEach(got::set);
        if (got.cardinality() >= expected[child]) {
            r.waiting.clear(child);
            r.ranks.remove(child);
            receiving.get(child).add(id);
            if (r.waiting.isEmpty()) {
                r.done = true;
                releaseReceiving.add(id);
            }
        }
    }

    /** Delayed frees not yet told to the workers. */
    Map<String, Set<Integer>> newDelayed() {
        return newDelayed;
    }

    /** Sends the workers are to report on the composite's behalf. */
    Set<String> releaseSending() {
        return releaseSending;
    }

    /** Receives the workers are to report on the composite's behalf. */
    Set<String> releaseReceiving() {
        return releaseReceiving;
    }

    /** Forgets what the last metadata carried (call once it is built). */
    void clearPending() {
        newDelayed.clear();
        releaseSending.clear();
        releaseReceiving.clear();
    }

    /** Whether the next metadata has something to carry, so the engine must step. */
    boolean hasPending() {
        return !newDelayed.isEmpty() || !releaseSending.isEmpty() || !releaseReceiving.isEmpty();
    }

    /** Transfers awaited (for tests and leak checks). */
    int awaited() {
        return sends.size() + receives.size();
    }

    private List<Set<String>> emptySets() {
        List<Set<String>> out = new ArrayList<>(numChildren);
        for (int i = 0; i < numChildren; i++) {
            out.add(new LinkedHashSet<>());
        }
        return out;
    }

    private static Set<Integer> indices(BitSet bits) {
        Set<Integer> out = new TreeSet<>();
        bits.stream().forEach(out::add);
        return out;
    }
}
