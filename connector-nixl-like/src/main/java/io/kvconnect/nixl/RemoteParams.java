package io.kvconnect.nixl;

import io.kvconnect.api.common.TransferParams;
import io.kvconnect.nixl.protocol.TransferRef;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The transfer parameters a prefill engine's response carries and a decode engine's request
 * arrives with. Keys follow the reference connector where it has one:
 * {@code do_remote_prefill} (true), {@code remote_engine_id}, {@code remote_host},
 * {@code remote_ports} (one per producer rank), {@code remote_block_ids}, {@code
 * remote_request_id}, {@code remote_transfer_id} (unique per transfer), {@code
 * remote_transfer_token} (128 random bits in hex, which the producer requires on every read and
 * done notification of the transfer: see {@link TransferRef}), {@code remote_num_tokens} (tokens
 * whose KV the blocks hold), {@code remote_block_size}, {@code remote_tp_size}. A request sent to a
 * prefill engine carries {@code do_remote_decode: true}. The token makes the parameters a
 * credential: a router must hand them only to the decode engine, and nobody logs them.
 *
 * @param engineId the producer's engine id
 * @param host the producer's host
 * @param ports the producer's ports, by rank
 * @param blockIds the producer's block ids, in token order
 * @param requestId the producer's request id
 * @param transferId the transfer's unique id
 * @param token the transfer's token ({@value #TOKEN_HEX_DIGITS} lower-case hex digits)
 * @param numTokens tokens whose KV the blocks hold
 * @param blockSize the producer's block size
 * @param tpSize the producer's tensor-parallel size
 */
record RemoteParams(
        String engineId,
        String host,
        List<Integer> ports,
        int[] blockIds,
        String requestId,
        String transferId,
        String token,
        int numTokens,
        int blockSize,
        int tpSize) {

    static final String DO_REMOTE_DECODE = "do_remote_decode";
    static final String DO_REMOTE_PREFILL = "do_remote_prefill";
    static final String TOKEN = "remote_transfer_token";
    /** 128 bits. */
    static final int TOKEN_HEX_DIGITS = 32;

    RemoteParams {
        ports = List.copyOf(ports);
        blockIds = blockIds.clone();
    }

    /** What a reader names to read or end this transfer. */
    TransferRef transfer() {
        return new TransferRef(transferId, token);
    }

    /** Without the token, so the parameters can be logged. */
    @Override
    public String toString() {
        return "RemoteParams[engineId=" + engineId + ", host=" + host + ", ports=" + ports + ", blocks="
                + blockIds.length + ", requestId=" + requestId + ", transferId=" + transferId + "]";
    }

    /** The parameters for the response of a finished prefill. */
    TransferParams toParams() {
        List<Object> p = new ArrayList<>();
        ports.forEach(x -> p.add((long) x));
        List<Object> b = new ArrayList<>();
        for (int id : blockIds) {
            b.add((long) id);
        }
        return TransferParams.empty()
                .with(DO_REMOTE_PREFILL, true)
                .with("remote_engine_id", engineId)
                .with("remote_host", host)
                .with("remote_ports", p)
                .with("remote_block_ids", b)
                .with("remote_request_id", requestId)
                .with("remote_transfer_id", transferId)
                .with(TOKEN, token)
                .with("remote_num_tokens", (long) numTokens)
                .with("remote_block_size", (long) blockSize)
                .with("remote_tp_size", (long) tpSize);
    }

    /**
     * The remote prefill a request's parameters describe: empty if they do not ask for one.
     *
     * @throws IllegalArgumentException if they ask for one but a field is missing or malformed
     *     (the message names it)
     */
    static Optional<RemoteParams> from(TransferParams params) {
        if (!params.getFlag(DO_REMOTE_PREFILL)) {
            return Optional.empty();
        }
        List<Integer> ports = ints(params, "remote_ports");
        List<Integer> blocks = ints(params, "remote_block_ids");
        int[] ids = blocks.stream().mapToInt(Integer::intValue).toArray();
        return Optional.of(new RemoteParams(
                string(params, "remote_engine_id"),
                string(params, "remote_host"),
                ports,
                ids,
                string(params, "remote_request_id"),
                string(params, "remote_transfer_id"),
                token(params),
                integer(params, "remote_num_tokens"),
                integer(params, "remote_block_size"),
                integer(params, "remote_tp_size")));
    }

    /** The token: exactly {@value #TOKEN_HEX_DIGITS} lower-case hex digits (its value never goes into a message). */
    private static String token(TransferParams p) {
        String t = string(p, TOKEN);
        boolean hex = t.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
        if (t.length() != TOKEN_HEX_DIGITS || !hex) {
            throw new IllegalArgumentException("transfer parameter " + TOKEN + " is not " + TOKEN_HEX_DIGITS
                    + " lower-case hex digits (a prefill engine of another kvconnect version?)");
        }
        return t;
    }

    private static String string(TransferParams p, String key) {
        return p.getString(key)
                .orElseThrow(() ->
                        new IllegalArgumentException("transfer parameter " + key + " is missing or not a string"));
    }

    private static int integer(TransferParams p, String key) {
        long v = p.getLong(key)
                .orElseThrow(() ->
                        new IllegalArgumentException("transfer parameter " + key + " is missing or not an integer"));
        if (v < 0 || v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("transfer parameter " + key + " is out of range: " + v);
        }
        return (int) v;
    }

    private static List<Integer> ints(TransferParams p, String key) {
        if (!(p.get(key).orElse(null) instanceof List<?> list)) {
            throw new IllegalArgumentException("transfer parameter " + key + " is missing or not a list");
        }
        List<Integer> out = new ArrayList<>(list.size());
        for (Object o : list) {
            if (!(o instanceof Long l) || l < 0 || l > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(
                        "transfer parameter " + key + " holds " + o + ", not a non-negative integer");
            }
            out.add((int) (long) l);
        }
        return out;
    }
}
