package io.kvconnect.multi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.HandshakeMetadata;
import io.kvconnect.api.common.WorkerMetadata;
import io.kvconnect.api.scheduler.GPUBlockPoolView;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import io.kvconnect.api.scheduler.SchedulerState;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.testkit.doubles.FakeSchedulerOutput;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every hook of the API is forwarded: a method added to an API interface fails this test until the
 * composite (or the child view) handles it, instead of silently falling back to the interface's
 * default.
 */
class HooksForwardedTest {
    static List<Arguments> implementations() {
        return List.of(
                Arguments.of(SchedulerConnector.class, MultiScheduler.class),
                Arguments.of(WorkerConnector.class, MultiWorker.class),
                Arguments.of(RequestView.class, ChildRequestView.class),
                Arguments.of(SchedulerState.class, ChildSchedulerState.class),
                Arguments.of(GPUBlockPoolView.class, ChildPoolView.class),
                Arguments.of(SchedulerOutputView.class, ChildOutputView.class),
                Arguments.of(ConnectorStats.class, MultiStats.class),
                Arguments.of(WorkerMetadata.class, MultiWorkerMetadata.class));
    }

    @ParameterizedTest(name = "{1} overrides every method of {0}")
    @MethodSource("implementations")
    void everyInterfaceMethodIsDeclaredByTheImplementation(Class<?> api, Class<?> impl) {
        List<String> missing = new ArrayList<>();
        for (Method m : api.getMethods()) {
            if (Modifier.isStatic(m.getModifiers())) {
                continue;
            }
            boolean declared = Arrays.stream(impl.getDeclaredMethods())
                    .anyMatch(d -> d.getName().equals(m.getName())
                            && Arrays.equals(d.getParameterTypes(), m.getParameterTypes()));
            if (!declared) {
                missing.add(m.getName() + Arrays.toString(m.getParameterTypes()));
            }
        }
        assertEquals(
                List.of(),
                missing,
                impl.getSimpleName() + " does not handle these " + api.getSimpleName() + " methods");
    }

    /** Each scheduler hook, called once on the composite; the map must name every interface method. */
    private static Map<String, Consumer<MultiScheduler>> schedulerCalls(Harness h) {
        Map<String, Consumer<MultiScheduler>> calls = new LinkedHashMap<>();
        var r = Harness.request("r");
        calls.put("bindSchedulerState", s -> s.bindSchedulerState(h.state));
        calls.put("setHandshakeMetadata", s -> s.setHandshakeMetadata(Map.of()));
        calls.put("expectedFinishedCount", MultiScheduler::expectedFinishedCount);
        calls.put("onNewRequest", s -> s.onNewRequest(r));
        calls.put("getNumNewMatchedTokens", s -> s.getNumNewMatchedTokens(r, 0));
        calls.put("updateStateAfterAlloc", s -> s.updateStateAfterAlloc(r, BlockIds.of(1), 0, 0));
        calls.put("buildConnectorMetadata", s -> s.buildConnectorMetadata(FakeSchedulerOutput.of(1, List.of())));
        calls.put("updateConnectorOutput", s -> s.updateConnectorOutput(ConnectorOutput.EMPTY));
        calls.put("requestFinished", s -> s.requestFinished(r, BlockIds.of(1)));
        calls.put("takeEvents", MultiScheduler::takeEvents);
        calls.put("takeStats", MultiScheduler::takeStats);
        calls.put("resetCache", MultiScheduler::resetCache);
        calls.put("hasPendingWork", MultiScheduler::hasPendingWork);
        calls.put("shutdown", MultiScheduler::shutdown);
        return calls;
    }

    private static Map<String, Consumer<MultiWorker>> workerCalls() {
        Map<String, Consumer<MultiWorker>> calls = new LinkedHashMap<>();
        calls.put("registerKvCaches", w -> w.registerKvCaches(null, null));
        calls.put("handshakeMetadata", MultiWorker::handshakeMetadata);
        calls.put("handlePreemptions", w -> w.handlePreemptions(ConnectorMetadata.NONE));
        calls.put("bindConnectorMetadata", w -> w.bindConnectorMetadata(ConnectorMetadata.NONE));
        calls.put("startLoadKv", MultiWorker::startLoadKv);
        calls.put("waitForLayerLoad", w -> w.waitForLayerLoad(0));
        calls.put("saveKvLayer", w -> w.saveKvLayer(0));
        calls.put("waitForSave", MultiWorker::waitForSave);
        calls.put("reportStep", w -> w.reportStep(Set.of()));
        calls.put("clearConnectorMetadata", MultiWorker::clearConnectorMetadata);
        calls.put("shutdown", MultiWorker::shutdown);
        return calls;
    }

    @Test
    void handshakeMetadataTravelsPerChildAndRank() {
        Harness h = new Harness(2, "a", "b");
        h.worker(0, 0).handshake = Optional.of(Tags.of("a", "port-a0"));
        h.worker(1, 0).handshake = Optional.of(Tags.of("a", "port-a1"));
        h.worker(1, 1).handshake = Optional.of(Tags.of("b", "port-b1"));
        Map<Integer, HandshakeMetadata> byRank = new TreeMap<>();
        for (int rank = 0; rank < 2; rank++) {
            int r = rank;
            h.workerSides.get(rank).handshakeMetadata().ifPresent(m -> byRank.put(r, m));
        }
        h.scheduler.setHandshakeMetadata(byRank);

        assertEquals(Map.of(0, Tags.of("a", "port-a0"), 1, Tags.of("a", "port-a1")), h.children.get(0).handshake);
        assertEquals(Map.of(1, Tags.of("b", "port-b1")), h.children.get(1).handshake, "only ranks it has a value from");
        assertTrue(
                new Harness(1, "a").workerSides.getFirst().handshakeMetadata().isEmpty(),
                "no child with handshake metadata: none");
    }

    @Test
    void everySchedulerHookReachesEveryChild() {
        Harness h = new Harness(1, "a", "b");
        h.children.forEach(c -> c.calls.clear());
        Map<String, Consumer<MultiScheduler>> calls = schedulerCalls(h);
        assertEquals(
                names(SchedulerConnector.class),
                new TreeSet<>(calls.keySet()),
                "a new SchedulerConnector method needs a line here and a test of how the composite forwards it");
        calls.values().forEach(c -> c.accept(h.scheduler));
        for (FakeScheduler child : h.children) {
            Set<String> reached =
                    child.calls.stream().map(c -> c.split(":")[0]).collect(Collectors.toCollection(TreeSet::new));
            assertEquals(names(SchedulerConnector.class), reached, child.name);
        }
    }

    @Test
    void everyWorkerHookReachesEveryChild() {
        Harness h = new Harness(1, "a", "b");
        Map<String, Consumer<MultiWorker>> calls = workerCalls();
        assertEquals(
                names(WorkerConnector.class),
                new TreeSet<>(calls.keySet()),
                "a new WorkerConnector method needs a line here and a test of how the composite forwards it");
        calls.values().forEach(c -> c.accept(h.workerSides.getFirst()));
        for (int i = 0; i < 2; i++) {
            assertEquals(names(WorkerConnector.class), new TreeSet<>(h.worker(0, i).calls), "child " + i);
        }
        assertTrue(h.worker(0, 0).calls.size() >= calls.size());
    }

    private static Set<String> names(Class<?> api) {
        return Arrays.stream(api.getMethods())
                .filter(m -> !Modifier.isStatic(m.getModifiers()))
                .map(Method::getName)
                .collect(Collectors.toCollection(TreeSet::new));
    }
}
