package io.kvconnect.api.common;

import io.kvconnect.api.Stability;

/** Element type of the KV cache. */
@Stability(value = Stability.Level.STABLE, since = "0.1")
public enum DType {
    /** IEEE half precision, 2 bytes. */
    FP16(2),
    /** bfloat16, 2 bytes. */
    BF16(2),
    /** IEEE single precision, 4 bytes. */
    FP32(4),
    /** 8-bit float (e4m3), 1 byte. */
    FP8(1);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** {@return the number of bytes per element} */
    public int bytes() {
        return bytes;
    }
}
