/**
 * The {@code redis} connector: a KV tier shared by many engines, on Redis. The scheduler side
 * ({@code RedisScheduler}) looks keys up asynchronously and plans loads and stores; the worker side
 * ({@code RedisWorker}) moves each rank's share of a block between the engine's block-copy service
 * and Redis through a small staging buffer; {@code RedisStore} is the one place that talks to
 * Redis (through Lettuce). Module-private: nothing here is exported.
 */
package io.kvconnect.redis;
