package io.kvconnect.multi;

import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.HandshakeMetadata;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.common.WorkerMetadata;
import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The worker side of the {@code multi} connector for one rank: forwards every hook to its
 * children in configuration order. Called by this worker's thread only, one call at a time, like
 * any worker side; it shares no state with other ranks' instances.
 *
 * <p>Each child is given its own slot of the step's {@link MultiMetadata} in {@link
 * #handlePreemptions} and {@link #bindConnectorMetadata}, the engine's copy service in {@link
 * #registerKvCaches} (each child allocates and closes its own host buffers), and every per-layer
 * and per-step hook. What the children's step reports ({@link #reportStep}) say is combined into
 * one report:
 * <ul>
 *   <li>finished receives: the union (only the children that load a request report it); in direct
 *       mode a request several children load, each its own blocks, is reported once, when the last
 *       of them reported it on this rank;</li>
 *   <li>finished sends, direct mode: a request whose free several children delayed is reported
 *       once, when the last of them reported it on this rank, so the engine's count per distinct
 *       rank stays exact; relay mode: the children's reports go to the scheduler side in the worker
 *       metadata, and rank 0 reports what the scheduler side releases (see {@link
 *       FinishedRouting});</li>
 *   <li>load errors: the union, plus the blocks of loads the scheduler side could not hand out;</li>
 *   <li>stats, per child ({@link MultiStats}); KV events, concatenated in child order and passed
 *       on to the engine;</li>
 *   <li>worker metadata: one slot per child ({@link MultiWorkerMetadata}), which also carries each
 *       child's own events and load errors, so the scheduler side can show each child its own.</li>
 * </ul>
 *
 * <p><b>Failures.</b> Every child is called even when an earlier one throws, and the failures come
 * back as one exception naming each child. The step report is the exception: throwing would lose
 * the other children's completions forever, so a child that fails there (or names a failure in its
 * own report) is named in the composite's {@link WorkerStepReport#failure()} instead, next to
 * everything the other children reported. The engine then treats every load of the step as
 * failed, the safe reading when a child's load errors are unknown.
 */
final class MultiWorker implements WorkerConnector {
    /**
     * What one child reported in the current step, for its worker-metadata slot. One per child,
     * allocated once and cleared every step, so a step in which nothing happens allocates nothing.
     */
    private static final class Stash {
        Set<String> sending;
        Set<String> receiving;
        List<KvEvent> events;
        Set<Integer> invalid;
        Optional<WorkerMetadata> metadata = Optional.empty();

        ChildReport report(int rank) {
            if (metadata.isEmpty() && sending == null && receiving == null && events == null && invalid == null) {
                return ChildReport.EMPTY;
            }
            return new ChildReport(
                    metadata,
                    events == null ? List.of() : events,
                    invalid == null ? Set.of() : invalid,
                    byRank(sending, rank),
                    byRank(receiving, rank),
                    List.of());
        }

        boolean isEmpty() {
            return metadata.isEmpty() && sending == null && receiving == null && events == null && invalid == null;
        }

        void clear() {
            sending = null;
            receiving = null;
            events = null;
            invalid = null;
            metadata = Optional.empty();
        }

        private static Map<String, Set<Integer>> byRank(Set<String> ids, int rank) {
            if (ids == null) {
                return Map.of();
            }
            Map<String, Set<Integer>> out = new HashMap<>();
            Set<Integer> me = Set.of(rank);
            for (String id : ids) {
                out.put(id, me);
            }
            return out;
        }
    }

    private final List<String> keys;
    private final List<WorkerConnector> children;
    private final int rank;
    private final List<Stash> stashes;
    /** Direct mode: requests whose free several children delayed, to the children not yet reported here. */
    private final Map<String, BitSet> awaitingSends = new HashMap<>();
    /** Direct mode: requests several children load, to the loaders not yet reported here. */
    private final Map<String, BitSet> awaitingReceives = new HashMap<>();

    private MultiMetadata bound;
    private boolean relay;
    private boolean shutDown;

    /**
     * @param keys each child's instance key, in priority order
     * @param children each child's worker side for this rank, in the same order
     * @param rank this worker's rank
     */
    MultiWorker(List<String> keys, List<WorkerConnector> children, int rank) {
        if (keys.size() != children.size() || children.isEmpty()) {
            throw new IllegalArgumentException("need one key per child and at least one child");
        }
        this.keys = List.copyOf(keys);
        this.children = List.copyOf(children);
        this.rank = rank;
        List<Stash> s = new ArrayList<>(children.size());
        for (int i = 0; i < children.size(); i++) {
            s.add(new Stash());
        }
        this.stashes = List.copyOf(s);
    }

    // ------------------------------------------------------------------ setup and the step's orders

    /** Every child gets the layout and the engine's copy service; each allocates its own host buffers. */
    @Override
    public void registerKvCaches(KvLayout layout, BlockCopyService copies) {
        Failures failures = new Failures();
        for (int i = 0; i < children.size(); i++) {
            try {
                children.get(i).registerKvCaches(layout, copies);
            } catch (RuntimeException | LinkageError e) {
                failures.record(keys.get(i), "registerKvCaches", e);
            }
        }
        failures.throwIfAny();
    }

    /** Every child's handshake metadata, each in its own slot; none if no child has any. */
    @Override
    public Optional<HandshakeMetadata> handshakeMetadata() {
        Failures failures = new Failures();
        List<Optional<HandshakeMetadata>> slots = new ArrayList<>(children.size());
        for (int i = 0; i < children.size(); i++) {
            Optional<HandshakeMetadata> mine = Optional.empty();
            try {
                mine = Objects.requireNonNullElse(children.get(i).handshakeMetadata(), Optional.empty());
            } catch (RuntimeException | LinkageError e) {
                failures.record(keys.get(i), "handshakeMetadata", e);
            }
            slots.add(mine);
        }
        failures.throwIfAny();
        return slots.stream().anyMatch(Optional::isPresent) ? Optional.of(new MultiHandshake(slots)) : Optional.empty();
    }

    @Override
    public void handlePreemptions(ConnectorMetadata metadata) {
        MultiMetadata m = metadata instanceof MultiMetadata mm ? mm : null;
        Failures failures = new Failures();
        for (int i = 0; i < children.size(); i++) {
            try {
                children.get(i).handlePreemptions(m == null ? ConnectorMetadata.NONE : m.child(i));
            } catch (RuntimeException | LinkageError e) {
                failures.record(keys.get(i), "handlePreemptions", e);
            }
        }
        failures.throwIfAny();
    }

    /**
     * Takes the composite's own part first (so it survives a throwing child), then binds each child
     * to its own slot. Metadata that is not the composite's (the engine's {@code NONE} after a
     * failed build) binds every child to {@code NONE}.
     */
    @Override
    public void bindConnectorMetadata(ConnectorMetadata metadata) {
        bound = metadata instanceof MultiMetadata m ? m : null;
        if (bound != null) {
            relay = bound.relay();
            if (!relay) {
                bound.delayedSends().forEach((id, delayers) -> {
                    BitSet waiting = new BitSet();
                    delayers.forEach(waiting::set);
                    awaitingSends.put(id, waiting);
                });
                bound.composedLoads().forEach((id, loaders) -> {
                    BitSet waiting = new BitSet();
                    loaders.forEach(waiting::set);
                    awaitingReceives.put(id, waiting);
                });
            }
        }
        Failures failures = new Failures();
        for (int i = 0; i < children.size(); i++) {
            try {
                children.get(i).bindConnectorMetadata(bound == null ? ConnectorMetadata.NONE : bound.child(i));
            } catch (RuntimeException | LinkageError e) {
                failures.record(keys.get(i), "bindConnectorMetadata", e);
            }
        }
        failures.throwIfAny();
    }

    @Override
    public void startLoadKv() {
        Failures failures = new Failures();
        for (int i = 0; i < children.size(); i++) {
            try {
                children.get(i).startLoadKv();
            } catch (RuntimeException | LinkageError e) {
                failures.record(keys.get(i), "startLoadKv", e);
            }
        }
        failures.throwIfAny();
    }

    @Override
    public void waitForLayerLoad(int layer) {
        Failures failures = new Failures();
        for (int i = 0; i < children.size(); i++) {
            try {
                children.get(i).waitForLayerLoad(layer);
            } catch (RuntimeException | LinkageError e) {
                failures.record(keys.get(i), "waitForLayerLoad", e);
            }
        }
        failures.throwIfAny();
    }

    @Override
    public void saveKvLayer(int layer) {
        Failures failures = new Failures();
        for (int i = 0; i < children.size(); i++) {
            try {
                children.get(i).saveKvLayer(layer);
            } catch (RuntimeException | LinkageError e) {
                failures.record(keys.get(i), "saveKvLayer", e);
            }
        }
        failures.throwIfAny();
    }

    @Override
    public void waitForSave() {
        Failures failures = new Failures();
        for (int i = 0; i < children.size(); i++) {
            try {
                children.get(i).waitForSave();
            } catch (RuntimeException | LinkageError e) {
                failures.record(keys.get(i), "waitForSave", e);
            }
        }
        failures.throwIfAny();
    }

    // ------------------------------------------------------------------ results of the step

    /**
     * Asks every child for its report and combines them (see the class comment). A child that
     * throws, or names a failure in its report, makes the composite's report name the failure
     * ({@link ChildFailedException}s, the first with the others suppressed): its load errors may be
     * incomplete, so the engine treats the step's loads as failed, while every other child's
     * completions, errors, stats, events and metadata still reach it. Never throws for a child.
     */
    @Override
    public WorkerStepReport reportStep(Set<String> finishedRequestIds) {
        Failures failures = new Failures();
        Set<String> sending = null;
        Set<String> receiving = null;
        Set<Integer> invalid = null;
        Map<String, ConnectorStats> stats = null;
        List<KvEvent> events = null;
        for (int i = 0; i < children.size(); i++) {
            String key = keys.get(i);
            WorkerStepReport r;
            try {
                r = Objects.requireNonNull(children.get(i).reportStep(finishedRequestIds), "reportStep returned null");
            } catch (RuntimeException | LinkageError e) {
                failures.record(key, "reportStep", e);
                continue;
            }
            if (r == WorkerStepReport.EMPTY) {
                continue; // the usual step: nothing to combine
            }
            r.failure().ifPresent(e -> failures.record(key, "reportStep", e));
            Stash s = stashes.get(i);
            if (relay) {
                if (!r.finishedSending().isEmpty()) {
                    s.sending = addAll(s.sending, r.finishedSending());
                }
                if (!r.finishedReceiving().isEmpty()) {
                    s.receiving = addAll(s.receiving, r.finishedReceiving());
                }
            } else {
                for (String id : r.finishedSending()) {
                    if (lastDelayerReported(i, id)) {
                        if (sending == null) {
                            sending = new LinkedHashSet<>();
                        }
                        sending.add(id);
                    }
                }
                for (String id : r.finishedReceiving()) {
                    if (lastLoaderReported(i, id)) {
                        if (receiving == null) {
                            receiving = new LinkedHashSet<>();
                        }
                        receiving.add(id);
                    }
                }
            }
            if (!r.invalidBlockIds().isEmpty()) {
                s.invalid = addAll(s.invalid, r.invalidBlockIds());
                invalid = addAll(invalid, r.invalidBlockIds());
            }
            if (r.stats().isPresent()) {
                if (stats == null) {
                    stats = new LinkedHashMap<>();
                }
                stats.put(key, r.stats().get());
            }
            if (!r.events().isEmpty()) {
                s.events = r.events();
                if (events == null) {
                    events = new ArrayList<>();
                }
                events.addAll(r.events());
            }
            s.metadata = r.workerMetadata();
        }
        if (bound != null && (!relay || rank == 0)) {
            if (!bound.releaseSending().isEmpty()) {
                sending = addAll(sending, bound.releaseSending());
            }
            if (!bound.releaseReceiving().isEmpty()) {
                receiving = addAll(receiving, bound.releaseReceiving());
            }
        }
        if (bound != null) {
            for (Map.Entry<Integer, Set<Integer>> e : bound.failedLoads().entrySet()) {
                int child = e.getKey();
                if (child >= 0 && child < children.size()) {
                    stashes.get(child).invalid = addAll(stashes.get(child).invalid, e.getValue());
                }
                invalid = addAll(invalid, e.getValue());
            }
        }
        Optional<WorkerMetadata> slots = slots();
        Optional<ChildFailedException> failure = failures.combined();
        if (sending == null
                && receiving == null
                && invalid == null
                && stats == null
                && events == null
                && slots.isEmpty()
                && failure.isEmpty()) {
            return WorkerStepReport.EMPTY;
        }
        return new WorkerStepReport(
                orEmpty(sending),
                orEmpty(receiving),
                orEmpty(invalid),
                stats == null ? Optional.empty() : Optional.of(new MultiStats(stats)),
                events == null ? List.of() : events,
                slots,
                failure.map(e -> e));
    }

    /**
     * One slot per child, or nothing when no child reported anything (see {@link
     * MultiWorkerMetadata}); clears the stashes.
     */
    private Optional<WorkerMetadata> slots() {
        boolean any = false;
        for (Stash s : stashes) {
            any |= !s.isEmpty();
        }
        if (!any) {
            return Optional.empty();
        }
        List<ChildReport> reports = new ArrayList<>(children.size());
        for (Stash s : stashes) {
            reports.add(s.report(rank));
            s.clear();
        }
        return Optional.of(new MultiWorkerMetadata(reports));
    }

    /**
     * Direct mode: child {@code child} reported {@code id} sent on this rank; whether the request is
     * now sent here. A request no child is known to delay passes through; a report from a child
     * that did not delay it, or a repeated one, is dropped (it must not complete the count early).
     */
    private boolean lastDelayerReported(int child, String id) {
        BitSet waiting = awaitingSends.get(id);
        if (waiting == null) {
            return true;
        }
        if (!waiting.get(child)) {
            return false;
        }
        waiting.clear(child);
        if (waiting.isEmpty()) {
            awaitingSends.remove(id);
            return true;
        }
        return false;
    }

    /**
     * Direct mode: child {@code child} reported {@code id} received on this rank; whether the request
     * is now received here. A request only one child loads passes through; a report from a child
     * that does not load it, or a repeated one, is dropped.
     */
    private boolean lastLoaderReported(int child, String id) {
        BitSet waiting = awaitingReceives.get(id);
        if (waiting == null) {
            return true;
        }
        if (!waiting.get(child)) {
            return false;
        }
        waiting.clear(child);
        if (waiting.isEmpty()) {
            awaitingReceives.remove(id);
            return true;
        }
        return false;
    }

    /** Clears every child, then throws their failures together. */
    @Override
    public void clearConnectorMetadata() {
        Failures failures = new Failures();
        for (int i = 0; i < children.size(); i++) {
            try {
                children.get(i).clearConnectorMetadata();
            } catch (RuntimeException | LinkageError e) {
                failures.record(keys.get(i), "clearConnectorMetadata", e);
            }
        }
        bound = null;
        failures.throwIfAny();
    }

    /** Shuts every child down (once), then throws their failures together. */
    @Override
    public void shutdown() {
        if (shutDown) {
            return;
        }
        shutDown = true;
        Failures failures = new Failures();
        for (int i = 0; i < children.size(); i++) {
            try {
                children.get(i).shutdown();
            } catch (RuntimeException | LinkageError e) {
                failures.record(keys.get(i), "shutdown", e);
            }
        }
        failures.throwIfAny();
    }

    // ------------------------------------------------------------------ helpers

    private static <T> Set<T> addAll(Set<T> into, Set<T> more) {
        Set<T> out = into == null ? new LinkedHashSet<>() : into;
        out.addAll(more);
        return out;
    }

    private static <T> Set<T> orEmpty(Set<T> s) {
        return s == null ? Set.of() : s;
    }

    /** Requests whose loads this rank still awaits from some loading child (for tests). */
    int awaitedReceives() {
        return awaitingReceives.size();
    }

    /** Requests whose sends this rank still awaits from some delaying child (for tests). */
    int awaitedSends() {
        return awaitingSends.size();
    }
}
