package io.kvconnect.api.common;

import io.kvconnect.api.Stability;
import java.util.regex.Pattern;

/**
 * Where a KV event's blocks live: {@link #GPU} for the engine's pool, {@link #CPU} for host-memory
 * tiers, {@link #DISK}, {@link #REMOTE} for a store other engines share over the network, or a
 * connector's own name (upper case, digits and underscores).
 *
 * @param name the medium's name, such as {@code "CPU"}
 */
@Stability(value = Stability.Level.STABLE, since = "0.1")
public record StorageMedium(String name) {
    private static final Pattern NAME = Pattern.compile("[A-Z][A-Z0-9_]{0,31}");

    /** The engine's GPU (or device) KV pool. */
    public static final StorageMedium GPU = new StorageMedium("GPU");
    /** Host memory. */
    public static final StorageMedium CPU = new StorageMedium("CPU");
    /** Local disk. */
    public static final StorageMedium DISK = new StorageMedium("DISK");
    /**
     * A store reached over the network and shared by engines (a Redis, say): a block stored there
     * can be loaded by every engine using the same store, not only by the one that stored it.
     *
     * @since 0.2 (a constant: {@link Stability} annotates types and methods only)
     */
    public static final StorageMedium REMOTE = new StorageMedium("REMOTE");

    /** Validates the name. */
    public StorageMedium {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("medium name must match " + NAME + ", got " + name);
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
