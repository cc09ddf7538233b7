package io.kvconnect.core.memory;

import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.BlockSend;
import io.kvconnect.api.worker.CopyFailedException;
import io.kvconnect.api.worker.CopyTicket;
import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.core.kv.BlockGrants;
import io.kvconnect.core.memory.CopyFaults.Direction;
import java.io.IOException;
import java.util.BitSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's {@link BlockCopyService} over one worker's {@link KvMemory}. Created by the worker
 * and handed to its connector; connectors call it from the worker thread and their own threads.
 *
 * <p>Arguments are checked on the calling thread, then the copy is queued and a {@link CopyTicket}
 * returned at once. All copies of a service, both directions, run one at a time in call order on
 * one daemon "copy stream" thread, so a copy from a slot sees every earlier copy into it, unless
 * the faults ask for {@linkplain CopyFaults#independentDirections() independent directions}: then
 * loads run in call order on a second thread, beside the stores. One call is one task: per block,
 * one copy per layer ({@link LayoutKind#PER_LAYER}) or one contiguous copy per run of adjacent
 * blocks ({@link LayoutKind#CROSS_LAYER}). A failed copy fails only its own ticket.
 *
 * <p>Other threads may move a copy's bytes, in the same order and one copy at a time all the same
 * (host memory, no faults): a copy of at most {@link #INLINE_MAX_BYTES} on an idle stream runs on
 * the caller before the call returns; and a thread in {@link CopyTicket#await()} runs its copy
 * itself once every earlier copy ran, if the stream thread has not taken it, or else copies pieces
 * of it beside the stream thread (see {@link CopyJob}), since it would only wait otherwise.
 *
 * <p>Sends ({@link #openSend}, host memory, no faults) are not queued: each write runs on the
 * caller's thread, in no order with the copies, checked against the grants as a copy is when it
 * runs ({@link EngineBlockSend}).
 *
 * <p>Block 0, the null block, is never copied. Host buffers come from {@link #allocateHostBuffer}
 * and belong to this service; those still open at {@link #close()} are closed and logged as leaks.
 * Their bytes count against a {@link HostMemoryBudget} that the engine shares among its workers'
 * services, so connectors cannot take more host memory than the operator granted.
 */
public final class EngineBlockCopyService implements BlockCopyService, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EngineBlockCopyService.class);
    /**
     * The largest copy run on the caller's thread when the stream is idle: a few tens of
     * microseconds of copying, about what a hand-off to a parked stream thread costs on a busy
     * machine. Larger copies go to the stream, where the caller does not wait for them.
     */
    static final long INLINE_MAX_BYTES = 1L << 20;

    private final KvMemory memory;
    /** The memory as device memory, or {@code null} for host memory. */
    private final @Nullable DeviceKvMemory device;

    private final KvLayout layout;
    private final CopyFaults faults;
    private final CopyStream stream;
    /** Where loads run: {@link #stream} itself unless the faults ask for independent directions. */
    private final CopyStream loadStream;

    private final HostMemoryBudget hostBudget;
    private final Set<EngineHostBuffer> openBuffers = ConcurrentHashMap.newKeySet();
    private final AtomicLong bytesToHost = new AtomicLong();
    private final AtomicLong bytesFromHost = new AtomicLong();
    private final AtomicLong blocksToHost = new AtomicLong();
    private final AtomicLong blocksFromHost = new AtomicLong();
    private final AtomicLong nanosToHost = new AtomicLong();
    private final AtomicLong nanosFromHost = new AtomicLong();
    /** Copy calls made (after coalescing adjacent blocks), both directions. */
    private final AtomicLong copyCalls = new AtomicLong();
    /** Bytes that sends wrote straight from the KV cache ({@link #openSend}). */
    private final AtomicLong bytesSent = new AtomicLong();
    /** Which blocks the connector may copy: this worker's, as of the step it runs. */
    private final BlockGrants grants;
    /** Copies moving bytes now (one per stream at most); see {@link #awaitCopyInFlight()}. */
    private final AtomicInteger copying = new AtomicInteger();
    /**
     * Sends' writes in progress, counted by the parity of the {@link #sendEpoch} they began in, so
     * that a step start waits only for the writes that began before it (see {@link
     * #awaitCopyInFlight()}). Connection threads may write at once and back to back; one counter
     * for all of them could stay above zero, and keep the worker waiting, for as long as reads
     * keep coming.
     */
    private final AtomicIntegerArray sendsInFlight = new AtomicIntegerArray(2);
    /** Advanced by each step start; a write counts under the epoch it saw, checked again after. */
    private final AtomicLong sendEpoch = new AtomicLong();

    private final AtomicLong refusedNotInUse = new AtomicLong();
    private final AtomicLong refusedNotLoadTarget = new AtomicLong();
    private final AtomicLong refusedFreed = new AtomicLong();
    private final AtomicLong refusedQueueFull = new AtomicLong();

    /**
     * The most copies one stream holds queued. A copy call returns at once and its copy waits in
     * the stream's queue, so a connector (or a thread of its own) that asks for copies faster than
     * they run, and never awaits them, would grow the queue, and the heap, without bound. A connector
     * that awaits its copies, as every step's loads and stores are awaited, stays far below this.
     */
    static final int MAX_QUEUED_COPIES = 1 << 16;
    /** Orders "accept a copy or a buffer" against close, so nothing is accepted after the stream ends. */
    private final Object lock = new Object();

    private boolean closed; // guarded by lock

    /**
     * A service without faults; see {@link #EngineBlockCopyService(KvMemory, String, CopyFaults)}.
     *
     * @param memory the worker's KV cache, not owned
     * @param streamName the name of the copy stream thread, e.g. {@code "worker-0-copy"}
     */
    public EngineBlockCopyService(KvMemory memory, String streamName) {
        this(memory, streamName, CopyFaults.NONE);
    }

    /**
     * A service that lets a connector copy any block (no block pool decides): for tests and
     * benchmarks of the copy path itself.
     */
    public EngineBlockCopyService(KvMemory memory, String streamName, CopyFaults faults) {
        this(
                memory,
                streamName,
                faults,
                BlockGrants.everything(memory.layout().numBlocks()),
                new HostMemoryBudget(Long.MAX_VALUE));
    }

    /**
     * Starts the copy stream thread, named {@code streamName}. The service does not own
     * {@code memory}: the worker closes it after closing this service.
     *
     * @param memory the worker's KV cache, not owned
     * @param streamName the name of the copy stream thread, e.g. {@code "worker-0-copy"}
     * @param faults called before each copy on the stream thread; {@link CopyFaults#NONE} in production
     * @param grants which blocks a connector may copy; copies of others are refused. The worker's
     *     own: it applies each step's changes to them (see {@link BlockGrants#apply})
     * @param hostBudget the connectors' host memory budget, shared by the services of all workers
     */
    public EngineBlockCopyService(
            KvMemory memory, String streamName, CopyFaults faults, BlockGrants grants, HostMemoryBudget hostBudget) {
        this.hostBudget = Objects.requireNonNull(hostBudget, "hostBudget");
        this.memory = Objects.requireNonNull(memory, "memory");
        this.device = memory instanceof DeviceKvMemory d ? d : null;
        this.layout = memory.layout();
        this.faults = Objects.requireNonNull(faults, "faults");
        this.stream = new CopyStream(Objects.requireNonNull(streamName, "streamName"));
        this.loadStream = faults.independentDirections() ? new CopyStream(streamName + "-loads") : stream;
        this.grants = Objects.requireNonNull(grants, "grants");
        if (grants.numBlocks() != layout.numBlocks()) {
            throw new IllegalArgumentException(
                    "grants cover " + grants.numBlocks() + " blocks, the KV cache " + layout.numBlocks());
        }
    }

    /**
     * Copies refused so far: named a free block, named a block that was no granted load target,
     * or named a block freed before the copy ran. A connector that keeps its blocks and loads
     * only what it was granted causes none.
     *
     * @param notInUse copies out of a block that was free when asked for
     * @param notLoadTarget copies into a block the engine had not granted to a load
     * @param freed copies whose block was freed between the call and the moment they ran, and
     *     writes of sends whose block was freed after the send was opened
     * @param queueFull copies asked for while {@link #MAX_QUEUED_COPIES} waited in their stream
     */
    public record RefusedCopies(long notInUse, long notLoadTarget, long freed, long queueFull) {
        /** All of them. */
        public long total() {
            return notInUse + notLoadTarget + freed + queueFull;
        }
    }

    /** The copies refused so far. Thread-safe. */
    public RefusedCopies refusedCopies() {
        return new RefusedCopies(
                refusedNotInUse.get(), refusedNotLoadTarget.get(), refusedFreed.get(), refusedQueueFull.get());
    }

    /** Which blocks connectors may copy, and which a load copy filled (this worker's, as of its step). */
    public BlockGrants grants() {
        return grants;
    }

    /**
     * Waits while a copy is moving bytes (a single copy call, bounded by its size), then for the
     * writes of sends that began before this call (each one non-blocking write, bounded by the
     * socket's buffer), so that a block freed before this call is not read or written by a copy
     * or send that checked its grant just before the free. Writes that begin meanwhile check the
     * grants as they are now and are not waited for, so serving reads cannot keep a step from
     * starting. Called by the worker thread at the start of each step, after applying the step's
     * grant changes and before the model writes any block.
     */
    public void awaitCopyInFlight() {
        while (copying.get() > 0) {
            Thread.onSpinWait();
        }
        // Writes that begin from here on count under the next epoch, and check the grants as they
        // are now; those counted under the epoch just ended may have checked them before.
        int ended = (int) (sendEpoch.getAndIncrement() & 1);
        while (sendsInFlight.get(ended) > 0) {
            Thread.onSpinWait();
        }
    }

    /** {@inheritDoc} Never blocks. */
    @Override
    public KvLayout layout() {
        return layout;
    }

    /**
     * {@inheritDoc} The buffer's slots are zeroed, {@link KvLayout#bytesPerBlock()} long, layer
     * {@code l} at {@code l * bytesPerBlockPerLayer}. Its bytes count against the host memory
     * budget until it is closed.
     *
     * @throws HostMemoryBudgetExceededError (an {@link OutOfMemoryError}) if the buffer would take
     *     the connectors' host buffers beyond the engine's host memory budget; nothing is allocated
     * @throws IllegalStateException if this service is closed
     */
    @Override
    public HostBlockBuffer allocateHostBuffer(int slots) {
        if (slots <= 0) {
            throw new IllegalArgumentException("a host buffer needs at least one slot, got " + slots);
        }
        long slotBytes = layout.bytesPerBlock();
        long bytes;
        try {
            bytes = Math.multiplyExact(slots, slotBytes);
        } catch (ArithmeticException e) {
            throw new OutOfMemoryError(slots + " slots of " + slotBytes + " B do not fit in a long");
        }
        synchronized (lock) {
            checkOpen();
            hostBudget.reserve(
                    bytes,
                    slots + " slot(s) x " + ByteSizes.format(slotBytes) + " = " + ByteSizes.format(bytes) + " on "
                            + stream.name());
            EngineHostBuffer buffer;
            try {
                buffer = EngineHostBuffer.allocate(this, slots, slotBytes, allocator(), b -> {
                    openBuffers.remove(b);
                    hostBudget.release(bytes);
                });
            } catch (RuntimeException | Error e) {
                hostBudget.release(bytes);
                throw e;
            }
            openBuffers.add(buffer);
            return buffer;
        }
    }

    /**
     * {@inheritDoc} Also refuses block 0 and a slot named twice.
     *
     * @throws IllegalStateException if this service is closed
     */
    @Override
    public CopyTicket copyToHost(int[] blockIds, HostBlockBuffer buffer, int[] slots) {
        return submit(Direction.TO_HOST, blockIds, buffer, slots);
    }

    /**
     * {@inheritDoc} Also refuses block 0, and a slot or a block named twice.
     *
     * @throws IllegalStateException if this service is closed
     */
    @Override
    public CopyTicket copyFromHost(HostBlockBuffer buffer, int[] slots, int[] blockIds) {
        return submit(Direction.FROM_HOST, blockIds, buffer, slots);
    }

    /**
     * {@inheritDoc} Host memory only, and only without injected faults (their stalls and failures
     * act on copies, so a connector under them takes the copy path). A write of the send raises the
     * flag {@link #awaitCopyInFlight()} waits for, like a copy that runs: the write is non-blocking,
     * so the wait stays bounded.
     *
     * @throws IllegalStateException if this service is closed
     */
    @Override
    public Optional<BlockSend> openSend(int[] blockIds) throws CopyFailedException {
        Objects.requireNonNull(blockIds, "blockIds");
        synchronized (lock) {
            checkOpen();
        }
        if (device != null || faults != CopyFaults.NONE) {
            return Optional.empty();
        }
        int[] ids = blockIds.clone();
        for (int i = 0; i < ids.length; i++) {
            checkBlockId(ids, i, "sent");
        }
        String refused = refusal(Direction.TO_HOST, ids);
        if (refused != null) {
            throw new CopyFailedException(refused, null);
        }
        return Optional.of(new EngineBlockSend(this, memory, ids, generations(ids)));
    }

    /** One write of a send, which returns the bytes it wrote. */
    interface SendWrite {
        long write() throws IOException;
    }

    /**
     * Runs one write of a {@link EngineBlockSend} as a copy runs: refused once the service closed,
     * or if a block's generation changed since the send was opened; otherwise with the in-flight
     * flag raised, so the worker's step start waits for it.
     */
    long sendStep(int[] ids, int[] generations, SendWrite write) throws IOException, CopyFailedException {
        int counted;
        synchronized (lock) {
            if (closed) {
                throw new CopyFailedException(
                        "copy service " + stream.name() + " is closed; the send cannot go on", null);
            }
            counted = countSendUnderCurrentEpoch();
        }
        try {
            // After the flag, so the worker's step start waits for this write if it is past the check.
            int freed = freedSince(ids, generations);
            if (freed >= 0) {
                throw new CopyFailedException(
                        "block " + ids[freed] + " was freed after this send was opened and may belong to another "
                                + "request now; nothing more is sent (a connector must keep the blocks of its "
                                + "sends: a delayed free or GPUBlockPoolView.touch)",
                        null);
            }
            long written = write.write();
            bytesSent.addAndGet(written);
            return written;
        } finally {
            sendsInFlight.decrementAndGet(counted);
        }
    }

    /**
     * Counts a write under the epoch now and returns the counter's index. Checked again after
     * counting: if a step start ended that epoch in between, it may not have seen this count, so
     * the write counts under the next one instead (and checks the grants that step applied).
     */
    private int countSendUnderCurrentEpoch() {
        while (true) {
            long epoch = sendEpoch.get();
            int index = (int) (epoch & 1);
            sendsInFlight.incrementAndGet(index);
            if (sendEpoch.get() == epoch) {
                return index;
            }
            sendsInFlight.decrementAndGet(index);
        }
    }

    /** Bytes written so far by sends ({@link #openSend}) straight from the KV cache. Thread-safe. */
    public long bytesSent() {
        return bytesSent.get();
    }

    /**
     * Bytes moved so far by the copies in {@code direction} that succeeded, for reports. Thread-safe,
     * never blocks; includes every copy whose ticket was seen done.
     *
     * @param direction which counter
     * @return the bytes, never negative
     */
    public long bytesCopied(Direction direction) {
        return switch (Objects.requireNonNull(direction, "direction")) {
            case TO_HOST -> bytesToHost.get();
            case FROM_HOST -> bytesFromHost.get();
        };
    }

    /** Blocks moved by successful copies in {@code direction}. Thread-safe. */
    public long blocksCopied(Direction direction) {
        return switch (Objects.requireNonNull(direction, "direction")) {
            case TO_HOST -> blocksToHost.get();
            case FROM_HOST -> blocksFromHost.get();
        };
    }

    /**
     * Copy calls made so far, both directions, failed copies included: after coalescing, a run of
     * adjacent blocks is one call with the cross-layer layout (see {@link CopyPlan}). Thread-safe.
     */
    public long copyCalls() {
        return copyCalls.get();
    }

    /**
     * Time the copy stream spent moving bytes in {@code direction} (injected stalls excluded), so
     * reports can give the rate of the copies themselves. Thread-safe.
     */
    public long copyNanos(Direction direction) {
        return switch (Objects.requireNonNull(direction, "direction")) {
            case TO_HOST -> nanosToHost.get();
            case FROM_HOST -> nanosFromHost.get();
        };
    }

    /**
     * Stops accepting copies and buffers, waits (even if interrupted) for every queued copy to
     * finish and for a send's write in progress ({@link #openSend}), then closes the host buffers
     * still open; later writes of a send fail. Idempotent; called by the worker at shutdown,
     * before it closes the KV memory. A stalled copy delays it.
     *
     * @throws IllegalStateException if called on the copy stream thread (from a {@link CopyFaults}),
     *     which would wait for itself
     */
    @Override
    public void close() {
        if (stream.isCurrentThread() || loadStream.isCurrentThread()) {
            throw new IllegalStateException("copy service " + stream.name() + " cannot be closed from its own stream");
        }
        synchronized (lock) {
            if (!closed) {
                closed = true;
                stream.end();
                if (loadStream != stream) {
                    loadStream.end();
                }
            }
        }
        stream.join();
        loadStream.join();
        // A send's write that passed its check before close is bounded (non-blocking); once it
        // ends, no write reads the KV memory the worker closes next. No new one starts: closed.
        while (sendsInFlight.get(0) + sendsInFlight.get(1) > 0) {
            Thread.onSpinWait();
        }
        // Only now: a queued copy may still have been using these buffers.
        int leaked = 0;
        for (EngineHostBuffer buffer : List.copyOf(openBuffers)) {
            if (buffer.release()) {
                leaked++;
            }
        }
        if (leaked > 0) {
            LOG.warn("copy service {} closed {} host buffer(s) left open by their owner", stream.name(), leaked);
        }
    }

    @Override
    public String toString() {
        return "EngineBlockCopyService[" + stream.name() + ", " + memory + "]";
    }

    private CopyTicket submit(Direction direction, int[] blockIds, HostBlockBuffer buffer, int[] slots) {
        Objects.requireNonNull(blockIds, "blockIds");
        Objects.requireNonNull(buffer, "buffer");
        Objects.requireNonNull(slots, "slots");
        synchronized (lock) {
            checkOpen(); // a closed service says so before complaining about arguments
        }
        // Copies, because the caller may reuse its arrays as soon as we return.
        int[] ids = blockIds.clone();
        int[] slotIds = slots.clone();
        EngineHostBuffer hostBuffer = checkArguments(direction, ids, buffer, slotIds);
        String refused = refusal(direction, ids);
        int[] generations = generations(ids);
        EngineCopyTicket ticket =
                new EngineCopyTicket(direction, ids.length, stream.name(), ids.length * layout.bytesPerBlock());
        synchronized (lock) {
            checkOpen(); // again: close may have ended the stream since the first check
            if (refused != null) {
                // Refused on the ticket, not thrown: a block freed between the connector's plan and
                // its copy is a failed copy the connector handles, not a bug in its hook.
                ticket.fail(new CopyFailedException(refused, null));
            } else if ((direction == Direction.FROM_HOST ? loadStream : stream).queued() >= MAX_QUEUED_COPIES) {
                refusedQueueFull.incrementAndGet();
                ticket.fail(new CopyFailedException(
                        MAX_QUEUED_COPIES + " copies already wait in copy stream " + stream.name()
                                + "; this one was refused (a connector must await its copies, not only ask for them)",
                        null));
                LOG.warn(
                        "Copy stream {}: {} copies queued, new ones are refused until it catches up (counted)",
                        stream.name(),
                        MAX_QUEUED_COPIES);
            } else {
                CopyStream target = direction == Direction.FROM_HOST ? loadStream : stream;
                // Shared (a waiter may take or help it) only on the host and without faults, whose
                // stalls must stall the stream, not the caller.
                boolean shared = device == null && faults == CopyFaults.NONE;
                CopyJob job =
                        new CopyJob(new Call(direction, ids, hostBuffer, slotIds, generations), ticket, target, shared);
                // A small copy on an idle stream runs here: the hand-off and wake-up would cost more than
                // the copy. Under the lock, so close cannot free the buffers while it runs; never with
                // faults, whose stalls must stall the stream, not the caller.
                boolean inline =
                        faults == CopyFaults.NONE && ticket.bytes() <= INLINE_MAX_BYTES && target.runInlineIfIdle(job);
                if (!inline) {
                    if (shared) {
                        ticket.shareWith(job);
                    }
                    target.submit(job);
                }
            }
        }
        return ticket;
    }

    /**
     * Waits until every copy queued before the call has run, or {@code maxNanos} passed. The worker
     * calls it to let the copy stream work while the modelled GPU compute of a step would run (see
     * the engine's time model).
     *
     * @return the nanoseconds waited
     */
    public long awaitQueued(long maxNanos) throws InterruptedException {
        long waited = stream.awaitQueued(maxNanos);
        return loadStream == stream ? waited : waited + loadStream.awaitQueued(maxNanos - waited);
    }

    private EngineHostBuffer checkArguments(Direction direction, int[] ids, HostBlockBuffer buffer, int[] slots) {
        if (ids.length != slots.length) {
            throw new IllegalArgumentException(ids.length + " block ids but " + slots.length + " slots");
        }
        if (!(buffer instanceof EngineHostBuffer hostBuffer) || !hostBuffer.ownedBy(this)) {
            throw new IllegalArgumentException(
                    "host buffer " + buffer + " was not allocated by copy service " + stream.name());
        }
        if (hostBuffer.isClosed()) {
            throw new IllegalArgumentException("host buffer " + buffer + " is closed");
        }
        BitSet slotsSeen = new BitSet();
        // Only destinations must be distinct: two writes to one place would race for its content.
        BitSet blocksSeen = direction == Direction.FROM_HOST ? new BitSet() : null;
        for (int i = 0; i < ids.length; i++) {
            int id = ids[i];
            checkBlockId(ids, i, "copied");
            int slot = slots[i];
            if (slot < 0 || slot >= hostBuffer.numSlots()) {
                throw new IllegalArgumentException(
                        "slots[" + i + "] = " + slot + " not in [0, " + hostBuffer.numSlots() + ")");
            }
            if (slotsSeen.get(slot)) {
                throw new IllegalArgumentException("slot " + slot + " named twice in one copy");
            }
            slotsSeen.set(slot);
            if (blocksSeen != null) {
                if (blocksSeen.get(id)) {
                    throw new IllegalArgumentException("block " + id + " written twice in one copy");
                }
                blocksSeen.set(id);
            }
        }
        return hostBuffer;
    }

    /** Why a copy of {@code ids} is refused now, naming the first block refused; {@code null} if allowed. */
    private @Nullable String refusal(Direction direction, int[] ids) {
        for (int id : ids) {
            if (direction == Direction.TO_HOST ? !grants.readable(id) : !grants.writable(id)) {
                (direction == Direction.TO_HOST ? refusedNotInUse : refusedNotLoadTarget).incrementAndGet();
                return direction == Direction.TO_HOST
                        ? "block " + id + " is free: a connector may copy out only blocks in use (held by a request "
                                + "or by its own GPUBlockPoolView reference); the copy did not run"
                        : "block " + id + " is not the target of a load the engine granted: a connector may copy only "
                                + "into the external range of a request it was told to load (updateStateAfterAlloc), "
                                + "until the load ends; the copy did not run";
            }
        }
        return null;
    }

    /**
     * Refuses {@code ids[i]} if it is the null block or not a block of the cache; {@code verb} says
     * what the call does with blocks ("copied", "sent").
     */
    private void checkBlockId(int[] ids, int i, String verb) {
        int id = ids[i];
        if (id == 0) {
            throw new IllegalArgumentException("blockIds[" + i + "] is 0, the null block, which is never " + verb);
        }
        if (id < 0 || id >= layout.numBlocks()) {
            throw new IllegalArgumentException(
                    "blockIds[" + i + "] = " + id + " not in [1, " + layout.numBlocks() + ")");
        }
    }

    /**
     * The index of the first of {@code ids} whose generation is no longer the one recorded in
     * {@code generations} (the block was freed since, counted as a refused copy), or -1 if none.
     */
    private int freedSince(int[] ids, int[] generations) {
        for (int i = 0; i < ids.length; i++) {
            if (grants.generation(ids[i]) != generations[i]) {
                refusedFreed.incrementAndGet();
                return i;
            }
        }
        return -1;
    }

    /** The generations of {@code ids} now, for the check when the copy runs. */
    private int[] generations(int[] ids) {
        int[] generations = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            generations[i] = grants.generation(ids[i]);
        }
        return generations;
    }

    /**
     * The steps of one copy call (see {@link CopyJob}): checked and counted here, its bytes moved
     * by whichever threads copy its pieces. Host memory: {@link HostCopyPieces}. Device memory: one
     * piece, all of {@link DeviceCopies}, on the runner.
     */
    private final class Call implements CopyJob.Work {
        private final Direction direction;
        private final int[] ids;
        private final EngineHostBuffer buffer;
        private final int[] generations;
        private final CopyPlan plan;
        /** The host copy's pieces; {@code null} on a device. */
        private final @Nullable HostCopyPieces host;

        Call(Direction direction, int[] ids, EngineHostBuffer buffer, int[] slots, int[] generations) {
            this.direction = direction;
            this.ids = ids;
            this.buffer = buffer;
            this.generations = generations;
            if (device == null) {
                host = new HostCopyPieces(memory, buffer, direction == Direction.TO_HOST, ids, slots);
                plan = host.plan();
            } else {
                host = null;
                plan = CopyPlan.of(ids, slots);
            }
        }

        @Override
        public void begin() throws Exception {
            faults.beforeCopy(direction, ids.clone());
            copying.incrementAndGet();
            // After the flag, so the worker's step start waits for this copy if it is past the check.
            int freed = freedSince(ids, generations);
            if (freed >= 0) {
                copying.decrementAndGet();
                throw new CopyFailedException(
                        "block " + ids[freed] + " was freed after this copy was asked for "
                                + "and may belong to another request now; the copy did not run (a connector must "
                                + "keep the blocks of its copies: a delayed free or GPUBlockPoolView.touch)",
                        null);
            }
            // Kept until end: a connector closing the buffer meanwhile must not free memory that
            // this copy (a device's DMA above all) still reads or writes.
            if (!buffer.use()) {
                copying.decrementAndGet();
                throw new IllegalStateException(
                        "host buffer " + buffer + " was closed before this copy ran; the copy did not run");
            }
        }

        @Override
        public int pieces() {
            HostCopyPieces h = host;
            return h != null ? h.pieces() : ids.length == 0 ? 0 : 1;
        }

        @Override
        public void copy(int piece) {
            HostCopyPieces h = host;
            DeviceKvMemory d = device;
            if (h != null) {
                h.copy(piece);
            } else if (d != null) {
                DeviceCopies.copy(d, direction == Direction.TO_HOST, plan, buffer);
            }
        }

        @Override
        public void end(@Nullable Throwable failure, long copyNanos) {
            try {
                if (failure == null && direction == Direction.FROM_HOST) {
                    // The generations the copy was checked against, not the ones now: a step begun
                    // meanwhile may have given a block to another request, whose load this is not.
                    for (int i = 0; i < ids.length; i++) {
                        grants.markLoaded(ids[i], generations[i]);
                    }
                }
            } finally {
                copying.decrementAndGet();
                // Failed copies count as calls too; a run is one call, however many pieces it took.
                copyCalls.addAndGet(device != null ? plan.deviceCopyCalls(layout) : plan.hostCopyCalls(layout));
                // Last: freeing a buffer its connector closed meanwhile may throw (a device's free),
                // which fails this ticket and must not keep the step start waiting for the copy.
                buffer.unuse();
            }
            if (failure == null) {
                // Counted before completing, so a thread that saw the ticket done sees the count too.
                (direction == Direction.TO_HOST ? nanosToHost : nanosFromHost).addAndGet(copyNanos);
                (direction == Direction.TO_HOST ? blocksToHost : blocksFromHost).addAndGet(ids.length);
                (direction == Direction.TO_HOST ? bytesToHost : bytesFromHost)
                        .addAndGet(ids.length * layout.bytesPerBlock());
            }
        }
    }

    /**
     * Pinned (page-locked) memory for a device's buffers, so their copies are asynchronous DMA;
     * ordinary off-heap memory otherwise. Pinned memory is locked in whole pages, at most a page
     * more than asked; the budget counts what was asked, and the first buffer logs what it costs.
     */
    private EngineHostBuffer.Allocator allocator() {
        DeviceKvMemory d = device;
        if (d == null) {
            return EngineHostBuffer.OFF_HEAP;
        }
        return bytes -> {
            CudaCalls.PinnedMemory pinned;
            try {
                pinned = d.calls().allocatePinned(bytes);
            } catch (CudaCalls.CudaException e) {
                OutOfMemoryError oom = new OutOfMemoryError("pinned host memory of " + ByteSizes.format(bytes)
                        + " could not be allocated: " + e.getMessage());
                oom.initCause(e);
                throw oom;
            }
            LOG.debug(
                    "copy service {}: pinned host buffer of {} ({} page-locked)",
                    stream.name(),
                    ByteSizes.format(bytes),
                    ByteSizes.format(pinned.allocatedBytes()));
            return new EngineHostBuffer.Allocation(
                    pinned.segment().asSlice(0, bytes), pinned.allocatedBytes(), () -> d.calls()
                            .freePinned(pinned));
        };
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("copy service " + stream.name() + " is closed");
        }
    }
}
