package io.kvconnect.core.engine.testconnector;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.BiPredicate;
import java.util.function.LongConsumer;

/**
 * The knobs of a {@link HostCacheTestConnector}. Build one with {@link #builder()}.
 *
 * @param loadMode how stored prefixes are loaded (or {@link LoadMode#NONE}: only save)
 * @param asyncLoadSteps for {@link LoadMode#ASYNC}: finished receiving is reported this many steps
 *     after the step whose {@code startLoadKv} started the copy (0 = in that same step)
 * @param delayFreeSteps {@code < 0}: free blocks at once on finish; otherwise {@code requestFinished}
 *     asks for a delayed free and the workers report finished sending this many steps after they
 *     first see the request in the finished ids
 * @param hostSlots store slots per rank
 * @param scratchSlots scratch slots per rank (content verification, send snapshots)
 * @param failLoad which loaded blocks fail: (request id, block index in the request); each pair
 *     fails at most once, unless {@code failEveryTime}
 * @param failMode what a failed load does to its GPU block
 * @param errorReportDelaySteps synchronous loads: report failed blocks this many steps late (0 =
 *     in the step of the load, as the contract requires; more is a contract violation used to get
 *     a failed block shared with a request that hit it in the prefix cache)
 * @param throwSpecs injected exceptions
 * @param askLater request id to the number of times {@code getNumNewMatchedTokens} answers
 *     "ask later" before deciding
 * @param expectedFinishedCount what {@code expectedFinishedCount()} returns
 * @param reportingRanks ranks that report finished transfers; empty = every rank
 * @param duplicateReports after reporting an id finished, a rank reports it again in this many
 *     following steps
 * @param rankSkewSteps rank {@code r} reports finished transfers {@code r * rankSkewSteps} steps
 *     later than rank 0
 * @param unknownReports every rank reports made-up ids as finished in its first this-many steps
 * @param verifyContent whether a block computed again for an already stored hash is copied out and
 *     compared with the stored copy
 * @param saves whether computed blocks are saved at all
 * @param uncappedMatches offer every stored block, even past {@code numTokens() - 1} (the engine
 *     must trim the offer itself)
 * @param failEveryTime whether a pair of {@code failLoad} fails on every load, not only the first
 * @param savesConfirmedOnly whether blocks are saved only once the engine confirmed them (as the
 *     offload connector does), rather than in the step that computes them
 * @param loadGate called by each worker side in {@code startLoadKv} of a step that loads, with the
 *     step's number, before the step's loads start: a test holds a load there to order it against
 *     what the engine thread does meanwhile
 */
public record TestConnectorConfig(
        LoadMode loadMode,
        int asyncLoadSteps,
        int delayFreeSteps,
        int hostSlots,
        int scratchSlots,
        BiPredicate<String, Integer> failLoad,
        FailMode failMode,
        int errorReportDelaySteps,
        List<ThrowSpec> throwSpecs,
        Map<String, Integer> askLater,
        OptionalInt expectedFinishedCount,
        Set<Integer> reportingRanks,
        int duplicateReports,
        int rankSkewSteps,
        int unknownReports,
        boolean verifyContent,
        boolean saves,
        boolean uncappedMatches,
        boolean failEveryTime,
        boolean savesConfirmedOnly,
        LongConsumer loadGate) {

    /** How the connector loads a stored prefix. */
    public enum LoadMode {
        /** Never offers tokens (saves only). */
        NONE,
        /** Synchronous: the copy completes inside {@code startLoadKv}. */
        SYNC_START,
        /** Synchronous: the copy starts in {@code startLoadKv} and is awaited in {@code waitForLayerLoad}. */
        SYNC_LAYER,
        /** Asynchronous: the request waits for remote KV until the workers report it received. */
        ASYNC
    }

    /** What a failed block load does. */
    public enum FailMode {
        /** The block is not copied (keeps stale content) and is reported. */
        SKIP_COPY,
        /** Garbage is copied into the block and it is reported. */
        GARBAGE,
        /** Garbage is copied and nothing is reported (a broken connector; verification must notice). */
        SILENT_GARBAGE
    }

    /**
     * An injected exception.
     *
     * @param workerSide whether the hook is a worker-side one
     * @param hook the hook's method name
     * @param requestId the request the call must concern, or {@code null} for any call
     * @param times how many times to throw (per worker rank for worker hooks)
     * @param rank for worker hooks, the only rank that throws; -1 for every rank
     * @param losesOrders for {@code bindConnectorMetadata}: the worker binds nothing before it
     *     throws, so this rank never acts on the step's orders (otherwise it binds them first)
     */
    public record ThrowSpec(
            boolean workerSide, String hook, String requestId, int times, int rank, boolean losesOrders) {
        /** Checks. */
        public ThrowSpec {
            Objects.requireNonNull(hook, "hook");
        }

        /** A scheduler-side hook throws once for {@code requestId} ({@code null}: the next call). */
        public static ThrowSpec schedulerOnce(String hook, String requestId) {
            return new ThrowSpec(false, hook, requestId, 1, -1, false);
        }

        /** A worker-side hook throws once (per rank) for {@code requestId} ({@code null}: the next call). */
        public static ThrowSpec workerOnce(String hook, String requestId) {
            return new ThrowSpec(true, hook, requestId, 1, -1, false);
        }

        /** This spec, throwing every time. */
        public ThrowSpec always() {
            return new ThrowSpec(workerSide, hook, requestId, Integer.MAX_VALUE, rank, losesOrders);
        }

        /** This worker-side spec, thrown on rank {@code r} only. */
        public ThrowSpec onRank(int r) {
            return new ThrowSpec(workerSide, hook, requestId, times, r, losesOrders);
        }

        /** This {@code bindConnectorMetadata} spec, the rank losing the step's orders when it throws. */
        public ThrowSpec losingOrders() {
            return new ThrowSpec(workerSide, hook, requestId, times, rank, true);
        }
    }

    /** Checks and copies. */
    public TestConnectorConfig {
        Objects.requireNonNull(loadMode, "loadMode");
        Objects.requireNonNull(failLoad, "failLoad");
        Objects.requireNonNull(failMode, "failMode");
        throwSpecs = List.copyOf(throwSpecs);
        askLater = Map.copyOf(askLater);
        Objects.requireNonNull(expectedFinishedCount, "expectedFinishedCount");
        reportingRanks = Set.copyOf(reportingRanks);
        Objects.requireNonNull(loadGate, "loadGate");
        if (hostSlots <= 0 || scratchSlots <= 0 || asyncLoadSteps < 0) {
            throw new IllegalArgumentException("bad sizes");
        }
    }

    /** A builder with defaults: asynchronous loads reported one step later, free at once, no faults. */
    public static Builder builder() {
        return new Builder();
    }

    /** Fluent builder. */
    public static final class Builder {
        private LoadMode loadMode = LoadMode.ASYNC;
        private int asyncLoadSteps = 1;
        private int delayFreeSteps = -1;
        private int hostSlots = 2048;
        private int scratchSlots = 256;
        private BiPredicate<String, Integer> failLoad = (id, index) -> false;
        private FailMode failMode = FailMode.SKIP_COPY;
        private int errorReportDelaySteps;
        private final List<ThrowSpec> throwSpecs = new ArrayList<>();
        private final Map<String, Integer> askLater = new HashMap<>();
        private OptionalInt expectedFinishedCount = OptionalInt.empty();
        private Set<Integer> reportingRanks = Set.of();
        private int duplicateReports;
        private int rankSkewSteps;
        private int unknownReports;
        private boolean verifyContent = true;
        private boolean saves = true;
        private boolean uncappedMatches;
        private boolean failEveryTime;
        private boolean savesConfirmedOnly;
        private LongConsumer loadGate = step -> {};

        private Builder() {}

        /** How stored prefixes are loaded. */
        public Builder loadMode(LoadMode m) {
            loadMode = m;
            return this;
        }

        /** Asynchronous loads, reported {@code steps} steps after they start. */
        public Builder asyncLoads(int steps) {
            loadMode = LoadMode.ASYNC;
            asyncLoadSteps = steps;
            return this;
        }

        /** Delayed free, finished sending reported {@code steps} steps after the finish is seen. */
        public Builder delayFree(int steps) {
            delayFreeSteps = steps;
            return this;
        }

        /** Store slots per rank. */
        public Builder hostSlots(int n) {
            hostSlots = n;
            return this;
        }

        /** Loads of these (request id, block index) pairs fail once each, in {@code mode}. */
        public Builder failLoads(BiPredicate<String, Integer> which, FailMode mode) {
            failLoad = which;
            failMode = mode;
            return this;
        }

        /** Loads of these pairs fail every time, not only once. */
        public Builder failEveryTime(BiPredicate<String, Integer> which, FailMode mode) {
            failLoads(which, mode);
            failEveryTime = true;
            return this;
        }

        /** Blocks are saved only once the engine confirmed them. */
        public Builder savesConfirmedOnly() {
            savesConfirmedOnly = true;
            return this;
        }

        /** Synchronous-load errors are reported {@code steps} steps late. */
        public Builder errorReportDelay(int steps) {
            errorReportDelaySteps = steps;
            return this;
        }

        /** Adds an injected exception. */
        public Builder throwing(ThrowSpec spec) {
            throwSpecs.add(spec);
            return this;
        }

        /** {@code getNumNewMatchedTokens} answers "ask later" {@code times} times for {@code requestId}. */
        public Builder askLater(String requestId, int times) {
            askLater.put(requestId, times);
            return this;
        }

        /** What {@code expectedFinishedCount()} returns. */
        public Builder expectedFinishedCount(int n) {
            expectedFinishedCount = OptionalInt.of(n);
            return this;
        }

        /** Only these ranks report finished transfers. */
        public Builder reportingRanks(Integer... ranks) {
            reportingRanks = Set.of(ranks);
            return this;
        }

        /** Finished ids are reported again in the next {@code n} steps. */
        public Builder duplicateReports(int n) {
            duplicateReports = n;
            return this;
        }

        /** Rank r reports {@code r * steps} steps later. */
        public Builder rankSkew(int steps) {
            rankSkewSteps = steps;
            return this;
        }

        /** Made-up finished ids in the first {@code n} steps of every rank. */
        public Builder unknownReports(int n) {
            unknownReports = n;
            return this;
        }

        /** Whether recomputed blocks of stored hashes are compared with the stored copy. */
        public Builder verifyContent(boolean v) {
            verifyContent = v;
            return this;
        }

        /** Whether computed blocks are saved. */
        public Builder saves(boolean v) {
            saves = v;
            return this;
        }

        /** Offer whole stored prompts, leaving the trimming to the engine. */
        public Builder uncappedMatches(boolean v) {
            uncappedMatches = v;
            return this;
        }

        /** Called before a step's loads start, on each worker, with the step's number. */
        public Builder loadGate(LongConsumer gate) {
            loadGate = gate;
            return this;
        }

        /** The configuration. */
        public TestConnectorConfig build() {
            return new TestConnectorConfig(
                    loadMode,
                    asyncLoadSteps,
                    delayFreeSteps,
                    hostSlots,
                    scratchSlots,
                    failLoad,
                    failMode,
                    errorReportDelaySteps,
                    throwSpecs,
                    askLater,
                    expectedFinishedCount,
                    reportingRanks,
                    duplicateReports,
                    rankSkewSteps,
                    unknownReports,
                    verifyContent,
                    saves,
                    uncappedMatches,
                    failEveryTime,
                    savesConfirmedOnly,
                    loadGate);
        }
    }
}
