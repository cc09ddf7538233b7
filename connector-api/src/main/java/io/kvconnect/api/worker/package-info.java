/**
 * The worker-side role ({@link io.kvconnect.api.worker.WorkerConnector}), the layout of the KV cache
 * a worker registers ({@link io.kvconnect.api.worker.KvLayout}) and the block-copy service through
 * which a connector moves KV between GPU blocks and host buffers ({@link
 * io.kvconnect.api.worker.BlockCopyService}). No CUDA type appears here: a connector never touches
 * device memory itself.
 *
 * <p>A worker connector is called on its worker's thread; copy tickets complete on the engine's
 * copy streams. Depends on {@code common} only.
 */
package io.kvconnect.api.worker;
