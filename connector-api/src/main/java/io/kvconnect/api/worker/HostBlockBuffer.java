package io.kvconnect.api.worker;

import io.kvconnect.api.Stability;
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
@Stability(value = Stability.Level.EVOLVING, since = "0.1")
public interface HostBlockBuffer extends AutoCloseable {
    /** {@return the number of slots} */
    int numSlots();

    /** {@return the number of bytes of one slot} */
    long slotBytes();

    /**
     * {@return the memory of slot {@code slot}, {@link #slotBytes()} long} Valid until {@link
     * #close()}.
     *
     * @param slot a slot index, {@code 0 <= slot < numSlots()}
     */
    MemorySegment slot(int slot);

    /** Frees the memory. Idempotent. */
    @Override
    void close();
}
