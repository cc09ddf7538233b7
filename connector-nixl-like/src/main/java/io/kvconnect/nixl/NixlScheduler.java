package io.kvconnect.nixl;

import io.kvconnect.api.SchedulerContext;
import io.kvconnect.api.common.BlockIds;
import io.kvconnect.api.common.ConnectorMetadata;
import io.kvconnect.api.common.ConnectorOutput;
import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.api.common.CounterStats;
import io.kvconnect.api.common.EngineInfo;
import io.kvconnect.api.common.HandshakeMetadata;
import io.kvconnect.api.scheduler.FinishResult;
import io.kvconnect.api.scheduler.MatchResult;
import io.kvconnect.api.scheduler.RequestStatus;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.SchedulerConnector;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scheduler side of the nixl-like connector.
 *
 * <p><b>Producer</b> (a request that arrived with {@code do_remote_decode}): when it finishes
 * normally, {@link #requestFinished} keeps its blocks (delayed free), gives the transfer a unique
 * id and a random token (readers must present both) and returns the transfer parameters; the next step's metadata tells the workers to serve
 * reads of those blocks under a lease. The workers decide when the blocks are free (every reader
 * said done, or the lease expired) and report the request in finished sends.
 *
 * <p><b>Consumer</b> (a request that arrived with {@code do_remote_prefill}): {@link
 * #getNumNewMatchedTokens} offers the remote tokens beyond the local prefix hit as an asynchronous
 * load; {@link #updateStateAfterAlloc} pairs the local blocks with the remote ones and plans the
 * load. A request's remote parameters are used once: after a preemption or a failed load the
 * request is recomputed locally (the producer may have freed the blocks by then).
 *
 * <p>Called by the engine's scheduler thread only (see {@link SchedulerConnector}); no locking.
 */
final class NixlScheduler implements SchedulerConnector {
    private static final Logger LOG = LoggerFactory.getLogger(NixlScheduler.class);

    private final NixlConfig config;
    private final EngineInfo engine;
    private final java.time.InstantSource clock;
    private final Map<Integer, Integer> ports = new TreeMap<>();
    private final SecureRandom tokens = new SecureRandom();
    private long sequence;

    // Producer: request id -> transfer id, until the workers report the send finished.
    private final Map<String, String> sending = new HashMap<>();
    private final List<NixlMetadata.Expose> toExpose = new ArrayList<>();

    // Consumer.
    private final Set<String> consumed = new HashSet<>();
    private final Map<String, Long> loading = new HashMap<>();
    private final List<NixlMetadata.Load> toLoad = new ArrayList<>();
    private final List<NixlMetadata.Notify> toNotify = new ArrayList<>();
    private final Set<String> toCancel = new HashSet<>();

    private final Map<String, Long> counters = new TreeMap<>();

    NixlScheduler(NixlConfig config, SchedulerContext context) {
        this.config = config;
        this.engine = context.engine();
        this.clock = context.clock();
    }

    @Override
    public void setHandshakeMetadata(Map<Integer, HandshakeMetadata> byRank) {
        byRank.forEach((rank, m) -> {
            if (m instanceof PortsMetadata p) {
                ports.putAll(p.ports());
            }
        });
        if (config.role().produces() && ports.size() != engine.tensorParallelSize()) {
            LOG.warn(
                    "nixl-like: only {} of {} worker(s) reported a port; finished prefills cannot be offered",
                    ports.size(),
                    engine.tensorParallelSize());
        }
    }

    @Override
    public MatchResult getNumNewMatchedTokens(RequestView request, int localHitTokens) {
        if (!config.role().consumes() || consumed.contains(request.requestId())) {
            return MatchResult.none();
        }
        Optional<RemoteParams> remote = remote(request);
        if (remote.isEmpty()) {
            return MatchResult.none();
        }
        RemoteParams r = remote.get();
        String refusal = refusal(r);
        if (!refusal.isEmpty()) {
            LOG.error(
                    "nixl-like: request {} cannot load from engine {}: {}; computing it locally",
                    request.requestId(),
                    r.engineId(),
                    refusal);
            count("loads_refused");
            consumed.add(request.requestId());
            toNotify.add(new NixlMetadata.Notify(request.requestId(), r));
            return MatchResult.none();
        }
        // Never more than the remote blocks hold, nor than the request has.
        int available = Math.min(r.numTokens(), Math.min(request.numTokens(), r.blockIds().length * r.blockSize()));
        int count = available - localHitTokens;
        return count > 0 ? MatchResult.async(count) : MatchResult.none();
    }

    /** Why this engine cannot read the producer's blocks at all, or empty. */
    private String refusal(RemoteParams r) {
        if (r.blockSize() != engine.blockSize()) {
            return "the prefill engine's block size is " + r.blockSize() + ", this engine's is " + engine.blockSize()
                    + "; set the same block_size on both engines";
        }
        if (r.tpSize() != engine.tensorParallelSize()) {
            return "the prefill engine has " + r.tpSize() + " tensor-parallel worker(s), this engine has "
                    + engine.tensorParallelSize() + "; different sizes are not supported, set the same number of "
                    + "workers on both engines";
        }
        if (r.ports().size() != r.tpSize()) {
            return "the transfer parameters list " + r.ports().size() + " port(s) for " + r.tpSize() + " rank(s)";
        }
        return "";
    }

    private Optional<RemoteParams> remote(RequestView request) {
        try {
            return RemoteParams.from(request.transferParams());
        } catch (IllegalArgumentException e) {
            if (consumed.add(request.requestId())) {
                LOG.error(
                        "nixl-like: request {} has malformed transfer parameters ({}); computing it locally",
                        request.requestId(),
                        e.getMessage());
                count("loads_refused");
            }
            return Optional.empty();
        }
    }

    @Override
    public void updateStateAfterAlloc(RequestView request, BlockIds blocks, int localHitTokens, int externalTokens) {
        String id = request.requestId();
        if (!config.role().consumes() || consumed.contains(id)) {
            return;
        }
        Optional<RemoteParams> remote = remote(request);
        if (remote.isEmpty()) {
            return;
        }
        RemoteParams r = remote.get();
        consumed.add(id);
        if (externalTokens <= 0) {
            // Nothing to read (the local prefix cache had it all): free the producer's blocks now.
            toNotify.add(new NixlMetadata.Notify(id, r));
            count("loads_skipped_local_hit");
            return;
        }
        int bs = engine.blockSize();
        int first = localHitTokens / bs;
        int last = (localHitTokens + externalTokens - 1) / bs;
        int n = last - first + 1;
        int[] local = new int[n];
        int[] rem = new int[n];
        for (int i = 0; i < n; i++) {
            local[i] = blocks.get(0, first + i);
            rem[i] = r.blockIds()[first + i];
        }
        long loadId = ++sequence;
        loading.put(id, loadId);
        toLoad.add(new NixlMetadata.Load(id, loadId, r, local, rem));
        count("loads_planned");
    }

    @Override
    public ConnectorMetadata buildConnectorMetadata(SchedulerOutputView output) {
        var m = new NixlMetadata(toExpose, toLoad, toNotify, toCancel);
        toExpose.clear();
        toLoad.clear();
        toNotify.clear();
        toCancel.clear();
        return m.isEmpty() ? ConnectorMetadata.NONE : m;
    }

    @Override
    public void updateConnectorOutput(ConnectorOutput output) {
        for (String id : output.finishedSending()) {
            if (sending.remove(id) != null) {
                count("sends_finished");
            }
        }
        for (String id : output.finishedReceiving()) {
            loading.remove(id);
        }
    }

    @Override
    public FinishResult requestFinished(RequestView request, BlockIds blockIds) {
        String id = request.requestId();
        // Consumer side of the request.
        if (loading.containsKey(id)) {
            toCancel.add(id);
        } else if (config.role().consumes() && !consumed.contains(id)) {
            // Finished (aborted) before its load was planned: tell the producer to free at once.
            try {
                RemoteParams.from(request.transferParams())
                        .ifPresent(r -> toNotify.add(new NixlMetadata.Notify(id, r)));
            } catch (IllegalArgumentException e) {
                LOG.debug("nixl-like: request {} had malformed transfer parameters", id);
            }
        }
        consumed.remove(id);
        // Producer side.
        if (!config.role().produces() || !request.transferParams().getFlag(RemoteParams.DO_REMOTE_DECODE)) {
            return FinishResult.freeNow();
        }
        RequestStatus status = request.status();
        if (status != RequestStatus.FINISHED_STOPPED && status != RequestStatus.FINISHED_LENGTH_CAPPED) {
            count("sends_not_offered");
            return FinishResult.freeNow();
        }
        int computed = Math.min(request.numComputedTokens(), request.numPromptTokens());
        int nBlocks = Math.min(blockIds.size(0), Math.ceilDiv(computed, engine.blockSize()));
        if (computed <= 0 || nBlocks <= 0) {
            return FinishResult.freeNow();
        }
        if (ports.size() != engine.tensorParallelSize()) {
            LOG.warn("nixl-like: request {} finished before every worker reported its port; not offering its KV", id);
            count("sends_not_offered");
            return FinishResult.freeNow();
        }
        int[] blocks = Arrays.copyOf(blockIds.toArray(0), nBlocks);
        String transferId = engine.engineId() + "/" + id + "/" + (++sequence);
        // The id is predictable; the token is what a reader must know to read or free the blocks.
        byte[] secret = new byte[RemoteParams.TOKEN_HEX_DIGITS / 2];
        tokens.nextBytes(secret);
        String token = HexFormat.of().formatHex(secret);
        sending.put(id, transferId);
        toExpose.add(new NixlMetadata.Expose(
                id, transferId, token, blocks, clock.instant().plus(config.leaseTimeout())));
        count("sends_offered");
        var remote = new RemoteParams(
                engine.engineId(),
                config.host(),
                List.copyOf(ports.values()),
                blocks,
                id,
                transferId,
                token,
                computed,
                engine.blockSize(),
                engine.tensorParallelSize());
        return FinishResult.delayFree(remote.toParams());
    }

    @Override
    public boolean hasPendingWork() {
        // Sends wait for readers or lease expiry; notifications and cancels must reach the workers.
        return !sending.isEmpty() || !toNotify.isEmpty() || !toCancel.isEmpty() || !toExpose.isEmpty();
    }

    @Override
    public Optional<ConnectorStats> takeStats() {
        if (counters.isEmpty()) {
            return Optional.empty();
        }
        var s = new CounterStats(counters);
        counters.clear();
        return Optional.of(s);
    }

    private void count(String name) {
        counters.merge(name, 1L, Long::sum);
    }
}
