package io.kvconnect.disk;

import io.kvconnect.api.common.EngineInfo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Everything that makes stored KV incompatible between engines, as one line of text and a 64-bit
 * id of it: the model's KV shape (name, layers, KV heads, head size, dtype), the block size and the
 * tensor-parallel size. The rank is a folder of its own below the namespace's. The host-buffer form
 * of a block is canonical ({@code KvLayout}: the same bytes whatever the cache's layout kind), so the
 * layout kind is not part of it. The cache salt and the whole token prefix are part of every block
 * hash (the engine chains each block's hash from its parent's and adds the salt to the first), so
 * they need no folder.
 *
 * @param description the line of text, written to {@code namespace.txt} in the namespace's folder
 * @param id the first 64 bits of the description's SHA-256, written in every file header
 * @param folderName the namespace's folder name: the model name (letters, digits, {@code ._-}) and the id
 */
record Namespace(String description, long id, String folderName) {
    /** Bumped when the file format or the meaning of a block hash changes. */
    static final int VERSION = 1;

    /** {@return the namespace of {@code engine}'s blocks} */
    static Namespace of(EngineInfo engine) {
        var model = engine.model();
        String description = "kvconnect disk tier v" + VERSION + "; model=" + model.name() + "; layers="
                + model.numLayers() + "; kv_heads=" + model.numKvHeads() + "; head_dim=" + model.headDim()
                + "; dtype=" + model.dtype() + "; block_size=" + engine.blockSize() + "; tensor_parallel_size="
                + engine.tensorParallelSize() + "; block_hash=chained-sha256";
        byte[] digest = sha256(description);
        long id = 0;
        for (int i = 0; i < Long.BYTES; i++) {
            id = (id << 8) | (digest[i] & 0xff);
        }
        String safe = model.name().replaceAll("[^A-Za-z0-9._-]", "_");
        if (safe.length() > 64) {
            safe = safe.substring(0, 64);
        }
        return new Namespace(description, id, safe + "-" + HexFormat.of().toHexDigits(id));
    }

    /** {@return the namespace's folder under {@code root}} */
    Path folder(Path root) {
        return root.resolve(folderName);
    }

    /** {@return rank {@code rank}'s folder under {@code root}} */
    Path rankFolder(Path root, int rank) {
        return folder(root).resolve("rank" + rank);
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
