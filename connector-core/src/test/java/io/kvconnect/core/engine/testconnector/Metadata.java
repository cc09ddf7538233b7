package io.kvconnect.core.engine.testconnector;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.WorkerMetadata;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The scheduler-to-worker and worker-to-scheduler messages of the test connector (immutable). */
final class Metadata {
    private Metadata() {}

    /**
     * Loads one request's external blocks.
     *
     * @param requestId the request
     * @param async whether it is reported through finished receives
     * @param gpuBlocks destination blocks
     * @param slots source store slots
     * @param blockIndices index of each block in the request
     * @param fail which of them fail
     * @param generation how many loads of this request were planned so far, this one included
     */
    record Load(
            String requestId,
            boolean async,
            List<Integer> gpuBlocks,
            List<Integer> slots,
            List<Integer> blockIndices,
            List<Boolean> fail,
            long generation) {
        Load {
            gpuBlocks = List.copyOf(gpuBlocks);
            slots = List.copyOf(slots);
            blockIndices = List.copyOf(blockIndices);
            fail = List.copyOf(fail);
        }
    }

    /**
     * Saves (or, if {@code verifyOnly}, compares) one GPU block with a store slot.
     *
     * @param requestId the request that owns the block
     * @param hash the block's hash
     * @param gpuBlock the block
     * @param slot the store slot
     * @param verifyOnly copy to scratch and compare with the slot instead of saving
     */
    record Save(String requestId, BlockHash hash, int gpuBlock, int slot, boolean verifyOnly) {}

    /**
     * A finished request whose blocks are held until finished sending.
     *
     * @param requestId the request
     * @param gpuBlocks its blocks
     */
    record Send(String requestId, List<Integer> gpuBlocks) {
        Send {
            gpuBlocks = List.copyOf(gpuBlocks);
        }
    }

    /**
     * One step's metadata.
     *
     * @param step the engine step
     * @param loads loads to start in {@code startLoadKv}
     * @param earlySaves saves to do in {@code startLoadKv}, before loads (blocks of finished requests)
     * @param saves saves to do in {@code waitForSave}
     * @param sends delayed frees to report
     * @param cancelledLoads promised asynchronous loads that were never planned: report them received
     */
    record Step(
            long step,
            List<Load> loads,
            List<Save> earlySaves,
            List<Save> saves,
            List<Send> sends,
            Set<String> cancelledLoads)
            implements ConnectorMetadata {
        static final Step EMPTY = new Step(-1, List.of(), List.of(), List.of(), List.of(), Set.of());

        Step {
            loads = List.copyOf(loads);
            earlySaves = List.copyOf(earlySaves);
            saves = List.copyOf(saves);
            sends = List.copyOf(sends);
            cancelledLoads = Set.copyOf(cancelledLoads);
        }

        boolean loads(String requestId, boolean syncOnly) {
            for (Load l : loads) {
                if ((requestId == null || l.requestId().equals(requestId)) && (!syncOnly || !l.async())) {
                    return true;
                }
            }
            return false;
        }
    }

    /**
     * Hashes a worker saved in a step, with how many ranks saved each (summed by {@link #aggregate}).
     *
     * @param saved hash to number of ranks
     */
    record SaveReport(Map<BlockHash, Integer> saved) implements WorkerMetadata {
        SaveReport {
            saved = Map.copyOf(saved);
        }

        @Override
        public WorkerMetadata aggregate(WorkerMetadata other) {
            if (!(other instanceof SaveReport o)) {
                throw new IllegalArgumentException("cannot aggregate with " + other);
            }
            Map<BlockHash, Integer> sum = new HashMap<>(saved);
            o.saved.forEach((h, n) -> sum.merge(h, n, Integer::sum));
            return new SaveReport(sum);
        }
    }
}
