/**
 * The {@code nixl-like} connector: prefill/decode disaggregation. {@link
 * io.kvconnect.nixl.NixlConnectorProvider} (the plugin's one entry point, found by {@code
 * ServiceLoader}) reads the configuration ({@code NixlConfig}) and creates the two sides. The
 * scheduler side ({@code NixlScheduler}, on the engine's scheduler thread) keeps a finished
 * prefill's blocks, draws the transfer's id and token and returns the transfer parameters ({@code
 * RemoteParams}); on the decode engine it plans the loads. Each step's plan reaches the workers as
 * {@code NixlMetadata}, and the producer workers' ports reach the scheduler side as {@code
 * PortsMetadata}. The worker side ({@code NixlWorker}, one per rank) serves reads of its blocks
 * under a lease, on the transport's connection threads, and runs loads on read lanes of its own
 * ({@code ReadLanes}: a bounded set of threads, one producer's loads in order on one of them);
 * engine hooks arrive on the engine's worker thread. {@code Transports} picks the backend and
 * {@code Peers} is the consumer's allowlist of producer hosts.
 *
 * <p>The top of the module's packages: it uses {@link io.kvconnect.nixl.transport} and {@link
 * io.kvconnect.nixl.protocol}, and {@link io.kvconnect.nixl.faults} only where it wires faults in
 * ({@code NixlConfig} reads the {@code faults} object, {@code Transports} wraps the backend).
 * Nothing in the module depends on this package, and nothing outside it does: the module exports
 * nothing, and everything here but the provider is package-private.
 */
package io.kvconnect.nixl;
