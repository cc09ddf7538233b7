/**
 * The GPU KV cache's bookkeeping: the block pool (reference counts, prefix cache by chained block
 * hash, free queue), the KV-cache manager (which blocks a request owns, prefix lookup, allocation),
 * each connector's counted view of the pool, and the grants that say which blocks a connector may
 * copy: the engine thread's {@link io.kvconnect.core.kv.GrantLedger}, whose changes each worker
 * applies step by step to its own {@link io.kvconnect.core.kv.BlockGrants}.
 *
 * <p>Scheduler thread only, except {@link io.kvconnect.core.kv.BlockGrants}, which a worker's copy
 * service reads on any thread, and {@link io.kvconnect.core.kv.GrantChanges}, immutable. Used by the
 * scheduler and the engine; depends on the API only.
 */
@NullMarked
package io.kvconnect.core.kv;

import org.jspecify.annotations.NullMarked;
