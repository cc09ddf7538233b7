package io.kvconnect.api.common;

import io.kvconnect.api.Stability;

/**
 * What one worker side tells the scheduler side once, before the first step: what peers need to
 * reach this worker's transport (an address, a port, agent metadata). The counterpart of the
 * reference engine's {@code KVConnectorHandshakeMetadata}.
 *
 * <p>Each worker returns at most one from {@code WorkerConnector.handshakeMetadata}, right after
 * it registered its KV cache; the engine hands every rank's value, by rank and as returned, to
 * {@code SchedulerConnector.setHandshakeMetadata}. Unlike {@link WorkerMetadata}, it is never
 * aggregated, so it has no {@code aggregate}: the scheduler side sees each rank's own value.
 *
 * <p>Each connector defines its own implementation and casts to it on the scheduler side; the
 * engine never inspects it. It crosses from the worker threads to the scheduler thread, so an
 * implementation must be immutable (a record of immutable values is the usual shape).
 */
@Stability(value = Stability.Level.EVOLVING, since = "0.1")
public interface HandshakeMetadata {}
