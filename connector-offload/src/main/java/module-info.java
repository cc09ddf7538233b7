/**
 * Connector plugin: a host-memory offload tier for KV blocks (connector name {@code offload}).
 *
 * <p>Computed blocks are copied to host memory asynchronously as soon as their KV is confirmed (the
 * step after they are computed, not only when the request ends), keyed
 * by the chained block hash of their last engine block (KV group 0), and loaded back when a later request's prefix hits them
 * beyond the engine's GPU prefix cache. A block is offered only after every worker confirmed its
 * copy; blocks being written are never evicted or loaded, blocks being loaded are pinned, and GPU
 * blocks read by a store in flight are held with {@code GPUBlockPoolView.touch} until every worker
 * reported the store, so a freed and reallocated GPU block is never read by a pending store.
 *
 * <p>Configuration keys: {@code capacity} (required, total across workers, such as {@code "8GiB"}),
 * {@code block_multiple} (engine blocks per offloaded block, 1 to 1024, default 1: the unit of
 * storing, loading and eviction; only whole offloaded blocks are stored), {@code eviction} ({@code lru} or {@code arc}),
 * {@code store_threshold} (store a block only after its key was looked up that many times; 0 =
 * always) and {@code load} ({@code async} or {@code sync}).
 *
 * <p>Like every plugin module it requires the connector API only and exports nothing.
 */
module kvconnect.offload {
    requires kvconnect.api;

    provides io.kvconnect.api.ConnectorProvider with
            io.kvconnect.offload.OffloadConnectorProvider;
}
