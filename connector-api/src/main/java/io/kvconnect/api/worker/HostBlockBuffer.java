package io.kvconnect.api.worker;

import io.kvconnect.api.common.Stability;
import java.lang.foreign.MemorySegment;

/**
 * Host memory divided into slots of one canonical block each ({@link KvLayout#bytesPerBlock()}
 * bytes), allocated by {@link BlockCopyService#allocateHostBuffer}. Pinned for DMA when the KV
 * cache lives on a GPU.
 *
 * <p>A connector owns its buffers and must {@link #close()} them; the engine closes any left open
 * at shutdown and reports them as a leak. Reading or writing a slot while a {@link CopyTicket}
 * that uses it is not done gives undefined content.
 */
@Stability(Stability.Level.EVOLVING)
public interface HostBlockBuffer extends AutoCloseable {
    /** Number of slots. */
    int numSlots();

    /** Bytes per slot. */
    long slotBytes();

    /** The memory of slot {@code slot}, {@link #slotBytes()} long; valid until {@link #close()}. */
    MemorySegment slot(int slot);

    /** Frees the memory. Idempotent. */
    @Override
    void close();
}
