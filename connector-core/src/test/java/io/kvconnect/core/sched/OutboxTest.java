package io.kvconnect.core.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.common.StorageMedium;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the scheduler decided is handed over once, in order, and read-only. */
class OutboxTest {
    private final Outbox outbox = new Outbox();

    @Test
    void eachTakeHandsOverEverythingOfItsKindInOrderOnce() {
        RequestUpdate a = new RequestUpdate.TokenAdded("a", 5, 1);
        RequestUpdate b = new RequestUpdate.TokenAdded("b", 6, 1);
        KvEvent cleared = new KvEvent.AllBlocksCleared(StorageMedium.GPU);
        outbox.update(a);
        outbox.update(b);
        outbox.resolved(new HoldResolution("a", true));
        outbox.events(List.of(cleared));

        assertEquals(List.of(a, b), outbox.takeUpdates());
        assertEquals(List.of(new HoldResolution("a", true)), outbox.takeResolutions());
        assertEquals(List.of(cleared), outbox.takeEvents());

        assertEquals(List.of(), outbox.takeUpdates());
        assertEquals(List.of(), outbox.takeResolutions());
        assertEquals(List.of(), outbox.takeEvents());
        assertEquals(List.of(), outbox.takeConnectorStats());
    }

    @Test
    void takenListsAreReadOnlyAndNoLongerWrittenTo() {
        outbox.update(new RequestUpdate.TokenAdded("a", 5, 1));
        List<RequestUpdate> taken = outbox.takeUpdates();

        outbox.update(new RequestUpdate.TokenAdded("b", 6, 1));

        assertEquals(1, taken.size(), "a later update went into a list already handed over");
        assertThrows(UnsupportedOperationException.class, () -> taken.add(new RequestUpdate.TokenAdded("c", 7, 1)));
    }
}
