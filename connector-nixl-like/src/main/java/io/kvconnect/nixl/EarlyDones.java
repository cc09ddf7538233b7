package io.kvconnect.nixl;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Done notifications that arrived ahead of the exposure of their transfer: per transfer id, the
 * token each connection presented, checked when the transfer is exposed. Both the ids and the
 * tokens are a peer's word, so what is kept is bounded in number and in the characters of the
 * ids, the oldest transfer forgotten first: a notice is needed only until the step that exposes
 * its transfer, while ids that are never exposed (a peer's mistakes or guesses) would otherwise
 * stay for good.
 *
 * <p>Kept per connection: a later notice replaces only an earlier one of the same connection. So
 * a peer that holds the secret, and can guess the next transfer id, cannot replace the real
 * reader's early notice with a wrong token (which would keep the transfer's blocks until its
 * lease ends); its own notice is refused at the exposure like any wrong token. Not thread-safe.
 */
final class EarlyDones {
    private final int maxNotices;
    private final long maxIdChars;
    /** Per transfer id, in the order of each id's first notice: connection to token. */
    private final LinkedHashMap<String, Map<Long, String>> byTransfer = new LinkedHashMap<>();

    private int notices;
    private long idChars;

    /**
     * @param maxNotices most notices kept, all transfers and connections together
     * @param maxIdChars most characters of transfer ids kept (each id counted once)
     */
    EarlyDones(int maxNotices, long maxIdChars) {
        this.maxNotices = maxNotices;
        this.maxIdChars = maxIdChars;
    }

    /**
     * Remembers the notice of {@code connection} for {@code transferId}, replacing an earlier one
     * of the same connection only; forgets the oldest transfers' notices beyond the bounds.
     */
    void put(String transferId, long connection, String token) {
        Map<Long, String> tokens = byTransfer.get(transferId);
        if (tokens == null) {
            tokens = new LinkedHashMap<>();
            byTransfer.put(transferId, tokens);
            idChars += transferId.length();
        }
        if (tokens.put(connection, token) == null) {
            notices++;
        }
        for (Iterator<Map.Entry<String, Map<Long, String>>> it =
                        byTransfer.entrySet().iterator();
                it.hasNext() && (notices > maxNotices || idChars > maxIdChars); ) {
            var oldest = it.next();
            idChars -= oldest.getKey().length();
            notices -= oldest.getValue().size();
            it.remove();
        }
    }

    /** The tokens of the notices remembered for {@code transferId}, one per connection, forgetting them; empty if none. */
    List<String> take(String transferId) {
        Map<Long, String> tokens = byTransfer.remove(transferId);
        if (tokens == null) {
            return List.of();
        }
        idChars -= transferId.length();
        notices -= tokens.size();
        return List.copyOf(tokens.values());
    }
}
