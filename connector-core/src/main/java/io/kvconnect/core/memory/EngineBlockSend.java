package io.kvconnect.core.memory;

import io.kvconnect.api.worker.BlockSend;
import io.kvconnect.api.worker.CopyFailedException;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.LayoutKind;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * The engine's {@link BlockSend} over host KV memory: read-only views of the blocks, handed to the
 * channel's gathering write a window at a time. Made by {@link EngineBlockCopyService#openSend} on
 * the caller's thread, which has checked the ids and recorded their generations; each {@link
 * #writeTo} runs through {@link EngineBlockCopyService#sendStep}, which checks the generations
 * again with the service's in-flight flag raised, as a copy does when it runs.
 *
 * <p>Views: one per run of adjacent blocks ({@link LayoutKind#CROSS_LAYER}, cut at {@link
 * #MAX_VIEW_BYTES}), or one per block and layer ({@link LayoutKind#PER_LAYER}), which gives the
 * bytes of a host slot in its canonical order.
 */
final class EngineBlockSend implements BlockSend {
    /**
     * Most views one gathering write is given: the channel prepares every view it is given on each
     * call, so a window from the first unfinished one keeps a call's work bounded while still
     * filling a socket buffer for blocks of 16 KiB and more.
     */
    static final int WINDOW = 64;

    /** Largest view: a ByteBuffer is at most {@code Integer.MAX_VALUE} long. */
    static final long MAX_VIEW_BYTES = 1L << 30;

    private final EngineBlockCopyService service;
    private final int[] ids;
    private final int[] generations;
    private final ByteBuffer[] views;
    private final long bytes;
    private long remaining;
    private int first;

    EngineBlockSend(EngineBlockCopyService service, KvMemory memory, int[] ids, int[] generations) {
        this.service = service;
        this.ids = ids;
        this.generations = generations;
        this.views = views(memory, ids);
        this.bytes = ids.length * memory.layout().bytesPerBlock();
        this.remaining = bytes;
    }

    @Override
    public long bytes() {
        return bytes;
    }

    @Override
    public long remaining() {
        return remaining;
    }

    @Override
    public long writeTo(SocketChannel channel) throws IOException, CopyFailedException {
        // The JDK's own channel (its classes live in java.base) reads a buffer during the call and
        // keeps nothing; a channel of any other class could keep a view of the KV cache.
        if (channel.getClass().getModule() != SocketChannel.class.getModule()) {
            throw new IllegalArgumentException("a send writes only into the JDK's own socket channels, not a "
                    + channel.getClass().getName());
        }
        if (remaining == 0) {
            return 0;
        }
        // Held so the mode cannot change between the check and the write: configureBlocking takes it.
        synchronized (channel.blockingLock()) {
            if (channel.isBlocking()) {
                throw new IllegalArgumentException(
                        "a send writes only into a non-blocking channel: a blocking write could hold the "
                                + "worker's next step for as long as the peer does not read");
            }
            long written = service.sendStep(ids, generations, () -> {
                while (first < views.length && !views[first].hasRemaining()) {
                    first++;
                }
                return channel.write(views, first, Math.min(WINDOW, views.length - first));
            });
            remaining -= written;
            return written;
        }
    }

    private static ByteBuffer[] views(KvMemory memory, int[] ids) {
        KvLayout layout = memory.layout();
        List<ByteBuffer> views = new ArrayList<>();
        if (layout.layout() == LayoutKind.CROSS_LAYER) {
            int i = 0;
            while (i < ids.length) {
                int run = 1;
                while (i + run < ids.length && ids[i + run] == ids[i] + run) {
                    run++;
                }
                MemorySegment blocks = memory.blocks(ids[i], run);
                for (long at = 0; at < blocks.byteSize(); at += MAX_VIEW_BYTES) {
                    views.add(view(blocks.asSlice(at, Math.min(MAX_VIEW_BYTES, blocks.byteSize() - at))));
                }
                i += run;
            }
        } else {
            for (int id : ids) {
                for (int layer = 0; layer < layout.numLayers(); layer++) {
                    views.add(view(memory.blockLayer(id, layer)));
                }
            }
        }
        return views.toArray(ByteBuffer[]::new);
    }

    /** Read-only, so not even the JDK's channel could write into the cache through it. */
    private static ByteBuffer view(MemorySegment segment) {
        return segment.asReadOnly().asByteBuffer();
    }
}
