/**
 * Connector plugin: a KV tier shared by many engines, on Redis (connector name {@code redis}).
 *
 * <p>Computed blocks are stored in Redis (standalone or Redis Cluster) once their KV is confirmed,
 * one value per block and tensor-parallel rank, and loaded back, by any engine of the same model,
 * KV layout and namespace, when a later request's prefix hits them beyond the engine's GPU prefix
 * cache. Keys are the chained block hash (which includes the cache salt) under a namespace that
 * names everything else that makes KV incompatible; every value carries a header (namespace, rank,
 * block hash, length, checksum) checked on load, so a foreign or corrupt value is a miss, never
 * wrong KV. Lookups, reads and writes run on the client's own threads with bounded queues and
 * timeouts: a Redis that is down, slow, full or restarted costs hits, never correctness or
 * liveness. See {@code docs/connectors/redis.md} for the configuration keys.
 *
 * <p>Like every plugin module it requires the connector API and exports nothing; it also requires
 * Lettuce ({@code lettuce.core}, an automatic module: the jar names itself in its manifest only),
 * the Redis client, which brings Netty and Reactor. Lettuce, an automatic module, declares no
 * dependencies, and resolution resolves every other automatic module with it (Reactor) but no
 * explicit one: this module therefore requires the Netty modules Lettuce runs on (Netty's jars have
 * module descriptors), though its own code uses none of their types.
 */
// Lettuce ships no module descriptor, only an Automatic-Module-Name: accepted deliberately.
@SuppressWarnings("requires-automatic")
module kvconnect.redis {
    requires kvconnect.api;
    requires lettuce.core;
    // For Lettuce at run time (see above): the handler module brings buffer, codec, common,
    // resolver and transport; the DNS resolver is the one Lettuce uses when it is present.
    requires io.netty.handler;
    requires io.netty.resolver.dns;

    provides io.kvconnect.api.ConnectorProvider with
            io.kvconnect.redis.RedisConnectorProvider;
}
