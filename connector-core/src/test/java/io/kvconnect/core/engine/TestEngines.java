package io.kvconnect.core.engine;

import io.kvconnect.api.common.DType;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.core.config.EngineConfig;
import io.kvconnect.core.memory.CopyFaults;
import io.kvconnect.core.sched.LoadFailurePolicy;
import io.kvconnect.core.sched.SchedulerConfig;
import io.kvconnect.core.sched.SchedulingPolicy;
import java.util.Optional;
import java.util.SplittableRandom;

/** Small engines for tests: tiny model, invariants checked after every step, verification on. */
public final class TestEngines {
    /** A 2-layer model with 128 bytes of KV per token and layer. */
    public static final ModelShape TINY = new ModelShape("tiny", 2, 2, 16, DType.FP16);

    private TestEngines() {}

    /** A setup with {@code gpuBlocks} blocks of 4 tokens, given workers and scheduling mode. */
    public static EngineSetup setup(int gpuBlocks, int workers, boolean async) {
        EngineConfig config = EngineConfig.builder(
                        TINY,
                        4,
                        gpuBlocks,
                        workers,
                        new SchedulerConfig(64, 16, 64, SchedulingPolicy.FCFS, async, LoadFailurePolicy.FAIL))
                .build();
        return new EngineSetup(config, Optional.empty(), CopyFaults.NONE, true);
    }

    /** A random prompt of {@code n} tokens. */
    public static int[] prompt(SplittableRandom random, int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = 1 + random.nextInt(31_999);
        }
        return p;
    }
}
