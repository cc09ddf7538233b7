package io.kvconnect.core.memory;

import java.lang.management.ManagementFactory;
import java.util.OptionalLong;

/**
 * The memory of the machine the engine runs on, as the JDK reports it: the physical memory, or a
 * container's memory limit inside a container. The engine's KV cache and the connectors' host
 * buffers are off-heap memory that no JVM option bounds, so the engine checks its own
 * configuration against this.
 */
public final class MachineMemory {
    /** Read once: the machine's memory does not change while the engine runs. */
    private static final OptionalLong PHYSICAL = read();

    private MachineMemory() {}

    /**
     * The machine's physical memory in bytes, if the JDK can tell ({@code
     * com.sun.management.OperatingSystemMXBean#getTotalMemorySize}); empty on a JDK without it.
     */
    public static OptionalLong physicalBytes() {
        return PHYSICAL;
    }

    private static OptionalLong read() {
        try {
            if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
                long total = os.getTotalMemorySize();
                return total > 0 ? OptionalLong.of(total) : OptionalLong.empty();
            }
        } catch (RuntimeException | LinkageError e) {
            // A JDK without the management extension: the caller falls back to its defaults.
        }
        return OptionalLong.empty();
    }
}
