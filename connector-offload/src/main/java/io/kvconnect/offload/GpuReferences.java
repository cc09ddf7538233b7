package io.kvconnect.offload;

import io.kvconnect.api.scheduler.GPUBlockPoolView;
import java.util.HashMap;
import java.util.Map;

/**
 * The GPU block references the scheduler side's stores hold, told apart by when they were taken.
 *
 * <p>The engine takes back every reference of a connector that made no progress for its timeout
 * while nothing else ran (see {@link GPUBlockPoolView#heldReferences}); the blocks may then go to
 * other requests, and a later store may touch the same block again. A store that ends after the
 * take-back must give back nothing: asking {@code heldReferences} alone would find the later
 * store's reference and free it under that store's copy. So every reference belongs to a
 * generation, and a take-back (seen as the engine holding fewer references on a block than this
 * connector took) starts a new one, voiding all earlier references. The engine takes back all or
 * nothing, so one held block tells. Scheduler thread only.
 */
final class GpuReferences {
    private final GPUBlockPoolView pool;
    /** References taken in the current generation and not given back, per block. */
    private final Map<Integer, Integer> held = new HashMap<>();

    private long generation;

    GpuReferences(GPUBlockPoolView pool) {
        this.pool = pool;
    }

    /**
     * Touches {@code blockIds} through the engine's view (all or nothing).
     *
     * @return the generation the references belong to, for {@link #release}
     */
    long touch(int... blockIds) {
        noticeTakeBack();
        pool.touch(blockIds);
        for (int id : blockIds) {
            held.merge(id, 1, Integer::sum);
        }
        return generation;
    }

    /**
     * Gives back references {@link #touch} took in {@code generation}, unless the engine took them
     * back since.
     *
     * @return how many of them the engine had taken back (and were not freed)
     */
    int release(long generation, int... blockIds) {
        noticeTakeBack();
        if (generation != this.generation) {
            return blockIds.length;
        }
        pool.free(blockIds);
        for (int id : blockIds) {
            held.computeIfPresent(id, (k, n) -> n == 1 ? null : n - 1);
        }
        return 0;
    }

    /** Starts a new generation if the engine took this connector's references back. */
    private void noticeTakeBack() {
        if (held.isEmpty()) {
            return;
        }
        Map.Entry<Integer, Integer> any = held.entrySet().iterator().next();
        if (pool.heldReferences(any.getKey()) < any.getValue()) {
            generation++;
            held.clear();
        }
    }
}
