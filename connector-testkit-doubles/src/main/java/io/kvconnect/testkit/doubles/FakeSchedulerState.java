package io.kvconnect.testkit.doubles;

import io.kvconnect.api.scheduler.GPUBlockPoolView;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.SchedulerState;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The scheduler's state as a connector's scheduler side sees it ({@code bindSchedulerState}):
 * the step, the waiting and running requests and the GPU block pool view, which the test sets
 * between hooks as the engine does between steps.
 *
 * <pre>{@code
 * var pool = new FakeBlockPool(64);
 * var state = new FakeSchedulerState(16, pool);
 * scheduler.bindSchedulerState(state);
 * state.running().add(request);
 * state.setStep(1);
 * }</pre>
 *
 * <p>{@link #waitingRequests()} and {@link #runningRequests()} return copies (the engine's are
 * read-only live views, the same to a connector that iterates them within one hook call, as it
 * must); {@link #waiting()} and {@link #running()} are the live lists the test changes.
 * Nothing checks that a request is in one list at most.
 *
 * <p>Not thread-safe: used on the scheduler side's thread, as the engine's state is.
 */
public final class FakeSchedulerState implements SchedulerState {
    private final int blockSize;
    private final GPUBlockPoolView pool;
    private final List<RequestView> waiting = new ArrayList<>();
    private final List<RequestView> running = new ArrayList<>();
    private boolean asyncScheduling;
    private long step;

    /**
     * A state at step 0 with synchronous scheduling and no requests.
     *
     * @param blockSize tokens per block, as the engine's
     * @param pool the view {@link #gpuBlockPool()} returns, such as a {@link FakeBlockPool}
     * @throws IllegalArgumentException if {@code blockSize} is not positive
     */
    public FakeSchedulerState(int blockSize, GPUBlockPoolView pool) {
        if (blockSize <= 0) {
            throw new IllegalArgumentException("block size must be positive, got " + blockSize);
        }
        this.blockSize = blockSize;
        this.pool = Objects.requireNonNull(pool, "pool");
    }

    /** Sets the engine step {@link #step()} returns. */
    public void setStep(long s) {
        this.step = s;
    }

    /** Sets whether the engine schedules asynchronously. */
    public void setAsyncScheduling(boolean async) {
        this.asyncScheduling = async;
    }

    /** The waiting requests, in order; the test adds and removes them. */
    public List<RequestView> waiting() {
        return waiting;
    }

    /** The running requests, in order; the test adds and removes them. */
    public List<RequestView> running() {
        return running;
    }

    @Override
    public int blockSize() {
        return blockSize;
    }

    @Override
    public long step() {
        return step;
    }

    @Override
    public boolean asyncScheduling() {
        return asyncScheduling;
    }

    @Override
    public List<RequestView> waitingRequests() {
        return List.copyOf(waiting);
    }

    @Override
    public List<RequestView> runningRequests() {
        return List.copyOf(running);
    }

    /** The first waiting, then running, request with the id. */
    @Override
    public Optional<RequestView> findRequest(String requestId) {
        return Stream.concat(waiting.stream(), running.stream())
                .filter(r -> r.requestId().equals(requestId))
                .findFirst();
    }

    @Override
    public GPUBlockPoolView gpuBlockPool() {
        return pool;
    }
}
