package io.kvconnect.core.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Shared tasks: a waiter may run one in the stream thread's place, once, in submission order. */
@Timeout(60) // a safety net against a hung stream, not a timing assertion
class CopyStreamSharingTest {
    /** Records its index when it runs. */
    private static final class Recording extends CopyStream.SharedTask {
        private final int index;
        private final List<Integer> order;
        private final AtomicIntegerArray runs;

        Recording(int index, List<Integer> order, AtomicIntegerArray runs) {
            this.index = index;
            this.order = order;
            this.runs = runs;
        }

        @Override
        public void run() {
            runs.incrementAndGet(index);
            synchronized (order) {
                order.add(index);
            }
        }

        @Override
        void assist() {}
    }

    @Test
    void eachTaskRunsOnceInSubmissionOrderWhetherTheWaiterOrTheStreamTakesIt() {
        int n = 5_000;
        List<Integer> order = new ArrayList<>();
        AtomicIntegerArray runs = new AtomicIntegerArray(n);
        CopyStream stream = new CopyStream("sharing-test");
        for (int i = 0; i < n; i++) {
            Recording task = new Recording(i, order, runs);
            stream.submit(task);
            if (i % 3 != 0) {
                stream.runIfNext(task); // races the stream thread for it
            }
        }
        stream.end();
        stream.join();

        for (int i = 0; i < n; i++) {
            assertEquals(1, runs.get(i), "task " + i);
        }
        synchronized (order) {
            for (int i = 0; i < n; i++) {
                assertEquals(i, order.get(i));
            }
        }
    }

    @Test
    void aWaiterCannotRunATaskWhileAnEarlierOneHasNotRun() throws Exception {
        List<Integer> order = new ArrayList<>();
        AtomicIntegerArray runs = new AtomicIntegerArray(1);
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CopyStream stream = new CopyStream("sharing-test");
        stream.submit(() -> {
            started.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Recording second = new Recording(0, order, runs);
        stream.submit(second);
        started.await();

        assertFalse(stream.runIfNext(second));
        assertEquals(0, runs.get(0));

        release.countDown();
        stream.end();
        stream.join();
        assertEquals(1, runs.get(0));
    }
}
