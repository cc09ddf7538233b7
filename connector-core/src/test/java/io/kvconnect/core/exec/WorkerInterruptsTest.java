package io.kvconnect.core.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A worker's waits resume after a stray interrupt with what is left of their deadline, and end
 * only once the worker is closing; a stray interrupt found before a hook is cleared.
 */
class WorkerInterruptsTest {
    private static final long MAX = 1_000_000_000L;

    @AfterEach
    void clearInterrupt() {
        Thread.interrupted();
    }

    @Test
    void aWaitCutShortByAStrayInterruptResumesWithWhatIsLeft() throws InterruptedException {
        WorkerInterrupts interrupts = new WorkerInterrupts(0);
        List<Long> tries = new ArrayList<>();

        String result = interrupts.await(MAX, left -> {
            tries.add(left);
            if (tries.size() < 3) {
                throw new InterruptedException("a connector's thread");
            }
            return "done";
        });

        assertEquals("done", result);
        assertEquals(3, tries.size(), "tried again after each stray interrupt");
        assertTrue(tries.get(0) <= MAX, "the first try gets at most the whole wait");
        for (int i = 1; i < tries.size(); i++) {
            assertTrue(tries.get(i) <= tries.get(i - 1), "a later try gets only what is left: " + tries);
        }
        assertFalse(Thread.currentThread().isInterrupted(), "the stray interrupt is not kept");
    }

    @Test
    void aWaitInterruptedOnceTheWorkerIsClosingEnds() {
        WorkerInterrupts interrupts = new WorkerInterrupts(0);
        List<Long> tries = new ArrayList<>();

        assertThrows(
                InterruptedException.class,
                () -> interrupts.await(MAX, left -> {
                    tries.add(left);
                    interrupts.close(); // as Worker.close does, before it interrupts the thread
                    throw new InterruptedException("the engine's");
                }));
        assertEquals(1, tries.size(), "not tried again");
    }

    @Test
    void noWaitBeginsOnceTheWorkerIsClosingEvenIfItsInterruptWasCleared() {
        WorkerInterrupts interrupts = new WorkerInterrupts(0);
        interrupts.close();

        // The engine's interrupt may have reached the thread in a hook, whose site cleared it.
        assertThrows(
                InterruptedException.class,
                () -> interrupts.await(MAX, left -> {
                    throw new AssertionError("waited while closing");
                }));
    }

    @Test
    void aStrayInterruptFoundBeforeAHookIsCleared() {
        WorkerInterrupts interrupts = new WorkerInterrupts(0);
        Thread.currentThread().interrupt();

        interrupts.clearStray();

        assertFalse(Thread.currentThread().isInterrupted());
    }

    @Test
    void theEnginesOwnInterruptFoundBeforeAHookIsKeptForTheHook() {
        WorkerInterrupts interrupts = new WorkerInterrupts(0);
        interrupts.close();
        Thread.currentThread().interrupt();

        interrupts.clearStray();

        assertTrue(Thread.currentThread().isInterrupted());
    }
}
