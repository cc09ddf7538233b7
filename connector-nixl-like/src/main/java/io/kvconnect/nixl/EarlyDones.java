package io.kvconnect.nixl;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Done notifications that arrived ahead of the exposure of their transfer: transfer id to the token
 * presented, checked when the transfer is exposed. Both the ids and the tokens are a peer's word,
 * so what is kept is bounded in number and in the characters of the ids, the oldest forgotten
 * first: a notice is needed only until the step that exposes its transfer, while ids that are never
 * exposed (a peer's mistakes or guesses) would otherwise stay for good. Not thread-safe.
 */
final class EarlyDones {
    private final int maxNotices;
    private final long maxIdChars;
    private final LinkedHashMap<String, String> tokens = new LinkedHashMap<>();
    private long idChars;

    /**
     * @param maxNotices most notices kept
     * @param maxIdChars most characters of transfer ids kept, all notices together
     */
    EarlyDones(int maxNotices, long maxIdChars) {
        this.maxNotices = maxNotices;
        this.maxIdChars = maxIdChars;
    }

    /** Remembers a notice for {@code transferId}, replacing an earlier one for it; forgets the oldest beyond the bounds. */
    void put(String transferId, String token) {
        if (tokens.put(transferId, token) == null) {
            idChars += transferId.length();
        }
        for (Iterator<Map.Entry<String, String>> it = tokens.entrySet().iterator();
                it.hasNext() && (tokens.size() > maxNotices || idChars > maxIdChars); ) {
            idChars -= it.next().getKey().length();
            it.remove();
        }
    }

    /** The token of the notice remembered for {@code transferId}, forgetting it; null if none. */
    String take(String transferId) {
        String token = tokens.remove(transferId);
        if (token != null) {
            idChars -= transferId.length();
        }
        return token;
    }
}
