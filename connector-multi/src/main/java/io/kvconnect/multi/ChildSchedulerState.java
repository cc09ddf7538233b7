package io.kvconnect.multi;

import io.kvconnect.api.scheduler.GPUBlockPoolView;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.SchedulerState;
import java.util.List;
import java.util.Optional;

/**
 * The scheduler view one child is bound to: the engine's view, with the child's own pool view
 * (references counted per child, see {@link ChildPoolView}) and requests shown with the child's own
 * transfer parameters. Everything else is read from the engine's view at each call. Scheduler
 * thread only.
 */
final class ChildSchedulerState implements SchedulerState {
    private final SchedulerState shared;
    private final ChildScope scope;
    private final ChildPoolView pool;

    ChildSchedulerState(SchedulerState shared, ChildScope scope, ChildPoolView pool) {
        this.shared = shared;
        this.scope = scope;
        this.pool = pool;
    }

    @Override
    public int blockSize() {
        return shared.blockSize();
    }

    @Override
    public long step() {
        return shared.step();
    }

    @Override
    public boolean asyncScheduling() {
        return shared.asyncScheduling();
    }

    @Override
    public List<RequestView> waitingRequests() {
        return scope.views(shared.waitingRequests());
    }

    @Override
    public List<RequestView> runningRequests() {
        return scope.views(shared.runningRequests());
    }

    @Override
    public Optional<RequestView> findRequest(String requestId) {
        return shared.findRequest(requestId).map(scope::view);
    }

    @Override
    public GPUBlockPoolView gpuBlockPool() {
        return pool;
    }
}
