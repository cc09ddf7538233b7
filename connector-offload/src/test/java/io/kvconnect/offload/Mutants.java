package io.kvconnect.offload;

import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.api.SchedulerContext;
import io.kvconnect.api.WorkerContext;
import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorConfig;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.CounterStats;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.common.StorageMedium;
import io.kvconnect.api.scheduler.FinishResult;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerState;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.testkit.doubles.ForwardingSchedulerConnector;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.UnaryOperator;

/**
 * Deliberately broken variants of the offload connector, one realistic bug each, for the test that
 * shows the conformance kit catching them. Each is the real connector with one part replaced: a
 * host tier with one method broken, or a decorator that gives the real scheduler side a wrong
 * picture of a request or misreports what it did.
 */
final class Mutants {
    private Mutants() {}

    /** The real offload connector, its scheduler side decorated by {@code scheduler}. */
    static ConnectorProvider decorated(UnaryOperator<SchedulerConnector> scheduler) {
        return new Provider((config, context) ->
                scheduler.apply(new OffloadConnectorProvider().createSchedulerConnector(config, context)));
    }

    /** The real offload connector over the host tier {@code tier} makes from the slot count and policy. */
    static ConnectorProvider withTier(BiFunction<Integer, EvictionPolicy, HostTier> tier) {
        return new Provider((config, context) -> {
            OffloadConfig parsed = OffloadConfig.parse(config);
            int slots = parsed.slots(config, context.engine());
            return new OffloadScheduler(
                    parsed, tier.apply(slots, EvictionPolicy.create(parsed.eviction(), slots)), context.engine());
        });
    }

    /** A provider named like the real one, whose scheduler side comes from {@code scheduler}. */
    private record Provider(BiFunction<ConnectorConfig, SchedulerContext, SchedulerConnector> scheduler)
            implements ConnectorProvider {
        @Override
        public String name() {
            return OffloadConnectorProvider.NAME;
        }

        @Override
        public String version() {
            return "0.1.0-mutant";
        }

        @Override
        public SchedulerConnector createSchedulerConnector(ConnectorConfig config, SchedulerContext context) {
            return scheduler.apply(config, context);
        }

        @Override
        public WorkerConnector createWorkerConnector(ConnectorConfig config, WorkerContext context) {
            return new OffloadConnectorProvider().createWorkerConnector(config, context);
        }
    }

    // ------------------------------------------------------------------ host slots

    /** Pins are ignored, so an entry a load is about to read can be evicted and its slot stored into. */
    static final class EvictsPinnedEntries extends HostTier {
        EvictsPinnedEntries(int slots, EvictionPolicy policy) {
            super(slots, policy);
        }

        @Override
        void pin(BlockHash key) {}

        @Override
        void unpin(BlockHash key) {}
    }

    // ------------------------------------------------------------------ leaks

    /** Pins are never given back: entries stay pinned forever, and the tier can neither evict nor reset. */
    static final class LeaksPins extends HostTier {
        LeaksPins(int slots, EvictionPolicy policy) {
            super(slots, policy);
        }

        @Override
        void unpin(BlockHash key) {}
    }

    // ------------------------------------------------------------------ keys

    /**
     * Keys by a block's own tokens: the hash the connector sees for a block ignores the blocks before
     * it and the request's cache salt.
     */
    static final class OwnTokenKeys extends ViewRewritingConnector {
        private int blockSize;

        OwnTokenKeys(SchedulerConnector delegate) {
            super(delegate);
        }

        @Override
        public void bindSchedulerState(SchedulerState state) {
            blockSize = state.blockSize();
            super.bindSchedulerState(state);
        }

        @Override
        RequestView rewrite(RequestView real) {
            return new ForwardingRequestView(real) {
                @Override
                public List<BlockHash> blockHashes() {
                    List<BlockHash> out = new ArrayList<>();
                    for (int i = 0; i < real.numBlockHashes(); i++) {
                        out.add(blockHash(i));
                    }
                    return out;
                }

                @Override
                public BlockHash blockHash(int index) {
                    int[] tokens = real.tokenIds(index * blockSize, (index + 1) * blockSize);
                    long h = 17;
                    for (int t : tokens) {
                        h = h * 1_000_003L + t;
                    }
                    return new BlockHash(h, h * 31, h * 37, h * 41);
                }
            };
        }
    }

    // ------------------------------------------------------------------ preemption

    /**
     * Keeps each request's block table from the first time it saw a block: after a preemption the
     * connector still reads the ids the request held before it, so it stores blocks that are free
     * or belong to other requests now.
     */
    static final class StaleBlockTable extends ViewRewritingConnector {
        private final Map<String, List<Integer>> tables = new HashMap<>();

        StaleBlockTable(SchedulerConnector delegate) {
            super(delegate);
        }

        @Override
        public FinishResult requestFinished(RequestView request, BlockIds blockIds) {
            FinishResult r = super.requestFinished(request, blockIds);
            tables.remove(request.requestId());
            return r;
        }

        @Override
        RequestView rewrite(RequestView real) {
            List<Integer> table = tables.computeIfAbsent(real.requestId(), id -> new ArrayList<>());
            int[] live = real.blockIds().toArray();
            for (int i = table.size(); i < live.length; i++) {
                table.add(live[i]);
            }
            return new ForwardingRequestView(real) {
                @Override
                public BlockIds blockIds() {
                    return BlockIds.of(
                            table.stream().mapToInt(Integer::intValue).toArray());
                }

                @Override
                public int numBlocks() {
                    return table.size();
                }

                @Override
                public int blockId(int index) {
                    return table.get(index);
                }
            };
        }
    }

    // ------------------------------------------------------------------ partial blocks

    /**
     * Takes every token of a request as computed: it stores a block as soon as the block is full of
     * tokens, before the step that writes their KV ran (a partly written block, or a decode
     * position whose output may still be discarded).
     */
    static final class StoresUncomputedTokens extends ViewRewritingConnector {
        StoresUncomputedTokens(SchedulerConnector delegate) {
            super(delegate);
        }

        @Override
        RequestView rewrite(RequestView real) {
            return new ForwardingRequestView(real) {
                @Override
                public int numComputedTokens() {
                    return real.numTokens();
                }
            };
        }
    }

    // ------------------------------------------------------------------ counters and events

    /** Counts hit tokens when it offers them in a lookup, not when the engine grants the load. */
    static final class HitsPerLookup extends ForwardingSchedulerConnector {
        private long offered;

        HitsPerLookup(SchedulerConnector delegate) {
            super(delegate);
        }

        @Override
        public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
            MatchResult r = super.getNumNewMatchedTokens(request, localHitTokens);
            if (r instanceof MatchResult.Tokens t) {
                offered += t.count();
            }
            return r;
        }

        @Override
        public Optional<ConnectorStats> takeStats() {
            Map<String, Long> counts = new LinkedHashMap<>();
            super.takeStats().ifPresent(s -> s.summary().forEach((k, v) -> counts.put(k, v.longValue())));
            counts.put("hit_tokens", offered);
            offered = 0;
            return Optional.of(new CounterStats(counts));
        }
    }

    /** Announces every full block of a finished request as stored, whether it stored it or not. */
    static final class EventsForUnstoredBlocks extends ForwardingSchedulerConnector {
        private final List<KvEvent> extra = new ArrayList<>();

        EventsForUnstoredBlocks(SchedulerConnector delegate) {
            super(delegate);
        }

        @Override
        public FinishResult requestFinished(RequestView request, BlockIds blockIds) {
            if (request.numBlockHashes() > 0) {
                extra.add(new KvEvent.BlockStored(request.blockHashes(), Optional.empty(), 4, 0, StorageMedium.CPU));
            }
            return super.requestFinished(request, blockIds);
        }

        @Override
        public List<KvEvent> takeEvents() {
            List<KvEvent> out = new ArrayList<>(super.takeEvents());
            out.addAll(extra);
            extra.clear();
            return out;
        }
    }

    // ------------------------------------------------------------------ bounded time

    /**
     * Throws in {@code updateStateAfterAlloc} for its first asynchronous load, after the engine
     * granted it: the request waits for a receive that never comes.
     */
    static final class ThrowsOnFirstAsyncLoad extends ForwardingSchedulerConnector {
        private boolean thrown;

        ThrowsOnFirstAsyncLoad(SchedulerConnector delegate) {
            super(delegate);
        }

        @Override
        public void updateStateAfterAlloc(
                RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {
            if (externalTokens > 0 && !thrown) {
                thrown = true;
                throw new IllegalStateException("injected: updateStateAfterAlloc of " + request.requestId());
            }
            super.updateStateAfterAlloc(request, blocks, localHitTokens, externalTokens);
        }
    }
}
