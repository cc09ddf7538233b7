package io.kvconnect.testkit.doubles;

import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.BlockSend;
import io.kvconnect.api.worker.CopyFailedException;
import io.kvconnect.api.worker.CopyTicket;
import io.kvconnect.api.worker.HostBlockBuffer;
import io.kvconnect.api.worker.KvLayout;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A copy service whose copies end when the test says: every copy a connector's worker side starts
 * is recorded as a {@link Ticket}, in order, and stays in flight until the test calls {@link
 * Ticket#complete} or {@link Ticket#fail}; so a test decides whether a copy outlives its step,
 * fails, or ends while a hook waits for it. {@link #refusing(KvLayout)} is the other extreme: a
 * service that fails the test if a connector that should move nothing allocates or copies.
 *
 * <p>What it leaves out: it moves no bytes (a host buffer's slots are {@link MemorySegment#NULL})
 * and does not check block ids or slots against the layout or the buffer. It sends nothing straight
 * from a KV cache: {@link #openSend} answers empty, as the engine does for a device's KV cache, so
 * a connector under test takes its copy path. A ticket's {@link
 * Ticket#bytes()} is its blocks times the layout's {@link KvLayout#bytesPerBlock()}.
 *
 * <p>Thread-safe where it must be: a connector may wait for a ticket on its own thread while the
 * test completes it; the service itself is used from one worker thread.
 */
public final class ManualCopyService implements BlockCopyService {
    /** How long {@link Ticket#await()} waits for the test before it gives up. */
    private static final Duration GIVE_UP = Duration.ofSeconds(10);

    private final KvLayout layout;
    private final List<Ticket> tickets = new ArrayList<>();
    private final List<Buffer> buffers = new ArrayList<>();

    /** A service for a cache of {@code layout}. */
    public ManualCopyService(KvLayout layout) {
        this.layout = Objects.requireNonNull(layout, "layout");
    }

    /** A service that throws {@link AssertionError} on every allocation and copy. */
    public static BlockCopyService refusing(KvLayout layout) {
        Objects.requireNonNull(layout, "layout");
        return new BlockCopyService() {
            @Override
            public KvLayout layout() {
                return layout;
            }

            @Override
            public HostBlockBuffer allocateHostBuffer(int slots) {
                throw new AssertionError("the connector allocated a host buffer of " + slots + " slot(s)");
            }

            @Override
            public CopyTicket copyToHost(int[] blockIds, HostBlockBuffer buffer, int[] slots) {
                throw new AssertionError("the connector copied " + blockIds.length + " block(s) to the host");
            }

            @Override
            public CopyTicket copyFromHost(HostBlockBuffer buffer, int[] slots, int[] blockIds) {
                throw new AssertionError("the connector copied " + blockIds.length + " block(s) from the host");
            }

            @Override
            public Optional<BlockSend> openSend(int[] blockIds) {
                throw new AssertionError("the connector opened a send of " + blockIds.length + " block(s)");
            }
        };
    }

    /** Every copy started so far, in order. */
    public synchronized List<Ticket> tickets() {
        return List.copyOf(tickets);
    }

    /** The {@code i}th copy started. */
    public synchronized Ticket ticket(int i) {
        return tickets.get(i);
    }

    /** The slots of every host buffer allocated so far, in order. */
    public synchronized List<Integer> allocatedSlots() {
        return buffers.stream().map(Buffer::numSlots).toList();
    }

    /** Whether every host buffer allocated so far has been closed (true when none was). */
    public synchronized boolean allBuffersClosed() {
        return buffers.stream().allMatch(Buffer::closed);
    }

    @Override
    public KvLayout layout() {
        return layout;
    }

    @Override
    public synchronized HostBlockBuffer allocateHostBuffer(int slots) {
        Buffer b = new Buffer(slots, layout.bytesPerBlock());
        buffers.add(b);
        return b;
    }

    @Override
    public synchronized CopyTicket copyToHost(int[] blockIds, HostBlockBuffer buffer, int[] slots) {
        return record(new Ticket(true, blockIds, slots, blockIds.length * layout.bytesPerBlock()));
    }

    @Override
    public synchronized CopyTicket copyFromHost(HostBlockBuffer buffer, int[] slots, int[] blockIds) {
        return record(new Ticket(false, blockIds, slots, blockIds.length * layout.bytesPerBlock()));
    }

    private Ticket record(Ticket t) {
        tickets.add(t);
        return t;
    }

    /** A host buffer that holds no memory. */
    private static final class Buffer implements HostBlockBuffer {
        private final int numSlots;
        private final long slotBytes;
        private volatile boolean closed;

        Buffer(int numSlots, long slotBytes) {
            this.numSlots = numSlots;
            this.slotBytes = slotBytes;
        }

        boolean closed() {
            return closed;
        }

        @Override
        public int numSlots() {
            return numSlots;
        }

        @Override
        public long slotBytes() {
            return slotBytes;
        }

        @Override
        public MemorySegment slot(int slot) {
            Objects.checkIndex(slot, numSlots);
            return MemorySegment.NULL;
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    /** One copy, in flight until the test ends it. */
    public static final class Ticket implements CopyTicket {
        private final CountDownLatch done = new CountDownLatch(1);
        private final boolean toHost;
        private final int[] blockIds;
        private final int[] slots;
        private final long bytes;
        private volatile boolean failed;

        private Ticket(boolean toHost, int[] blockIds, int[] slots, long bytes) {
            this.toHost = toHost;
            this.blockIds = blockIds.clone();
            this.slots = slots.clone();
            this.bytes = bytes;
        }

        /** Whether the copy goes to the host (a store), else from it (a load). */
        public boolean toHost() {
            return toHost;
        }

        /** The GPU blocks copied (a copy). */
        public int[] blockIds() {
            return blockIds.clone();
        }

        /** The host buffer's slots copied (a copy). */
        public int[] slots() {
            return slots.clone();
        }

        /** Ends the copy successfully. */
        public void complete() {
            done.countDown();
        }

        /** Ends the copy as failed: waiting for it throws {@link CopyFailedException}. */
        public void fail() {
            failed = true;
            done.countDown();
        }

        @Override
        public boolean isDone() {
            return done.getCount() == 0;
        }

        /**
         * {@inheritDoc}
         *
         * @throws IllegalStateException if the test has not ended the copy within 10 seconds
         */
        @Override
        public void await() throws CopyFailedException, InterruptedException {
            if (!done.await(GIVE_UP.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("the test never ended this copy");
            }
            throwIfFailed();
        }

        @Override
        public boolean await(Duration timeout) throws CopyFailedException, InterruptedException {
            boolean ended = done.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (ended) {
                throwIfFailed();
            }
            return ended;
        }

        @Override
        public boolean failed() {
            return isDone() && failed;
        }

        @Override
        public long bytes() {
            return bytes;
        }

        private void throwIfFailed() throws CopyFailedException {
            if (failed) {
                throw new CopyFailedException("failed by the test", null);
            }
        }
    }
}
