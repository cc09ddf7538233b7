package io.kvconnect.core.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kvconnect.api.common.BlockHash;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A request's block hashes, kept as words: what its view hands a connector is the chained hash of
 * each full block, an equal record at every ask, and the blocks that fill as it decodes are hashed
 * as they fill.
 */
class RequestBlockHashesTest {
    private static final Optional<String> NO_SALT = Optional.empty();

    @Test
    void theViewHandsRecordsEqualToTheChainedHashes() {
        try (Parts p = new Parts(Parts.config(), 16, new ScriptedConnector())) {
            int[] prompt = Parts.prompt(2 * Parts.BLOCK + 1);
            Request r = p.request("a", prompt, 8, 0);

            assertEquals(2, r.numBlockHashes());
            BlockHash first = p.hasher.hash(null, prompt, 0, NO_SALT);
            assertEquals(first, r.blockHash(0));
            assertEquals(p.hasher.hash(first, prompt, Parts.BLOCK, NO_SALT), r.blockHash(1));
            assertEquals(r.blockHash(1), r.blockHash(1), "asked again: an equal record");
            assertEquals(List.of(r.blockHash(0), r.blockHash(1)), r.blockHashes());
            assertThrows(IndexOutOfBoundsException.class, () -> r.blockHash(2));
            assertThrows(IndexOutOfBoundsException.class, () -> r.blockHash(-1));
        }
    }

    @Test
    void aBlockThatFillsWhileDecodingIsHashedThen() {
        try (Parts p = new Parts(Parts.config(), 16, new ScriptedConnector())) {
            int[] prompt = Parts.prompt(2 * Parts.BLOCK + 1);
            Request r = p.request("a", prompt, 8, 0);
            BlockHash before = r.blockHash(1);

            int[] tokens = Arrays.copyOf(prompt, 3 * Parts.BLOCK);
            for (int i = prompt.length; i < tokens.length; i++) {
                tokens[i] = 7 + i;
                boolean filled = r.appendOutputToken(tokens[i]);
                assertEquals(i == tokens.length - 1, filled, "token " + i);
                assertEquals(filled ? 3 : 2, r.numBlockHashes());
            }

            assertEquals(p.hasher.hash(before, tokens, 2 * Parts.BLOCK, NO_SALT), r.blockHash(2));
            assertEquals(before, r.blockHash(1), "earlier hashes stay as they were");
            assertEquals(List.of(r.blockHash(0), before, r.blockHash(2)), r.blockHashes());
            assertEquals(3, r.hashChain().size(), "the view and the chain agree");
        }
    }
}
