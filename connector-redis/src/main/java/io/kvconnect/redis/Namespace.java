package io.kvconnect.redis;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.HandshakeMetadata;
import io.kvconnect.api.common.ModelShape;
import io.kvconnect.api.worker.KvLayout;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The part of every key that names what makes stored KV compatible, besides the block hash: model
 * shape (name, layers, KV heads, head size, dtype), block size, tensor-parallel size, the bytes of a
 * block on one rank, the cache layout, the operator's {@code namespace} label, and whether values
 * are signed with a value secret (signed and unsigned values have different headers, so engines
 * of the two kinds keep apart rather than refuse and delete each other's values). The block hash
 * itself chains every earlier block and the cache salt, so it needs no help there. Blocks of two
 * engines share keys exactly when all of these are equal. Built by each worker from its {@link
 * KvLayout} and handed to the scheduler side as handshake metadata.
 *
 * @param description the fields, as text, for messages and docs
 * @param id the first 64 bits of SHA-256 over {@code description}; also carried in every value's
 *     header
 */
record Namespace(String description, long id) implements HandshakeMetadata {
    /** Every key starts with this. */
    static final String KEY_PREFIX = "kvc:";

    /**
     * The namespace of a worker with {@code layout}, with the operator's {@code label}; {@code
     * signed} if its values carry a MAC ({@link ValueSeal}).
     */
    static Namespace of(KvLayout layout, String label, boolean signed) {
        ModelShape m = layout.model();
        String d = "model=" + m.name() + ";layers=" + m.numLayers() + ";kv_heads=" + m.numKvHeads() + ";head_dim="
                + m.headDim() + ";dtype=" + m.dtype() + ";block_size=" + layout.blockSize() + ";tp="
                + layout.tensorParallelSize() + ";block_bytes_per_layer=" + layout.bytesPerBlockPerLayer()
                + ";layout=" + layout.layout() + ";namespace=" + label + (signed ? ";values=hmac-sha256" : "");
        return new Namespace(d, firstLong(sha256(d)));
    }

    /** {@return the hex form of {@link #id()}, as it appears in keys} */
    String idHex() {
        return HexFormat.of().toHexDigits(id);
    }

    /**
     * {@return the key of {@code rank}'s share of the block {@code hash}} {@code kvc:<id>:{<hash>}:<rank>}:
     * the braces make the block hash the cluster hash tag, so that every rank's share of a block
     * lives in one slot (one lookup command per block) while blocks spread over the cluster.
     */
    byte[] key(BlockHash hash, int rank) {
        return (KEY_PREFIX + idHex() + ":{" + hash.toHex() + "}:" + rank).getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private static long firstLong(byte[] b) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (b[i] & 0xFF);
        }
        return v;
    }
}
