package io.kvconnect.core.engine;

import static io.kvconnect.core.engine.ConnectorTestSupport.drain;
import static io.kvconnect.core.engine.ConnectorTestSupport.prompt;
import static io.kvconnect.core.engine.ConnectorTestSupport.reference;
import static io.kvconnect.core.engine.ConnectorTestSupport.setup;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.scheduler.FinishResult;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import io.kvconnect.core.sched.LoadFailurePolicy;
import io.kvconnect.core.sched.SchedulerView;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * An asynchronous load whose blocks the connector reports failed one report at a time, before it
 * reports the load finished (allowed: a failed load is reported "with or before its finished
 * receive"). As in the reference engine, each report truncates what the request counts as
 * computed to the first failed block so far, a report beyond that changes nothing, the blocks stay
 * out of the prefix cache, and they stay held until the load is reported finished, whatever the
 * policy did to the request. The connector copies nothing: it reports every block of the load
 * failed by the end, so no block is claimed without a copy.
 */
@Timeout(60)
class AsyncLoadFailedBeforeItFinishesTest {
    private static final int BLOCK = 4;
    private static final int PROMPT = 18;
    private static final int LOADED_BLOCKS = 4;
    private static final int MAX_TOKENS = 4;

    /** One load the workers run: the request and the blocks of its external range. */
    private record Load(String requestId, int[] blocks) {}

    private record Loads(List<Load> loads) implements ConnectorMetadata {}

    /**
     * Offers every request all but its last prompt token, asynchronously; records what it is told;
     * if {@code delaysFree}, holds every finished request's blocks for a send.
     */
    private static final class Offering implements SchedulerConnector {
        final List<String> calls = new CopyOnWriteArrayList<>();
        private final List<Load> planned = new ArrayList<>();
        private final boolean delaysFree;

        Offering(boolean delaysFree) {
            this.delaysFree = delaysFree;
        }

        @Override
        public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
            calls.add("match " + request.requestId());
            int offer = LOADED_BLOCKS * BLOCK - localHitTokens;
            return offer > 0 ? MatchResult.async(offer) : MatchResult.none();
        }

        @Override
        public void updateStateAfterAlloc(
                RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {
            calls.add("alloc " + request.requestId() + " " + externalTokens);
            if (externalTokens == 0) {
                return;
            }
            int from = localHitTokens / BLOCK;
            int to = Math.ceilDiv(localHitTokens + externalTokens, BLOCK);
            int[] range = new int[to - from];
            for (int i = from; i < to; i++) {
                range[i - from] = blocks.get(i);
            }
            planned.add(new Load(request.requestId(), range));
        }

        @Override
        public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
            Loads loads = new Loads(List.copyOf(planned));
            planned.clear();
            return loads;
        }

        @Override
        public FinishResult requestFinished(RequestView request, BlockIds blockIds) {
            calls.add("finished " + request.requestId());
            return delaysFree ? FinishResult.delayFree(TransferParams.empty()) : FinishResult.freeNow();
        }
    }

    /**
     * Reports, in the i-th report after a load was bound, its block {@code failOrder[i]} failed;
     * with the last one it reports the load finished. If {@code sends}, a finished request is
     * reported sent as soon as the worker learns of its finish.
     */
    private static final class FailingLoader implements WorkerConnector {
        private final int[] failOrder;
        private final boolean sends;
        private final Map<String, Load> active = new HashMap<>();
        private final Map<String, Integer> reports = new HashMap<>();

        FailingLoader(int[] failOrder, boolean sends) {
            this.failOrder = failOrder;
            this.sends = sends;
        }

        @Override
        public void registerKvCaches(KvLayout layout, BlockCopyService copies) {}

        @Override
        public void bindConnectorMetadata(ConnectorMetadata metadata) {
            if (metadata instanceof Loads l) {
                l.loads().forEach(load -> active.put(load.requestId(), load));
            }
        }

        @Override
        public void startLoadKv() {}

        @Override
        public WorkerStepReport reportStep(Set<String> finishedRequestIds) {
            WorkerStepReport.Builder report = WorkerStepReport.builder();
            if (sends) {
                report.addFinishedSending(finishedRequestIds);
            }
            List<String> done = new ArrayList<>();
            for (Load load : active.values()) {
                int i = reports.merge(load.requestId(), 1, Integer::sum) - 1;
                report.addInvalidBlockIds(List.of(load.blocks()[failOrder[i]]));
                if (i == failOrder.length - 1) {
                    done.add(load.requestId());
                }
            }
            done.forEach(id -> {
                active.remove(id);
                reports.remove(id);
            });
            return report.addFinishedReceiving(done).build();
        }
    }

    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        for (LoadFailurePolicy policy : LoadFailurePolicy.values()) {
            for (int workers : new int[] {1, 2}) {
                all.add(Arguments.of(policy, workers, new int[] {3, 1, 0}, new int[] {12, 4, 0}, false));
                all.add(Arguments.of(policy, workers, new int[] {1, 3, 0}, new int[] {4, 4, 0}, true));
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0} workers={1} order={2} delayed free={4}")
    @MethodSource("cases")
    void eachReportTruncatesTheLoadAndItsBlocksStayHeldUntilItFinishes(
            LoadFailurePolicy policy, int workers, int[] failOrder, int[] truncatedTo, boolean delaysFree)
            throws Exception {
        int[] p = prompt(93, PROMPT);
        int[] expected = reference(1, false, Map.of("b", p), MAX_TOKENS).get("b");
        Offering offering = new Offering(delaysFree);
        EngineSetup base = setup(64, workers, false, policy);
        try (Engine engine = new Engine(base.withConnector(Optional.of(new EngineSetup.ConnectorSides(
                "failing", offering, rank -> new FailingLoader(failOrder, delaysFree)))))) {
            engine.addRequest("b", p, MAX_TOKENS);
            engine.step();
            SchedulerView view = engine.scheduler().view();
            // Report 0 came with the load's own step.
            List<Integer> blocks = view.requestState("b").orElseThrow().blocks();
            assertEquals(LOADED_BLOCKS, blocks.size());
            for (int i = 0; i < failOrder.length; i++) {
                // The state after the step whose output carried report i; the last one also
                // reports the load finished.
                boolean last = i == failOrder.length - 1;
                Optional<SchedulerView.RequestState> state = view.requestState("b");
                if (last && policy == LoadFailurePolicy.FAIL) {
                    assertTrue(state.isEmpty(), "b's blocks still held after its load finished: " + state);
                    break;
                }
                SchedulerView.RequestState s = state.orElseThrow();
                assertEquals(blocks, s.blocks(), "blocks of the load after report " + i);
                for (int b : blocks) {
                    assertTrue(view.gpuBlockPool().cachedHash(b).isEmpty(), "block " + b + " cached while loading");
                }
                assertEquals(!last, view.heldForReceiving().contains("b"), "load awaited after report " + i);
                if (policy == LoadFailurePolicy.RECOMPUTE) {
                    assertEquals(RequestStatus.WAITING_FOR_REMOTE_KV, s.status());
                    assertEquals(truncatedTo[i], s.scheduledThrough(), "computed after report " + i);
                    assertEquals(0, s.confirmed(), "a connector sees nothing of a load in flight");
                    assertTrue(view.failedReceivingIds().contains("b"), "b's load not marked failed");
                } else {
                    assertEquals(RequestStatus.FINISHED_ERROR, s.status(), "policy fail after report " + i);
                    if (i == 0) {
                        assertEquals(delaysFree, view.heldForSending().contains("b"), "held for its send too");
                    }
                }
                if (!last) {
                    engine.step();
                }
            }
            drain(engine);
            EngineInvariants.checkDrained(engine.scheduler());
            assertEquals(0L, engine.executor().unfilledLoads(), "blocks claimed loaded without a copy");
            assertEquals(
                    1,
                    offering.calls.stream()
                            .filter(c -> c.startsWith("alloc b 16"))
                            .count(),
                    "loads of b");
            if (policy == LoadFailurePolicy.RECOMPUTE) {
                assertArrayEquals(expected, engine.metrics().outputs().get("b"), "b recomputed locally");
                assertEquals(0, engine.metrics().mismatches());
            } else {
                String reason = engine.metrics().failures().get("b");
                assertTrue(
                        reason != null && reason.contains("block " + blocks.get(failOrder[0])),
                        "failed with: " + reason);
            }
        }
    }
}
