/**
 * A worker's KV memory and the engine's {@link io.kvconnect.api.worker.BlockCopyService} over it.
 *
 * <p>{@link io.kvconnect.core.memory.KvMemory} is the cache itself (host memory today, through
 * {@link io.kvconnect.core.memory.HostKvMemory}); {@link io.kvconnect.core.memory.EngineBlockCopyService}
 * moves its blocks to and from connector-owned host buffers on one "copy stream" thread per worker,
 * the host stand-in for a CUDA stream, so connectors see the same asynchronous, ordered contract
 * whatever memory the cache lives in.
 */
@NullMarked
package io.kvconnect.core.memory;

import org.jspecify.annotations.NullMarked;
