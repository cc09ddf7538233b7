package io.kvconnect.nixl.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** Read requests as runs of blocks: coalescing, the wire form, and what a hostile reader may send. */
class ReadRequestTest {
    private static final TransferRef T = new TransferRef("t", "0123456789abcdef");

    @Test
    void consecutiveBlocksBecomeOneDescriptor() throws Exception {
        var r = ReadRequest.of(T, new int[] {4, 5, 6, 7, 9, 10, 2});
        assertArrayEquals(new int[] {4, 4, 9, 2, 2, 1}, r.runs());
        assertEquals(3, r.descriptors());
        assertEquals(7, r.blockCount());
        // The order of the blocks (the answer's slots) is kept.
        assertArrayEquals(new int[] {4, 5, 6, 7, 9, 10, 2}, r.blocks());
    }

    @Test
    void aDescendingOrRepeatedBlockStartsANewRun() {
        assertEquals(3, ReadRequest.of(T, new int[] {3, 2, 1}).descriptors());
        assertEquals(2, ReadRequest.of(T, new int[] {5, 5}).descriptors());
        assertEquals(2, ReadRequest.of(T, new int[] {Integer.MAX_VALUE, 0}).descriptors());
    }

    @Test
    void roundTripsThroughItsWireForm() throws Exception {
        var r = ReadRequest.of(T, new int[] {0, 1, 2, 40});
        var back = ReadRequest.decode(r.encode());
        assertEquals(T.id(), back.transfer().id());
        assertTrue(back.transfer().tokenMatches(T.token()));
        assertArrayEquals(r.runs(), back.runs());
    }

    @Test
    void malformedRunsAreRefusedWhenDecoded() {
        for (int[] runs : new int[][] {{0, 0}, {0, -1}, {-1, 2}, {Integer.MAX_VALUE, 2}, {5, Integer.MIN_VALUE}}) {
            byte[] payload = new ReadRequest(T, runs).encode();
            assertThrows(IOException.class, () -> ReadRequest.decode(payload), java.util.Arrays.toString(runs));
        }
    }

    @Test
    void aDescriptorCountThatDoesNotMatchThePayloadIsRefused() {
        byte[] head = T.encode();
        for (int count : new int[] {0, -1, 2, Integer.MAX_VALUE}) {
            byte[] payload = ByteBuffer.allocate(head.length + 12)
                    .put(head)
                    .putInt(count)
                    .putInt(0)
                    .putInt(1)
                    .array();
            assertThrows(IOException.class, () -> ReadRequest.decode(payload), "count " + count);
        }
    }

    @Test
    void runsThatOverlapAreRefusedBeforeTheyAreExpanded() {
        for (int[] runs : new int[][] {{3, 2, 4, 1}, {10, 5, 2, 9}, {7, 1, 7, 1}, {0, 10, 20, 5, 9, 2}}) {
            var e = assertThrows(TransferException.class, () -> new ReadRequest(T, runs).blocks());
            assertEquals(TransferException.Kind.FAILED, e.kind());
            assertTrue(e.getMessage().contains("overlap"), e.getMessage());
        }
    }

    @Test
    void runsNamingMoreThanTheBoundAreRefusedBeforeTheyAreExpanded() {
        for (int[] runs : new int[][] {
            {0, ReadRequest.MAX_BLOCKS + 1},
            {0, Integer.MAX_VALUE},
            {0, 4000, 5000, 4000},
            {0, 1 << 30, 1 << 30, 1 << 30}
        }) {
            var e = assertThrows(TransferException.class, () -> new ReadRequest(T, runs).blocks());
            assertEquals(TransferException.Kind.FAILED, e.kind());
            assertTrue(e.getMessage().contains("at most " + ReadRequest.MAX_BLOCKS), e.getMessage());
        }
    }

    @Test
    void adjacentRunsInAnyOrderAreFine() throws Exception {
        assertArrayEquals(new int[] {5, 6, 0, 1, 2, 3, 4}, new ReadRequest(T, new int[] {5, 2, 0, 5}).blocks());
    }
}
