/**
 * The workloads the engine's main job runs: multi-turn chat sessions, generated synthetically
 * ({@link io.kvconnect.core.workload.SyntheticChatWorkload}) or read from a JSONL trace
 * ({@link io.kvconnect.core.workload.TraceReader}), and the latency statistics collected while
 * running them ({@link io.kvconnect.core.workload.Percentiles}).
 *
 * <p>A workload holds user tokens only. The driver builds each follow-up prompt at run time with
 * {@link io.kvconnect.core.workload.PromptBuilder}: the system prompt, every earlier turn's user
 * tokens and generated output, then this turn's user tokens. That shared, growing prefix is what
 * the KV connectors exist to reuse.
 */
@NullMarked
package io.kvconnect.core.workload;

import org.jspecify.annotations.NullMarked;
