package io.kvconnect.nixl.protocol;

import io.kvconnect.api.worker.KvLayout;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What two workers must agree on before blocks move between them, exchanged on the handshake,
 * plus the agent's identity (engine id and rank, which are checked but not compared as
 * compatibility fields).
 *
 * <p>The fields: the wire protocol version, the connector version, the model's name, layers, KV
 * heads, head dim and dtype, the block size, the tensor-parallel size, the bytes of one block on
 * one rank and the wire layout. Blocks travel in the API's canonical form (token-major per layer,
 * {@link KvLayout}), which every engine layout produces and accepts, so the engines' own memory
 * layouts (per layer or cross layer) may differ; the wire layout names that canonical form so a
 * future raw-layout transfer cannot pair with this one. {@link #hash()} is a SHA-256 over the
 * fields, logged on both sides; when hashes differ, {@link #mismatch} says which field differs.
 *
 * <p>One informational field travels too and is not compared: {@code transport}, the backend the
 * sender runs ({@code tcp} or {@code ucx}). Both backends speak the same control protocol, so a
 * UCX reader uses plain TCP data with a TCP-only producer instead of failing.
 *
 * @param engineId the agent's engine id
 * @param rank the agent's tensor-parallel rank
 * @param fields the compatibility fields, in a fixed order
 */
public record Compat(String engineId, int rank, Map<String, String> fields) {
    /** The version of the wire protocol ({@link Frames} and its {@link Handshake}). */
    static final String PROTOCOL = "nixl-like-tcp/" + Handshake.VERSION;

    /** The one wire layout there is: the API's canonical block form. */
    static final String WIRE_LAYOUT = "canonical-token-major";

    public Compat {
        fields = Map.copyOf(new LinkedHashMap<>(fields));
    }

    /**
     * The fields of a worker with {@code layout} running {@code connectorVersion} of the connector
     * (the provider's version: both sides must run the same one).
     */
    public static Compat of(String engineId, String connectorVersion, KvLayout layout) {
        var f = new LinkedHashMap<String, String>();
        f.put("protocol", PROTOCOL);
        f.put("connector_version", connectorVersion);
        f.put("model", layout.model().name());
        f.put("num_layers", Integer.toString(layout.model().numLayers()));
        f.put("num_kv_heads", Integer.toString(layout.model().numKvHeads()));
        f.put("head_dim", Integer.toString(layout.model().headDim()));
        f.put("dtype", layout.model().dtype().name());
        f.put("block_size", Integer.toString(layout.blockSize()));
        f.put("tensor_parallel_size", Integer.toString(layout.tensorParallelSize()));
        f.put("bytes_per_block", Long.toString(layout.bytesPerBlock()));
        f.put("wire_layout", WIRE_LAYOUT);
        return new Compat(engineId, layout.tensorParallelRank(), f);
    }

    /** The fields in their fixed order, for hashing and the wire. */
    private static final String[] ORDER = {
        "protocol",
        "connector_version",
        "model",
        "num_layers",
        "num_kv_heads",
        "head_dim",
        "dtype",
        "block_size",
        "tensor_parallel_size",
        "bytes_per_block",
        "wire_layout"
    };

    /** The informational field naming the sender's backend. */
    static final String TRANSPORT = "transport";

    /** These fields with the informational {@code transport} field set to {@code name}. */
    public Compat withTransport(String name) {
        var f = new LinkedHashMap<>(fields);
        f.put(TRANSPORT, name);
        return new Compat(engineId, rank, f);
    }

    /**
     * The bytes of one block on one rank, as the sender stated them.
     *
     * @throws IllegalArgumentException if the field is missing, not a number or not positive
     */
    public long bytesPerBlock() {
        String v = fields.getOrDefault("bytes_per_block", "");
        try {
            long n = Long.parseLong(v);
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("bytes_per_block is '" + v + "', not a positive number");
    }

    /** The sender's backend, {@code "tcp"} when the sender did not say. */
    public String transport() {
        return fields.getOrDefault(TRANSPORT, "tcp");
    }

    /** What to change when a field differs. */
    private static String advice(String field) {
        return switch (field) {
            case "protocol", "connector_version" -> "run the same kvconnect version on both engines";
            case "model", "num_layers", "num_kv_heads", "head_dim", "dtype" ->
                "serve the same model with the same " + "KV dtype on both engines";
            case "block_size" -> "set the same block_size on both engines";
            case "tensor_parallel_size" ->
                "set the same number of workers (tensor-parallel size) on both engines; "
                        + "different sizes are not supported by this connector";
            case "bytes_per_block" -> "use the same model shape, block size and tensor-parallel size on both engines";
            default -> "make the field equal on both engines";
        };
    }

    /** SHA-256 over the compatibility fields, hex. */
    public String hash() {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (String key : ORDER) {
                md.update((key + "=" + fields.getOrDefault(key, "") + "\n").getBytes(StandardCharsets.UTF_8));
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    /**
     * Why {@code remote} cannot exchange blocks with this agent, naming the first differing field,
     * both values and what to change; empty when compatible.
     */
    Optional<String> mismatch(Compat remote) {
        for (String key : ORDER) {
            String mine = fields.getOrDefault(key, "<missing>");
            String theirs = remote.fields.getOrDefault(key, "<missing>");
            if (!mine.equals(theirs)) {
                return Optional.of("incompatible peer: " + key + " differs: this engine (" + engineId + ") has " + mine
                        + ", the peer (" + remote.engineId + ") has " + theirs + "; " + advice(key));
            }
        }
        return Optional.empty();
    }

    /** The wire form: {@code engineId\nrank\nkey=value\n...}. */
    public String encode() {
        var sb = new StringBuilder().append(engineId).append('\n').append(rank).append('\n');
        for (String key : ORDER) {
            sb.append(key).append('=').append(fields.getOrDefault(key, "")).append('\n');
        }
        if (fields.containsKey(TRANSPORT)) {
            sb.append(TRANSPORT).append('=').append(fields.get(TRANSPORT)).append('\n');
        }
        return sb.toString();
    }

    /**
     * Parses {@link #encode()}'s form.
     *
     * @throws IllegalArgumentException if malformed
     */
    static Compat decode(String s) {
        String[] lines = s.split("\n");
        if (lines.length < 2) {
            throw new IllegalArgumentException("malformed handshake: " + lines.length + " line(s)");
        }
        var f = new LinkedHashMap<String, String>();
        for (int i = 2; i < lines.length; i++) {
            int eq = lines[i].indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("malformed handshake line: " + lines[i]);
            }
            f.put(lines[i].substring(0, eq), lines[i].substring(eq + 1));
        }
        return new Compat(lines[0], Integer.parseInt(lines[1].strip()), f);
    }
}
