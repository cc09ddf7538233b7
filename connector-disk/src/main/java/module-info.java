/**
 * Connector plugin: a disk tier for KV blocks (connector name {@code disk}) that outlives the
 * process and may be larger than host memory.
 *
 * <p>Blocks are files under a directory, one per block and worker, keyed by the chained block hash
 * inside a namespace of everything that makes KV incompatible (model shape, dtype, block size,
 * tensor-parallel size; the rank is a folder of its own). Stores and loads run on each worker's own
 * writer and reader threads through bounded staging buffers: when the disk is slower than the
 * engine, stores are dropped and counted, never queued without bound. Every file carries a header
 * (namespace, rank, hash, length, CRC-32C) checked on load; a torn, truncated, corrupt or missing
 * file is a load miss, never wrong KV. A lock file keeps a second engine off a namespace in use.
 * See docs/connectors/disk.md for the configuration keys and the on-disk format.
 *
 * <p>Like every plugin module it requires the connector API only (and {@code jdk.unsupported} for
 * the direct I/O open option) and exports nothing.
 */
module kvconnect.disk {
    requires kvconnect.api;
    requires jdk.unsupported;

    provides io.kvconnect.api.ConnectorProvider with
            io.kvconnect.disk.DiskConnectorProvider;
}
