/**
 * Moving KV blocks between a producer's and a consumer's workers: the backend contract ({@link
 * io.kvconnect.nixl.transport.Transport}, with {@link io.kvconnect.nixl.transport.Listener} on the
 * producer, {@link io.kvconnect.nixl.transport.Peer} on the consumer and {@link
 * io.kvconnect.nixl.transport.BlockSource}, the producer worker's side of a read, and {@link
 * io.kvconnect.nixl.transport.DirectSend}, a read written from the KV cache), its options
 * ({@link io.kvconnect.nixl.transport.ListenOptions}, {@link
 * io.kvconnect.nixl.transport.ConnectOptions}) and the two backends: {@link
 * io.kvconnect.nixl.transport.TcpTransport} (plain Java sockets) and {@link
 * io.kvconnect.nixl.transport.UcxTransport} (tagged messages through JUCX, on the TCP backend's
 * control connection).
 *
 * <p>Threads: the engine's worker thread starts a listener; its acceptor, one thread per connection
 * and, for UCX, a progress thread serve reads by calling the {@code BlockSource}; a consumer's
 * read lanes use {@code Peer}s, each one lane at a time. Counts of handshake outcomes ({@link
 * io.kvconnect.nixl.transport.EventCounters}) go to the worker's stats on the engine's worker
 * thread.
 *
 * <p>Depends on {@link io.kvconnect.nixl.protocol} (and the connector API, JUCX and SLF4J), never on
 * the connector package or on {@link io.kvconnect.nixl.faults}; the connector package and the
 * fault injection use it.
 */
package io.kvconnect.nixl.transport;
