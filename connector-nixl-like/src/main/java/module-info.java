/**
 * Connector plugin: prefill/decode disaggregation over a real transport (connector name {@code
 * nixl-like}).
 *
 * <p>A router sends a request to the prefill engine with {@code do_remote_decode: true} in its
 * transfer parameters and one output token. When it finishes, the prefill engine keeps its blocks
 * under a lease and returns transfer parameters (engine id, host, ports, block ids, request id,
 * transfer id, block size, tensor-parallel size). The router sends the request with them to the
 * decode engine, whose workers pull the blocks with one-sided reads from the prefill engine's
 * workers, then decode. Each read renews the lease; the reader's done notification, or the lease's
 * expiry, frees the blocks. A read after expiry fails visibly on the decode side (a load failure
 * handled by the engine's load-failure policy), never as stale KV.
 *
 * <p>Configuration keys: {@code role} ({@code producer}, {@code consumer} or {@code both}, the
 * default), {@code host} (default {@code 127.0.0.1}), {@code port} (first worker's port; 0, the
 * default, picks free ports), {@code lease_timeout} (default {@code 30s}), {@code transport}
 * ({@code auto}, the default: UCX through JUCX where its native library loads, else TCP; {@code
 * tcp}; {@code ucx}, refused at startup where UCX does not work), {@code
 * secret} (shared secret proved on the handshake; empty disables the check), {@code
 * connect_timeout} (5s), {@code io_timeout} (10s), {@code expose_wait} (10s) and {@code
 * chunk_blocks} (blocks per read, 64). A {@code faults} object ({@code drop}, {@code truncate},
 * {@code delay}, {@code delay_ms}, {@code kill}, {@code seed}) injects transport faults into the
 * connections a producer serves: a test and soak aid, off by default, never for serving.
 *
 * <p>Like every plugin module it requires the connector API (and SLF4J for logging) and exports
 * nothing; it also requires JUCX ({@code jucx}, an automatic module: the jar has no module name),
 * the Java binding of UCX, for its UCX backend. The jar holds only Java classes and a JNI library
 * linking against the system's UCX; without UCX installed it loads but the backend reports itself
 * unavailable.
 */
// JUCX ships no module name (an automatic module): accepted deliberately, see above.
@SuppressWarnings("requires-automatic")
module kvconnect.nixl {
    requires kvconnect.api;
    requires org.slf4j;
    requires jucx;

    provides io.kvconnect.api.ConnectorProvider with io.kvconnect.nixl.NixlConnectorProvider;
}
