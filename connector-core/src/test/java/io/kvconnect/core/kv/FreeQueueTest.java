package io.kvconnect.core.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/**
 * The free queue keeps exactly the order of a linked list with removal from the middle (the
 * reference: an insertion-ordered set), through any mix of appends, removals and polls, including
 * the churn that fills its ring with skipped entries and makes it compact.
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
    void churnThroughTheMiddleCompactsTheRingAndKeepsTheOrder() {
        // Four blocks, a ring of eight entries: every remove-and-append leaves one skipped entry.
        var queue = new FreeQueue(BlockRecords.newTable(5));
        for (int id = 1; id <= 4; id++) {
            queue.append(id);
        }
        List<Integer> expected = new ArrayList<>(List.of(1, 2, 3, 4));
        for (int round = 0; round < 100; round++) {
            int id = expected.get(1 + round % 3);
            queue.remove(id);
            queue.append(id);
            expected.remove(Integer.valueOf(id));
            expected.add(id);
            queue.check();
        }
        assertArrayEquals(expected.stream().mapToInt(Integer::intValue).toArray(), queue.order());
        for (int id : expected) {
            assertEquals(id, queue.poll());
        }
        assertEquals(0, queue.size());
        assertFalse(queue.contains(1));
    }

    @Test
    void aCorruptedEntryIsFoundByTheCheck() {
        int[] table = BlockRecords.newTable(4);
        var queue = new FreeQueue(table);
        queue.append(1);
        queue.append(2);
        // Block 2's record claims another entry than the one it has.
        table[BlockRecords.at(2, BlockRecords.QUEUE_SLOT)] = 0;
        var e = assertThrows(IllegalStateException.class, queue::check);
        assertTrue(e.getMessage().contains("live entries"), e.getMessage());
    }
}
