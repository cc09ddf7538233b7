package io.kvconnect.multi;

import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.HandshakeMetadata;
import io.kvconnect.api.common.KvEvent;
import io.kvconnect.api.common.WorkerMetadata;
import io.kvconnect.api.worker.BlockCopyService;
import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.WorkerConnector;
import io.kvconnect.api.worker.WorkerStepReport;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A scriptable child worker side for unit tests: its step report says (once) what the test set,
 * every call is recorded, and hooks named in {@link #throwIn} throw.
 */
final class FakeWorker implements WorkerConnector {
    final String name;
    final List<String> calls = new ArrayList<>();
    final Set<String> throwIn = new HashSet<>();
    final List<ConnectorMetadata> bound = new ArrayList<>();
    final List<ConnectorMetadata> preemptions = new ArrayList<>();
    Set<String> sending = Set.of();
    Set<String> receiving = Set.of();
    Set<Integer> loadErrors = Set.of();
    Optional<ConnectorStats> stats = Optional.empty();
    List<KvEvent> events = List.of();
    Optional<WorkerMetadata> metadata = Optional.empty();
    /** A failure the next report names (contained by this child), or null. */
    Throwable reportFailure;

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
    Optional<HandshakeMetadata> handshake = Optional.empty();

    @Override
    public Optional<HandshakeMetadata> handshakeMetadata() {
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

    /** Reports (once) what the test set, then forgets it. */
    @Override
    public WorkerStepReport reportStep(Set<String> finishedRequestIds) {
        call("reportStep");
        WorkerStepReport.Builder out = WorkerStepReport.builder()
                .addFinishedSending(sending)
                .addFinishedReceiving(receiving)
                .addInvalidBlockIds(loadErrors)
                .stats(stats)
                .addEvents(events)
                .workerMetadata(metadata);
        if (reportFailure != null) {
            out.failure(reportFailure);
        }
        sending = Set.of();
        receiving = Set.of();
        loadErrors = Set.of();
        stats = Optional.empty();
        events = List.of();
        metadata = Optional.empty();
        reportFailure = null;
        return out.build();
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
