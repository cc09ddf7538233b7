package io.kvconnect.nixl;

import io.kvconnect.api.common.ConfigException;
import io.kvconnect.api.common.ConnectorConfig;
import io.kvconnect.api.common.EngineInfo;
import io.kvconnect.nixl.faults.TransportFaults;
import io.kvconnect.nixl.protocol.ReadRequest;
import io.kvconnect.nixl.protocol.SharedSecret;
import io.kvconnect.nixl.transport.ConnectOptions;
import io.kvconnect.nixl.transport.ListenOptions;
import io.kvconnect.nixl.transport.UcxTransport;
import java.time.Duration;
import java.util.Locale;

/**
 * The validated configuration of the nixl-like connector. Both engines of a pair must use the same
 * {@code secret}; everything else may differ per side.
 *
 * @param role what this engine does: produce KV for a remote decode, consume KV from a remote
 *     prefill, or both (the default; a request's transfer parameters then decide)
 * @param host the address the producer's workers listen on and put into transfer parameters;
 *     loopback by default, so nothing outside the machine can connect unless asked for
 * @param port the first worker's port; worker {@code r} listens on {@code port + r}; 0 picks free
 *     ports (the default), which the workers report to the scheduler side
 * @param leaseTimeout how long a producer keeps a finished prefill's blocks without a read or
 *     renewal from the decode side before freeing them
 * @param transport which transport to use ({@code auto} picks UCX when it is available, else TCP;
 *     {@code ucx} is refused where UCX does not work, naming why)
 * @param secret the shared secret both sides prove to each other on the handshake; required
 *     unless {@code insecureNoSecret}
 * @param insecureNoSecret whether the engine runs without a secret, as the configuration asked
 *     explicitly ({@code insecure_no_secret}): then anyone who can connect to a producer's port can
 *     handshake (and read the KV of any transfer whose parameters it sees), and anyone a consumer
 *     connects to can feed it KV
 * @param peers the hosts a consumer may read from: a transfer naming another {@code remote_host}
 *     fails its load before any connection (loopback by default)
 * @param connectTimeout bound on connecting and handshaking with a peer
 * @param ioTimeout bound on one read or notification round trip; a peer silent for longer is dead
 * @param handshakeTimeout producer: bound on a new connection's whole handshake
 * @param maxPendingHandshakes producer: connections handshaking at once per worker
 * @param exposeWait how long a reader retries a transfer the producer does not know yet (its
 *     metadata reaches the producer's workers one step after the response left)
 * @param chunkBlocks blocks per read request, and the slots of each staging buffer
 * @param readLanes consumer: loads run at once per worker, each from another producer, each lane
 *     with a staging buffer of {@code chunkBlocks} blocks ({@code read_lanes}, 4 by default): a
 *     silent producer holds one lane, not every load
 * @param verifyReads consumer, over UCX: whether each read's blocks are checked against a checksum
 *     the producer computed over its staging memory ({@code verify_reads}, on by default)
 * @param faults transport faults to inject on the connections this engine's workers serve (the
 *     optional {@code faults} object; a test and soak aid, none by default)
 */
record NixlConfig(
        Role role,
        String host,
        int port,
        Duration leaseTimeout,
        TransportKind transport,
        String secret,
        boolean insecureNoSecret,
        Peers peers,
        Duration connectTimeout,
        Duration ioTimeout,
        Duration handshakeTimeout,
        int maxPendingHandshakes,
        Duration exposeWait,
        int chunkBlocks,
        int readLanes,
        boolean verifyReads,
        TransportFaults faults) {

    /** What an engine does in a prefill/decode pair. */
    enum Role {
        PRODUCER,
        CONSUMER,
        BOTH;

        boolean produces() {
            return this != CONSUMER;
        }

        boolean consumes() {
            return this != PRODUCER;
        }
    }

    /** The transport choice. */
    enum TransportKind {
        AUTO,
        TCP,
        UCX
    }

    /**
     * Checks that one read of {@code chunk_blocks} blocks fits the TCP transport's data frame, whose
     * length is an int: a larger read could never be answered, so every load would fail. Called
     * when a side is created, with the engine's shape, so that such a configuration is refused at
     * start, naming the key and the largest value that fits.
     *
     * @param config the configuration this was parsed from, for the key's path in the message
     * @throws ConfigException if {@code chunk_blocks} blocks of this engine are 2 GiB or more
     */
    void checkChunkFits(ConnectorConfig config, EngineInfo engine) {
        if (transport == TransportKind.UCX) {
            return; // reads are memory descriptors there, not frames
        }
        long blockBytes = engine.blockSize()
                * engine.model().bytesPerTokenPerLayer(engine.tensorParallelSize())
                * engine.model().numLayers();
        long most = MAX_DATA_BYTES / blockBytes;
        if (chunkBlocks > most) {
            throw new ConfigException(
                    config.fieldPath("chunk_blocks"),
                    "is " + chunkBlocks + ": a read of that many blocks of " + blockBytes + " bytes (each"
                            + " worker's share) is 2 GiB or more, more than one data frame carries; allowed: at"
                            + " most " + most + " for this model");
        }
    }

    /** The most bytes one data frame carries: its length is an int. */
    static final long MAX_DATA_BYTES = Integer.MAX_VALUE;

    /** Every key the connector reads. */
    static final String[] KEYS = {
        "role",
        "host",
        "port",
        "lease_timeout",
        "transport",
        "secret",
        "insecure_no_secret",
        "peers",
        "connect_timeout",
        "io_timeout",
        "handshake_timeout",
        "max_pending_handshakes",
        "expose_wait",
        "chunk_blocks",
        "read_lanes",
        "verify_reads",
        "faults"
    };

    /** Reads and validates {@code config}; every error names its key and the allowed values. */
    static NixlConfig parse(ConnectorConfig config) {
        config.requireOnlyKeys(KEYS);
        Role role = config.getEnum("role", Role.class, Role.BOTH);
        String host = config.getString("host", "127.0.0.1").strip();
        if (host.isEmpty()) {
            throw new ConfigException(
                    config.fieldPath("host"),
                    "is empty; allowed: a host name or IP address " + "such as 127.0.0.1 (the default)");
        }
        int port = config.getInt("port", 0, 0, 65_000);
        Duration lease = config.getDuration(
                "lease_timeout", Duration.ofSeconds(30), Duration.ofMillis(10), Duration.ofHours(24));
        TransportKind transport = config.getEnum("transport", TransportKind.class, TransportKind.AUTO);
        if (transport == TransportKind.UCX && !UcxTransport.availability().available()) {
            // Refused here, at startup, rather than on the first transfer.
            throw new ConfigException(
                    config.fieldPath("transport"),
                    "'ucx' is not available on this machine: "
                            + UcxTransport.availability().reason() + "; allowed values: auto (UCX where available, "
                            + "else tcp), tcp, ucx");
        }
        String secret = config.getString("secret", "");
        boolean insecure = config.getBoolean("insecure_no_secret", false);
        checkSecret(config, role, secret, insecure);
        Peers peers = peers(config);
        Duration connect = config.getDuration(
                "connect_timeout", Duration.ofSeconds(5), Duration.ofMillis(10), Duration.ofMinutes(10));
        Duration io =
                config.getDuration("io_timeout", Duration.ofSeconds(10), Duration.ofMillis(10), Duration.ofMinutes(10));
        Duration handshake = config.getDuration(
                "handshake_timeout",
                ListenOptions.DEFAULT_HANDSHAKE_TIMEOUT,
                Duration.ofMillis(10),
                Duration.ofMinutes(10));
        int pending = config.getInt("max_pending_handshakes", ListenOptions.DEFAULT_MAX_PENDING_HANDSHAKES, 1, 4096);
        Duration exposeWait =
                config.getDuration("expose_wait", Duration.ofSeconds(10), Duration.ofMillis(1), Duration.ofMinutes(10));
        int chunk = config.getInt("chunk_blocks", 64, 1, ReadRequest.MAX_BLOCKS);
        int lanes = config.getInt("read_lanes", 4, 1, 64);
        boolean verifyReads = config.getBoolean("verify_reads", true);
        TransportFaults faults =
                config.getObject("faults").map(TransportFaults::parse).orElse(TransportFaults.NONE);
        return new NixlConfig(
                role,
                host,
                port,
                lease,
                transport,
                secret,
                insecure,
                peers,
                connect,
                io,
                handshake,
                pending,
                exposeWait,
                chunk,
                lanes,
                verifyReads,
                faults);
    }

    /**
     * Refuses to run without a secret unless the configuration opts out explicitly, and refuses
     * both at once (which one was meant is unclear).
     */
    private static void checkSecret(ConnectorConfig config, Role role, String secret, boolean insecure) {
        if (!secret.isEmpty() && insecure) {
            throw new ConfigException(
                    config.fieldPath("insecure_no_secret"),
                    "is true while a 'secret' is set; "
                            + "remove insecure_no_secret (the secret is used) or the secret");
        }
        if (secret.isEmpty() && !insecure) {
            String risk = role.produces()
                    ? "without it any process that can connect to this engine's workers could read their KV blocks "
                            + "and end other requests' transfers"
                    : "without it any process this engine connects to could feed it KV";
            throw new ConfigException(
                    config.fieldPath("secret"),
                    "is required for role '"
                            + role.name().toLowerCase(Locale.ROOT) + "': " + risk + ". Set the same long random "
                            + "string as 'secret' on both engines (for example the output of 'openssl rand -hex 32'), or "
                            + "set \"insecure_no_secret\": true to run without one (anyone on the host can then connect, "
                            + "and read the KV of any transfer whose parameters it sees)");
        }
    }

    private static Peers peers(ConnectorConfig config) {
        if (!config.has("peers")) {
            return Peers.LOOPBACK;
        }
        var list = config.getStringList("peers");
        if (list.isEmpty()) {
            throw new ConfigException(
                    config.fieldPath("peers"),
                    "is empty; allowed: the host names or IP addresses "
                            + "of the prefill engines this engine may read from, such as [\"127.0.0.1\"] (loopback only, "
                            + "the default when the key is absent)");
        }
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i).isBlank()) {
                throw new ConfigException(
                        config.fieldPath("peers") + "[" + i + "]", "is empty; allowed: a host " + "name or IP address");
            }
        }
        return new Peers(list);
    }

    /** The listener options of a producer's worker. */
    ListenOptions listenOptions() {
        return new ListenOptions(SharedSecret.of(secret), handshakeTimeout, maxPendingHandshakes);
    }

    /** The connection options of a consumer's worker. */
    ConnectOptions connectOptions() {
        return new ConnectOptions(SharedSecret.of(secret), connectTimeout, ioTimeout, chunkBlocks, verifyReads);
    }

    /** As the record's but without the secret, so the configuration can be logged. */
    @Override
    public String toString() {
        return "NixlConfig[role=" + role + ", host=" + host + ", port=" + port + ", leaseTimeout=" + leaseTimeout
                + ", transport=" + transport + ", secret=" + (secret.isEmpty() ? "(none)" : "(redacted)")
                + ", insecureNoSecret=" + insecureNoSecret + ", peers=[" + peers + "], connectTimeout="
                + connectTimeout + ", ioTimeout=" + ioTimeout + ", handshakeTimeout=" + handshakeTimeout
                + ", maxPendingHandshakes=" + maxPendingHandshakes + ", exposeWait=" + exposeWait + ", chunkBlocks="
                + chunkBlocks + ", readLanes=" + readLanes + ", verifyReads=" + verifyReads + ", faults=" + faults
                + "]";
    }
}
