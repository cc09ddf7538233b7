package io.kvconnect.core.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kvconnect.api.common.BlockHash;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A request's block hashes kept as words: what goes in comes out, in order, as equal records. */
class BlockHashChainTest {
    private static final BlockHash A = new BlockHash(1, -2, Long.MIN_VALUE, Long.MAX_VALUE);
    private static final BlockHash B = new BlockHash(5, 6, 7, 8);
    private static final BlockHash C = new BlockHash(0, 0, 0, 9);

    @Test
    void hashesComeBackInOrderPastTheFirstSize() {
        BlockHashChain chain = new BlockHashChain(1);
        chain.add(A);
        chain.add(B);
        chain.add(C);

        assertEquals(3, chain.size());
        assertEquals(List.of(A, B, C), chain.toList());
        assertEquals(B, chain.get(1));
        assertNotSame(chain.get(1), chain.get(1), "a new record each call: the chain keeps none");
        assertEquals(C.h3(), chain.word(2, 3));
        assertEquals(List.of(A, B), BlockHashChain.of(List.of(A, B)).toList());
    }

    @Test
    void readsOutsideTheHashesAndABadSizeAreRefused() {
        BlockHashChain chain = new BlockHashChain(8);
        chain.add(A);

        assertThrows(IndexOutOfBoundsException.class, () -> chain.get(1), "room is not a hash");
        assertThrows(IndexOutOfBoundsException.class, () -> chain.get(-1));
        assertThrows(IllegalArgumentException.class, () -> new BlockHashChain(-1));
        assertEquals(List.of(), new BlockHashChain(0).toList());
    }

    @Test
    void theToListIsACopy() {
        BlockHashChain chain = BlockHashChain.of(List.of(A));
        List<BlockHash> before = chain.toList();
        chain.add(B);

        assertEquals(List.of(A), before);
        assertThrows(UnsupportedOperationException.class, () -> before.add(C));
    }
}
