package io.kvconnect.core.memory;

import io.kvconnect.api.common.ConfigException;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.MemoryKind;
import java.util.Objects;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * Where the KV caches of an engine go, resolved from the configured {@link MemorySelection} and
 * what the CUDA probe saw: {@code host}, or {@code cuda} with one device per worker (round-robin
 * where there are fewer devices than workers).
 *
 * @param kind where the caches are
 * @param why a sentence for the log: the device count, or why not CUDA with what the probe saw
 *     (CUDA's own error message, often over a hundred characters)
 * @param brief the same in at most {@link #BRIEF_MAX} characters, for a column of the run
 *     report: {@code "host (no CUDA driver)"}, {@code "CUDA (2 device(s))"}
 * @param cuda where the device calls come from ({@link CudaSource#JCUDA} but in tests)
 */
public record MemoryPlacement(MemoryKind kind, String why, String brief, int devices, CudaSource cuda) {
    /** The engine configuration key. */
    public static final String KEY = "memory";

    /** The longest {@link #brief()}: it fits a value column of the run report with a space before it. */
    public static final int BRIEF_MAX = 21;

    /** Checks the fields. */
    public MemoryPlacement {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(why, "why");
        Objects.requireNonNull(brief, "brief");
        Objects.requireNonNull(cuda, "cuda");
    }

    /** A placement whose device calls go through JCuda. */
    public MemoryPlacement(MemoryKind kind, String why, String brief, int devices) {
        this(kind, why, brief, devices, CudaSource.JCUDA);
    }

    /**
     * Resolves {@code selection} against {@code cuda}'s probe; device memory, if chosen, is then
     * allocated through {@code cuda}'s calls.
     *
     * @throws ConfigException as {@link #resolve(MemorySelection, Supplier)}
     */
    public static MemoryPlacement resolve(MemorySelection selection, CudaSource cuda) {
        MemoryPlacement p = resolve(selection, cuda::probe);
        return new MemoryPlacement(p.kind(), p.why(), p.brief(), p.devices(), cuda);
    }

    /**
     * Resolves {@code selection}; probes CUDA (through {@code probe}) unless it is {@code host}.
     *
     * @throws ConfigException if {@code selection} is {@code cuda} and CUDA is not usable: the
     *     message names which of driver, device or JCuda is missing
     */
    public static MemoryPlacement resolve(MemorySelection selection, Supplier<CudaAvailability> probe) {
        if (selection == MemorySelection.HOST) {
            return new MemoryPlacement(MemoryKind.HOST, "host memory (memory: host)", "host (memory: host)", 0);
        }
        CudaAvailability cuda = probe.get();
        CudaAvailability.Reason unusable = cuda.reason();
        if (unusable == null) {
            return new MemoryPlacement(
                    MemoryKind.CUDA_DEVICE,
                    "CUDA device memory (memory: " + name(selection) + ", " + cuda.devices() + " device(s))",
                    "CUDA (" + cuda.devices() + " device(s))",
                    cuda.devices());
        }
        if (selection == MemorySelection.CUDA) {
            throw new ConfigException(
                    "config." + KEY,
                    "memory is cuda, but CUDA is not usable here: " + cuda + "; allowed: auto or host on this "
                            + "machine");
        }
        // The reason without the probe's detail: CUDA's error text is for the log, not a table.
        return new MemoryPlacement(
                MemoryKind.HOST, "host memory (memory: auto; " + cuda + ")", "host (" + unusable.brief() + ")", 0);
    }

    /**
     * Allocates the KV memory of the worker with {@code layout} (a host layout, as {@link
     * KvLayouts#of} builds it): host memory, or device memory on device {@code rank % devices}.
     * Called by the executor for each worker at start.
     *
     * @throws KvMemoryUnavailableException if the memory cannot be had
     */
    public KvMemory allocate(KvLayout layout) {
        return allocate(layout, cuda::calls);
    }

    /** {@link #allocate(KvLayout)} with the CUDA calls of each device from {@code calls}; tests pass a fake. */
    KvMemory allocate(KvLayout layout, IntFunction<CudaCalls> calls) {
        if (kind == MemoryKind.HOST) {
            return HostKvMemory.allocate(layout);
        }
        KvLayout onDevice = new KvLayout(
                layout.model(),
                layout.tensorParallelRank(),
                layout.tensorParallelSize(),
                layout.numBlocks(),
                layout.blockSize(),
                layout.bytesPerBlockPerLayer(),
                layout.layout(),
                MemoryKind.CUDA_DEVICE);
        return DeviceKvMemory.allocate(onDevice, calls.apply(layout.tensorParallelRank() % devices));
    }

    private static String name(MemorySelection selection) {
        return selection.name().toLowerCase(java.util.Locale.ROOT);
    }
}
