package io.kvconnect.core.config;

import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.ModelShape;
import java.util.LinkedHashMap;
import java.util.Map;

/** Model shapes that a configuration can name instead of spelling out. */
public final class ModelPresets {
    private static final Map<String, ModelShape> PRESETS = new LinkedHashMap<>();

    static {
        add(new ModelShape("tiny", 2, 2, 16, DType.FP16));
        add(new ModelShape("llama-3.2-1b", 16, 8, 64, DType.BF16));
        add(new ModelShape("qwen2.5-7b", 28, 4, 128, DType.BF16));
        add(new ModelShape("llama-3-8b", 32, 8, 128, DType.BF16));
        add(new ModelShape("llama-3-70b", 80, 8, 128, DType.BF16));
    }

    private ModelPresets() {}

    private static void add(ModelShape shape) {
        PRESETS.put(shape.name(), shape);
    }

    /** Every preset by name, in a fixed order. */
    public static Map<String, ModelShape> all() {
        return java.util.Collections.unmodifiableMap(PRESETS);
    }
}
