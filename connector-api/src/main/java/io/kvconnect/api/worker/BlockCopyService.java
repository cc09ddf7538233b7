package io.kvconnect.api.worker;

import io.kvconnect.api.Stability;
import java.util.Optional;

/**
 * Moves KV blocks between the worker's KV cache and host memory. Implemented by the engine for host
 * memory and for CUDA device memory, so a connector never depends on a GPU library.
 *
 * <p>Copies are asynchronous and ordered per direction. A batch copy of many blocks is one call:
 * with the {@link LayoutKind#CROSS_LAYER} layout each block is one contiguous copy, otherwise one
 * copy per layer. Callable from the worker thread and from the connector's own threads.
 *
 * <p><b>Which blocks.</b> The engine fences the KV cache: a copy out of it may name only blocks in
 * use (held by a request, or by the connector's own {@code GPUBlockPoolView} reference), and a copy
 * into it only blocks of the external range of a load the engine granted (the blocks {@code
 * updateStateAfterAlloc} named for a non-zero external count), until that load ends. A copy naming
 * another block, or a block freed between the call and the moment the copy runs (it may belong to
 * another request by then), does not run: its ticket fails with {@link CopyFailedException} saying
 * why. So a connector keeps the blocks of its copies alive (a delayed free, or a reference) for as
 * long as they may run. The engine also checks that a load filled every block it was granted
 * before a step reads them; blocks it did not fill are handled as a failed load.
 *
 * <p>A worker sees these decisions step by step: a copy asked for while the worker runs a step is
 * judged by the grants as that step was scheduled, and a block counts as freed from the first step
 * scheduled after the free. With asynchronous scheduling the engine already schedules the next
 * step (and may preempt or abort a request) while the workers run the current one; the current
 * step's loads into that request's blocks still run.
 */
@Stability(value = Stability.Level.EVOLVING, since = "0.1")
public interface BlockCopyService {
    /** {@return the layout of the KV cache this service copies from and to} */
    KvLayout layout();

    /**
     * Allocates host memory of {@code slots} canonical blocks ({@link KvLayout#bytesPerBlock()}
     * bytes each). The engine counts every open buffer
     * of every worker against the host memory its operator granted connectors (engine key {@code
     * host_memory_budget}); closing a buffer gives its memory back. A connector allocates its
     * buffers in {@link WorkerConnector#registerKvCaches}, so a configuration asking for more than
     * the budget fails at the engine's start.
     *
     * @param slots the number of slots, positive
     * @return the buffer, owned by the caller until it closes it
     * @throws IllegalArgumentException if {@code slots <= 0}
     * @throws OutOfMemoryError if the memory cannot be had, or if the buffer would take the
     *     connectors' host buffers beyond the engine's budget (the message names the budget and
     *     its key); then nothing is allocated
     */
    HostBlockBuffer allocateHostBuffer(int slots);

    /**
     * Copies KV-cache blocks {@code blockIds[i]} into {@code buffer} slots {@code slots[i]}
     * (stores). The copy runs asynchronously; see the class comment for which blocks it may name.
     *
     * @param blockIds the GPU blocks to read
     * @param buffer a buffer this service allocated, open
     * @param slots the slot each block is written to, as many as {@code blockIds}
     * @return the copy's ticket
     * @throws IllegalArgumentException if the arrays differ in length, an id or slot is out of range,
     *     or the buffer is closed or not from this service
     */
    CopyTicket copyToHost(int[] blockIds, HostBlockBuffer buffer, int[] slots);

    /**
     * Copies {@code buffer} slots {@code slots[i]} into KV-cache blocks {@code blockIds[i]}
     * (loads). The copy runs asynchronously; see the class comment for which blocks it may name.
     *
     * @param buffer a buffer this service allocated, open
     * @param slots the slot each block is read from, as many as {@code blockIds}
     * @param blockIds the GPU blocks to write
     * @return the copy's ticket
     * @throws IllegalArgumentException as for {@link #copyToHost}
     */
    CopyTicket copyFromHost(HostBlockBuffer buffer, int[] slots, int[] blockIds);

    /**
     * Opens a send of KV-cache blocks {@code blockIds} straight into a socket ({@link BlockSend}):
     * the bytes a {@link #copyToHost} into a host buffer and a write of that buffer would send, with
     * no copy in between, for a connector that serves its blocks to a peer over TCP. The blocks are
     * checked as for {@link #copyToHost}, now and again before each write; a send reads them as
     * they are when it writes, so a connector awaits its own copies into them first.
     *
     * <p>The default returns empty, as the engine does where its KV cache is not host memory (a
     * device's) or copies run with injected faults: then the connector copies into a host buffer
     * and sends that.
     *
     * @param blockIds the blocks to send, in order; may repeat a block
     * @return the send, or empty where this service does not send straight from its KV cache
     * @throws IllegalArgumentException if an id is out of range or 0, the null block
     * @throws CopyFailedException if a block is free (not in use), as a copy naming it would fail
     * @throws IllegalStateException if this service is closed
     * @since 0.2
     */
    default Optional<BlockSend> openSend(int[] blockIds) throws CopyFailedException {
        return Optional.empty();
    }
}
