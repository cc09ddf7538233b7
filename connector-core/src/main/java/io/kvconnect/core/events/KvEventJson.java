package io.kvconnect.core.events;

import io.kvconnect.api.common.BlockHash;
import io.kvconnect.api.common.KvEvent;
import java.util.List;

/**
 * One step's KV events as one JSON line (schema in {@code docs/engine.md}, KV events). Hand-written
 * because the values are numbers, hex digests and the engine's own names, and the publishing
 * thread should not allocate a tree per step.
 */
final class KvEventJson {
    /** The name of the hash a consumer recomputes: SHA-256 chained over the parent and the tokens. */
    static final String HASH = "sha256-chain-v1";

    private KvEventJson() {}

    /**
     * The line for one batch, without the line break.
     *
     * @param engine the engine's id
     * @param host the host it runs on
     * @param tpSize its tensor-parallel size: ranks 0 to {@code tpSize - 1} each hold their share of
     *     every block
     * @param seq the batch's number, from 0, consecutive unless batches were dropped
     * @param timeMillis wall time of the step, milliseconds since the epoch
     * @param events the step's events, in order
     */
    static String line(String engine, String host, int tpSize, long seq, long timeMillis, List<KvEvent> events) {
        StringBuilder b = new StringBuilder(128 + events.size() * 160);
        b.append("{\"engine\":");
        string(b, engine);
        b.append(",\"host\":");
        string(b, host);
        b.append(",\"tp_size\":").append(tpSize);
        b.append(",\"seq\":").append(seq);
        b.append(",\"ts\":").append(timeMillis);
        b.append(",\"hash\":\"").append(HASH).append('"');
        b.append(",\"events\":[");
        for (int i = 0; i < events.size(); i++) {
            if (i > 0) {
                b.append(',');
            }
            event(b, events.get(i));
        }
        return b.append("]}").toString();
    }

    private static void event(StringBuilder b, KvEvent e) {
        switch (e) {
            case KvEvent.BlockStored s -> {
                b.append("{\"type\":\"BlockStored\",\"medium\":\"")
                        .append(s.medium().name())
                        .append('"');
                b.append(",\"block_hashes\":");
                hashes(b, s.blockHashes());
                b.append(",\"parent_block_hash\":");
                if (s.parent().isPresent()) {
                    b.append('"').append(s.parent().get().toHex()).append('"');
                } else {
                    b.append("null");
                }
                b.append(",\"block_size\":").append(s.blockSize());
                b.append(",\"group\":").append(s.group()).append('}');
            }
            case KvEvent.BlockRemoved r -> {
                b.append("{\"type\":\"BlockRemoved\",\"medium\":\"")
                        .append(r.medium().name())
                        .append('"');
                b.append(",\"block_hashes\":");
                hashes(b, r.blockHashes());
                b.append(",\"group\":").append(r.group()).append('}');
            }
            case KvEvent.AllBlocksCleared c ->
                b.append("{\"type\":\"AllBlocksCleared\",\"medium\":\"")
                        .append(c.medium().name())
                        .append("\"}");
        }
    }

    private static void hashes(StringBuilder b, List<BlockHash> hashes) {
        b.append('[');
        for (int i = 0; i < hashes.size(); i++) {
            if (i > 0) {
                b.append(',');
            }
            b.append('"').append(hashes.get(i).toHex()).append('"');
        }
        b.append(']');
    }

    /** A JSON string: quotes, backslashes and control characters escaped. */
    private static void string(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }
}
