/**
 * The {@code offload} connector: a host-memory tier for KV blocks. The scheduler side ({@code
 * OffloadScheduler}) decides what to store and load from the tier's index and eviction policy; the
 * worker side ({@code OffloadWorker}) moves blocks through the engine's block-copy service into its
 * share of the host tier ({@code HostTier}). Module-private: nothing here is exported, and it
 * depends on the connector API alone.
 */
package io.kvconnect.offload;
