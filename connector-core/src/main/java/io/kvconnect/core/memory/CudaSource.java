package io.kvconnect.core.memory;

import java.util.Objects;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * Where an engine's CUDA comes from: the probe {@code memory: auto | cuda} asks, and the calls each
 * device's KV memory and copy service make. Production engines use {@link #JCUDA}; core's tests and
 * the connector test kit (the only modules this package is exported to) may build an engine on
 * {@link #hostFake(int)}, so the device path runs end to end without a GPU. An engine
 * configuration cannot choose it: it is set on the engine's setup in code.
 */
public final class CudaSource {
    /** CUDA through JCuda: the machine's driver and devices. */
    public static final CudaSource JCUDA = new CudaSource("JCuda", CudaAvailability::probe, JCudaCalls::forDevice);

    private final String name;
    private final Supplier<CudaAvailability> probe;
    private final IntFunction<CudaCalls> calls;

    private CudaSource(String name, Supplier<CudaAvailability> probe, IntFunction<CudaCalls> calls) {
        this.name = name;
        this.probe = probe;
        this.calls = calls;
    }

    /**
     * {@code devices} simulated devices on the host: device memory is off-heap memory, a stream a
     * thread, copies plain memory copies. For tests only: it proves the logic above the CUDA calls
     * (placement, layouts, coalescing, fences, staging), not the device.
     *
     * @throws IllegalArgumentException if {@code devices} is not positive
     */
    public static CudaSource hostFake(int devices) {
        if (devices <= 0) {
            throw new IllegalArgumentException("devices must be positive, got " + devices);
        }
        return new CudaSource(
                "host fake of " + devices + " device(s)",
                () -> CudaAvailability.available(devices),
                HostFakeCudaCalls::new);
    }

    /**
     * A source whose probe finds CUDA unusable for {@code reason}, with {@code detail} as what it
     * saw: for tests of what an engine does and reports without CUDA, alike on every machine. Its
     * device calls are never made (the engine is on host memory) and throw.
     */
    public static CudaSource unusable(CudaAvailability.Reason reason, String detail) {
        CudaAvailability answer = CudaAvailability.unavailable(reason, detail);
        return new CudaSource("CUDA unusable: " + answer, () -> answer, device -> {
            throw new IllegalStateException("no CUDA device to call: " + answer);
        });
    }

    /** {@return whether CUDA is usable through this source, and why not} */
    public CudaAvailability probe() {
        return probe.get();
    }

    /** The calls of device {@code device}. */
    CudaCalls calls(int device) {
        return Objects.requireNonNull(calls.apply(device), "calls");
    }

    @Override
    public String toString() {
        return name;
    }
}
