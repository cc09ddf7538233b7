package io.kvconnect.core.memory;

import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.LayoutKind;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A copy between host KV memory and a host buffer, cut into pieces of about {@link #PIECE_BYTES}
 * that threads may copy at once (see {@link CopyJob}). Built on the calling thread from the checked
 * arrays; {@link #copy(int)} is called from any thread, once per piece.
 *
 * <p>{@link LayoutKind#CROSS_LAYER}: each run of adjacent blocks to adjacent slots ({@link CopyPlan})
 * is one contiguous span on both sides, cut into pieces of {@link #PIECE_BYTES} (the last one
 * shorter). {@link LayoutKind#PER_LAYER}: each block has one copy per layer, and a piece is as many
 * consecutive (block, layer) copies, blocks in call order and layers in order, as make up about
 * {@link #PIECE_BYTES}, at least one. Either way the pieces touch disjoint bytes of the destination.
 */
final class HostCopyPieces {
    /**
     * About what one thread copies in 20-50 microseconds: small enough that a caller helping at the
     * end waits little for a piece in flight elsewhere, large enough that claiming one costs nothing.
     */
    static final long PIECE_BYTES = 256 * 1024;

    private final KvMemory memory;
    private final EngineHostBuffer buffer;
    private final boolean toHost;
    private final KvLayout layout;
    private final int[] ids;
    private final int[] slots;
    /** Cross-layer only: the runs, and the first piece of each run (one more entry: the total). */
    private final CopyPlan plan;

    private final int[] firstPieceOfRun;
    /** Per-layer only: (block, layer) copies per piece. */
    private final int copiesPerPiece;

    private final int pieces;

    HostCopyPieces(KvMemory memory, EngineHostBuffer buffer, boolean toHost, int[] ids, int[] slots) {
        this.memory = memory;
        this.buffer = buffer;
        this.toHost = toHost;
        this.layout = memory.layout();
        this.ids = ids;
        this.slots = slots;
        this.plan = CopyPlan.of(ids, slots);
        if (layout.layout() == LayoutKind.CROSS_LAYER) {
            firstPieceOfRun = new int[plan.runs() + 1];
            for (int r = 0; r < plan.runs(); r++) {
                long bytes = plan.lengths()[r] * layout.bytesPerBlock();
                firstPieceOfRun[r + 1] = Math.toIntExact(firstPieceOfRun[r] + Math.ceilDiv(bytes, PIECE_BYTES));
            }
            copiesPerPiece = 0;
            pieces = firstPieceOfRun[plan.runs()];
        } else {
            firstPieceOfRun = new int[0];
            copiesPerPiece = (int) Math.max(1, PIECE_BYTES / layout.bytesPerBlockPerLayer());
            pieces = Math.toIntExact(Math.ceilDiv((long) ids.length * layout.numLayers(), copiesPerPiece));
        }
    }

    /** The runs of adjacent blocks this copy names. */
    CopyPlan plan() {
        return plan;
    }

    /** How many pieces: 0 for an empty copy. */
    int pieces() {
        return pieces;
    }

    /**
     * Copies piece {@code piece}. A closed buffer or memory surfaces as IllegalStateException.
     *
     * @throws IndexOutOfBoundsException if {@code piece} is not in {@code [0, pieces())}
     */
    void copy(int piece) {
        if (piece < 0 || piece >= pieces) {
            throw new IndexOutOfBoundsException("piece " + piece + " not in [0, " + pieces + ")");
        }
        if (layout.layout() == LayoutKind.CROSS_LAYER) {
            copyCrossLayer(piece);
        } else {
            copyPerLayer(piece);
        }
    }

    private void copyCrossLayer(int piece) {
        int found = Arrays.binarySearch(firstPieceOfRun, piece);
        // Runs of zero pieces do not exist (a run has a block), so the first match is the run itself.
        int run = found >= 0 ? found : -found - 2;
        int length = plan.lengths()[run];
        long runBytes = length * layout.bytesPerBlock();
        long offset = (piece - firstPieceOfRun[run]) * PIECE_BYTES;
        long bytes = Math.min(PIECE_BYTES, runBytes - offset);
        MemorySegment cache = memory.blocks(plan.firstBlocks()[run], length);
        MemorySegment host = buffer.slots(plan.firstSlots()[run], length);
        transfer(cache, offset, host, offset, bytes);
    }

    private void copyPerLayer(int piece) {
        int layers = layout.numLayers();
        long layerBytes = layout.bytesPerBlockPerLayer();
        long first = (long) piece * copiesPerPiece;
        long end = Math.min(first + copiesPerPiece, (long) ids.length * layers);
        for (long c = first; c < end; c++) {
            int i = (int) (c / layers);
            int layer = (int) (c % layers);
            MemorySegment host = buffer.slots(slots[i], 1);
            transfer(memory.blockLayer(ids[i], layer), 0, host, layer * layerBytes, layerBytes);
        }
    }

    /** Copies {@code bytes} between {@code cache} at {@code cacheOffset} and {@code host} at {@code hostOffset}. */
    private void transfer(MemorySegment cache, long cacheOffset, MemorySegment host, long hostOffset, long bytes) {
        if (toHost) {
            MemorySegment.copy(cache, cacheOffset, host, hostOffset, bytes);
        } else {
            MemorySegment.copy(host, hostOffset, cache, cacheOffset, bytes);
        }
    }
}
