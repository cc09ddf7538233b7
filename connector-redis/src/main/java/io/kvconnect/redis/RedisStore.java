package io.kvconnect.redis;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SetArgs;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.SslOptions;
import io.lettuce.core.SslVerifyMode;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.protocol.ConnectionIntent;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * One side's connection to Redis (standalone or cluster), through Lettuce. Thread-safe: commands
 * may be issued from any thread; their futures complete on Lettuce's I/O threads.
 *
 * <p><b>Never blocks, never stalls.</b> The connection is opened in the background: until it is
 * up (and whenever Lettuce has lost it and is reconnecting), every command fails at once with a
 * connection error rather than queueing. Every command that was sent fails after the configured
 * timeout if Redis does not answer (down, paused, slow), and the client's queue of commands in
 * flight is bounded. A failed first connection is retried every {@link #RETRY_MILLIS} ms, so a
 * Redis started after the engine is found.
 */
final class RedisStore implements AutoCloseable {
    static final long RETRY_MILLIS = 500;

    /** How a command failed, for the error counters. */
    enum ErrorKind {
        /** No answer within the timeout. */
        TIMEOUT,
        /** Not connected, connection lost or refused, authentication refused. */
        CONNECTION,
        /** Redis answered with an error (such as OOM when full without eviction). */
        SERVER,
        /** Anything else. */
        OTHER;

        /** {@return the counter name suffix} */
        String counter() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        static ErrorKind of(Throwable t) {
            Throwable c = t;
            while (c instanceof java.util.concurrent.CompletionException && c.getCause() != null) {
                c = c.getCause();
            }
            if (c instanceof RedisCommandTimeoutException) {
                return TIMEOUT;
            }
            if (c instanceof RedisConnectionException || c instanceof NotConnected) {
                return CONNECTION;
            }
            if (c instanceof RedisCommandExecutionException) {
                return SERVER;
            }
            String m = String.valueOf(c.getMessage());
            // Lettuce says "Currently not connected. Commands are rejected." while (re)connecting.
            String lower = m.toLowerCase(java.util.Locale.ROOT);
            return lower.contains("connect") || lower.contains("closed") ? CONNECTION : OTHER;
        }
    }

    /** The command was not sent: no connection yet. */
    static final class NotConnected extends RuntimeException {
        private static final long serialVersionUID = 1L;

        NotConnected() {
            super("not connected to Redis", null, false, false);
        }
    }

    private final ClientResources resources;
    private final io.lettuce.core.AbstractRedisClient client;
    private final boolean cluster;
    private final List<RedisURI> uris;
    private volatile StatefulConnection<byte[], byte[]> connection;
    private volatile RedisClusterAsyncCommands<byte[], byte[]> commands;
    private volatile boolean closed;

    RedisStore(RedisConfig config, String clientName) {
        this.resources = DefaultClientResources.builder()
                .ioThreadPoolSize(2)
                .computationThreadPoolSize(1)
                .build();
        this.cluster = config.cluster();
        this.uris = new ArrayList<>();
        for (RedisConfig.Server s : config.servers()) {
            RedisURI.Builder b = RedisURI.builder()
                    .withHost(s.host())
                    .withPort(s.port())
                    // Lettuce bounds a connection's set-up (TLS and authentication handshakes
                    // included) by this; commands by the timeout options below.
                    .withTimeout(config.connectTimeout())
                    .withClientName(clientName)
                    .withSsl(config.tls());
            if (config.tls()) {
                b.withVerifyPeer(
                        switch (config.tlsVerify()) {
                            case FULL -> SslVerifyMode.FULL;
                            case CA -> SslVerifyMode.CA;
                            case NONE -> SslVerifyMode.NONE;
                        });
            }
            if (config.password().isPresent()) {
                char[] pw = config.password().get().chars();
                if (config.user().isPresent()) {
                    b.withAuthentication(config.user().get(), pw);
                } else {
                    b.withPassword(pw);
                }
            }
            uris.add(b.build());
        }
        SocketOptions socket = SocketOptions.builder()
                .connectTimeout(config.connectTimeout())
                .keepAlive(true)
                .build();
        TimeoutOptions timeouts = TimeoutOptions.enabled(config.timeout());
        SslOptions ssl = config.tlsCaFile()
                .map(ca -> SslOptions.builder()
                        .jdkSslProvider()
                        .trustManager(ca.toFile())
                        .build())
                .orElseGet(() -> SslOptions.builder().jdkSslProvider().build());
        // Bounded: beyond it a command fails at once ("request queue size exceeded").
        int queue = Math.max(64, config.maxInFlight() * 2);
        if (cluster) {
            RedisClusterClient c = RedisClusterClient.create(resources, uris);
            c.setOptions(ClusterClientOptions.builder()
                    .autoReconnect(true)
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .timeoutOptions(timeouts)
                    .socketOptions(socket)
                    .sslOptions(ssl)
                    .requestQueueSize(queue)
                    .build());
            this.client = c;
        } else {
            io.lettuce.core.RedisClient c = io.lettuce.core.RedisClient.create(resources);
            c.setOptions(ClientOptions.builder()
                    .autoReconnect(true)
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .timeoutOptions(timeouts)
                    .socketOptions(socket)
                    .sslOptions(ssl)
                    .requestQueueSize(queue)
                    .build());
            this.client = c;
        }
        // The first attempt is awaited (at most the connect timeout), so that an engine whose
        // Redis is up uses it from its first step; a failed attempt is retried in the background.
        try {
            connect().toCompletableFuture().get(config.connectTimeout().toMillis() + 500, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            // Down or slow: commands fail until a retry connects.
        }
    }

    /** {@return whether a connection is up (Lettuce may still be reconnecting it)} */
    boolean connected() {
        StatefulConnection<byte[], byte[]> c = connection;
        return c != null && c.isOpen();
    }

    /** {@return the number of keys of {@code keys} that exist} All keys must share a cluster slot. */
    CompletableFuture<Long> exists(byte[][] keys) {
        RedisClusterAsyncCommands<byte[], byte[]> c = commands;
        if (c == null) {
            return CompletableFuture.failedFuture(new NotConnected());
        }
        return c.exists(keys).toCompletableFuture();
    }

    /**
     * {@return at most the first {@code maxBytes + 1} bytes of the value of {@code key}: empty if
     * absent (or empty)} One byte more than the caller accepts, so that a longer value shows as
     * longer.
     *
     * <p>Why not {@code GET}: a value is whatever any client of the server wrote, up to 512 MB, and
     * the client holds a reply whole in memory before anyone can look at it. With every load
     * reading {@code max_in_flight} values at once, oversized values under the keys an engine
     * reads would take its memory without bound; {@code GETRANGE} never sends more than asked.
     */
    CompletableFuture<byte[]> getAtMost(byte[] key, int maxBytes) {
        RedisClusterAsyncCommands<byte[], byte[]> c = commands;
        if (c == null) {
            return CompletableFuture.failedFuture(new NotConnected());
        }
        return c.getrange(key, 0, maxBytes).toCompletableFuture();
    }

    /**
     * {@return whether {@code error} is Redis refusing a command because the key holds another type
     * (a list, a hash ...) than a string} Such a key was not written by this tier.
     */
    static boolean wrongType(Throwable error) {
        Throwable c = error;
        while (c instanceof java.util.concurrent.CompletionException && c.getCause() != null) {
            c = c.getCause();
        }
        return c instanceof RedisCommandExecutionException
                && String.valueOf(c.getMessage()).startsWith("WRONGTYPE");
    }

    /** Sets {@code key} to {@code value}. */
    CompletableFuture<String> set(byte[] key, byte[] value) {
        RedisClusterAsyncCommands<byte[], byte[]> c = commands;
        if (c == null) {
            return CompletableFuture.failedFuture(new NotConnected());
        }
        return c.set(key, value, new SetArgs()).toCompletableFuture();
    }

    /** Removes {@code key} (UNLINK); the outcome is not awaited by anyone. */
    CompletableFuture<Long> unlink(byte[] key) {
        RedisClusterAsyncCommands<byte[], byte[]> c = commands;
        if (c == null) {
            return CompletableFuture.failedFuture(new NotConnected());
        }
        return c.unlink(key).toCompletableFuture();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        StatefulConnection<byte[], byte[]> c = connection;
        if (c != null) {
            c.closeAsync();
        }
        client.shutdown(0, 2, TimeUnit.SECONDS);
        try {
            // Lettuce's threads end before the engine goes on shutting down.
            java.util.concurrent.Future<?> down = resources.shutdown(0, 2, TimeUnit.SECONDS);
            down.get(3, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            // Best effort: its threads are daemons.
        }
    }

    private CompletionStage<?> connect() {
        if (closed) {
            return CompletableFuture.completedFuture(null);
        }
        CompletionStage<? extends StatefulConnection<byte[], byte[]>> future = cluster
                ? connectCluster((RedisClusterClient) client)
                : ((io.lettuce.core.RedisClient) client).connectAsync(ByteArrayCodec.INSTANCE, uris.getFirst());
        return future.whenComplete((conn, error) -> {
            if (error != null) {
                if (!closed) {
                    CompletableFuture.runAsync(
                            this::connect, CompletableFuture.delayedExecutor(RETRY_MILLIS, TimeUnit.MILLISECONDS));
                }
                return;
            }
            if (closed) {
                conn.closeAsync();
                return;
            }
            connection = conn;
            commands = switch (conn) {
                case StatefulRedisClusterConnection<byte[], byte[]> cc -> cc.async();
                case StatefulRedisConnection<byte[], byte[]> sc -> sc.async();
                default -> throw new IllegalStateException("unexpected connection " + conn.getClass());
            };
        });
    }

    /**
     * Loads the cluster's topology from the seed nodes, connects (the client needs both), then
     * opens the connection to every master. The client opens a node's connection only on the first
     * command for that node, and with commands rejected while disconnected, the commands sent while
     * it opens would fail: the first lookups and stores of an engine would be lost for nothing.
     * A node that cannot be reached now is left to the client's reconnects.
     */
    private static CompletionStage<StatefulRedisClusterConnection<byte[], byte[]>> connectCluster(
            RedisClusterClient c) {
        return c.refreshPartitionsAsync()
                .thenCompose(ignored -> c.connectAsync(ByteArrayCodec.INSTANCE))
                .thenCompose(conn -> {
                    List<CompletableFuture<?>> nodes = new ArrayList<>();
                    for (RedisClusterNode node : conn.getPartitions()) {
                        if (node.is(RedisClusterNode.NodeFlag.UPSTREAM)) {
                            // Reads go to the masters too (no ReadFrom is set), over the same
                            // connections as writes: one per master is all the client uses.
                            nodes.add(conn.getConnectionAsync(
                                    node.getUri().getHost(), node.getUri().getPort(), ConnectionIntent.WRITE));
                        }
                    }
                    return CompletableFuture.allOf(nodes.toArray(CompletableFuture[]::new))
                            .handle((done, error) -> conn);
                });
    }
}
