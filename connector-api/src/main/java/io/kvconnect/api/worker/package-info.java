/**
 * The worker-side role of a connector, the KV cache it works on and the service that moves KV.
 *
 * <p><b>What is here.</b> {@link io.kvconnect.api.worker.WorkerConnector}, the role, and the
 * report it gives at the end of each step ({@link io.kvconnect.api.worker.WorkerStepReport}); the
 * layout of a worker's KV cache ({@link io.kvconnect.api.worker.KvLayout}, {@link
 * io.kvconnect.api.worker.LayoutKind}, {@link io.kvconnect.api.worker.MemoryKind}); and the
 * block-copy service through which a connector moves KV between GPU blocks and host memory ({@link
 * io.kvconnect.api.worker.BlockCopyService}, {@link io.kvconnect.api.worker.HostBlockBuffer},
 * {@link io.kvconnect.api.worker.CopyTicket}, {@link io.kvconnect.api.worker.CopyFailedException}).
 * No CUDA type appears here: a connector never touches device memory itself.
 *
 * <p><b>Who implements and who calls.</b> A connector implements {@code WorkerConnector}, one
 * instance per worker; the engine calls each on that worker's thread, one call at a time. The
 * engine implements the copy service, its buffers and tickets and hands them to {@code
 * registerKvCaches}; a connector calls them from the worker thread or its own threads, and copy
 * tickets complete on the engine's copy streams.
 *
 * <p>Depends on {@code common} only.
 */
@NullMarked
package io.kvconnect.api.worker;

import org.jspecify.annotations.NullMarked;
