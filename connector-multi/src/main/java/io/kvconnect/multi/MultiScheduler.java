package io.kvconnect.multi;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.HandshakeMetadata;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.common.WorkerMetadata;
import io.kvconnect.api.scheduler.FinishResult;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.ResetResult;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import io.kvconnect.api.scheduler.SchedulerState;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The scheduler side of the {@code multi} connector: forwards every hook to its children, in
 * configuration (priority) order. Scheduler thread only, like every scheduler-side hook; it holds
 * no lock because nothing else touches it.
 *
 * <p><b>Loads compose across children.</b> {@link #getNumNewMatchedTokens} asks every child,
 * always (each child's contract lets it replace the pins of its previous answer only if it is asked
 * again), in priority order, and appends their runs: child 0 is asked with the local hit {@code L}
 * and offers {@code [L, a)}; child 1 is then asked with {@code a} as its local hit, so its answer
 * counts from there and offers {@code [a, b)}; and so on. The composite offers {@code b - L}. A
 * run is appended only where the previous one ends on a block boundary and only in the mode of
 * the first run (a synchronous run after an asynchronous one ends the composition, and the other
 * way round): each child loads whole blocks of its own, and one request is either computed in the
 * step or waits for its load. A child without a hit is skipped (the next child is asked from the
 * same prefix). "Ask again later" from a child before any run defers the request (the children are
 * all asked again next time, with the then current local hit); after a run it only ends the
 * composition, so it does not hold back an earlier child's hit. Children after the end are still
 * asked, at the last prefix, and told 0 later. The decision is remembered for the request until
 * {@link #updateStateAfterAlloc} and made afresh at every lookup.
 *
 * <p>{@link #updateStateAfterAlloc} splits the engine's external token count over the runs in
 * order (the engine may trim the offer's end) and tells each child its own part, with the prefix
 * it was asked at as {@code localHitTokens}, so each child loads exactly the blocks of its own run;
 * every child without a part gets 0, all with the request's real blocks. An asynchronous load
 * several children perform is received once every one of them reported its part; a child that
 * fails its part fails only its blocks (its load errors are its own blocks), and a child whose
 * step orders are lost has its part cancelled and its blocks reported as failed loads.
 *
 * <p><b>Saves and delayed frees.</b> {@link #requestFinished} goes to every child; the blocks are
 * held if any child delays their free, and freed only after the last delaying child reports its
 * send finished (see {@link FinishedRouting} for how ranks are counted). Transfer parameters of the
 * children are returned together, each under its child's key ({@code {"0:nixl": {...}}}); a request
 * arriving with such parameters shows each child its own part ({@link ChildScope}).
 *
 * <p><b>Per-child state.</b> Each child builds its own metadata into its own slot of {@link
 * MultiMetadata}, and sees in {@link #updateConnectorOutput} an output made only of its own part:
 * its finished transfers, its worker metadata slot, its worker events, its load errors and its stats
 * (see {@link MultiWorkerMetadata}). The engine's output object is never changed (it is immutable),
 * so nothing needs restoring when a child throws. Each child is bound to its own pool view, so
 * children's block references stay apart ({@link ChildPoolView}).
 *
 * <p><b>Failures.</b> Every child is called even when an earlier one throws; the failures come back
 * as one exception naming each child ({@link Failures}). Hooks whose healthy results must not be
 * lost by throwing do not throw; their failures are deferred and thrown by the next {@link
 * #updateConnectorOutput} (or {@link #shutdown}), which concerns no request: {@code
 * buildConnectorMetadata} (throwing would drop every child's orders for the step, and the healthy
 * children would wait forever for work no worker got: instead the failed child's slot is empty and
 * the loads it planned in this step are reported as failed loads, so the engine's load-failure
 * policy applies to exactly those requests), {@code requestFinished} (throwing would free blocks
 * another child still sends from), {@code takeEvents}, {@code takeStats}, {@code hasPendingWork}
 * and {@code expectedFinishedCount}. A child's lookup, allocation or new-request failure is thrown
 * at once, so the engine fails that request, as it would for the child alone.
 */
final class MultiScheduler implements SchedulerConnector {
    /**
     * A load decision: the prefix each child was asked at, the tokens of each child's run (0 for a
     * child without one), and whether the runs load asynchronously.
     */
    private record Choice(int[] asked, int[] tokens, boolean async) {
        /**
         * Child {@code child}'s part of a load ending at token {@code end}: its run, cut at {@code
         * end}.
         */
        int share(int child, int end) {
            if (tokens[child] == 0) {
                return 0;
            }
            return Math.max(0, Math.min(tokens[child], end - asked[child]));
        }
    }

    /** A load handed to a child in the step being scheduled. */
    private record StepLoad(int child, String requestId, boolean async, int[] blocks) {}

    private final List<SchedulerConnector> children;
    private final List<ChildScope> scopes;
    private final List<String> keys;
    private final int workers;
    private final int blockSize;
    private final FinishedRouting routing;
    private final Failures deferred = new Failures();
    private final Map<String, Choice> choices = new HashMap<>();
    private final List<StepLoad> stepLoads = new ArrayList<>();
    /** Each child's expected number of reports per transfer; {@code null} until first needed. */
    private int[] expected;
    /** The metadata of a step in which nobody has anything to say, built once. */
    private MultiMetadata idle;

    private boolean shutDown;

    /**
     * @param keys each child's instance key, in priority order
     * @param children each child's scheduler side, in the same order
     * @param workers the engine's number of workers (tensor-parallel size)
     * @param blockSize tokens per block
     */
    MultiScheduler(List<String> keys, List<SchedulerConnector> children, int workers, int blockSize) {
        if (keys.size() != children.size() || children.isEmpty()) {
            throw new IllegalArgumentException("need one key per child and at least one child");
        }
        this.children = List.copyOf(children);
        List<ChildScope> s = new ArrayList<>(keys.size());
        for (int i = 0; i < keys.size(); i++) {
            s.add(new ChildScope(i, keys.get(i)));
        }
        this.scopes = List.copyOf(s);
        this.keys = List.copyOf(keys);
        this.workers = workers;
        this.blockSize = blockSize;
        this.routing = new FinishedRouting(children.size());
    }

    // ------------------------------------------------------------------ lifecycle

    /** Binds each child to its own view: the engine's, with the child's own pool view. */
    @Override
    public void bindSchedulerState(SchedulerState state) {
        Failures failures = new Failures();
        ChildReferences references = new ChildReferences(state.gpuBlockPool(), children.size());
        for (int i = 0; i < children.size(); i++) {
            SchedulerState mine = scopes.get(i).bind(state, references);
            try {
                children.get(i).bindSchedulerState(mine);
            } catch (RuntimeException | LinkageError e) {
                failures.record(key(i), "bindSchedulerState", e);
            }
        }
        failures.throwIfAny();
    }

    /** Gives each child its own slot of every rank's handshake metadata (ranks without one are absent). */
    @Override
    public void setHandshakeMetadata(Map<Integer, HandshakeMetadata> byRank) {
        Failures failures = new Failures();
        for (int i = 0; i < children.size(); i++) {
            Map<Integer, HandshakeMetadata> mine = new TreeMap<>();
            for (Map.Entry<Integer, HandshakeMetadata> e : byRank.entrySet()) {
                if (e.getValue() instanceof MultiHandshake h) {
                    h.child(i).ifPresent(v -> mine.put(e.getKey(), v));
                }
            }
            try {
                children.get(i).setHandshakeMetadata(Collections.unmodifiableMap(mine));
            } catch (RuntimeException | LinkageError e) {
                failures.record(key(i), "setHandshakeMetadata", e);
            }
        }
        failures.throwIfAny();
    }

    /**
     * Empty (every worker reports each transfer) when every child asks for that; otherwise 1, and
     * the composite counts each child's reports itself (relay mode, see {@link FinishedRouting}). A
     * child whose answer throws or is out of range counts as asking for every worker; the failure
     * is deferred.
     */
    @Override
    public OptionalInt expectedFinishedCount() {
        resolveCounts();
        return routing.relay() ? OptionalInt.of(1) : OptionalInt.empty();
    }

    @Override
    public void onNewRequest(RequestView request) {
        Failures failures = new Failures();
        for (int i = 0; i < children.size(); i++) {
            try {
                children.get(i).onNewRequest(scopes.get(i).view(request));
            } catch (RuntimeException | LinkageError e) {
                failures.record(key(i), "onNewRequest", e);
            }
        }
        failures.throwIfAny();
    }

    // ------------------------------------------------------------------ loads

    /**
     * Composes the children's runs (see the class comment): child {@code i} is asked with the
     * local hit plus the runs of the children before it that compose, so its answer counts from
     * where they end.
     */
    @Override
    public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
        String id = request.requestId();
        choices.remove(id);
        Failures failures = new Failures();
        int[] asked = new int[children.size()];
        int[] tokens = new int[children.size()];
        int prefix = localHitTokens;
        int total = 0;
        boolean async = false; // the mode of the first run; a run of the other mode ends the composition
        boolean open = true; // whether a further child's run can still be appended
        boolean later = false;
        for (int i = 0; i < children.size(); i++) {
            // A child is always asked at a block boundary: after a run ending inside a block (the
            // end of the prompt) nothing more is appended, and the rest are asked at the last one.
            asked[i] = prefix - prefix % blockSize;
            MatchResult answer;
            try {
                answer = Objects.requireNonNull(
                        children.get(i).getNumNewMatchedTokens(scopes.get(i).view(request), asked[i]),
                        "getNumNewMatchedTokens returned null");
            } catch (RuntimeException | LinkageError e) {
                failures.record(key(i), "getNumNewMatchedTokens", e);
                open = false;
                continue;
            }
            if (!open) {
                continue; // the composition ended before this child; it was still asked
            }
            if (answer instanceof MatchResult.AskLater) {
                // Before any run it defers the request; after one it only ends the composition.
                later = total == 0;
                open = false;
            } else if (answer instanceof MatchResult.Tokens t && t.count() > 0) {
                if (total > 0 && async != t.async()) {
                    open = false; // a run of the other mode
                    continue;
                }
                async = t.async();
                tokens[i] = t.count();
                total += t.count();
                prefix += t.count();
                open = prefix % blockSize == 0;
            }
            // no hit from this child: the next one goes on from the same prefix
        }
        failures.throwIfAny();
        if (later) {
            return MatchResult.askLater();
        }
        if (total == 0) {
            return MatchResult.none();
        }
        choices.put(id, new Choice(asked, tokens, async));
        return async ? MatchResult.async(total) : MatchResult.sync(total);
    }

    /**
     * Splits {@code externalTokens} over the composed runs, in order, and tells each child its own
     * part with the prefix it was asked at (its {@code localHitTokens}), all with the real blocks:
     * a child whose run the engine trimmed away, and every child without a run, gets 0. Without a
     * lookup before it (the second call of an asynchronous load) every child gets the engine's
     * values.
     *
     * @throws IllegalStateException if external tokens are promised but no child offered them in
     *     the last lookup (then the composite reports the request received itself, in case its load
     *     was asynchronous, so its blocks are not held forever)
     */
    @Override
    public void updateStateAfterAlloc(RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {
        String id = request.requestId();
        Choice choice = choices.remove(id);
        boolean valid = externalTokens > 0 && choice != null;
        int[] external = new int[children.size()];
        if (valid) {
            BitSet loaders = new BitSet();
            for (int i = 0; i < children.size(); i++) {
                external[i] = choice.share(i, localHitTokens + externalTokens);
                if (external[i] > 0) {
                    loaders.set(i);
                    stepLoads.add(new StepLoad(
                            i, id, choice.async(), externalBlocks(blocks, choice.asked()[i], external[i])));
                }
            }
            // Recorded before the children are called: the load must be routed back even if one throws.
            if (choice.async()) {
                routing.loadStarted(id, loaders);
            }
        }
        Failures failures = new Failures();
        for (int i = 0; i < children.size(); i++) {
            int local = choice == null ? localHitTokens : choice.asked()[i];
            try {
                children.get(i).updateStateAfterAlloc(scopes.get(i).view(request), blocks, local, external[i]);
            } catch (RuntimeException | LinkageError e) {
                failures.record(key(i), "updateStateAfterAlloc", e);
            }
        }
        if (externalTokens > 0 && !valid) {
            routing.cancelReceive(id);
            var e = new IllegalStateException("updateStateAfterAlloc(" + id + "): " + externalTokens
                    + " external tokens, but no child offered them in the last getNumNewMatchedTokens");
            try {
                failures.throwIfAny();
            } catch (ChildFailedException childFailure) {
                e.addSuppressed(childFailure);
            }
            throw e;
        }
        failures.throwIfAny();
    }

    /** Group-0 ids of the blocks covering tokens {@code [localHit, localHit + external)}. */
    private int[] externalBlocks(BlockIds blocks, int localHitTokens, int externalTokens) {
        int from = Math.min(localHitTokens / blockSize, blocks.size());
        int to = Math.min(Math.ceilDiv(localHitTokens + externalTokens, blockSize), blocks.size());
        return Arrays.copyOfRange(blocks.toArray(0), from, Math.max(from, to));
    }

    // ------------------------------------------------------------------ metadata both ways

    /**
     * Each child builds its own slot. A child that throws gets an empty slot (its failure is
     * deferred) and the loads it was given in this step are reported as failed by every worker, so
     * exactly those requests fall under the engine's load-failure policy; the other children's
     * orders still reach the workers.
     */
    @Override
    public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
        resolveCounts();
        List<ConnectorMetadata> slots = new ArrayList<>(children.size());
        BitSet failed = null;
        boolean allNone = true;
        for (int i = 0; i < children.size(); i++) {
            ConnectorMetadata slot;
            try {
                slot = Objects.requireNonNull(
                        children.get(i).buildConnectorMetadata(scopes.get(i).output(output)),
                        "buildConnectorMetadata returned null");
            } catch (RuntimeException | LinkageError e) {
                deferred.record(key(i), "buildConnectorMetadata", e);
                slot = ConnectorMetadata.NONE;
                if (failed == null) {
                    failed = new BitSet();
                }
                failed.set(i);
            }
            allNone &= slot == ConnectorMetadata.NONE;
            slots.add(slot);
        }
        Map<Integer, Set<Integer>> failedLoads = Map.of();
        Map<String, Set<Integer>> composedLoads = Map.of();
        for (StepLoad load : stepLoads) {
            if (failed != null && failed.get(load.child())) {
                if (failedLoads.isEmpty()) {
                    failedLoads = new HashMap<>();
                }
                Set<Integer> blocks = failedLoads.computeIfAbsent(load.child(), k -> new TreeSet<>());
                Arrays.stream(load.blocks()).forEach(blocks::add);
                if (load.async()) {
                    routing.cancelLoad(load.requestId(), load.child());
                }
            } else if (load.async()) {
                if (composedLoads.isEmpty()) {
                    composedLoads = new HashMap<>();
                }
                composedLoads
                        .computeIfAbsent(load.requestId(), k -> new TreeSet<>())
                        .add(load.child());
            }
        }
        // Only a load that several children perform needs the workers to wait for each of them.
        composedLoads.values().removeIf(loaders -> loaders.size() < 2);
        stepLoads.clear();
        if (allNone && failedLoads.isEmpty() && composedLoads.isEmpty() && !routing.hasPending()) {
            return idle;
        }
        MultiMetadata meta = new MultiMetadata(
                slots,
                routing.relay(),
                routing.newDelayed(),
                composedLoads,
                routing.releaseSending(),
                routing.releaseReceiving(),
                failedLoads);
        routing.clearPending(); // only once the metadata that carries it exists
        return meta;
    }

    /**
     * Shows each child an output made only of its own part (see the class comment), then throws
     * the children's failures together with every deferred one.
     */
    @Override
    public void updateConnectorOutput(ConnectorOutput output) {
        MultiWorkerMetadata reports = output.workerMetadata().orElse(null) instanceof MultiWorkerMetadata m ? m : null;
        MultiStats stats = output.stats().orElse(null) instanceof MultiStats s ? s : null;
        FinishedRouting.Routed routed = routing.route(output, reports);
        Set<Integer> unattributed = unattributedLoadErrors(output, reports);
        Failures failures = new Failures();
        for (int i = 0; i < children.size(); i++) {
            ChildReport report = reports == null ? ChildReport.EMPTY : reports.child(i);
            for (String problem : report.aggregateFailures()) {
                failures.record(key(i), "WorkerMetadata.aggregate", new IllegalStateException(problem));
            }
            Set<Integer> invalid = report.invalidBlockIds();
            if (!unattributed.isEmpty()) {
                invalid = new HashSet<>(invalid);
                invalid.addAll(unattributed);
            }
            Optional<ConnectorStats> childStats = stats == null
                    ? Optional.empty()
                    : Optional.ofNullable(stats.byChild().get(key(i)));
            ConnectorOutput mine = childOutput(
                    routed.sending().get(i),
                    routed.receiving().get(i),
                    invalid,
                    childStats,
                    report.events(),
                    report.metadata());
            try {
                children.get(i).updateConnectorOutput(mine);
            } catch (RuntimeException | LinkageError e) {
                failures.record(key(i), "updateConnectorOutput", e);
            }
        }
        throwWithDeferred(failures);
    }

    private static ConnectorOutput childOutput(
            Set<String> sending,
            Set<String> receiving,
            Set<Integer> invalid,
            Optional<ConnectorStats> stats,
            List<KvEvent> events,
            Optional<WorkerMetadata> metadata) {
        if (sending.isEmpty()
                && receiving.isEmpty()
                && invalid.isEmpty()
                && stats.isEmpty()
                && events.isEmpty()
                && metadata.isEmpty()) {
            return ConnectorOutput.EMPTY;
        }
        return new ConnectorOutput(sending, receiving, invalid, stats, events, metadata);
    }

    /**
     * Load errors no child slot accounts for (the workers' reports were lost): every child sees
     * them, because a child that missed its own failed load would trust wrong blocks.
     */
    private static Set<Integer> unattributedLoadErrors(ConnectorOutput output, MultiWorkerMetadata reports) {
        if (output.invalidBlockIds().isEmpty()) {
            return Set.of();
        }
        Set<Integer> rest = new HashSet<>(output.invalidBlockIds());
        if (reports != null) {
            for (ChildReport r : reports.children()) {
                rest.removeAll(r.invalidBlockIds());
            }
        }
        return rest;
    }

    // ------------------------------------------------------------------ finishing

    /**
     * Every child learns of the finish. The blocks are held if any child delays their free; the
     * children's parameters come back under their keys. A child that throws is treated as freeing
     * now with no parameters (as the engine treats a connector alone); its failure is deferred, so
     * the other children's delayed frees still hold the blocks.
     */
    @Override
    public FinishResult requestFinished(RequestView request, BlockIds blockIds) {
        String id = request.requestId();
        choices.remove(id);
        BitSet delayers = new BitSet();
        Map<String, Object> params = null;
        for (int i = 0; i < children.size(); i++) {
            try {
                FinishResult r = Objects.requireNonNull(
                        children.get(i).requestFinished(scopes.get(i).view(request), blockIds),
                        "requestFinished returned null");
                if (r.delayFree()) {
                    delayers.set(i);
                }
                if (!r.params().isEmpty()) {
                    if (params == null) {
                        params = new LinkedHashMap<>();
                    }
                    params.put(key(i), r.params().asMap());
                }
            } catch (RuntimeException | LinkageError e) {
                deferred.record(key(i), "requestFinished", e);
            }
        }
        if (!delayers.isEmpty()) {
            routing.sendDelayed(id, delayers);
        }
        if (delayers.isEmpty() && params == null) {
            return FinishResult.freeNow();
        }
        return new FinishResult(
                !delayers.isEmpty(), params == null ? TransferParams.empty() : TransferParams.of(params));
    }

    // ------------------------------------------------------------------ telemetry, reset, liveness

    /** The children's events, in child order (a failing child's are skipped; its failure is deferred). */
    @Override
    public List<KvEvent> takeEvents() {
        List<KvEvent> out = null;
        for (int i = 0; i < children.size(); i++) {
            try {
                List<KvEvent> events = Objects.requireNonNull(children.get(i).takeEvents(), "takeEvents returned null");
                if (!events.isEmpty()) {
                    if (out == null) {
                        out = new ArrayList<>();
                    }
                    out.addAll(events);
                }
            } catch (RuntimeException | LinkageError e) {
                deferred.record(key(i), "takeEvents", e);
            }
        }
        return out == null ? List.of() : List.copyOf(out);
    }

    /** The children's stats, each under its own key ({@link MultiStats}); empty if none has any. */
    @Override
    public Optional<ConnectorStats> takeStats() {
        return MultiStats.take(keys, i -> children.get(i).takeStats(), deferred);
    }

    /**
     * Resets every child. {@link ResetResult#FAILED} if any child failed (try again: resets of the
     * others are repeated harmlessly), {@link ResetResult#RESET} if any reset, {@link
     * ResetResult#NOT_SUPPORTED} if none keeps a cache.
     */
    @Override
    public ResetResult resetCache() {
        Failures failures = new Failures();
        boolean anyFailed = false;
        boolean anyReset = false;
        for (int i = 0; i < children.size(); i++) {
            try {
                switch (Objects.requireNonNull(children.get(i).resetCache(), "resetCache returned null")) {
                    case FAILED -> anyFailed = true;
                    case RESET -> anyReset = true;
                    case NOT_SUPPORTED -> {
                        // nothing cached by this child
                    }
                }
            } catch (RuntimeException | LinkageError e) {
                failures.record(key(i), "resetCache", e);
            }
        }
        failures.throwIfAny();
        return anyFailed ? ResetResult.FAILED : anyReset ? ResetResult.RESET : ResetResult.NOT_SUPPORTED;
    }

    /** Whether any child has pending work, or the composite has something to tell its workers. */
    @Override
    public boolean hasPendingWork() {
        if (routing.hasPending()) {
            return true;
        }
        for (int i = 0; i < children.size(); i++) {
            try {
                if (children.get(i).hasPendingWork()) {
                    return true;
                }
            } catch (RuntimeException | LinkageError e) {
                deferred.record(key(i), "hasPendingWork", e);
            }
        }
        return false;
    }

    /** Shuts every child down (once), then throws their failures together with any deferred one. */
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
                failures.record(key(i), "shutdown", e);
            }
        }
        throwWithDeferred(failures);
    }

    // ------------------------------------------------------------------ helpers

    /** Reads each child's expected report count once and decides the mode. */
    private void resolveCounts() {
        if (expected != null) {
            return;
        }
        expected = new int[children.size()];
        boolean relay = false;
        for (int i = 0; i < children.size(); i++) {
            int n = workers;
            try {
                OptionalInt asked = Objects.requireNonNull(
                        children.get(i).expectedFinishedCount(), "expectedFinishedCount returned null");
                if (asked.isPresent() && (asked.getAsInt() < 1 || asked.getAsInt() > workers)) {
                    throw new IllegalStateException("expected finished count " + asked.getAsInt() + " is outside [1, "
                            + workers + "]; every worker's report is awaited instead");
                }
                n = asked.orElse(workers);
            } catch (RuntimeException | LinkageError e) {
                deferred.record(key(i), "expectedFinishedCount", e);
            }
            expected[i] = n;
            relay |= n < workers;
        }
        routing.configure(relay, expected);
        List<ConnectorMetadata> none = new ArrayList<>(children.size());
        for (int i = 0; i < children.size(); i++) {
            none.add(ConnectorMetadata.NONE);
        }
        idle = new MultiMetadata(none, relay, Map.of(), Map.of(), Set.of(), Set.of(), Map.of());
    }

    private void throwWithDeferred(Failures current) {
        Failures all = new Failures();
        all.takeAll(deferred);
        all.takeAll(current);
        all.throwIfAny();
    }

    private String key(int child) {
        return scopes.get(child).key();
    }

    // ------------------------------------------------------------------ for tests

    /** Child {@code i}'s pool view. */
    ChildPoolView poolView(int child) {
        return scopes.get(child).pool();
    }

    /** Transfers the composite still awaits. */
    int awaitedTransfers() {
        return routing.awaited();
    }
}
