package io.kvconnect.redis;

import io.kvconnect.api.common.ConfigException;
import io.kvconnect.api.common.ConnectorConfig;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The validated configuration of the redis connector. Its {@code toString} never shows the
 * password.
 *
 * @param servers the servers: one for a standalone Redis, one or more seed nodes for a cluster
 * @param cluster whether {@code servers} are nodes of a Redis Cluster
 * @param user the ACL user, if any
 * @param password the password, if any (from {@code password} or the variable {@code password_env} names)
 * @param tls whether connections use TLS
 * @param tlsCaFile PEM file of the certificate authorities trusted for TLS; empty: the JDK's
 * @param tlsVerify how far the server's certificate is checked
 * @param timeout the longest wait for any one command, after which it fails (and counts as a miss)
 * @param connectTimeout the longest wait for a connection
 * @param namespace an operator's label added to the key namespace, to keep deployments apart
 * @param maxInFlight the most commands one side keeps in flight; beyond it, stores are dropped and
 *     loads fail
 * @param stagingBlocks host slots per worker through which blocks move between the KV cache and Redis
 * @param maxLookupBlocks the most blocks one lookup asks about
 * @param valueSecret the key of the values' MAC, if any (from {@code value_secret} or the variable
 *     {@code value_secret_env} names); see {@link ValueSeal}
 */
record RedisConfig(
        List<Server> servers,
        boolean cluster,
        Optional<String> user,
        Optional<Secret> password,
        boolean tls,
        Optional<Path> tlsCaFile,
        TlsVerify tlsVerify,
        Duration timeout,
        Duration connectTimeout,
        String namespace,
        int maxInFlight,
        int stagingBlocks,
        int maxLookupBlocks,
        Optional<Secret> valueSecret) {

    /** The fewest characters of a value secret: a short one can be guessed offline from one value. */
    static final int MIN_VALUE_SECRET_CHARS = 16;

    /** A server's address. */
    record Server(String host, int port) {
        @Override
        public String toString() {
            return host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
        }
    }

    /** How the server's certificate is checked. */
    enum TlsVerify {
        /** The chain and the host name. */
        FULL,
        /** The chain only. */
        CA,
        /** Nothing: tests with throw-away certificates only. */
        NONE
    }

    static final Duration DEFAULT_TIMEOUT = Duration.ofMillis(500);

    /**
     * Reads and validates {@code config}; every error names its key and the allowed values, never
     * a password. {@code env} resolves {@code password_env} (the process environment in service).
     */
    static RedisConfig parse(ConnectorConfig config, Function<String, String> env) {
        config.requireOnlyKeys(
                "servers",
                "cluster",
                "user",
                "password",
                "password_env",
                "tls",
                "tls_ca_file",
                "tls_verify",
                "timeout",
                "connect_timeout",
                "namespace",
                "max_in_flight",
                "staging_blocks",
                "max_lookup_blocks",
                "value_secret",
                "value_secret_env");
        if (!config.has("servers")) {
            throw new ConfigException(
                    config.fieldPath("servers"),
                    "is required: a list of host:port addresses (one for a standalone Redis, seed nodes of a "
                            + "cluster), such as [\"127.0.0.1:6379\"]");
        }
        List<String> given = config.getStringList("servers");
        if (given.isEmpty()) {
            throw new ConfigException(config.fieldPath("servers"), "is empty; allowed: one or more host:port");
        }
        List<Server> servers = new ArrayList<>();
        for (String s : given) {
            servers.add(server(config, s));
        }
        boolean cluster = config.getBoolean("cluster", false);
        if (!cluster && servers.size() > 1) {
            throw new ConfigException(
                    config.fieldPath("servers"),
                    "names " + servers.size() + " servers but cluster is false; allowed: one server, or "
                            + "cluster: true with the cluster's seed nodes");
        }
        Optional<String> user = Optional.ofNullable(config.getString("user", null));
        Optional<Secret> password = secret(config, env, "password");
        if (user.isPresent() && password.isEmpty()) {
            throw new ConfigException(
                    config.fieldPath("user"), "is set without password or password_env; an ACL user needs both");
        }
        boolean tls = config.getBoolean("tls", false);
        Optional<Path> ca =
                Optional.ofNullable(config.getString("tls_ca_file", null)).map(Path::of);
        if (ca.isPresent() && !Files.isReadable(ca.get())) {
            throw new ConfigException(
                    config.fieldPath("tls_ca_file"), ca.get() + " is not a readable file; allowed: a PEM file");
        }
        if (!tls && (ca.isPresent() || config.has("tls_verify"))) {
            throw new ConfigException(config.fieldPath("tls"), "is false but TLS options are set; set tls: true");
        }
        TlsVerify verify = config.getEnum("tls_verify", TlsVerify.class, TlsVerify.FULL);
        Duration timeout = config.getDuration("timeout", DEFAULT_TIMEOUT, Duration.ofMillis(1), Duration.ofMinutes(1));
        Duration connect = config.getDuration(
                "connect_timeout", Duration.ofSeconds(2), Duration.ofMillis(1), Duration.ofMinutes(1));
        String namespace = config.getString("namespace", "");
        if (!namespace.matches("[A-Za-z0-9._-]{0,64}")) {
            throw new ConfigException(
                    config.fieldPath("namespace"),
                    "is \"" + namespace + "\"; allowed: up to 64 letters, digits, '.', '_' and '-'");
        }
        int inFlight = config.getInt("max_in_flight", 1024, 1, 1 << 20);
        int staging = config.getInt("staging_blocks", 256, 2, 1 << 20);
        int lookup = config.getInt("max_lookup_blocks", 4096, 1, 1 << 20);
        Optional<Secret> valueSecret = secret(config, env, "value_secret");
        if (valueSecret.isPresent() && valueSecret.get().length() < MIN_VALUE_SECRET_CHARS) {
            String key = config.has("value_secret") ? "value_secret" : "value_secret_env";
            throw new ConfigException(
                    config.fieldPath(key),
                    "is shorter than " + MIN_VALUE_SECRET_CHARS + " characters; allowed: a long random string shared"
                            + " by the engines of the deployment (for example the output of 'openssl rand -hex 32')");
        }
        return new RedisConfig(
                List.copyOf(servers),
                cluster,
                user,
                password,
                tls,
                ca,
                verify,
                timeout,
                connect,
                namespace,
                inFlight,
                staging,
                lookup,
                valueSecret);
    }

    /**
     * The secret under {@code key} or in the environment variable {@code key_env} names; at most
     * one of the two. Messages never show the value.
     */
    private static Optional<Secret> secret(ConnectorConfig config, Function<String, String> env, String key) {
        String envKey = key + "_env";
        if (config.has(key) && config.has(envKey)) {
            throw new ConfigException(
                    config.fieldPath(envKey), "is set together with " + key + "; allowed: one of the two");
        }
        if (config.has(key)) {
            return Optional.of(new Secret(config.requireString(key)));
        }
        if (!config.has(envKey)) {
            return Optional.empty();
        }
        String name = config.requireString(envKey);
        String value = env.apply(name);
        if (value == null || value.isEmpty()) {
            throw new ConfigException(
                    config.fieldPath(envKey), "names the environment variable " + name + ", which is not set or empty");
        }
        return Optional.of(new Secret(value));
    }

    /** {@link #parse(ConnectorConfig, Function)} with the process environment. */
    static RedisConfig parse(ConnectorConfig config) {
        Map<String, String> env = System.getenv();
        return parse(config, env::get);
    }

    private static Server server(ConnectorConfig config, String s) {
        try {
            URI uri = new URI("redis://" + s);
            if (uri.getHost() == null
                    || uri.getPort() <= 0
                    || uri.getUserInfo() != null
                    || !uri.getRawPath().isEmpty()
                    || uri.getRawQuery() != null) {
                throw new URISyntaxException(s, "not host:port");
            }
            String host = uri.getHost();
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            return new Server(host, uri.getPort());
        } catch (URISyntaxException e) {
            // Never echo the value: a URL with credentials in it would end up in a log.
            throw new ConfigException(
                    config.fieldPath("servers"),
                    "has an entry that is not host:port (credentials belong in user and password or password_env)");
        }
    }
}
