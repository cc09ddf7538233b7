package io.kvconnect.core.memory;

import java.util.Objects;

/**
 * Whether CUDA device memory is usable on this machine, and if not, why: the probe's answer that
 * {@code memory: auto} logs and reports, and {@code memory: cuda} turns into a configuration
 * error.
 *
 * @param devices the CUDA devices seen, 0 when unusable
 * @param reason why CUDA is unusable; {@code null} when usable
 * @param detail what the probe saw (CUDA's error, the loader's message)
 */
public record CudaAvailability(
        int devices, @org.jspecify.annotations.Nullable Reason reason, String detail) {
    /** Why CUDA is unusable. */
    public enum Reason {
        /** JCuda's classes or its JNI library could not be loaded. */
        JCUDA_NOT_LOADED("JCuda failed to load", "no JCuda"),
        /** The CUDA driver ({@code libcuda.so.1}) is missing or too old. */
        NO_DRIVER("no CUDA driver", "no CUDA driver"),
        /** The driver is there but sees no device. */
        NO_DEVICE("no CUDA device", "no CUDA device");

        private final String words;
        private final String brief;

        Reason(String words, String brief) {
            this.words = words;
            this.brief = brief;
        }

        /** {@return the reason in words, e.g. "no CUDA driver"} */
        public String words() {
            return words;
        }

        /** {@return the reason in at most 14 characters, for a table: "no CUDA driver", "no JCuda"} */
        public String brief() {
            return brief;
        }
    }

    /** Checks the fields. */
    public CudaAvailability {
        Objects.requireNonNull(detail, "detail");
        if ((reason == null) != (devices > 0)) {
            throw new IllegalArgumentException("usable with devices, or a reason without: " + devices + ", " + reason);
        }
    }

    static CudaAvailability available(int devices) {
        return new CudaAvailability(devices, null, devices + " device(s)");
    }

    static CudaAvailability unavailable(Reason reason, String detail) {
        return new CudaAvailability(0, reason, detail);
    }

    /** Whether a device is usable. */
    public boolean usable() {
        return reason == null;
    }

    /** This machine's answer; probes once per call (cheap after the first). */
    public static CudaAvailability probe() {
        return JCudaCalls.probe();
    }

    /** E.g. {@code "no CUDA driver: libcuda.so.1 missing or too old (...)"} or {@code "1 device(s)"}. */
    @Override
    public String toString() {
        return reason == null ? detail : reason.words() + ": " + detail;
    }
}
