package io.kvconnect.core.sched;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.scheduler.RequestStatus;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Updates stored by column read the same by index as through the list, and never change once taken. */
class RequestUpdatesTest {
    private static final RequestUpdate.Finished DONE = new RequestUpdate.Finished(
            "b", RequestStatus.FINISHED_STOPPED, "", TransferParams.empty(), new int[] {7, 2});

    @Test
    void indexAndListReadTheSameUpdatesInOrder() {
        RequestUpdates.Builder b = new RequestUpdates.Builder();
        b.token("a", 11, 1);
        b.add(DONE);
        b.add(new RequestUpdate.TokenAdded("c", -3, Integer.MAX_VALUE));

        RequestUpdates u = b.take();

        assertEquals(
                List.of(
                        new RequestUpdate.TokenAdded("a", 11, 1),
                        DONE,
                        new RequestUpdate.TokenAdded("c", -3, Integer.MAX_VALUE)),
                u);
        assertFalse(u.isFinished(0));
        assertEquals("a", u.requestId(0));
        assertEquals(11, u.token(0));
        assertEquals(1, u.numOutputTokens(0));
        assertTrue(u.isFinished(1));
        assertEquals("b", u.requestId(1));
        assertSame(DONE, u.finished(1));
        assertEquals(-3, u.token(2));
        assertEquals(Integer.MAX_VALUE, u.numOutputTokens(2));
    }

    /** A builder holding {@code n} tokens: of request {@code "r" + i}, token {@code i}, its {@code i + 1}-th. */
    private static RequestUpdates.Builder withTokens(int n) {
        RequestUpdates.Builder b = new RequestUpdates.Builder();
        for (int i = 0; i < n; i++) {
            b.token("r" + i, i, i + 1);
        }
        return b;
    }

    @Test
    void aTakenBatchDoesNotChangeWhenTheBuilderIsReused() {
        RequestUpdates.Builder b = withTokens(100);
        RequestUpdates first = b.take();
        List<RequestUpdate> before = new ArrayList<>(first);

        for (int i = 0; i < 300; i++) {
            b.token("s" + i, -i, 1);
        }
        RequestUpdates second = b.take();

        assertEquals(before, first, "a later step's tokens went into a batch already handed over");
        assertEquals(300, second.size());
        assertEquals("s299", second.requestId(299));
        assertSame(RequestUpdates.EMPTY, b.take(), "the builder is empty after a take");
    }

    /** A builder holding a token of {@code a} (token 1, its first), then {@link #DONE}. */
    private static RequestUpdates.Builder tokenThenDone() {
        RequestUpdates.Builder b = new RequestUpdates.Builder();
        b.token("a", 1, 1);
        b.add(DONE);
        return b;
    }

    @Test
    void readingAnUpdateAsTheOtherKindIsRefused() {
        RequestUpdates.Builder b = tokenThenDone();
        RequestUpdates u = b.take();

        assertThrows(IllegalStateException.class, () -> u.finished(0));
        assertThrows(IllegalStateException.class, () -> u.token(1));
        assertThrows(IllegalStateException.class, () -> u.numOutputTokens(1));
        assertThrows(IndexOutOfBoundsException.class, () -> u.requestId(2));
        assertThrows(IndexOutOfBoundsException.class, () -> u.get(-1));
        assertThrows(UnsupportedOperationException.class, () -> u.add(DONE));
        assertThrows(NullPointerException.class, () -> b.token(null, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> b.token("a", 1, 0), "a count without its own token");
        assertThrows(IllegalArgumentException.class, () -> new RequestUpdate.TokenAdded("a", 1, 0));
    }

    @Test
    void concatKeepsTheOrderOfItsPartsAndSkipsEmptyOnes() {
        RequestUpdates.Builder b = new RequestUpdates.Builder();
        b.token("a", 1, 1);
        RequestUpdates first = b.take();
        b.add(DONE);
        b.token("c", 3, 9);
        RequestUpdates second = b.take();

        RequestUpdates both = RequestUpdates.concat(List.of(first, RequestUpdates.EMPTY, second));

        assertEquals(List.of(first.get(0), second.get(0), second.get(1)), both);
        assertEquals(3, both.token(2));
        assertSame(second, RequestUpdates.concat(List.of(RequestUpdates.EMPTY, second)), "one part is not copied");
        assertSame(RequestUpdates.EMPTY, RequestUpdates.concat(List.of()));
    }

    @Test
    void aLentBatchReadsUntilTheBuilderIsReclaimedAndThenRefusesEveryRead() {
        RequestUpdates.Builder b = tokenThenDone();
        RequestUpdates lent = b.lend();
        RequestUpdates kept = lent.keep();
        List<RequestUpdate> before = new ArrayList<>(lent);

        b.reclaim();
        b.token("x", 99, 5); // the next step writes into the same arrays
        b.token("y", 98, 6);

        assertTrue(lent.isLent());
        assertFalse(kept.isLent());
        assertThrows(IllegalStateException.class, lent::size);
        assertThrows(IllegalStateException.class, () -> lent.isFinished(0));
        assertThrows(IllegalStateException.class, () -> lent.token(0));
        assertThrows(IllegalStateException.class, () -> lent.requestId(1));
        assertThrows(IllegalStateException.class, () -> lent.get(0));
        assertThrows(IllegalStateException.class, lent::keep);
        assertThrows(IllegalStateException.class, () -> RequestUpdates.concat(List.of(lent, kept)));
        assertEquals(before, kept, "the kept copy is the batch as it was lent");
        assertEquals(
                List.of(new RequestUpdate.TokenAdded("x", 99, 5), new RequestUpdate.TokenAdded("y", 98, 6)), b.lend());
    }

    @Test
    void updatesBetweenALendAndItsReclaimLeaveTheLentBatchAsItWas() {
        RequestUpdates.Builder b = withTokens(20);
        RequestUpdates lent = b.lend();
        List<RequestUpdate> before = new ArrayList<>(lent.keep());

        b.add(DONE); // a request finishes between steps (an abort, a refused arrival)
        RequestUpdates between = b.take();
        b.token("s", 7, 1);
        RequestUpdates next = b.lend();

        assertEquals(before, lent, "an update between steps went into the lent arrays");
        assertEquals(List.of(DONE), between);
        assertEquals(List.of(new RequestUpdate.TokenAdded("s", 7, 1)), next);
        assertEquals(before, lent, "the lent batch outlives later lends until a reclaim");
        assertSame(RequestUpdates.EMPTY, b.lend(), "nothing to lend is the empty owned batch");
        assertFalse(RequestUpdates.EMPTY.isLent());
    }

    @Test
    void aFinishedRequestsOutputComesBackAsItWasGiven() {
        RequestUpdates.Builder b = new RequestUpdates.Builder();
        b.add(DONE);

        assertArrayEquals(new int[] {7, 2}, b.take().finished(0).outputTokens());
    }
}
