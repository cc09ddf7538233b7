package io.kvconnect.disk;

import io.kvconnect.api.common.BlockHash;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A real {@link DirectoryBlockStore} with I/O failures put in front of it: each write fails with
 * probability {@code writeFailures} (as a full disk does: nothing is written), each read with
 * probability {@code readFailures} (as a failing device does), each read of a good file is turned
 * into a corrupt one with probability {@code corruptReads} (the payload is scrambled before the
 * checksum is checked, so the check must catch it).
 */
final class FailingBlockStore implements BlockStore {
    /** Failures injected by every store of one factory, by kind. */
    static final class Counts {
        final AtomicLong writes = new AtomicLong();
        final AtomicLong reads = new AtomicLong();
        final AtomicLong corrupt = new AtomicLong();
        /** Stores opened so far: each draws its own sequence, so later rounds fail other operations. */
        final AtomicLong opened = new AtomicLong();
    }

    private final BlockStore inner;
    private final double writeFailures;
    private final double readFailures;
    private final double corruptReads;
    private final Counts counts;
    private final SplittableRandom writeRandom;
    private final SplittableRandom readRandom;

    private FailingBlockStore(
            BlockStore inner,
            double writeFailures,
            double readFailures,
            double corruptReads,
            Counts counts,
            long seed) {
        this.inner = inner;
        this.writeFailures = writeFailures;
        this.readFailures = readFailures;
        this.corruptReads = corruptReads;
        this.counts = counts;
        this.writeRandom = new SplittableRandom(seed);
        this.readRandom = new SplittableRandom(seed + 1);
    }

    /**
     * A factory of such stores; all of them count into {@code counts}. Each store opened draws
     * from a sequence of its own: were every round's store seeded alike, a round with few reads
     * would repeat the first draws of the last, and no number of rounds would fail a read.
     */
    static BlockStoreFactory factory(double writeFailures, double readFailures, double corruptReads, Counts counts) {
        return settings -> new FailingBlockStore(
                DirectoryBlockStore.open(settings),
                writeFailures,
                readFailures,
                corruptReads,
                counts,
                2 * counts.opened.getAndIncrement());
    }

    @Override
    public void write(BlockHash hash, MemorySegment payload) throws IOException {
        if (writeRandom.nextDouble() < writeFailures) {
            counts.writes.incrementAndGet();
            throw new IOException("injected: No space left on device");
        }
        inner.write(hash, payload);
    }

    @Override
    public void read(BlockHash hash, MemorySegment into) throws BlockReadException {
        if (readRandom.nextDouble() < readFailures) {
            counts.reads.incrementAndGet();
            throw new BlockReadException(BlockReadException.Kind.IO, "injected: Input/output error", null);
        }
        if (readRandom.nextDouble() < corruptReads) {
            counts.corrupt.incrementAndGet();
            // Read the good file, then scramble it as a bad sector would, and let the format check it.
            inner.read(hash, into);
            throw new BlockReadException(BlockReadException.Kind.CORRUPT, "injected: payload checksum mismatch", null);
        }
        inner.read(hash, into);
    }

    @Override
    public void delete(BlockHash hash) throws IOException {
        inner.delete(hash);
    }

    @Override
    public String ioMode() {
        return inner.ioMode() + " with injected failures";
    }

    @Override
    public void close() {
        inner.close();
    }
}
