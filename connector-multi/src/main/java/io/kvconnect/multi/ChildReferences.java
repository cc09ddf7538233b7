package io.kvconnect.multi;

import io.kvconnect.api.scheduler.GPUBlockPoolView;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;

/**
 * The composite's GPU block references split by the child that took them, kept consistent with
 * what the engine says the composite holds.
 *
 * <p>The engine counts references per connector, so it sees only the children's sum, and it takes
 * every one back from a connector that made no progress for its connector timeout while nothing
 * else ran (see {@link GPUBlockPoolView#heldReferences}). The children's counts are stale from
 * then on: a child that frees lazily asks {@code heldReferences} first, would be told it still
 * holds what the engine took, and its {@code free} would throw. So before a block's counts are
 * read or changed they are reconciled: when the engine holds fewer references on the block than
 * the children's sum, it took them back, and the children's counts on it drop to what the engine
 * still holds. Every touch reconciles its blocks first, so a reference taken after the engine took
 * the old ones back is never mistaken for a stale one.
 *
 * <p>Scheduler thread only (the engine's view checks it).
 */
final class ChildReferences {
    private final GPUBlockPoolView engine;
    private final int children;
    /** Per block, each child's references on it; a block no child holds has no entry. */
    private final Map<Integer, int[]> byBlock = new HashMap<>();

    /**
     * @param engine the engine's view of the composite
     * @param children how many children share it
     */
    ChildReferences(GPUBlockPoolView engine, int children) {
        this.engine = engine;
        this.children = children;
    }

    /** The engine's view of the composite. */
    GPUBlockPoolView engine() {
        return engine;
    }

    /** References child {@code child} still holds on {@code blockId}. */
    int held(int child, int blockId) {
        reconcile(blockId);
        int[] counts = byBlock.get(blockId);
        return counts == null ? 0 : counts[child];
    }

    /** Touches through the engine's view (which validates and is all-or-nothing), then counts. */
    void touch(int child, int... blockIds) {
        for (int id : blockIds) {
            reconcile(id);
        }
        engine.touch(blockIds);
        for (int id : blockIds) {
            byBlock.computeIfAbsent(id, k -> new int[children])[child]++;
        }
    }

    /**
     * Frees references child {@code child} holds.
     *
     * @throws IllegalStateException naming {@code key} if the child holds fewer references on a
     *     block than the ids name; then nothing is freed
     */
    void free(int child, String key, int... blockIds) {
        Map<Integer, Integer> wanted = new HashMap<>();
        for (int id : blockIds) {
            wanted.merge(id, 1, Integer::sum);
        }
        for (Map.Entry<Integer, Integer> e : wanted.entrySet()) {
            int mine = held(child, e.getKey());
            if (mine < e.getValue()) {
                throw new IllegalStateException("child connector " + key + " holds " + mine
                        + " reference(s) on GPU block " + e.getKey() + " but tried to free " + e.getValue()
                        + "; nothing was freed");
            }
        }
        engine.free(blockIds);
        wanted.forEach((id, n) -> {
            int[] counts = byBlock.get(id);
            counts[child] -= n;
            dropIfEmpty(id, counts);
        });
    }

    /** References child {@code child} still holds in all. */
    long total(int child) {
        long sum = 0;
        for (int id : new ArrayList<>(byBlock.keySet())) {
            sum += held(child, id);
        }
        return sum;
    }

    /**
     * Drops the children's counts on {@code blockId} to what the engine still holds: the engine
     * takes back every reference at once, so the counts usually drop to zero.
     */
    private void reconcile(int blockId) {
        int[] counts = byBlock.get(blockId);
        if (counts == null) {
            return;
        }
        int sum = 0;
        for (int c : counts) {
            sum += c;
        }
        int excess = sum - engine.heldReferences(blockId);
        for (int i = counts.length - 1; i >= 0 && excess > 0; i--) {
            int taken = Math.min(counts[i], excess);
            counts[i] -= taken;
            excess -= taken;
        }
        dropIfEmpty(blockId, counts);
    }

    private void dropIfEmpty(int blockId, int[] counts) {
        for (int c : counts) {
            if (c != 0) {
                return;
            }
        }
        byBlock.remove(blockId);
    }
}
