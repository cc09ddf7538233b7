package io.kvconnect.core.sched;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A hook call leaves its thread's interrupt status as it found it. */
class HookTimerSiteTest {
    private final HookTimer timer = new HookTimer("c", TimeUnit.SECONDS.toNanos(30));
    private final HookTimer.Site site = timer.site("the scheduler");

    @AfterEach
    void stop() {
        Thread.interrupted();
        timer.close();
    }

    @Test
    void anInterruptStatusTheHookLeavesSetIsCleared() {
        site.enter("getNumNewMatchedTokens");
        Thread.currentThread().interrupt(); // the hook's own doing

        assertFalse(site.exit(), "the hook did not overrun");
        assertFalse(Thread.currentThread().isInterrupted());
    }

    @Test
    void anInterruptStatusSetBeforeTheHookIsKept() {
        Thread.currentThread().interrupt(); // whoever runs the engine asked it to stop
        site.enter("shutdown");
        Thread.interrupted(); // the hook swallowed it

        assertFalse(site.exit());
        assertTrue(Thread.currentThread().isInterrupted(), "the caller's interrupt survives the hook");
    }

    @Test
    @Timeout(30)
    void aStrayInterruptOfTheWatcherIsClearedAndItStillTimesHooks() throws InterruptedException {
        Thread watcher = timer.watcherThread();
        watcher.interrupt(); // not close(): a plugin's thread reached it

        // Left set, every park would return at once and the watcher would spin a core.
        while (watcher.isInterrupted()) {
            Thread.sleep(1);
        }
        try (HookTimer fast = new HookTimer("c", TimeUnit.MILLISECONDS.toNanos(20))) {
            fast.watcherThread().interrupt();
            HookTimer.Site s = fast.site("the scheduler");
            s.enter("getNumNewMatchedTokens");
            while (!Thread.currentThread().isInterrupted()) {
                Thread.onSpinWait(); // the hook overruns its 20 ms
            }
            assertTrue(s.exit(), "the watcher still interrupts a hook past its timeout");
        }
    }
}
