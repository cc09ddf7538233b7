package io.kvconnect.core.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashSet;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/**
 * The free queue keeps exactly the order of an insertion-ordered set (the reference) through any
 * mix of appends, removals from anywhere and polls, and warming it changes nothing.
 */
class FreeQueueTest {
    @Property(tries = 300)
    void keepsTheOrderOfALinkedQueueThroughAnyMix(
            @ForAll @IntRange(min = 2, max = 9) int numBlocks,
            @ForAll @Size(min = 1, max = 400) List<@IntRange(min = 0, max = 10_000) Integer> choices) {
        int[] table = BlockRecords.newTable(numBlocks);
        var queue = new FreeQueue(table);
        var index = new PrefixIndex(new CachedHashes(table), table);
        var model = new LinkedHashSet<Integer>();
        for (int c : choices) {
            int id = 1 + (c / 3) % (numBlocks - 1);
            switch (c % 3) {
                case 0 -> {
                    if (!model.contains(id)) {
                        queue.append(id);
                        model.add(id);
                    }
                }
                case 1 -> {
                    if (model.contains(id)) {
                        queue.remove(id);
                        model.remove(id);
                    }
                }
                default -> {
                    if (!model.isEmpty()) {
                        int expected = model.iterator().next();
                        model.remove(expected);
                        assertEquals(expected, queue.poll());
                    }
                }
            }
            queue.warm(3, index); // changes nothing
            assertArrayEquals(model.stream().mapToInt(Integer::intValue).toArray(), queue.order());
            assertEquals(model.size(), queue.size());
            for (int b = 1; b < numBlocks; b++) {
                assertEquals(model.contains(b), queue.contains(b), "block " + b);
            }
            queue.check();
        }
    }

    @Test
    void aCorruptedLinkIsFoundByTheCheck() {
        int[] table = BlockRecords.newTable(4);
        var queue = new FreeQueue(table);
        queue.append(1);
        queue.append(2);
        // Block 2's record names another neighbour towards the head than block 1.
        table[BlockRecords.at(2, BlockRecords.PREV)] = 3;
        var e = assertThrows(IllegalStateException.class, queue::check);
        assertTrue(e.getMessage().contains("corrupt at block 2"), e.getMessage());
    }
}
