package io.kvconnect.core.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** Block counts by shift (power-of-two sizes) and by division (other sizes) agree with the arithmetic. */
class TokenBlocksTest {
    @Property(tries = 2000)
    void fullAndCoveringBlocksAreFloorAndCeilingOfTheDivision(
            @ForAll @IntRange(min = 1, max = 1024) int blockSize,
            @ForAll @IntRange(min = 0, max = 1 << 30) int tokens) {
        TokenBlocks blocks = new TokenBlocks(blockSize);
        assertEquals(tokens / blockSize, blocks.full(tokens));
        assertEquals((tokens + blockSize - 1) / blockSize, blocks.covering(tokens));
    }

    @Test
    void powersOfTwoAndOtherSizesAtTheBlockEdges() {
        for (int blockSize : new int[] {1, 2, 16, 48, 1024}) {
            TokenBlocks blocks = new TokenBlocks(blockSize);
            assertEquals(0, blocks.covering(0));
            assertEquals(1, blocks.covering(1));
            assertEquals(1, blocks.covering(blockSize));
            assertEquals(2, blocks.covering(blockSize + 1));
            assertEquals(0, blocks.full(blockSize - 1));
            assertEquals(1, blocks.full(blockSize));
        }
    }

    @Test
    void aSizeBelowOneIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new TokenBlocks(0));
        assertThrows(IllegalArgumentException.class, () -> new TokenBlocks(-16));
    }
}
