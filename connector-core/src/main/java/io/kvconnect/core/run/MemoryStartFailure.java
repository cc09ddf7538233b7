package io.kvconnect.core.run;

import io.kvconnect.api.common.ConfigException;
import io.kvconnect.core.config.EngineConfig;
import io.kvconnect.core.memory.ByteSizes;
import io.kvconnect.core.memory.HostMemoryBudget;
import io.kvconnect.core.memory.HostMemoryBudgetExceededError;
import io.kvconnect.core.memory.KvCacheSize;
import io.kvconnect.core.memory.KvMemoryUnavailableException;
import java.util.Optional;

/**
 * Turns an engine start that failed for want of memory into a configuration error naming the key
 * to change and the sizes, so the command line prints one line (exit status 2) instead of a stack
 * trace. The engine wraps what a worker threw (a connector's {@code registerKvCaches} included),
 * so the cause chain is searched.
 */
final class MemoryStartFailure {
    private MemoryStartFailure() {}

    /** The configuration error {@code failure} stands for, or empty if it is not about memory. */
    static Optional<ConfigException> explain(RuntimeException failure, EngineConfig config) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof KvMemoryUnavailableException kv) {
                KvCacheSize size =
                        KvCacheSize.of(config.model(), config.blockSize(), config.gpuBlocks(), config.workers());
                return Optional.of(new ConfigException(
                        "config.gpu_blocks",
                        kv.getMessage() + "; the KV cache of "
                                + "all workers needs " + ByteSizes.format(size.totalBytes()) + " (" + size.describe()
                                + "); allowed: fewer blocks or workers, on this machine"));
            }
            if (t instanceof HostMemoryBudgetExceededError budget) {
                return Optional.of(new ConfigException(
                        "config." + HostMemoryBudget.KEY,
                        "the connector's "
                                + "registerKvCaches failed: " + budget.getMessage()
                                + "; allowed: a budget of at least what "
                                + "the connector's configuration asks for, such as its capacity"));
            }
        }
        return Optional.empty();
    }
}
