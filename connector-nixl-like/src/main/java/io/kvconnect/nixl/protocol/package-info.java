/**
 * The nixl-like wire protocol, independent of any backend: the frame format and the registry of
 * message types ({@link io.kvconnect.nixl.protocol.Frames}), a framed connection with bounded waits
 * ({@link io.kvconnect.nixl.protocol.Wire}), the mutual authentication and compatibility check that
 * opens every connection ({@link io.kvconnect.nixl.protocol.Handshake} with {@link
 * io.kvconnect.nixl.protocol.SharedSecret} and {@link io.kvconnect.nixl.protocol.Compat}), the
 * request payloads ({@link io.kvconnect.nixl.protocol.ReadRequest}, {@link
 * io.kvconnect.nixl.protocol.TransferRef}) and the failure kinds that cross the wire ({@link
 * io.kvconnect.nixl.protocol.TransferException}).
 *
 * <p>Both sides use it: a reader on one of the consumer worker's read lanes, a producer on its
 * listener's connection threads. Everything here is immutable or stateless, except a {@code Wire},
 * which one thread uses at a time.
 *
 * <p>The bottom of the module's packages: it depends on the connector API and the JDK only, and
 * every other package of the module may use it. The module exports nothing, so its public types
 * are visible inside the module only.
 */
package io.kvconnect.nixl.protocol;
