/**
 * Transport fault injection, a test and soak aid: {@link io.kvconnect.nixl.faults.TransportFaults}
 * (the configuration's optional {@code faults} object) and {@link
 * io.kvconnect.nixl.faults.FaultyTransport}, a transport that puts a frame-aware relay in front of
 * another one's listener and drops, cuts short, delays or kills frames of the connections a
 * producer serves. Off unless configured; never for serving.
 *
 * <p>The relay runs threads of its own (an acceptor and two per relayed connection); the counts of
 * injected faults go to the worker's stats on the engine's worker thread.
 *
 * <p>Depends on {@link io.kvconnect.nixl.transport} and {@link io.kvconnect.nixl.protocol}. Only
 * the connector package depends on it, where it wires it in: the configuration parses the faults
 * and the backend choice wraps the real backend when any are configured.
 */
package io.kvconnect.nixl.faults;
