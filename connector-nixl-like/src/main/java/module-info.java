/**
 * Connector plugin: prefill/decode disaggregation over a real transport (connector name {@code
 * nixl-like}).
 *
 * <p>A router sends a request to the prefill engine with {@code do_remote_decode: true} in its
 * transfer parameters and one output token. When it finishes, the prefill engine keeps its blocks
 * under a lease and returns transfer parameters (engine id, host, ports, block ids, request id,
 * transfer id, transfer token, block size, tensor-parallel size). The router sends the request
 * with them to the decode engine, whose workers pull the blocks with one-sided reads from the
 * prefill engine's workers, then decode. Each read renews the lease; the reader's done
 * notification, or the lease's expiry, frees the blocks. A read after expiry fails visibly on the
 * decode side (a load failure handled by the engine's load-failure policy), never as stale KV.
 *
 * <p><b>Peers.</b> Both sides of every connection prove the shared {@code secret} to each other
 * (HMAC-SHA256 over both sides' random challenges) before either sends anything but a nonce;
 * compatibility fields follow under MACs. A producer serves a read or takes a done notification
 * only with the transfer's token (128 random bits that travel only in the transfer parameters).
 * A reader connects only to hosts in {@code peers}, and over UCX takes only the messages its
 * reads posted receives for, each of exactly the bytes asked for. A producer handshakes a bounded number
 * of connections at once, each within a bounded time, and refuses oversized handshake frames on
 * their header. Nothing is encrypted: see the project's security notes for what is and is not
 * defended.
 *
 * <p>Configuration keys: {@code role} ({@code producer}, {@code consumer} or {@code both}, the
 * default), {@code host} (default {@code 127.0.0.1}), {@code port} (first worker's port; 0, the
 * default, picks free ports), {@code lease_timeout} (default {@code 30s}), {@code transport}
 * ({@code auto}, the default: UCX through JUCX where its native library loads, else TCP; {@code
 * tcp}; {@code ucx}, refused at startup where UCX does not work), {@code secret} (the shared secret
 * both engines prove on the handshake; required: an engine without one refuses to start), {@code
 * insecure_no_secret} (false; true runs without a secret, logging a warning that anyone on the
 * host can read KV; refused together with a secret), {@code peers} (the hosts a consumer may read
 * from, matched without name lookups; default {@code ["127.0.0.1", "::1", "localhost"]}), {@code
 * connect_timeout} (5s), {@code io_timeout} (10s), {@code handshake_timeout} (5s: a producer closes
 * a connection that has not completed its handshake by then), {@code max_pending_handshakes} (64:
 * handshakes a producer's worker runs at once; beyond it a new connection closes the oldest
 * pending one), {@code expose_wait} (10s) and {@code chunk_blocks} (blocks per read, 64). A {@code
 * faults} object ({@code drop}, {@code truncate}, {@code delay}, {@code delay_ms}, {@code kill},
 * {@code seed}, {@code only_type}) injects transport faults into the connections a producer
 * serves: a test and soak aid, off by default, never for serving.
 *
 * <p><b>Packages.</b> {@code io.kvconnect.nixl} is the connector: the provider, the configuration,
 * the scheduler and worker sides. {@code io.kvconnect.nixl.transport} holds the backends (TCP and
 * UCX) behind one interface, {@code io.kvconnect.nixl.protocol} the wire protocol (frames,
 * handshake, compatibility fields) independent of either backend, and {@code
 * io.kvconnect.nixl.faults} the fault-injecting transport wrapper. Dependencies go one way: the
 * connector on transport and protocol, transport on protocol, faults on transport and protocol;
 * only the connector package uses faults, where it wires them in.
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

    provides io.kvconnect.api.ConnectorProvider with
            io.kvconnect.nixl.NixlConnectorProvider;
}
