package io.kvconnect.multi;

import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.common.WorkerMetadata;
import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.FinishedTransfers;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.WorkerConnector;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A scriptable child worker side for unit tests: each result hook returns (once) what the test
 * set, every call is recorded, and hooks named in {@link #throwIn} throw.
 */
final class FakeWorker implements WorkerConnector {
    final String name;
    final List<String> calls = new ArrayList<>();
    final Set<String> throwIn = new HashSet<>();
    final List<ConnectorMetadata> bound = new ArrayList<>();
    final List<ConnectorMetadata> preemptions = new ArrayList<>();
    FinishedTransfers finished = FinishedTransfers.NONE;
    Set<Integer> loadErrors = Set.of();
    Optional<ConnectorStats> stats = Optional.empty();
    List<KvEvent> events = List.of();
    Optional<WorkerMetadata> metadata = Optional.empty();
    BlockCopyService copies;

    FakeWorker(String name) {
        this.name = name;
    }

    private void call(String hook) {
        calls.add(hook);
        if (throwIn.contains(hook)) {
            throw new IllegalStateException(name + " broke in " + hook);
        }
    }

    @Override
    public void registerKvCaches(KvLayout layout, BlockCopyService copyService) {
        call("registerKvCaches");
        this.copies = copyService;
    }

    /** What {@link #handshakeMetadata} returns. */
    Optional<WorkerMetadata> handshake = Optional.empty();

    @Override
    public Optional<WorkerMetadata> handshakeMetadata() {
        call("handshakeMetadata");
        return handshake;
    }

    @Override
    public void handlePreemptions(ConnectorMetadata m) {
        preemptions.add(m);
        call("handlePreemptions");
    }

    @Override
    public void bindConnectorMetadata(ConnectorMetadata m) {
        bound.add(m);
        call("bindConnectorMetadata");
    }

    @Override
    public void startLoadKv() {
        call("startLoadKv");
    }

    @Override
    public void waitForLayerLoad(int layer) {
        call("waitForLayerLoad");
    }

    @Override
    public void saveKvLayer(int layer) {
        call("saveKvLayer");
    }

    @Override
    public void waitForSave() {
        call("waitForSave");
    }

    @Override
    public FinishedTransfers getFinished(Set<String> finishedRequestIds) {
        call("getFinished");
        FinishedTransfers out = finished;
        finished = FinishedTransfers.NONE;
        return out;
    }

    @Override
    public Set<Integer> getBlockIdsWithLoadErrors() {
        call("getBlockIdsWithLoadErrors");
        Set<Integer> out = loadErrors;
        loadErrors = Set.of();
        return out;
    }

    @Override
    public Optional<ConnectorStats> takeStats() {
        call("takeStats");
        Optional<ConnectorStats> out = stats;
        stats = Optional.empty();
        return out;
    }

    @Override
    public List<KvEvent> takeEvents() {
        call("takeEvents");
        List<KvEvent> out = events;
        events = List.of();
        return out;
    }

    @Override
    public Optional<WorkerMetadata> buildWorkerMetadata() {
        call("buildWorkerMetadata");
        Optional<WorkerMetadata> out = metadata;
        metadata = Optional.empty();
        return out;
    }

    @Override
    public void clearConnectorMetadata() {
        call("clearConnectorMetadata");
    }

    @Override
    public void shutdown() {
        call("shutdown");
    }
}
