package io.kvconnect.core.config;

import io.kvconnect.api.common.ModelShape;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * The engine's validated configuration, read by {@link EngineConfigReader}.
 *
 * @param model the model's KV shape
 * @param blockSize tokens per KV block
 * @param gpuBlocks usable KV blocks per worker
 * @param workers tensor-parallel workers
 * @param asyncScheduling whether to use the asynchronous scheduler
 * @param loadFailurePolicy what to do when an external KV load fails
 * @param pluginsDirectory where to look for plugin jars
 * @param connector the selected connector, if any
 */
public record EngineConfig(
        ModelShape model,
        int blockSize,
        int gpuBlocks,
        int workers,
        boolean asyncScheduling,
        LoadFailurePolicy loadFailurePolicy,
        Path pluginsDirectory,
        Optional<ConnectorEntry> connector) {

    /** Checks for nulls; ranges are checked by the reader, which knows the field paths. */
    public EngineConfig {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(loadFailurePolicy, "loadFailurePolicy");
        Objects.requireNonNull(pluginsDirectory, "pluginsDirectory");
        Objects.requireNonNull(connector, "connector");
    }
}
