package io.kvconnect.core.memory;

import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The host memory that connectors may take through {@code BlockCopyService.allocateHostBuffer},
 * shared by every worker of one engine (engine key {@value #KEY}).
 *
 * <p>Host buffers are off-heap memory that no JVM option bounds: before the budget, a connector
 * could ask for as much as it liked and the engine committed it until the machine ran out. Now a
 * buffer that would take the connectors beyond the budget is refused before anything is allocated,
 * with an {@link HostMemoryBudgetExceededError} (an {@link OutOfMemoryError}, as the API's {@code
 * allocateHostBuffer} documents) naming the budget and its key; closing a buffer gives its bytes
 * back.
 *
 * <p><b>Thread.</b> Thread-safe: connectors allocate from the worker threads and their own.
 */
public final class HostMemoryBudget {
    /** The engine configuration key of the budget. */
    public static final String KEY = "host_memory_budget";
    /** The default where the JDK cannot tell the machine's memory: a few GiB, enough for a host tier. */
    public static final long FALLBACK_DEFAULT_BYTES = 4L << 30;

    private final long limitBytes;
    private final AtomicLong usedBytes = new AtomicLong();

    /**
     * A budget of {@code limitBytes}.
     *
     * @throws IllegalArgumentException if {@code limitBytes} is negative
     */
    public HostMemoryBudget(long limitBytes) {
        if (limitBytes < 0) {
            throw new IllegalArgumentException("a host memory budget cannot be negative, got " + limitBytes);
        }
        this.limitBytes = limitBytes;
    }

    /**
     * The default budget: a quarter of the machine's memory, or {@link #FALLBACK_DEFAULT_BYTES} when
     * the JDK cannot tell. A host tier pays off with size, so a small fixed default would refuse
     * ordinary configurations; a quarter leaves the rest to the KV cache (host memory in this
     * engine), the JVM heap and the system, and a connector that wants more must be given it by
     * the operator instead of taking it.
     *
     * @param physicalBytes the machine's memory, see {@link MachineMemory#physicalBytes()}
     */
    public static long defaultBytes(OptionalLong physicalBytes) {
        return physicalBytes.isPresent() ? physicalBytes.getAsLong() / 4 : FALLBACK_DEFAULT_BYTES;
    }

    /** {@link #defaultBytes(OptionalLong)} of this machine. */
    public static long defaultBytes() {
        return defaultBytes(MachineMemory.physicalBytes());
    }

    /** The budget in bytes. */
    public long limitBytes() {
        return limitBytes;
    }

    /** Bytes reserved by buffers still open. */
    public long usedBytes() {
        return usedBytes.get();
    }

    /**
     * Reserves {@code bytes} for a buffer about to be allocated; give them back with {@link
     * #release} when the buffer is closed or its allocation failed.
     *
     * @param what the buffer, for the message
     * @throws HostMemoryBudgetExceededError if the reservation would exceed the budget; then
     *     nothing is reserved
     */
    public void reserve(long bytes, String what) {
        if (bytes < 0) {
            throw new IllegalArgumentException("cannot reserve " + bytes + " bytes");
        }
        while (true) {
            long used = usedBytes.get();
            if (bytes > limitBytes - used) {
                throw new HostMemoryBudgetExceededError("host buffer of " + what + " refused: it would take "
                        + "connectors' host buffers to " + ByteSizes.format(saturatedSum(used, bytes)) + ", beyond the "
                        + "host memory budget of " + ByteSizes.format(limitBytes) + " (" + limitBytes
                        + " B, engine key "
                        + KEY + "; " + ByteSizes.format(used) + " in use); ask for less or raise " + KEY);
            }
            if (usedBytes.compareAndSet(used, used + bytes)) {
                return;
            }
        }
    }

    /** Gives back {@code bytes} reserved earlier. */
    public void release(long bytes) {
        usedBytes.addAndGet(-bytes);
    }

    private static long saturatedSum(long a, long b) {
        long sum = a + b;
        return sum < 0 ? Long.MAX_VALUE : sum;
    }
}
