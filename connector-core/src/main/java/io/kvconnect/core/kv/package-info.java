/**
 * The GPU KV cache's bookkeeping: the block pool (reference counts, prefix cache by chained block
 * hash, free queue), the KV-cache manager (which blocks a request owns, prefix lookup, allocation),
 * each connector's counted view of the pool, and the grants that say which blocks a connector may
 * copy right now.
 *
 * <p>Scheduler thread only, except {@link io.kvconnect.core.kv.BlockGrants}, which the workers' copy
 * services read on any thread. Used by the scheduler and the engine; depends on the API only.
 */
package io.kvconnect.core.kv;
