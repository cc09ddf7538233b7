package io.kvconnect.offload;

import io.kvconnect.api.ConnectorProvider;
import io.kvconnect.api.SchedulerContext;
import io.kvconnect.api.WorkerContext;
import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.ConnectorConfig;
import io.kvconnect.api.scheduler.CachedBlockConsumer;
import io.kvconnect.api.scheduler.GPUBlockPoolView;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerState;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.testkit.doubles.ForwardingSchedulerConnector;
import java.util.List;
import java.util.Optional;

/**
 * A deliberately broken variant of the offload connector, for the kit's own tests: its GPU-block
 * hold is gone. It still calls {@code touch} on the blocks its in-flight stores read, but the pool
 * view it is given ignores touches and frees, so a finished, aborted or preempted request's blocks
 * can be handed to another request while a store still reads them.
 */
final class WithoutGpuHoldProvider implements ConnectorProvider {
    private final OffloadConnectorProvider real = new OffloadConnectorProvider();

    @Override
    public String name() {
        return real.name();
    }

    @Override
    public String version() {
        return real.version();
    }

    @Override
    public SchedulerConnector createSchedulerConnector(ConnectorConfig config, SchedulerContext context) {
        return new NoHold(real.createSchedulerConnector(config, context));
    }

    @Override
    public WorkerConnector createWorkerConnector(ConnectorConfig config, WorkerContext context) {
        return real.createWorkerConnector(config, context);
    }

    /** Forwards everything, but binds the connector to a scheduler state whose pool view holds nothing. */
    private static final class NoHold extends ForwardingSchedulerConnector {
        NoHold(SchedulerConnector delegate) {
            super(delegate);
        }

        @Override
        public void bindSchedulerState(SchedulerState state) {
            super.bindSchedulerState(new SchedulerState() {
                @Override
                public int blockSize() {
                    return state.blockSize();
                }

                @Override
                public long step() {
                    return state.step();
                }

                @Override
                public boolean asyncScheduling() {
                    return state.asyncScheduling();
                }

                @Override
                public List<RequestView> waitingRequests() {
                    return state.waitingRequests();
                }

                @Override
                public List<RequestView> runningRequests() {
                    return state.runningRequests();
                }

                @Override
                public Optional<RequestView> findRequest(String requestId) {
                    return state.findRequest(requestId);
                }

                @Override
                public GPUBlockPoolView gpuBlockPool() {
                    return new IgnoringPool(state.gpuBlockPool());
                }
            });
        }
    }

    /** Answers like the real view, but takes and gives back no reference. */
    private record IgnoringPool(GPUBlockPoolView real) implements GPUBlockPoolView {
        @Override
        public int numBlocks() {
            return real.numBlocks();
        }

        @Override
        public int numFreeBlocks() {
            return real.numFreeBlocks();
        }

        @Override
        public void touch(int... blockIds) {}

        @Override
        public void free(int... blockIds) {}

        @Override
        public int heldReferences(int blockId) {
            return 1; // so that a lazy free still "frees", as it would with the hold
        }

        @Override
        public Optional<BlockHash> cachedHash(int blockId) {
            return real.cachedHash(blockId);
        }

        @Override
        public void forEachCachedBlock(CachedBlockConsumer consumer) {
            real.forEachCachedBlock(consumer);
        }
    }
}
