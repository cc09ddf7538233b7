package io.kvconnect.multi;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.scheduler.CachedBlockConsumer;
import io.kvconnect.api.scheduler.GPUBlockPoolView;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.SchedulerState;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The engine's scheduler view for one connector, in miniature: a pool view that counts the
 * connector's references the way the engine's does (free beyond what is held throws, nothing
 * changes), and lists of waiting and running requests the test fills.
 */
final class FakeState implements SchedulerState, GPUBlockPoolView {
    static final int BLOCKS = 64;

    final List<RequestView> waiting = new ArrayList<>();
    final List<RequestView> running = new ArrayList<>();
    final Map<Integer, Integer> held = new HashMap<>();
    long step;

    @Override
    public int blockSize() {
        return 4;
    }

    @Override
    public long step() {
        return step;
    }

    @Override
    public boolean asyncScheduling() {
        return false;
    }

    @Override
    public List<RequestView> waitingRequests() {
        return List.copyOf(waiting);
    }

    @Override
    public List<RequestView> runningRequests() {
        return List.copyOf(running);
    }

    @Override
    public Optional<RequestView> findRequest(String requestId) {
        return waiting.stream().filter(r -> r.requestId().equals(requestId)).findFirst()
                .or(() -> running.stream().filter(r -> r.requestId().equals(requestId)).findFirst());
    }

    @Override
    public GPUBlockPoolView gpuBlockPool() {
        return this;
    }

    @Override
    public int numBlocks() {
        return BLOCKS;
    }

    @Override
    public int numFreeBlocks() {
        return BLOCKS - held.size();
    }

    @Override
    public void touch(int... blockIds) {
        for (int id : blockIds) {
            if (id <= 0 || id > BLOCKS) {
                throw new IllegalArgumentException("block " + id + " out of range");
            }
        }
        for (int id : blockIds) {
            held.merge(id, 1, Integer::sum);
        }
    }

    @Override
    public void free(int... blockIds) {
        Map<Integer, Integer> wanted = new HashMap<>();
        for (int id : blockIds) {
            wanted.merge(id, 1, Integer::sum);
        }
        wanted.forEach((id, n) -> {
            if (held.getOrDefault(id, 0) < n) {
                throw new IllegalStateException("the connector does not hold block " + id);
            }
        });
        wanted.forEach((id, n) -> held.computeIfPresent(id, (k, v) -> v.equals(n) ? null : v - n));
    }

    /** The engine's cap on the connector's references: one per block here. */
    @Override
    public int availableReferences() {
        return BLOCKS - held.values().stream().mapToInt(Integer::intValue).sum();
    }

    @Override
    public int heldReferences(int blockId) {
        return held.getOrDefault(blockId, 0);
    }

    @Override
    public Optional<BlockHash> cachedHash(int blockId) {
        return blockId == 7 ? Optional.of(new BlockHash(7, 7, 7, 7)) : Optional.empty();
    }

    @Override
    public void forEachCachedBlock(CachedBlockConsumer consumer) {
        consumer.accept(7, new BlockHash(7, 7, 7, 7), true);
    }
}
