package io.kvconnect.testkit;

import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.BlockSend;
import io.kvconnect.api.worker.CopyFailedException;
import io.kvconnect.api.worker.CopyTicket;
import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.api.worker.KvLayout;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Forwards every call to the engine's copy service and counts stores into host slots that an
 * earlier store already wrote: how often the connector reused a slot, which is when a load still
 * reading the slot could see the wrong content. Changes nothing. Thread-safe: connectors call a
 * copy service from the worker thread and their own threads.
 */
final class SlotCountingCopyService implements BlockCopyService {
    private final BlockCopyService delegate;
    private final AtomicLong reuses;
    private final Map<HostBlockBuffer, Set<Integer>> written = new IdentityHashMap<>();

    /**
     * @param reuses incremented once per slot reuse
     */
    SlotCountingCopyService(BlockCopyService delegate, AtomicLong reuses) {
        this.delegate = delegate;
        this.reuses = reuses;
    }

    @Override
    public KvLayout layout() {
        return delegate.layout();
    }

    @Override
    public HostBlockBuffer allocateHostBuffer(int slots) {
        return delegate.allocateHostBuffer(slots);
    }

    @Override
    public CopyTicket copyToHost(int[] blockIds, HostBlockBuffer buffer, int[] slots) {
        CopyTicket ticket = delegate.copyToHost(blockIds, buffer, slots);
        synchronized (written) {
            Set<Integer> seen = written.computeIfAbsent(buffer, b -> new HashSet<>());
            for (int slot : slots) {
                if (!seen.add(slot)) {
                    reuses.incrementAndGet();
                }
            }
        }
        return ticket;
    }

    @Override
    public CopyTicket copyFromHost(HostBlockBuffer buffer, int[] slots, int[] blockIds) {
        return delegate.copyFromHost(buffer, slots, blockIds);
    }

    /** Forwarded: a send writes no slot. */
    @Override
    public Optional<BlockSend> openSend(int[] blockIds) throws CopyFailedException {
        return delegate.openSend(blockIds);
    }
}
