package io.kvconnect.core.engine;

import static io.kvconnect.core.engine.ConnectorTestSupport.drain;
import static io.kvconnect.core.engine.ConnectorTestSupport.prompt;
import static io.kvconnect.core.engine.ConnectorTestSupport.stepUntil;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.scheduler.FinishResult;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import io.kvconnect.core.sched.LoadFailurePolicy;
import io.kvconnect.core.sched.SchedulerView;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The prefill side of a prefill/decode split (the reference engine's remote decode life cycle): a
 * request that finishes hands every block it holds, the partial last one and the ones it got from
 * the prefix cache included, to a send, and the engine holds them until the workers report the send
 * finished; then nothing is left. The send ends only when the test says so, so each test decides
 * in which steps the blocks are held.
 */
@Timeout(60)
class RemoteDecodeLifecycleTest {
    private static final int BLOCK = 4;

    static Stream<Arguments> modes() {
        return ConnectorTestSupport.modes();
    }

    /** Never loads; every finished request's blocks go to a send; records what each send got. */
    private static final class Sender implements SchedulerConnector {
        final Map<String, int[]> sent = new ConcurrentHashMap<>();
        final Map<String, Integer> localHits = new ConcurrentHashMap<>();

        @Override
        public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
            localHits.put(request.requestId(), localHitTokens);
            return MatchResult.none();
        }

        @Override
        public void updateStateAfterAlloc(
                RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {}

        @Override
        public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
            return ConnectorMetadata.NONE;
        }

        @Override
        public FinishResult requestFinished(RequestView request, BlockIds blockIds) {
            int[] ids = new int[blockIds.size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = blockIds.get(i);
            }
            sent.put(request.requestId(), ids);
            return FinishResult.delayFree(TransferParams.of(Map.of("remote_block_ids", Arrays.toString(ids))));
        }
    }

    /** Reports a finished request sent once the test released it; each rank reports it once. */
    private static final class SendingWorker implements WorkerConnector {
        private final Set<String> released;
        private final Set<String> finished = new HashSet<>();

        SendingWorker(Set<String> released) {
            this.released = released;
        }

        @Override
        public void registerKvCaches(KvLayout layout, BlockCopyService copies) {}

        @Override
        public void bindConnectorMetadata(ConnectorMetadata metadata) {}

        @Override
        public void startLoadKv() {}

        @Override
        public WorkerStepReport reportStep(Set<String> finishedRequestIds) {
            finished.addAll(finishedRequestIds);
            List<String> done = finished.stream().filter(released::contains).toList();
            if (done.isEmpty()) {
                return WorkerStepReport.EMPTY;
            }
            done.forEach(finished::remove);
            return WorkerStepReport.builder().addFinishedSending(done).build();
        }
    }

    private final Sender sender = new Sender();
    private final Set<String> released = ConcurrentHashMap.newKeySet();

    private Engine engine(int workers, boolean async) {
        EngineSetup base = ConnectorTestSupport.setup(64, workers, async, LoadFailurePolicy.FAIL);
        return new Engine(base.withConnector(
                Optional.of(new EngineSetup.ConnectorSides("sender", sender, rank -> new SendingWorker(released)))));
    }

    /** Steps while {@code id}'s send is awaited, checking its blocks stay its own; then releases it. */
    private static void holdThenRelease(Engine engine, String id, int[] blocks, Set<String> released)
            throws InterruptedException {
        SchedulerView view = engine.scheduler().view();
        for (int i = 0; i < 3; i++) {
            assertTrue(view.heldForSending().contains(id), id + " not held for its send");
            assertArrayEquals(blocks, view.kvCacheManager().blockIds(id), "blocks of " + id + " while sending");
            assertTrue(
                    view.waitingRequests().stream().noneMatch(r -> r.requestId().equals(id))
                            && view.runningRequests().stream()
                                    .noneMatch(r -> r.requestId().equals(id)),
                    id + " is neither waiting nor running while its blocks are sent");
            engine.step();
        }
        assertTrue(view.kvCacheManager().owns(id), "blocks of " + id + " freed before its send finished");
        released.add(id);
        stepUntil(engine, () -> !view.kvCacheManager().owns(id), id + "'s blocks freed after its send finished");
        assertFalse(view.heldForSending().contains(id));
        assertTrue(view.findRequest(id).isEmpty(), id + " still known after its send finished");
    }

    @ParameterizedTest(name = "workers={0} async={1}")
    @MethodSource("modes")
    void aFinishedRequestSendsEveryBlockAndFreesThemOnlyOnceSent(int workers, boolean async) throws Exception {
        try (Engine engine = engine(workers, async)) {
            // Two full blocks and half of a third; one token to generate.
            engine.addRequest("b", prompt(71, 10), 1);
            stepUntil(engine, () -> sender.sent.containsKey("b"), "b finished");
            assertEquals(1, engine.metrics().outputs().get("b").length);
            int[] blocks = sender.sent.get("b");
            assertEquals(3, blocks.length, "the partial block is sent too: " + Arrays.toString(blocks));
            holdThenRelease(engine, "b", blocks, released);
            drain(engine);
            EngineInvariants.checkDrained(engine.scheduler());
        }
    }

    @ParameterizedTest(name = "workers={0} async={1}")
    @MethodSource("modes")
    void aPromptShorterThanABlockSendsItsOnePartialBlock(int workers, boolean async) throws Exception {
        try (Engine engine = engine(workers, async)) {
            engine.addRequest("b", prompt(72, BLOCK / 2), 1);
            stepUntil(engine, () -> sender.sent.containsKey("b"), "b finished");
            int[] blocks = sender.sent.get("b");
            assertEquals(1, blocks.length, Arrays.toString(blocks));
            holdThenRelease(engine, "b", blocks, released);
            drain(engine);
            EngineInvariants.checkDrained(engine.scheduler());
        }
    }

    @ParameterizedTest(name = "workers={0} async={1}")
    @MethodSource("modes")
    void aPrefixCacheHitIsSentWithTheRestAndSharedBlocksStayBalanced(int workers, boolean async) throws Exception {
        int[] warm = prompt(73, 14);
        int[] shorter = Arrays.copyOf(warm, 10);
        try (Engine engine = engine(workers, async)) {
            engine.addRequest("warm", warm, 1);
            stepUntil(engine, () -> sender.sent.containsKey("warm"), "warm finished");
            released.add("warm");
            drain(engine);

            engine.addRequest("b", shorter, 1);
            stepUntil(engine, () -> sender.sent.containsKey("b"), "b finished");
            assertEquals(2 * BLOCK, sender.localHits.get("b"), "b's local prefix hit");
            int[] blocks = sender.sent.get("b");
            assertEquals(3, blocks.length, "hit blocks and the partial block are all sent: " + Arrays.toString(blocks));

            // While b's blocks wait for the send, another request shares its cached full blocks.
            engine.addRequest("c", shorter, 2);
            stepUntil(engine, () -> sender.sent.containsKey("c"), "c finished");
            assertEquals(2 * BLOCK, sender.localHits.get("c"), "c's local hit on blocks held for b's send");
            int[] cBlocks = sender.sent.get("c");
            assertArrayEquals(Arrays.copyOf(blocks, 2), Arrays.copyOf(cBlocks, 2), "the shared full blocks");

            holdThenRelease(engine, "b", blocks, released);
            // b's send ended; the blocks it shared are still c's until c's own send ends.
            for (int i = 0; i < 2; i++) {
                assertEquals(
                        cBlocks[i], engine.scheduler().view().kvCacheManager().blockAt("c", i));
            }
            holdThenRelease(engine, "c", cBlocks, released);
            drain(engine);
            EngineInvariants.checkDrained(engine.scheduler());
        }
    }
}
