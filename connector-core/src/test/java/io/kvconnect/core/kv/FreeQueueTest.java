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
            queue.warm(3, index, new int[3]); // changes nothing
            int[] expected = model.stream().mapToInt(Integer::intValue).toArray();
            assertArrayEquals(expected, queue.order());
            // The next blocks as the append log gives them are exactly the head of the queue.
            int[] next = new int[numBlocks];
            int k = queue.upcoming(numBlocks, next);
            assertArrayEquals(expected, java.util.Arrays.copyOf(next, k));
            assertEquals(model.size(), queue.size());
            for (int b = 1; b < numBlocks; b++) {
                assertEquals(model.contains(b), queue.contains(b), "block " + b);
            }
            queue.check();
        }
    }

    /**
     * A pool large enough for the append log's limits to matter: blocks taken out of the middle
     * and appended again many times over (a workload of prefix hits) leave long stretches of stale
     * entries and overwrite the log, and the next blocks read from it are still exactly the head.
     */
    @Property(tries = 60)
    void theNextBlocksAreTheHeadAfterLongRunsOfHitsAndWraps(
            @ForAll @IntRange(min = 300, max = 700) int numBlocks,
            @ForAll @IntRange(min = 1, max = 129) int n,
            @ForAll @IntRange(min = 0, max = 1_000_000) int seed) {
        int[] table = BlockRecords.newTable(numBlocks);
        var queue = new FreeQueue(table);
        var model = new LinkedHashSet<Integer>();
        var random = new java.util.SplittableRandom(seed);
        for (int id = 1; id < numBlocks; id++) {
            queue.append(id);
            model.add(id);
        }
        int[] next = new int[n];
        for (int round = 0; round < 40; round++) {
            // Mostly hits: a block taken out of the middle and freed again, far more often than
            // one taken from the head.
            for (int i = 0; i < 200; i++) {
                int id = 1 + random.nextInt(numBlocks - 1);
                if (model.remove(id)) {
                    queue.remove(id);
                    if (random.nextInt(4) != 0) {
                        queue.append(id);
                        model.add(id);
                    }
                } else {
                    queue.append(id);
                    model.add(id);
                }
            }
            for (int i = random.nextInt(20); i > 0 && !model.isEmpty(); i--) {
                int expected = model.iterator().next();
                model.remove(expected);
                assertEquals(expected, queue.poll());
            }
            int k = queue.upcoming(n, next);
            int[] head = model.stream().limit(n).mapToInt(Integer::intValue).toArray();
            assertArrayEquals(head, java.util.Arrays.copyOf(next, k), "round " + round);
        }
        queue.check();
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
