/**
 * The {@code disk} connector: a persistent disk tier for KV blocks. The scheduler side ({@code
 * DiskScheduler}) keeps the index of what is on disk ({@code DiskIndex}, least recently used first)
 * and orders stores, loads and deletions; the worker side ({@code DiskWorker}) moves blocks between
 * the GPU and its files through staging host buffers, on a writer and a reader thread of its own,
 * with the file format of {@code BlockFileFormat} and the I/O of a {@code BlockStore}.
 * Module-private: nothing here is exported, and it depends on the connector API alone.
 */
package io.kvconnect.disk;
