package io.kvconnect.core.engine.testconnector;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.CounterStats;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.scheduler.FinishResult;
import io.kvconnect.api.scheduler.GPUBlockPoolView;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.ScheduledRequest;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import io.kvconnect.api.scheduler.SchedulerState;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig.LoadMode;
import io.kvconnect.core.engine.testconnector.TestConnectorConfig.ThrowSpec;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * The scheduler side of {@link HostCacheTestConnector}. Scheduler thread only.
 *
 * <p>Store bookkeeping: a hash is <em>pending</em> from the step whose metadata asks the workers to
 * save it until that step's output arrives; it is <em>stored</em> (offered to later requests) only
 * if every rank reported the save in its worker metadata, otherwise its slot is released. Steps
 * are matched to outputs in order (one {@code updateConnectorOutput} per built metadata).
 */
final class TestSchedulerSide implements SchedulerConnector {
    private final HostCacheTestConnector owner;
    private final TestConnectorConfig config;
    private int blockSize = -1;
    /** Holds the GPU blocks of a step's saves until the step's output shows them done. */
    private GPUBlockPoolView pool;

    private boolean asyncScheduling;

    private final Map<BlockHash, Integer> stored = new HashMap<>();
    private final Map<BlockHash, Integer> pending = new HashMap<>();
    private final ArrayDeque<Integer> freeSlots = new ArrayDeque<>();
    private final ArrayDeque<StepPlan> inFlight = new ArrayDeque<>();

    /** Per request: the last match (local hit tokens, external tokens). */
    private final Map<String, int[]> lastMatch = new HashMap<>();
    /** Requests promised an asynchronous load that was not planned yet. */
    private final Set<String> promisedAsync = new HashSet<>();
    /** Requests whose asynchronous load is planned: local + external tokens, confirmed once received. */
    private final Map<String, Integer> loading = new HashMap<>();
    /** Generation of each request's last planned asynchronous load not promoted yet. */
    private final Map<String, Long> awaitingPromotion = new HashMap<>();

    private final Map<String, Long> loadGenerations = new HashMap<>();
    private final Map<String, List<Integer>> blockTables = new HashMap<>();
    /** Computed full blocks not saved yet because their hash was unknown (asynchronous scheduling). */
    private final Map<String, TreeSet<Integer>> backlog = new HashMap<>();

    private final Map<String, RequestView> views = new LinkedHashMap<>();
    /** Upper bound of what a request can have computed and confirmed, from what this side saw. */
    private final Map<String, Integer> upperBound = new HashMap<>();

    private final Map<String, Integer> askLaterLeft = new HashMap<>();
    private final Set<String> failFired = new HashSet<>();
    private final Map<ThrowSpec, Integer> throwsLeft = new HashMap<>();

    private final List<Metadata.Load> nextLoads = new ArrayList<>();
    private final List<Metadata.Save> nextEarlySaves = new ArrayList<>();
    private final List<Metadata.Send> nextSends = new ArrayList<>();
    private final Set<String> nextCancelled = new LinkedHashSet<>();

    private long placeholderChecks;
    private long confirmedSaves;
    private long loadsPlanned;
    private long savesPlanned;

    /** What one step's metadata asked for. */
    private record StepPlan(long step, List<BlockHash> planned, Map<String, Integer> ends, List<Integer> held) {}

    TestSchedulerSide(HostCacheTestConnector owner) {
        this.owner = owner;
        this.config = owner.config();
        for (int s = 0; s < config.hostSlots(); s++) {
            freeSlots.add(s);
        }
        askLaterLeft.putAll(config.askLater());
        for (ThrowSpec t : config.throwSpecs()) {
            if (!t.workerSide()) {
                throwsLeft.put(t, t.times());
            }
        }
    }

    // ------------------------------------------------------------------ hooks

    @Override
    public void bindSchedulerState(SchedulerState state) {
        log("bindSchedulerState", null, 0);
        pool = state.gpuBlockPool();
        blockSize = state.blockSize();
        asyncScheduling = state.asyncScheduling();
    }

    @Override
    public OptionalInt expectedFinishedCount() {
        return config.expectedFinishedCount();
    }

    @Override
    public void onNewRequest(RequestView request) {
        String id = request.requestId();
        log("onNewRequest", id, 0);
        views.put(id, request);
        check(request, "onNewRequest", 0);
        maybeThrow("onNewRequest", id);
    }

    @Override
    public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
        String id = request.requestId();
        log("getNumNewMatchedTokens", id, localHitTokens);
        views.put(id, request);
        check(request, "getNumNewMatchedTokens", 0);
        maybeThrow("getNumNewMatchedTokens", id);
        if (localHitTokens % blockSize != 0 || localHitTokens >= Math.max(1, request.numTokens())) {
            owner.problem("getNumNewMatchedTokens(" + id + "): local hit " + localHitTokens + " of "
                    + request.numTokens() + " tokens is not block aligned or leaves nothing to compute");
        }
        Integer left = askLaterLeft.get(id);
        if (left != null && left > 0) {
            askLaterLeft.put(id, left - 1);
            log("askLater", id, left - 1);
            return MatchResult.askLater();
        }
        int localBlocks = localHitTokens / blockSize;
        int k = localBlocks;
        if (config.loadMode() != LoadMode.NONE) {
            while (k < request.numBlockHashes() && stored.containsKey(request.blockHash(k))) {
                k++;
            }
        }
        int offered = (k - localBlocks) * blockSize;
        // What the engine will use: never the last prompt token.
        int ext = Math.max(0, Math.min(offered, request.numTokens() - 1 - localHitTokens));
        lastMatch.put(id, new int[] {localHitTokens, ext});
        promisedAsync.remove(id);
        // Asked afresh: an earlier load of this request was given up by the engine (or never
        // started); the next updateStateAfterAlloc is no promotion of it.
        awaitingPromotion.remove(id);
        int answer = config.uncappedMatches() ? offered : ext;
        if (ext == 0) {
            return config.uncappedMatches() && answer > 0 ? MatchResult.sync(answer) : MatchResult.none();
        }
        if (config.loadMode() == LoadMode.ASYNC) {
            promisedAsync.add(id);
            return MatchResult.async(answer);
        }
        return MatchResult.sync(answer);
    }

    @Override
    public void updateStateAfterAlloc(RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {
        String id = request.requestId();
        log("updateStateAfterAlloc", id, externalTokens);
        checkBlockTable(request, blocks, "updateStateAfterAlloc");
        views.put(id, request);
        int[] match = lastMatch.get(id);
        if (match != null) {
            upperBound.merge(id, match[0], Math::max);
        }
        check(request, "updateStateAfterAlloc", 0);
        maybeThrow("updateStateAfterAlloc", id);
        if (externalTokens == 0) {
            // Trimmed to nothing by the engine (for example after a failed load): no load.
            promisedAsync.remove(id);
            Long generation = awaitingPromotion.remove(id);
            if (generation != null) {
                // Promoted: the workers must have reported this very load finished, not an earlier one.
                int expected =
                        config.expectedFinishedCount().orElse(owner.store().numRanks());
                int reported = owner.store().loadReports(id, generation);
                if (reported < expected) {
                    owner.problem("request " + id + " was scheduled after its asynchronous load #" + generation
                            + ", but only " + reported + " of " + expected + " rank(s) reported that load finished");
                }
            }
            return;
        }
        // The engine may take fewer tokens than offered (never more): load exactly those.
        if (match == null || externalTokens > match[1]) {
            owner.problem("updateStateAfterAlloc(" + id + "): " + externalTokens + " external tokens, but the last "
                    + "match offered " + (match == null ? "nothing" : match[1]));
            return;
        }
        if (localHitTokens != match[0]) {
            owner.problem("updateStateAfterAlloc(" + id + "): told a local hit of " + localHitTokens + " tokens, but "
                    + "the last match was given " + match[0]);
            return;
        }
        int first = localHitTokens / blockSize;
        int n = (externalTokens + blockSize - 1) / blockSize;
        if (blocks.size() < first + n) {
            owner.problem("updateStateAfterAlloc(" + id + "): " + blocks.size() + " blocks cannot hold the local hit "
                    + "and " + externalTokens + " external tokens");
            return;
        }
        List<Integer> gpu = new ArrayList<>();
        List<Integer> slots = new ArrayList<>();
        List<Integer> indices = new ArrayList<>();
        List<Boolean> fail = new ArrayList<>();
        for (int i = first; i < first + n; i++) {
            Integer slot = stored.get(request.blockHash(i));
            if (slot == null) {
                owner.problem("updateStateAfterAlloc(" + id + "): block " + i + " is not stored");
                return;
            }
            gpu.add(blocks.get(i));
            slots.add(slot);
            indices.add(i);
            fail.add(config.failLoad().test(id, i) && (failFired.add(id + "#" + i) || config.failEveryTime()));
        }
        boolean async = promisedAsync.remove(id);
        long generation = loadGenerations.merge(id, 1L, Long::sum);
        nextLoads.add(new Metadata.Load(id, async, gpu, slots, indices, fail, generation));
        loadsPlanned++;
        if (async) {
            loading.put(id, match[0] + externalTokens);
            awaitingPromotion.put(id, generation);
        }
    }

    @Override
    public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
        log("buildConnectorMetadata", null, output.step());
        StepPlan plan = new StepPlan(output.step(), new ArrayList<>(), new HashMap<>(), new ArrayList<>());
        inFlight.addLast(plan);
        // Bookkeeping first: the step runs even if this hook throws.
        for (String id : output.preemptedRequestIds()) {
            blockTables.remove(id);
            backlog.remove(id);
        }
        for (ScheduledRequest sr : output.scheduledRequests()) {
            String id = sr.request().requestId();
            List<Integer> table =
                    switch (sr.kind()) {
                        case NEW, RESUMED -> {
                            backlog.remove(id);
                            List<Integer> t = new ArrayList<>();
                            blockTables.put(id, t);
                            yield t;
                        }
                        case CONTINUING -> blockTables.computeIfAbsent(id, k -> new ArrayList<>());
                    };
            for (int i = 0; i < sr.newBlockIds().size(); i++) {
                table.add(sr.newBlockIds().get(i));
            }
            plan.ends().merge(id, sr.numComputedTokensBefore() + sr.numScheduledTokens(), Math::max);
        }
        if (shouldThrow("buildConnectorMetadata", id -> loadsFor(id) || scheduledIn(output, id))) {
            // Nothing of this step reaches the workers: forget its loads and the early saves
            // (their blocks are gone by now); delayed sends and cancelled loads go out next step.
            for (Metadata.Load l : nextLoads) {
                loading.remove(l.requestId());
                awaitingPromotion.remove(l.requestId());
            }
            nextLoads.clear();
            for (Metadata.Save s : nextEarlySaves) {
                freeSlots.add(pending.remove(s.hash()));
            }
            nextEarlySaves.clear();
            throw new InjectedFailure("buildConnectorMetadata", null);
        }
        List<Metadata.Save> saves = new ArrayList<>();
        for (ScheduledRequest sr : output.scheduledRequests()) {
            RequestView r = sr.request();
            String id = r.requestId();
            views.put(id, r);
            check(r, "buildConnectorMetadata", 0);
            int before = sr.numComputedTokensBefore();
            if (r.numComputedTokens() > before || r.numComputedTokens() + r.numOutputPlaceholders() > before) {
                owner.problem("buildConnectorMetadata step " + output.step() + ": request " + id + " shows "
                        + r.numComputedTokens() + " computed tokens and " + r.numOutputPlaceholders()
                        + " placeholders, but only " + before + " positions are computed or in flight");
            }
            if (r.numOutputPlaceholders() > 0) {
                placeholderChecks++;
            }
            if (!config.saves()) {
                continue;
            }
            List<Integer> table = blockTables.get(id);
            int end = before + sr.numScheduledTokens();
            TreeSet<Integer> waitingHash = backlog.get(id);
            if (waitingHash != null) {
                for (Integer b : List.copyOf(waitingHash)) {
                    // Saved on the strength of numComputedTokens(): the block must be confirmed.
                    if (b < r.numBlockHashes() && (b + 1) * blockSize <= r.numComputedTokens() && b < table.size()) {
                        waitingHash.remove(b);
                        confirmedSaves++;
                        planSave(saves, plan, id, r.blockHash(b), table.get(b), false);
                    }
                }
            }
            // Blocks that become full in this step (loaded and hit blocks were full before it). A
            // block that also holds earlier positions not confirmed yet waits for their
            // confirmation: they may come from a load whose failure is not reported yet.
            for (int b = before / blockSize; (b + 1) * blockSize <= end; b++) {
                if (b >= table.size()) {
                    owner.problem("request " + id + " computes block " + b + " but owns only " + table.size());
                    break;
                }
                boolean unconfirmedPart = b * blockSize < before && before > r.numComputedTokens();
                if (b < r.numBlockHashes() && !unconfirmedPart && !config.savesConfirmedOnly()) {
                    planSave(saves, plan, id, r.blockHash(b), table.get(b), true);
                } else {
                    backlog.computeIfAbsent(id, k -> new TreeSet<>()).add(b);
                }
            }
        }
        for (Metadata.Save s : nextEarlySaves) {
            plan.planned().add(s.hash());
        }
        Metadata.Step meta =
                new Metadata.Step(output.step(), nextLoads, nextEarlySaves, saves, nextSends, nextCancelled);
        nextLoads.clear();
        nextEarlySaves.clear();
        nextSends.clear();
        nextCancelled.clear();
        return meta;
    }

    @Override
    public void updateConnectorOutput(ConnectorOutput output) {
        log("updateConnectorOutput", null, 0);
        StepPlan plan = inFlight.pollFirst();
        if (plan == null) {
            owner.problem("updateConnectorOutput without a step in flight");
            return;
        }
        // The step's saves ran on every worker before its output came: the blocks may go.
        release(plan);
        for (Map.Entry<String, Integer> e : plan.ends().entrySet()) {
            upperBound.merge(e.getKey(), e.getValue(), Math::max);
        }
        for (String id : output.finishedReceiving()) {
            log("updateConnectorOutput.received", id, 0);
            Integer through = loading.remove(id);
            if (through != null) {
                upperBound.merge(id, through, Math::max);
            }
        }
        for (String id : output.finishedSending()) {
            log("updateConnectorOutput.sent", id, 0);
        }
        for (int b : output.invalidBlockIds()) {
            log("updateConnectorOutput.invalid", null, b);
        }
        boolean fail = shouldThrow("updateConnectorOutput", id -> true);
        Map<BlockHash, Integer> saved = !fail && output.workerMetadata().orElse(null) instanceof Metadata.SaveReport rep
                ? rep.saved()
                : Map.of();
        int ranks = owner.store().numRanks();
        for (BlockHash h : plan.planned()) {
            Integer slot = pending.remove(h);
            if (slot == null) {
                continue;
            }
            if (saved.getOrDefault(h, 0) == ranks) {
                stored.put(h, slot);
            } else {
                freeSlots.add(slot);
            }
        }
        if (fail) {
            throw new InjectedFailure("updateConnectorOutput", null);
        }
        for (RequestView r : views.values()) {
            check(r, "updateConnectorOutput", 0);
        }
    }

    @Override
    public FinishResult requestFinished(RequestView request, BlockIds blockIds) {
        String id = request.requestId();
        log("requestFinished", id, request.status().ordinal());
        checkBlockTable(request, blockIds, "requestFinished");
        if (!request.status().isFinished()) {
            owner.problem("requestFinished(" + id + ") with status " + request.status());
        }
        StepPlan oldest = inFlight.peekFirst();
        int inUpdate = oldest == null ? 0 : oldest.ends().getOrDefault(id, 0);
        check(request, "requestFinished", inUpdate);
        views.remove(id);
        lastMatch.remove(id);
        loading.remove(id);
        awaitingPromotion.remove(id);
        loadGenerations.remove(id);
        List<Integer> table = blockTables.remove(id);
        backlog.remove(id);
        if (promisedAsync.remove(id)) {
            // The engine may wait for this load (our updateStateAfterAlloc threw before planning it):
            // tell the workers to report it received, so the engine can let the blocks go.
            nextCancelled.add(id);
        }
        boolean savesLeft = false;
        if (config.saves()) {
            int full = Math.min(
                    Math.min(request.numComputedTokens() / blockSize, request.numBlockHashes()), blockIds.size());
            for (int b = 0; b < full; b++) {
                BlockHash h = request.blockHash(b);
                if (stored.containsKey(h) || pending.containsKey(h)) {
                    continue;
                }
                if (table != null && b < table.size() && table.get(b) != blockIds.get(b)) {
                    owner.problem("requestFinished(" + id + "): block " + b + " is " + blockIds.get(b)
                            + " but was scheduled as " + table.get(b));
                }
                Integer slot = freeSlots.poll();
                if (slot == null) {
                    break;
                }
                pending.put(h, slot);
                nextEarlySaves.add(new Metadata.Save(id, h, blockIds.get(b), slot, false));
                savesPlanned++;
                savesLeft = true;
            }
        }
        maybeThrow("requestFinished", id);
        // Blocks still to be saved must outlive the request: the engine refuses copies of freed
        // blocks (they may belong to another request by then). Freed once the workers saved them.
        if (config.delayFreeSteps() >= 0 || savesLeft) {
            nextSends.add(new Metadata.Send(id, toList(blockIds)));
            return FinishResult.delayFree(TransferParams.empty());
        }
        return FinishResult.freeNow();
    }

    @Override
    public List<KvEvent> takeEvents() {
        maybeThrow("takeEvents", null);
        return List.of();
    }

    @Override
    public Optional<ConnectorStats> takeStats() {
        maybeThrow("takeStats", null);
        if (loadsPlanned == 0 && savesPlanned == 0) {
            return Optional.empty();
        }
        CounterStats s = CounterStats.of("loads_planned", loadsPlanned, "saves_planned", savesPlanned);
        loadsPlanned = 0;
        savesPlanned = 0;
        return Optional.of(s);
    }

    @Override
    public boolean hasPendingWork() {
        maybeThrow("hasPendingWork", null);
        return false;
    }

    @Override
    public void shutdown() {
        log("shutdown", null, 0);
        for (StepPlan plan : inFlight) {
            release(plan);
        }
    }

    private void release(StepPlan plan) {
        for (int b : plan.held()) {
            if (pool.heldReferences(b) > 0) {
                pool.free(b);
            }
        }
        plan.held().clear();
    }

    // ------------------------------------------------------------------ helpers

    int storedBlocks() {
        return stored.size();
    }

    long placeholderChecks() {
        return placeholderChecks;
    }

    long confirmedSaves() {
        return confirmedSaves;
    }

    private void planSave(List<Metadata.Save> saves, StepPlan plan, String id, BlockHash h, int gpu, boolean verify) {
        if (pool.availableReferences() == 0) {
            return; // the engine's cap on held blocks: this block is not saved (nor compared)
        }
        Integer storedSlot = stored.get(h);
        if (storedSlot != null) {
            if (verify && config.verifyContent()) {
                hold(plan, gpu);
                saves.add(new Metadata.Save(id, h, gpu, storedSlot, true));
            }
            return;
        }
        if (pending.containsKey(h)) {
            return;
        }
        Integer slot = freeSlots.poll();
        if (slot == null) {
            return;
        }
        pending.put(h, slot);
        plan.planned().add(h);
        hold(plan, gpu);
        saves.add(new Metadata.Save(id, h, gpu, slot, false));
        savesPlanned++;
    }

    /**
     * A save reads {@code gpu} in the step's worker hooks; under asynchronous scheduling the request
     * may finish (and free it) before the workers run that step, so hold it until the step's output.
     */
    private void hold(StepPlan plan, int gpu) {
        pool.touch(gpu);
        plan.held().add(gpu);
    }

    /** The view's block table during a hook is the block list the hook was given, in every accessor. */
    private void checkBlockTable(RequestView r, BlockIds given, String hook) {
        BlockIds table = r.blockIds();
        boolean same = table.equals(given) && r.numBlocks() == given.size();
        for (int i = 0; same && i < given.size(); i++) {
            same = r.blockId(i) == given.get(i);
        }
        if (!same) {
            owner.problem(hook + "(" + r.requestId() + "): the view's block table " + table + " (" + r.numBlocks()
                    + " blocks) is not the " + given + " the hook was given");
        }
    }

    /**
     * What every hook checks of a request: its confirmed count never exceeds its known tokens, nor
     * what this side has seen computed (steps whose output arrived, local hits, received loads),
     * and there are no placeholders without asynchronous scheduling.
     */
    private void check(RequestView r, String hook, int alsoAllowed) {
        String id = r.requestId();
        int computed = r.numComputedTokens();
        int bound = Math.max(upperBound.getOrDefault(id, 0), alsoAllowed);
        if (computed > r.numTokens()) {
            owner.problem(hook + ": request " + id + " shows " + computed + " computed tokens but knows only "
                    + r.numTokens());
        }
        if (computed > bound) {
            owner.problem(hook + ": request " + id + " shows " + computed + " computed tokens, but only " + bound
                    + " were computed by processed steps, local hits or finished loads");
        }
        if (r.numOutputPlaceholders() < 0 || (!asyncScheduling && r.numOutputPlaceholders() != 0)) {
            owner.problem(hook + ": request " + id + " shows " + r.numOutputPlaceholders() + " placeholders");
        }
    }

    private boolean loadsFor(String id) {
        for (Metadata.Load l : nextLoads) {
            if (l.requestId().equals(id)) {
                return true;
            }
        }
        return false;
    }

    private static boolean scheduledIn(SchedulerOutputView output, String id) {
        for (ScheduledRequest sr : output.scheduledRequests()) {
            if (sr.request().requestId().equals(id)) {
                return true;
            }
        }
        return false;
    }

    private void maybeThrow(String hook, String requestId) {
        if (shouldThrow(hook, id -> id.equals(requestId))) {
            throw new InjectedFailure(hook, requestId);
        }
    }

    /** Whether a spec for {@code hook} fires now; {@code concerns} tells whether a spec's request matters. */
    private boolean shouldThrow(String hook, Predicate<String> concerns) {
        for (Map.Entry<ThrowSpec, Integer> e : throwsLeft.entrySet()) {
            ThrowSpec t = e.getKey();
            if (e.getValue() > 0 && t.hook().equals(hook) && (t.requestId() == null || concerns.test(t.requestId()))) {
                e.setValue(e.getValue() - 1);
                log("throw." + hook, t.requestId(), 0);
                return true;
            }
        }
        return false;
    }

    private void log(String hook, String requestId, long value) {
        owner.log("S", hook, requestId, value);
    }

    private static List<Integer> toList(BlockIds ids) {
        List<Integer> l = new ArrayList<>(ids.size());
        for (int i = 0; i < ids.size(); i++) {
            l.add(ids.get(i));
        }
        return l;
    }
}
