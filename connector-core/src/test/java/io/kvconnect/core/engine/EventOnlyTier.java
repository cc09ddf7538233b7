package io.kvconnect.core.engine;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.common.StorageMedium;
import io.kvconnect.api.scheduler.FinishResult;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A tier that holds block hashes only (no KV, never loads): a finished request's full blocks are
 * "stored" in {@code medium}, the oldest evicted beyond {@code capacity}, and every change is
 * emitted as a KV event, as a real tier does. For tests of what the engine publishes.
 */
final class EventOnlyTier implements SchedulerConnector {
    private final StorageMedium medium;
    private final int capacity;
    private final int blockSize;
    /** Held hashes, oldest first. */
    private final LinkedHashSet<BlockHash> held = new LinkedHashSet<>();

    private final List<KvEvent> events = new ArrayList<>();

    EventOnlyTier(StorageMedium medium, int capacity, int blockSize) {
        this.medium = medium;
        this.capacity = capacity;
        this.blockSize = blockSize;
    }

    @Override
    public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
        return MatchResult.none();
    }

    @Override
    public void updateStateAfterAlloc(RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {}

    @Override
    public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
        return ConnectorMetadata.NONE;
    }

    @Override
    public FinishResult requestFinished(RequestView request, BlockIds blockIds) {
        List<BlockHash> stored = new ArrayList<>();
        BlockHash parent = null;
        int full = Math.min(request.numBlockHashes(), request.numComputedTokens() / blockSize);
        Optional<BlockHash> runParent = Optional.empty();
        for (int i = 0; i < full; i++) {
            BlockHash h = request.blockHash(i);
            if (held.contains(h)) {
                held.remove(h); // most recent again
                held.add(h);
                if (stored.isEmpty()) {
                    parent = h;
                }
                continue;
            }
            if (stored.isEmpty()) {
                runParent = Optional.ofNullable(parent);
            }
            stored.add(h);
            held.add(h);
            parent = h;
        }
        if (!stored.isEmpty()) {
            events.add(new KvEvent.BlockStored(stored, runParent, blockSize, 0, medium));
        }
        List<BlockHash> evicted = new ArrayList<>();
        while (held.size() > capacity) {
            BlockHash oldest = held.iterator().next();
            held.remove(oldest);
            evicted.add(oldest);
        }
        if (!evicted.isEmpty()) {
            events.add(new KvEvent.BlockRemoved(evicted, 0, medium));
        }
        return FinishResult.freeNow();
    }

    @Override
    public List<KvEvent> takeEvents() {
        List<KvEvent> out = List.copyOf(events);
        events.clear();
        return out;
    }

    /** What the tier holds now. */
    Set<BlockHash> held() {
        return Set.copyOf(held);
    }

    /** The worker side: nothing to copy. */
    static WorkerConnector worker() {
        return new WorkerConnector() {
            @Override
            public void registerKvCaches(KvLayout layout, BlockCopyService copies) {}

            @Override
            public void bindConnectorMetadata(ConnectorMetadata metadata) {}

            @Override
            public void startLoadKv() {}

            @Override
            public WorkerStepReport reportStep(Set<String> finishedRequestIds) {
                return WorkerStepReport.EMPTY;
            }
        };
    }
}
